"""Regression and margin losses: squared and absolute error, Huber, log-cosh,
hinge and cosine similarity.

Each function returns one loss per example: the mean (or, for cosine
similarity, the sum) over the last axis, as in Keras. ``y_true`` and ``y_pred``
must have the same shape, except for Keras's rule for a trailing axis of size 1:
``(32,)`` against ``(32, 1)`` compares 32 pairs, where numpy would broadcast
them into a (32, 32) matrix.
"""

import math
import numbers

import numpy as np

from ..ops import (
    abs,  # the op, which shadows the builtin here
    maximum,
    minimum,
    reduce_mean,
    reduce_sum,
    relu,
    rsqrt,
    softplus,
    square,
)
from ..ops.reduction import normalize_axes
from . import _inputs

__all__ = [
    "cosine_similarity",
    "hinge",
    "huber",
    "log_cosh",
    "mean_absolute_error",
    "mean_squared_error",
]


def mean_squared_error(y_true, y_pred):
    """Mean of ``square(y_true - y_pred)`` over the last axis.

    Args:
        y_true: Targets.
        y_pred: Predictions of ``y_true``'s shape (a trailing axis of size 1 may
            differ, as in Keras).

    Returns:
        A Tensor of the (aligned) shape without its last axis.

    Raises:
        ValueError: If the shapes differ otherwise; both are named.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.mean_squared_error([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
        nnlib.Tensor([0.5 0.5], shape=(2,), dtype=float32)
        >>> losses.mse([1., 2.], [[1.], [4.]])   # (2,) against (2, 1): 2 pairs
        nnlib.Tensor([0. 4.], shape=(2,), dtype=float32)
    """
    y_true, y_pred = _inputs.pair(y_true, y_pred, "mean_squared_error")
    return reduce_mean(square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean of ``abs(y_true - y_pred)`` over the last axis.

    Args:
        y_true: Targets.
        y_pred: Predictions of ``y_true``'s shape (see ``mean_squared_error``).

    Returns:
        A Tensor of the (aligned) shape without its last axis.

    Raises:
        ValueError: If the shapes differ; both are named.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.mae([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
        nnlib.Tensor([0.5 0.5], shape=(2,), dtype=float32)
    """
    y_true, y_pred = _inputs.pair(y_true, y_pred, "mean_absolute_error")
    return reduce_mean(abs(y_pred - y_true), axis=-1)


def _positive(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{owner}: {name} must be a finite number > 0, got {value}")
    return float(value)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond.

    Per element ``0.5 * e**2`` where ``|e| <= delta`` and
    ``delta * (|e| - 0.5 * delta)`` elsewhere, ``e = y_pred - y_true``;
    averaged over the last axis. Written as ``0.5 * q**2 + delta * (|e| - q)``
    with ``q = min(|e|, delta)``, which needs no branch.

    Args:
        y_true: Targets.
        y_pred: Predictions of ``y_true``'s shape.
        delta: Where the loss turns linear, a number > 0.

    Returns:
        A Tensor of the (aligned) shape without its last axis.

    Raises:
        ValueError: If the shapes differ, or ``delta`` is not > 0.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.huber([[0., 0.]], [[0.5, 3.]])
        nnlib.Tensor([1.3125], shape=(1,), dtype=float32)
    """
    delta = _positive(delta, "delta", "huber")
    y_true, y_pred = _inputs.pair(y_true, y_pred, "huber")
    error = abs(y_pred - y_true)
    quadratic = minimum(error, delta)
    return reduce_mean(0.5 * square(quadratic) + delta * (error - quadratic), axis=-1)


def log_cosh(y_true, y_pred):
    """Mean of ``log(cosh(y_pred - y_true))`` over the last axis.

    About ``x**2 / 2`` for small errors and ``|x| - log(2)`` for large ones;
    computed as ``x + softplus(-2x) - log(2)``, which does not overflow.

    Args:
        y_true: Targets.
        y_pred: Predictions of ``y_true``'s shape.

    Returns:
        A Tensor of the (aligned) shape without its last axis.

    Raises:
        ValueError: If the shapes differ; both are named.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.log_cosh([[0., 0.]], [[1., 1e4]])
        nnlib.Tensor([4999.87], shape=(1,), dtype=float32)
    """
    y_true, y_pred = _inputs.pair(y_true, y_pred, "log_cosh")
    x = y_pred - y_true
    return reduce_mean(x + softplus(-2.0 * x) - math.log(2.0), axis=-1)


def hinge(y_true, y_pred):
    """Mean of ``max(1 - y_true * y_pred, 0)`` over the last axis.

    Targets are -1 or 1; targets that are all 0 or 1 are mapped to -1 and 1
    first, as Keras does.

    Args:
        y_true: Targets in ``{-1, 1}`` or ``{0, 1}``.
        y_pred: Predicted scores of ``y_true``'s shape.

    Returns:
        A Tensor of the (aligned) shape without its last axis.

    Raises:
        ValueError: If the shapes differ; both are named.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.hinge([[0., 1.]], [[0.5, 0.5]])
        nnlib.Tensor([1.], shape=(1,), dtype=float32)
    """
    y_true, y_pred = _inputs.pair(y_true, y_pred, "hinge")
    values = y_true._value
    if ((values == 0) | (values == 1)).all():
        y_true = 2.0 * y_true - 1.0
    return reduce_mean(relu(1.0 - y_true * y_pred), axis=-1)


def _l2_normalize(x, axis):
    # As tf.math.l2_normalize: the floor on the squared norm keeps a zero
    # vector (and its gradient) finite.
    return x * rsqrt(maximum(reduce_sum(square(x), axis=axis, keepdims=True), 1e-12))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along ``axis``: -1 for parallel vectors.

    ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``, so minimizing
    it aligns the predictions with the targets (Keras's sign convention). A
    zero vector gives 0.

    Args:
        y_true: Target vectors.
        y_pred: Predicted vectors of ``y_true``'s shape.
        axis: The axis along which the vectors lie.

    Returns:
        A Tensor of the (aligned) shape without ``axis``.

    Raises:
        ValueError: If the shapes differ or ``axis`` is out of range.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.cosine_similarity([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
        nnlib.Tensor([-0. -1.], shape=(2,), dtype=float32)
    """
    y_true, y_pred = _inputs.pair(y_true, y_pred, "cosine_similarity")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"cosine_similarity: axis must be an int, got {axis!r}")
    axis = normalize_axes(axis, y_pred.ndim, "cosine_similarity")
    return -reduce_sum(
        _l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis
    )
