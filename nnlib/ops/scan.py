"""Scans and index-valued reductions: cumsum, argmax/argmin, reduce_any/all.

Only ``cumsum`` is differentiable (its gradient is a cumsum the other way); the
others return integers or booleans and are recorded without a gradient.
"""

import numpy as np

from ._axes import integer_axes
from ._dispatch import Tensor, as_tensor
from .declare import declare
from .reduction import normalize_axes
from .registry import Sample, register

__all__ = ["argmax", "argmin", "cumsum", "reduce_all", "reduce_any"]


def _cumsum(v, axis, exclusive, reverse):
    if reverse:
        v = np.flip(v, axis)
    out = np.cumsum(v, axis)
    if exclusive:
        zero = np.zeros(v.shape[:axis] + (1,) + v.shape[axis + 1 :], out.dtype)
        out = np.concatenate((zero, out), axis)
        out = out[(slice(None),) * axis + (slice(0, v.shape[axis]),)]
    return np.flip(out, axis) if reverse else out


CUMSUM = declare("cumsum", _cumsum, saves="")


@CUMSUM.gradient
def _(g):
    # The transpose of a running sum is the running sum the other way.
    attrs = dict(g.attrs, reverse=not g.attrs["reverse"])
    if isinstance(g.dy, Tensor):
        return (CUMSUM(g.dy, **attrs),)
    return (_cumsum(g.dy, **attrs),)


@register(
    Sample(shapes=[(5,)]),
    Sample(shapes=[(3, 4)], kwargs={"axis": 1}),
    Sample(shapes=[(3, 4)], kwargs={"axis": -2, "exclusive": True, "reverse": True}),
    second_order=True,
)
def cumsum(x, axis=0, exclusive=False, reverse=False):
    """Cumulative sum of ``x`` along ``axis``.

    Args:
        x: A tensor of rank >= 1.
        axis: The axis to scan (an int, negative counts from the end).
        exclusive: Leave each element out of its own sum (the first is 0).
        reverse: Sum from the end of the axis towards the start.

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        ValueError: If ``x`` is a scalar or ``axis`` is out of range.

    Examples:
        >>> nnlib.cumsum([1., 2., 3.])
        nnlib.Tensor([1. 3. 6.], shape=(3,), dtype=float32)
        >>> nnlib.cumsum([1., 2., 3.], exclusive=True, reverse=True)
        nnlib.Tensor([5. 3. 0.], shape=(3,), dtype=float32)
    """
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("cumsum: needs a tensor of rank >= 1, got a scalar")
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"cumsum: axis must be an int, got {axis!r}")
    (axis,) = normalize_axes(axis, x.ndim, "cumsum")
    return CUMSUM(x, axis=axis, exclusive=bool(exclusive), reverse=bool(reverse))


_INDEX_TYPES = (np.dtype(np.int32), np.dtype(np.int64))


def _arg(fn):
    def forward(x, axis, keepdims, dtype):
        y = fn(x, axis=axis, keepdims=keepdims)
        return y if y.dtype == dtype else y.astype(dtype)

    return forward


def _logical(ufunc):
    def forward(x, axis, keepdims):
        x = x if x.dtype == np.bool_ else x.astype(bool)
        return ufunc.reduce(x, axis=axis, keepdims=keepdims)

    return forward


# Indices and truth values: declared without gradient rules.
_OPS = {
    "argmax": declare("argmax", _arg(np.argmax)),
    "argmin": declare("argmin", _arg(np.argmin)),
    "reduce_any": declare("reduce_any", _logical(np.logical_or)),
    "reduce_all": declare("reduce_all", _logical(np.logical_and)),
}


def _arg_extremum(name, x, axis, keepdims, output_type):
    x = as_tensor(x)
    if axis is not None:
        if not isinstance(axis, (int, np.integer)):
            try:
                axis = integer_axes(axis, name)
            except TypeError:
                pass
        if not isinstance(axis, (int, np.integer)):
            raise ValueError(f"{name}: axis must be an int or None, got {axis!r}")
        axis = (normalize_axes(axis, x.ndim, name) or (None,))[0]
    dtype = (
        _INDEX_TYPES[1] if output_type is np.int64 else _index_type(output_type, name)
    )
    try:
        return _OPS[name](x, axis=axis, keepdims=keepdims, dtype=dtype)
    except ValueError:
        raise ValueError(
            f"{name}: a tensor of shape {x.shape} has an empty slice along axis {axis}"
        ) from None


def _index_type(output_type, name):
    try:
        dtype = np.dtype(output_type)
    except TypeError:
        dtype = None
    if dtype not in _INDEX_TYPES:
        raise TypeError(
            f"{name}: output_type must be int32 or int64, got {output_type!r}"
        )
    return dtype


@register(differentiable=False)
def argmax(x, axis=None, keepdims=False, output_type=np.int64):
    """The index of the largest element along ``axis`` (the first one on ties).

    Not differentiable: an index has no gradient.

    Args:
        x: A tensor, array or number.
        axis: An int (or a 0-d integer tensor), or None for the index into the
            flattened tensor (numpy's rule).
        keepdims: Keep the reduced axis with length 1.
        output_type: The indices' dtype, int64 (TensorFlow's default) or int32.

    Returns:
        A Tensor of ``output_type``.

    Raises:
        ValueError: If ``axis`` is not an int or None, or is out of range.
        TypeError: If ``output_type`` is not int32 or int64.

    Examples:
        >>> nnlib.argmax([[1., 5.], [3., 2.]], axis=1)
        nnlib.Tensor([1 0], shape=(2,), dtype=int64)
        >>> nnlib.argmax([[1., 5.], [3., 2.]], axis=1, output_type="int32").dtype
        dtype('int32')
    """
    return _arg_extremum("argmax", x, axis, keepdims, output_type)


@register(differentiable=False)
def argmin(x, axis=None, keepdims=False, output_type=np.int64):
    """The index of the smallest element along ``axis``; see ``argmax``.

    Examples:
        >>> nnlib.argmin([[1., 5.], [3., 2.]], axis=0)
        nnlib.Tensor([0 1], shape=(2,), dtype=int64)
    """
    return _arg_extremum("argmin", x, axis, keepdims, output_type)


def _reduce_logical(name, x, axis, keepdims):
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, name)
    return _OPS[name](x, axis=axes, keepdims=keepdims)


@register(differentiable=False)
def reduce_any(x, axis=None, keepdims=False):
    """Logical or over ``axis`` (non-zero counts as true); False for an empty slice.

    Args:
        x: A tensor, array or number of any dtype.
        axis: An int, a tuple of ints, or None for all axes.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A boolean Tensor (not differentiable).

    Raises:
        ValueError: If an axis is out of range.

    Examples:
        >>> nnlib.reduce_any([[True, False], [False, False]], axis=1)
        nnlib.Tensor([ True False], shape=(2,), dtype=bool)
    """
    return _reduce_logical("reduce_any", x, axis, keepdims)


@register(differentiable=False)
def reduce_all(x, axis=None, keepdims=False):
    """Logical and over ``axis``; True for an empty slice. See ``reduce_any``.

    Examples:
        >>> nnlib.reduce_all([[True, False], [True, True]], axis=1)
        nnlib.Tensor([False  True], shape=(2,), dtype=bool)
    """
    return _reduce_logical("reduce_all", x, axis, keepdims)
