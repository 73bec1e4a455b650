"""Reductions: sums, means, extrema and friends over axes."""

import numpy as np

from . import shape as _shape
from ._dispatch import ACTIVE, as_tensor, record, wrap
from .registry import Sample, register

__all__ = ["reduce_sum", "sum_to_shape"]


def normalize_axes(axis, ndim, op):
    """Returns ``axis`` as a sorted tuple of non-negative ints (all axes for None).

    Raises:
        ValueError: Naming ``op`` when an axis is out of range.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of rank {ndim}")
        result.append(int(a) % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result))


def kept_shape(shape, axes):
    """The shape a reduction over ``axes`` has with ``keepdims=True``."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


@register(Sample(shapes=[(3, 4)]), Sample(shapes=[(2, 3, 4)], kwargs={"axis": (0, 2)}),
          Sample(shapes=[(3, 4)], kwargs={"axis": -1, "keepdims": True}), second_order=True)
def reduce_sum(x, axis=None, keepdims=False):
    """Sums the elements of ``x`` over ``axis``.

    Args:
        x: A tensor, array or number.
        axis: An int, a tuple of ints, or None for all axes. Negative axes count
            from the end.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A Tensor of ``x``'s dtype.

    Raises:
        ValueError: If an axis is out of range.

    Example:
        >>> nnlib.reduce_sum([[1., 2.], [3., 4.]], axis=0)
        nnlib.Tensor([4. 6.], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "reduce_sum")
    y = wrap(np.sum(x._value, axis=axes, keepdims=keepdims))
    if ACTIVE:
        x_shape = x.shape

        def backward(dy):
            return (_shape.broadcast_to(_shape.reshape(dy, kept_shape(x_shape, axes)), x_shape),)

        record("reduce_sum", (x,), y, backward)
    return y


@register(Sample(shapes=[(2, 3, 4)], kwargs={"shape": (3, 1)}),
          Sample(shapes=[(3, 4)], kwargs={"shape": (3, 4)}), second_order=True)
def sum_to_shape(x, shape):
    """Sums a broadcast gradient back down to ``shape`` (undoes broadcasting).

    Example:
        >>> sum_to_shape(nnlib.ones((2, 3)), (3,))
        nnlib.Tensor([2. 2. 2.], shape=(3,), dtype=float32)
    """
    x = as_tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and x.shape[lead + i] != 1)
    if axes:
        x = reduce_sum(x, axis=axes)
    return x if x.shape == shape else _shape.reshape(x, shape)
