"""Extrema over axes: reduce_max, reduce_min and their smooth form, reduce_logsumexp.

Arguments are those of every reduction (``reduction.py``): ``axis`` (an int, a
tuple of ints, or None for all axes; negative axes count from the end) and
``keepdims``.
"""

import numpy as np

from . import poly as _poly
from ._axes import kept_shape, normalize_axes
from ._dispatch import as_tensor
from .declare import declare
from .registry import Sample, register

__all__ = ["reduce_logsumexp", "reduce_max", "reduce_min"]

_SAMPLES = (
    Sample(shapes=[(3, 4)]),
    Sample(shapes=[(2, 3, 4)], kwargs={"axis": (0, 2)}),
    Sample(shapes=[(3, 4)], kwargs={"axis": -1, "keepdims": True}),
)


def _extremum_op(ufunc, name):
    op = declare(name, ufunc.reduce)

    @op.gradient
    def _(g):
        # Ties share the gradient equally (TensorFlow's rule); the share is
        # piecewise constant in x (the comparison passes no gradient).
        (x,), (y,), axes = g.inputs, g.outputs, g.attrs["axis"]
        kept = kept_shape(x.shape, axes)
        hit = _poly.cast(x == _poly.reshape(y, kept), x.dtype)
        share = hit / _poly.reduce_sum(hit, axis=axes, keepdims=True)
        return (_poly.reshape(g.dy, kept) * share,)

    return op


REDUCE_MAX = _extremum_op(np.maximum, "reduce_max")
REDUCE_MIN = _extremum_op(np.minimum, "reduce_min")


def _extremum(op, x, axis, keepdims):
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, op.name)
    try:
        return op(x, axis=axes, keepdims=keepdims)
    except ValueError:
        raise ValueError(
            f"{op.name}: cannot reduce a tensor of shape {x.shape} over "
            f"axes {axes}: a reduced slice is empty"
        ) from None


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
    return _extremum(REDUCE_MAX, x, axis, keepdims)


@register(*_SAMPLES, second_order=True)
def reduce_min(x, axis=None, keepdims=False):
    """The smallest element of ``x`` over ``axis``; ties share the gradient evenly.

    Args and errors are those of ``reduce_max``.

    Examples:
        >>> nnlib.reduce_min([[1., 5.], [3., 2.]], axis=0)
        nnlib.Tensor([1. 2.], shape=(2,), dtype=float32)
    """
    return _extremum(REDUCE_MIN, x, axis, keepdims)


def _logsumexp_forward(x, axis, keepdims=False):
    x = x if x.dtype.kind in "fc" else x.astype(np.float64)
    shift = np.maximum.reduce(x, axis=axis, keepdims=True, initial=-np.inf)
    shift = np.where(np.isfinite(shift), shift, 0)
    total = np.add.reduce(np.exp(x - shift), axis=axis, keepdims=True)
    y = np.log(total) + shift
    if keepdims:
        return y
    return y.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axis))


REDUCE_LOGSUMEXP = declare("reduce_logsumexp", _logsumexp_forward)


@REDUCE_LOGSUMEXP.gradient
def _(g):
    (x,), (y,), axes = g.inputs, g.outputs, g.attrs["axis"]
    kept = kept_shape(x.shape, axes)
    softmax = _poly.exp(x - _poly.reshape(y, kept))
    return (_poly.reshape(g.dy, kept) * softmax,)


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
    return REDUCE_LOGSUMEXP(x, axis=axes, keepdims=keepdims)
