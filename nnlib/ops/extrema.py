"""Extrema over axes: reduce_max, reduce_min and their smooth form, reduce_logsumexp.

Arguments are those of every reduction (``reduction.py``): ``axis`` (an int, a
tuple of ints, or None for all axes; negative axes count from the end) and
``keepdims``.
"""

import numpy as np

from . import math as _math
from . import shape as _shape
from ._axes import kept_shape, normalize_axes
from ._dispatch import ACTIVE, as_tensor, record, wrap
from .registry import Sample, register

__all__ = ["reduce_logsumexp", "reduce_max", "reduce_min"]

_SAMPLES = (
    Sample(shapes=[(3, 4)]),
    Sample(shapes=[(2, 3, 4)], kwargs={"axis": (0, 2)}),
    Sample(shapes=[(3, 4)], kwargs={"axis": -1, "keepdims": True}),
)


def _extremum(ufunc, name, x, axis, keepdims):
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, name)
    xv = x._value
    try:
        y = wrap(ufunc.reduce(xv, axis=axes, keepdims=keepdims))
    except ValueError:
        raise ValueError(
            f"{name}: cannot reduce a tensor of shape {x.shape} over "
            f"axes {axes}: a reduced slice is empty"
        ) from None
    if ACTIVE:
        kept = kept_shape(xv.shape, axes)

        def backward(dy):
            # Ties share the gradient equally (TensorFlow's rule); the share is
            # piecewise constant in x, so it can stay a constant.
            hit = (xv == np.reshape(y._value, kept)).astype(xv.dtype)
            share = hit / np.add.reduce(hit, axis=axes, keepdims=True)
            return (_shape.reshape(dy, kept) * wrap(share),)

        record(name, (x,), y, backward)
    return y


@register(*_SAMPLES, second_order=True)
def reduce_max(x, axis=None, keepdims=False):
    """The largest element of ``x`` over ``axis``.

    The gradient is split evenly among tied maxima, as in TensorFlow.

    Args:
        x: A tensor, array or number.
        axis: An int, a tuple of ints, or None for all axes.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A Tensor of ``x``'s dtype.

    Raises:
        ValueError: If an axis is out of range or a reduced slice is empty.

    Examples:
        >>> nnlib.reduce_max([[1., 5.], [3., 2.]], axis=1)
        nnlib.Tensor([5. 3.], shape=(2,), dtype=float32)
    """
    return _extremum(np.maximum, "reduce_max", x, axis, keepdims)


@register(*_SAMPLES, second_order=True)
def reduce_min(x, axis=None, keepdims=False):
    """The smallest element of ``x`` over ``axis``; ties share the gradient evenly.

    Args and errors are those of ``reduce_max``.

    Examples:
        >>> nnlib.reduce_min([[1., 5.], [3., 2.]], axis=0)
        nnlib.Tensor([1. 2.], shape=(2,), dtype=float32)
    """
    return _extremum(np.minimum, "reduce_min", x, axis, keepdims)


@register(*_SAMPLES, second_order=True)
def reduce_logsumexp(x, axis=None, keepdims=False):
    """Computes ``log(sum(exp(x)))`` over ``axis`` without overflow.

    The maximum is subtracted before exponentiating (a slice whose maximum is
    infinite is not shifted). The gradient is the softmax of ``x`` over ``axis``.

    Args:
        x: A tensor, array or number; integers are computed in float64.
        axis: An int, a tuple of ints, or None for all axes.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A floating-point Tensor.

    Raises:
        ValueError: If an axis is out of range.

    Examples:
        >>> nnlib.reduce_logsumexp([10000., 10000.])
        nnlib.Tensor(10000.693, shape=(), dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "reduce_logsumexp")
    xv = x._value if x.dtype.kind in "fc" else x._value.astype(np.float64)
    shift = np.maximum.reduce(xv, axis=axes, keepdims=True, initial=-np.inf)
    shift = np.where(np.isfinite(shift), shift, 0)
    total = np.add.reduce(np.exp(xv - shift), axis=axes, keepdims=True)
    yv = np.log(total) + shift
    if not keepdims:
        yv = yv.reshape(tuple(d for i, d in enumerate(xv.shape) if i not in axes))
    y = wrap(yv)
    if ACTIVE:
        kept = kept_shape(x.shape, axes)

        def backward(dy):
            softmax = _math.exp(x - _shape.reshape(y, kept))
            return (_shape.reshape(dy, kept) * softmax,)

        record("reduce_logsumexp", (x,), y, backward)
    return y
