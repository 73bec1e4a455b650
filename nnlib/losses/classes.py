"""The loss classes: each wraps the function of the same name (Keras's classes).

A class adds ``sample_weight``, the reduction and a config to its function;
its arguments are the function's keyword arguments, then ``reduction`` and
``name``.
"""

import numpy as np

from .._args import boolean
from . import _inputs, probabilistic, regression
from .base import LossFunctionWrapper

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
]

_MEAN = "sum_over_batch_size"


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """``sparse_categorical_crossentropy``, weighted and reduced.

    With ``ignore_class``, the mean reductions divide by the number of examples
    whose label is not ``ignore_class`` (Keras's masking), so padding does not
    dilute the loss.

    Args:
        from_logits: Whether ``y_pred`` holds logits (the stable choice).
        ignore_class: Optional class id whose examples are left out.
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name.

    Examples:
        >>> import nnlib.losses as losses
        >>> loss = losses.SparseCategoricalCrossentropy(from_logits=True)
        >>> loss([0, 1], [[0., 0.], [0., 1e4]])
        nnlib.Tensor(0.3466, shape=(), dtype=float32)
        >>> loss([0, 1], [[0., 0.], [0., 1e4]], sample_weight=[2., 1.])
        nnlib.Tensor(0.6931, shape=(), dtype=float32)
    """

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction=_MEAN,
        name="sparse_categorical_crossentropy",
    ):
        super().__init__(
            probabilistic.sparse_categorical_crossentropy,
            reduction=reduction,
            name=name,
            from_logits=boolean(from_logits, "from_logits", type(self).__name__),
            ignore_class=ignore_class,
        )

    def _count(self, y_true, values, mask=None):
        ignore_class = self._fn_kwargs["ignore_class"]
        if ignore_class is None:
            return super()._count(y_true, values, mask)
        valid = _inputs.as_numpy(y_true) != ignore_class
        if mask is not None:  # Keras: the ignored labels' mask and y_pred's
            valid = valid.reshape(mask.shape) & mask
        return int(np.count_nonzero(valid))


class CategoricalCrossentropy(LossFunctionWrapper):
    """``categorical_crossentropy``, weighted and reduced.

    Args:
        from_logits: Whether ``y_pred`` holds logits.
        label_smoothing: A number in ``[0, 1]``.
        axis: The class axis.
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name.

    Examples:
        >>> import nnlib.losses as losses
        >>> loss = losses.CategoricalCrossentropy(reduction="none")
        >>> loss([[0., 1.], [1., 0.]], [[0.5, 0.5], [0.9, 0.1]])
        nnlib.Tensor([0.6931 0.1054], shape=(2,), dtype=float32)
    """

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction=_MEAN,
        name="categorical_crossentropy",
    ):
        super().__init__(
            probabilistic.categorical_crossentropy,
            reduction=reduction,
            name=name,
            from_logits=boolean(from_logits, "from_logits", type(self).__name__),
            label_smoothing=label_smoothing,
            axis=axis,
        )


class BinaryCrossentropy(LossFunctionWrapper):
    """``binary_crossentropy``, weighted and reduced.

    Args:
        from_logits: Whether ``y_pred`` holds logits.
        label_smoothing: A number in ``[0, 1]``.
        axis: The axis averaged over.
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name.

    Examples:
        >>> import nnlib.losses as losses
        >>> loss = losses.BinaryCrossentropy(from_logits=True)
        >>> loss([1., 0.], [[0.], [0.]])   # (2,) labels, (2, 1) logits
        nnlib.Tensor(0.6931, shape=(), dtype=float32)
    """

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction=_MEAN,
        name="binary_crossentropy",
    ):
        super().__init__(
            probabilistic.binary_crossentropy,
            reduction=reduction,
            name=name,
            from_logits=boolean(from_logits, "from_logits", type(self).__name__),
            label_smoothing=label_smoothing,
            axis=axis,
        )


class MeanSquaredError(LossFunctionWrapper):
    """``mean_squared_error``, weighted and reduced.

    Args:
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.MeanSquaredError()([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
        nnlib.Tensor(0.5, shape=(), dtype=float32)
    """

    def __init__(self, reduction=_MEAN, name="mean_squared_error"):
        super().__init__(regression.mean_squared_error, reduction=reduction, name=name)


class MeanAbsoluteError(LossFunctionWrapper):
    """``mean_absolute_error``, weighted and reduced.

    Args:
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.MeanAbsoluteError(reduction="sum")([[0.], [0.]], [[1.], [-2.]])
        nnlib.Tensor(3., shape=(), dtype=float32)
    """

    def __init__(self, reduction=_MEAN, name="mean_absolute_error"):
        super().__init__(regression.mean_absolute_error, reduction=reduction, name=name)


class Huber(LossFunctionWrapper):
    """``huber``, weighted and reduced.

    Args:
        delta: Where the loss turns linear, a number > 0.
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name (Keras's default, ``"huber_loss"``).

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.Huber(delta=1.0)([[0.], [0.]], [[0.5], [3.]])
        nnlib.Tensor(1.3125, shape=(), dtype=float32)
    """

    def __init__(self, delta=1.0, reduction=_MEAN, name="huber_loss"):
        super().__init__(regression.huber, reduction=reduction, name=name, delta=delta)


class LogCosh(LossFunctionWrapper):
    """``log_cosh``, weighted and reduced.

    Args:
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.LogCosh()([[0.], [0.]], [[0.], [1.]])
        nnlib.Tensor(0.2169, shape=(), dtype=float32)
    """

    def __init__(self, reduction=_MEAN, name="log_cosh"):
        super().__init__(regression.log_cosh, reduction=reduction, name=name)


class KLDivergence(LossFunctionWrapper):
    """``kl_divergence``, weighted and reduced.

    Args:
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]])
        nnlib.Tensor(0.1438, shape=(), dtype=float32)
    """

    def __init__(self, reduction=_MEAN, name="kl_divergence"):
        super().__init__(probabilistic.kl_divergence, reduction=reduction, name=name)


class Hinge(LossFunctionWrapper):
    """``hinge``, weighted and reduced.

    Args:
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.Hinge()([[1.], [-1.]], [[0.5], [0.5]])
        nnlib.Tensor(1., shape=(), dtype=float32)
    """

    def __init__(self, reduction=_MEAN, name="hinge"):
        super().__init__(regression.hinge, reduction=reduction, name=name)


class CosineSimilarity(LossFunctionWrapper):
    """``cosine_similarity`` (negative: -1 for parallel vectors), weighted and reduced.

    Args:
        axis: The axis along which the vectors lie.
        reduction: ``"sum_over_batch_size"`` (or ``"mean"``), ``"sum"`` or ``"none"``.
        name: The loss's name.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.CosineSimilarity()([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
        nnlib.Tensor(-0.5, shape=(), dtype=float32)
    """

    def __init__(self, axis=-1, reduction=_MEAN, name="cosine_similarity"):
        super().__init__(
            regression.cosine_similarity, reduction=reduction, name=name, axis=axis
        )
