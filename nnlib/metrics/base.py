"""``Metric`` and the reducing metrics: ``Mean``, ``Sum``, ``MeanMetricWrapper``.

Metrics are evaluated in numpy on the values of each batch (Tensors are read,
never recorded on a tape), and accumulate in float64. ``result()`` returns a
Python float (``Precision`` and ``Recall`` with several thresholds return a
1-d float64 array, one value per threshold).
"""

import re

import numpy as np

from ..losses._inputs import aligned_shapes, as_numpy, mask_for, mask_of, weight_shape

__all__ = ["Mean", "MeanMetricWrapper", "Metric", "Sum"]


def _snake_case(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def values_of(x):
    """``x`` (a Tensor, array, list or number) as a float64 numpy array."""
    return np.asarray(as_numpy(x), dtype=np.float64)


class Metric:
    """Base class: state updated batch by batch, read by ``result()``.

    Subclasses set their configuration, then call ``super().__init__(name)``
    (which calls ``reset_state``), and implement ``update_state``, ``result``
    and ``reset_state``. ``update_state`` checks its inputs before changing any
    state, so a bad batch leaves the metric as it was.

    Args:
        name: The metric's name, used as the key in training logs (by default
            the snake_case class name).

    Examples:
        >>> import nnlib.metrics as metrics
        >>> class Maximum(metrics.Metric):
        ...     def reset_state(self):
        ...         self.value = -np.inf
        ...     def update_state(self, values, sample_weight=None):
        ...         self.value = max(self.value, float(np.max(values)))
        ...     def result(self):
        ...         return self.value
        >>> m = Maximum()
        >>> m.update_state([1., 5.]); m.update_state([3.])
        >>> m.name, m.result()
        ('maximum', 5.0)
    """

    def __init__(self, name=None):
        self.name = name or _snake_case(type(self).__name__)
        self.reset_state()

    def update_state(self, *args, **kwargs):
        """Accumulates the statistics of one batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        """Returns the metric's value over every batch since the last reset."""
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self):
        """Forgets every batch (called at the start of each epoch)."""
        raise NotImplementedError(f"{type(self).__name__} must implement reset_state")

    def __call__(self, *args, **kwargs):
        """``update_state`` with the arguments, then returns ``result()``."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """Returns the constructor arguments as a JSON-friendly dict."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        """Builds a metric from ``get_config()``'s dict.

        Examples:
            >>> import nnlib.metrics as metrics
            >>> metrics.BinaryAccuracy.from_config({"threshold": 0.7}).threshold
            0.7
        """
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def samplewise(values, sample_weight, reduce, owner):
    """Keras's ``reduce_to_samplewise_values``: weighted values and weights, each
    reduced (by ``reduce``, np.mean or np.sum) to one number per sample."""
    values = values_of(values)
    weights = None
    if sample_weight is not None:
        weights = values_of(sample_weight)
        given = (weights.shape, values.shape)
        v_shape, w_shape = aligned_shapes(values.shape, weights.shape)
        values, weights = values.reshape(v_shape), weights.reshape(w_shape)
        if values.ndim > weights.ndim:
            values = reduce(values, axis=tuple(range(weights.ndim, values.ndim)))
        try:
            weights = np.broadcast_to(weights, values.shape)
        except ValueError:
            raise ValueError(
                f"{owner}: sample_weight of shape {given[0]} does not fit values "
                f"of shape {given[1]}: expected a number or one weight per sample"
            ) from None
        values = values * weights
        if weights.ndim > 1:
            weights = reduce(weights, axis=tuple(range(1, weights.ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, weights


class Mean(Metric):
    """The weighted mean of the values given to ``update_state``.

    Values of rank > 1 are first averaged per sample (over all axes but the
    first), as in Keras 3; the result is ``sum(w * v) / sum(w)`` over every
    sample since the last reset, or 0 before any.

    Args:
        name: The metric's name.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.Mean()
        >>> m.update_state([1., 3.]); m.update_state(5., sample_weight=2.)
        >>> m.result()
        3.5
    """

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        """Adds ``values`` (one per sample, or a number) with optional weights.

        Raises:
            ValueError: If ``sample_weight`` does not fit ``values``.
        """
        values, weights = samplewise(values, sample_weight, np.mean, self.name)
        if weights is not None:
            count = float(np.sum(weights))
        else:
            count = values.shape[0] if values.ndim else 1
        self.total += float(np.sum(values))
        self.count += count

    def result(self):
        return self.total / self.count if self.count else 0.0


class Sum(Metric):
    """The weighted sum of the values given to ``update_state``.

    Args:
        name: The metric's name.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.Sum()
        >>> m.update_state([1., 3.]); m.update_state([5.], sample_weight=[2.])
        >>> m.result()
        14.0
    """

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        """Adds ``sum(sample_weight * values)``.

        Raises:
            ValueError: If ``sample_weight`` does not fit ``values``.
        """
        values, _ = samplewise(values, sample_weight, np.sum, self.name)
        self.total += float(np.sum(values))

    def result(self):
        return self.total


def _masked_weights(sample_weight, mask, values, owner):
    """Keras's ``apply_mask``: the mask (one flag per leading position of the
    values) times the sample weights (one per example, or covering the
    leading axes)."""
    shape = np.shape(as_numpy(values))
    weights = mask_for(mask, shape[: mask.ndim], owner).astype(np.float64)
    if sample_weight is not None:
        w = values_of(sample_weight)
        weights = weights * w.reshape(weight_shape(w.shape, weights.shape, owner))
    return weights


class MeanMetricWrapper(Mean):
    """The weighted mean of ``fn(y_true, y_pred, **kwargs)`` over every sample.

    The built-in accuracies and error metrics are such wrappers. ``fn`` may
    return a numpy array or a Tensor (a loss function works).

    A mask ``y_pred`` carries (``_keras_mask``, as in ``fit`` on a masked
    model) multiplies the sample weights, as in Keras 3: masked values do not
    count, and the result is the mean over the unmasked ones.

    Args:
        fn: A function of ``(y_true, y_pred)`` returning one value per sample
            (or per element: they are averaged per sample).
        name: The metric's name (by default ``fn``'s name).
        **kwargs: Keyword arguments passed to ``fn``; part of the config.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> def within_one(y_true, y_pred):
        ...     return np.abs(np.asarray(y_true) - np.asarray(y_pred)) <= 1
        >>> m = metrics.MeanMetricWrapper(within_one)
        >>> m.update_state([1., 2., 3.], [1.5, 4., 3.])
        >>> m.name, round(m.result(), 4)
        ('within_one', 0.6667)
    """

    def __init__(self, fn, name=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", None))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds ``fn(y_true, y_pred)`` of a batch, weighted by ``sample_weight``.

        Raises:
            ValueError: If the shapes do not fit (as ``fn`` checks them), or
                ``sample_weight`` does not fit the values.
        """
        mask = mask_of(y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            sample_weight = _masked_weights(sample_weight, mask, values, self.name)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = {"name": self.name, **self._fn_kwargs}
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "__name__", repr(self._fn))
        return config

    @classmethod
    def from_config(cls, config):
        if cls is not MeanMetricWrapper:
            return cls(**config)
        config = dict(config)
        fn = config.pop("fn", None)
        if isinstance(fn, str):
            from . import function  # the registry sits above this module

            fn = function(fn)
        if not callable(fn):
            raise TypeError(
                "MeanMetricWrapper.from_config needs 'fn': a function or the name "
                f"of a built-in one, got {fn!r}"
            )
        return cls(fn, **config)
