"""``Loss``: per-example losses, weighted by ``sample_weight`` and reduced.

A loss object is what ``compile`` uses: ``loss(y_true, y_pred, sample_weight)``
computes the per-example values (``call``), multiplies them by the weights and
applies the reduction, all with nnlib ops, so the result is differentiable.
"""

import re

import numpy as np

from .._lookup import unknown_name
from ..ops import reduce_sum, where
from . import _inputs

__all__ = ["REDUCTIONS", "Loss", "LossFunctionWrapper"]

# "mean" is Keras 3's alias of "sum_over_batch_size"; None means "none".
REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "none")


def standardize_reduction(reduction, owner):
    """``reduction`` checked against ``REDUCTIONS`` (None becomes "none")."""
    if reduction is None:
        return "none"
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise unknown_name(f"reduction for {owner}", reduction, REDUCTIONS)
    return reduction


def _snake_case(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class Loss:
    """Base class of the loss objects: ``__call__`` weights and reduces ``call``.

    Subclasses implement ``call(y_true, y_pred)`` with nnlib ops, returning one
    loss per example (or per element), and ``get_config`` when they take
    arguments. Reductions, as in Keras:

    - ``"sum_over_batch_size"`` (alias ``"mean"``, the default): the sum of the
      weighted values divided by the number of values (not by the sum of the
      weights), or 0 for an empty batch;
    - ``"sum"``: the sum of the weighted values;
    - ``"none"`` (or None): the weighted values themselves.

    ``sample_weight`` is a number, or one weight per example (shape
    ``(batch,)`` or ``(batch, 1)``), or a shape covering the leading axes of the
    values (per example and time step, ...); other shapes raise rather than
    broadcast.

    A mask ``y_pred`` carries (``y_pred._keras_mask``, from a model with an
    ``Embedding(mask_zero=True)`` or ``Masking`` layer) leaves the masked
    values out, as in Keras 3: they are zeroed, and the mean reductions divide
    by the number of unmasked values (times any weights, the sum of the
    weighted unmasked values over their count), 0 when every value is masked.

    Args:
        name: The loss's name (by default the snake_case class name).
        reduction: One of ``REDUCTIONS``.

    Raises:
        ValueError: For an unknown reduction (with the closest valid one).

    Examples:
        >>> import nnlib.losses as losses
        >>> class MeanCubicError(losses.Loss):
        ...     def call(self, y_true, y_pred):
        ...         return nnlib.reduce_mean(nnlib.abs(y_pred - y_true) ** 3, axis=-1)
        >>> loss = MeanCubicError(reduction="sum")
        >>> loss.name
        'mean_cubic_error'
        >>> loss([[0.], [0.]], [[1.], [2.]])
        nnlib.Tensor(9., shape=(), dtype=float32)
    """

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction, type(self).__name__)

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Returns the weighted, reduced loss (a scalar Tensor unless "none").

        Args:
            y_true: Targets.
            y_pred: Predictions.
            sample_weight: Optional weights (see the class docstring).

        Raises:
            ValueError: If the shapes of the inputs or of the weights do not fit.
        """
        mask = _inputs.mask_of(y_pred)
        y_true, y_pred = _inputs.tensor(y_true), _inputs.tensor(y_pred)
        values = self.call(y_true, y_pred)
        if sample_weight is not None:
            values = values * _inputs.tensor_weights(sample_weight, values, self.name)
        if mask is not None:
            mask = _inputs.mask_for(mask, values.shape, self.name)
            values = where(mask, values, 0.0)
        if self.reduction == "none":
            return values
        total = reduce_sum(values)
        if self.reduction == "sum":
            return total
        return total / max(self._count(y_true, values, mask), 1)

    def _count(self, y_true, values, mask=None):
        """The divisor of the mean reductions: the values that count (all, or
        the unmasked ones)."""
        return values.size if mask is None else int(np.count_nonzero(mask))

    def call(self, y_true, y_pred):
        """Returns the unreduced losses of Tensors ``y_true`` and ``y_pred``."""
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def get_config(self):
        """Returns the constructor arguments as a JSON-friendly dict."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """Builds the loss from ``get_config()``'s dict.

        Examples:
            >>> import nnlib.losses as losses
            >>> losses.Huber.from_config({"delta": 2.0, "reduction": "sum"})
            Huber(name='huber_loss', reduction='sum', delta=2.0)
        """
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """A ``Loss`` from a function ``fn(y_true, y_pred, **kwargs)`` of per-example losses.

    The built-in loss classes are wrappers of the functions of the same name.

    Args:
        fn: The loss function.
        reduction: One of ``REDUCTIONS``.
        name: The loss's name (by default ``fn``'s name).
        **kwargs: Keyword arguments passed to ``fn``; part of the config.

    Examples:
        >>> import nnlib.losses as losses
        >>> loss = losses.LossFunctionWrapper(losses.huber, delta=0.5)
        >>> loss([[0.], [0.]], [[0.5], [2.]])
        nnlib.Tensor(0.5, shape=(), dtype=float32)
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(
            name=name or getattr(fn, "__name__", None), reduction=reduction
        )
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        if cls is LossFunctionWrapper:
            raise ValueError(
                "LossFunctionWrapper.from_config: a wrapped function has no config; "
                "subclass Loss, or build the wrapper again from the function"
            )
        return cls(**config)
