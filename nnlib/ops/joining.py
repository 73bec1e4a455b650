"""Joining and splitting: concat, stack, and their gradients split and unstack.

``concat`` and ``split`` are each other's gradients, as are ``stack`` and
``unstack``, so every rule here is differentiable again.
"""

import itertools

import numpy as np

from . import poly as _poly
from ._dispatch import Tensor, as_tensor
from .declare import declare
from .registry import Sample, register
from .shape import checked_axis

__all__ = ["concat", "split", "stack", "unstack"]


def _shapes(shapes):
    text = [str(s) for s in shapes]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def _tensors(values, op):
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{op}: expects a list of tensors, got {type(values).__name__}")
    if not values:
        raise ValueError(f"{op}: expects at least one tensor, got an empty list")
    return [as_tensor(v) for v in values]


def _cast_back(grads, inputs):
    """The gradients in the inputs' dtypes (None for an input that carries none)."""
    return tuple(
        None if x.dtype.kind not in "fc" else _poly.cast(d, x.dtype)
        for d, x in zip(grads, inputs)
    )


def _concat(*xs, axis):
    return np.concatenate(xs, axis)


CONCAT = declare("concat", _concat, saves="x")


@CONCAT.gradient
def _(g):
    axis = g.attrs["axis"]
    sizes = [x.shape[axis] for x in g.inputs]
    if isinstance(g.dy, Tensor):
        return _cast_back(split(g.dy, sizes, axis), g.inputs)
    return _cast_back(np.split(g.dy, _ends(sizes), axis), g.inputs)


def _ends(sizes):
    """Where each part but the last ends: ``np.split``'s indices."""
    return list(itertools.accumulate(sizes[:-1]))


@register(
    Sample(shapes=[(2, 3), (4, 3)], kwargs={"axis": 0}),
    Sample(shapes=[(2, 3), (2, 1), (2, 2)], kwargs={"axis": -1}),
    second_order=True,
    takes_list=True,
)
def concat(values, axis):
    """Joins tensors along an existing axis.

    Args:
        values: A list of tensors of equal rank whose shapes agree except on ``axis``.
        axis: The axis to join along.

    Returns:
        A Tensor; its dtype follows numpy's promotion rules.

    Raises:
        ValueError: Naming every shape when ranks or the other axes differ.

    Examples:
        >>> nnlib.concat([nnlib.ones((1, 2)), nnlib.zeros((1, 2))], axis=0)
        nnlib.Tensor([[1. 1.]
                      [0. 0.]], shape=(2, 2), dtype=float32)
    """
    tensors = _tensors(values, "concat")
    shapes = [t.shape for t in tensors]
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise ValueError(
            f"concat: tensors must have the same rank, got shapes {_shapes(shapes)}"
        )
    axis = checked_axis(axis, rank, "concat", f"shapes {_shapes(shapes)}")
    if any(
        s[:axis] + s[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :]
        for s in shapes
    ):
        raise ValueError(
            f"concat: shapes {_shapes(shapes)} differ on an axis other than {axis}"
        )
    return CONCAT(*tensors, axis=axis)


def _stack(*xs, axis):
    return np.stack(xs, axis)


STACK = declare("stack", _stack, saves="x")


@STACK.gradient
def _(g):
    axis = g.attrs["axis"]
    if isinstance(g.dy, Tensor):
        return _cast_back(unstack(g.dy, axis), g.inputs)
    return _cast_back(_unstack(g.dy, axis), g.inputs)


@register(
    Sample(shapes=[(3,), (3,)]),
    Sample(shapes=[(2, 3), (2, 3), (2, 3)], kwargs={"axis": -1}),
    second_order=True,
    takes_list=True,
)
def stack(values, axis=0):
    """Joins tensors of one shape along a new axis.

    Args:
        values: A list of tensors of the same shape.
        axis: Position of the new axis in the result, in ``[-rank - 1, rank]``.

    Returns:
        A Tensor of rank one more than the inputs'.

    Raises:
        ValueError: Naming every shape when they differ.

    Examples:
        >>> nnlib.stack([nnlib.zeros((2, 3)), nnlib.ones((2, 3))], axis=1).shape
        (2, 2, 3)
    """
    tensors = _tensors(values, "stack")
    shapes = [t.shape for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(
            f"stack: tensors must have the same shape, got shapes {_shapes(shapes)}"
        )
    axis = checked_axis(axis, len(shapes[0]) + 1, "stack", f"shapes {_shapes(shapes)}")
    return STACK(*tensors, axis=axis)


def _unstack(x, axis):
    return tuple(np.moveaxis(x, axis, 0))


UNSTACK = declare("unstack", _unstack, outputs=None, saves="")


@UNSTACK.gradient
def _(g):
    axis = g.attrs["axis"]
    if isinstance(g.dy[0], Tensor):
        return (stack(g.dy, axis),)
    return (np.stack(g.dy, axis),)


@register(
    Sample(shapes=[(3, 4)]),
    Sample(shapes=[(2, 3, 2)], kwargs={"axis": 1}),
    second_order=True,
)
def unstack(x, axis=0):
    """Splits ``x`` along ``axis`` into a list of tensors of one rank less.

    Args:
        x: A tensor of rank >= 1.
        axis: The axis to unpack.

    Returns:
        A list of ``x.shape[axis]`` Tensors.

    Raises:
        ValueError: If ``axis`` is out of range.

    Examples:
        >>> [t.numpy().tolist() for t in nnlib.unstack([[1., 2.], [3., 4.]], axis=1)]
        [[1.0, 3.0], [2.0, 4.0]]
    """
    x = as_tensor(x)
    axis = checked_axis(axis, x.ndim, "unstack", f"a tensor of shape {x.shape}")
    if not x.shape[axis]:
        return []
    return list(UNSTACK(x, axis=axis))


def _split_sizes(spec, size, where):
    spec = np.asarray(spec._value if isinstance(spec, Tensor) else spec)
    if spec.dtype.kind not in "iu" or spec.ndim > 1:
        raise TypeError(
            f"split: num_or_size_splits must be an int or a list of ints, "
            f"got {spec.tolist()!r}"
        )
    if spec.ndim == 0:
        count = int(spec)
        if count <= 0 or size % count:
            raise ValueError(f"split: cannot split {where} into {count} equal parts")
        return [size // count] * count
    sizes = [int(s) for s in spec]
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = size - sum(sizes) - 1
    if not sizes or min(sizes) < 0 or sum(sizes) != size:
        raise ValueError(
            f"split: sizes {spec.tolist()} do not add up to {where} "
            "(one size may be -1, meaning the rest)"
        )
    return sizes


@register(
    Sample(shapes=[(6, 2)], kwargs={"num_or_size_splits": 3}),
    Sample(shapes=[(2, 7)], kwargs={"num_or_size_splits": [2, -1, 1], "axis": 1}),
    second_order=True,
)
def split(x, num_or_size_splits, axis=0):
    """Splits ``x`` along ``axis`` into several tensors, like ``tf.split``.

    Args:
        x: A tensor.
        num_or_size_splits: An int (that many equal parts) or a list of sizes
            adding up to ``x.shape[axis]``; one size may be -1 (the rest).
        axis: The axis to split.

    Returns:
        A list of Tensors.

    Raises:
        ValueError: If the axis cannot be split that way, naming its size.

    Examples:
        >>> [t.shape for t in nnlib.split(nnlib.zeros((2, 5)), [1, -1], axis=1)]
        [(2, 1), (2, 4)]
    """
    x = as_tensor(x)
    axis = checked_axis(axis, x.ndim, "split", f"a tensor of shape {x.shape}")
    where = f"axis {axis} of size {x.shape[axis]} (shape {x.shape})"
    sizes = _split_sizes(num_or_size_splits, x.shape[axis], where)
    return list(SPLIT(x, sizes=tuple(sizes), axis=axis))


def _split(x, sizes, axis):
    return tuple(np.split(x, _ends(sizes), axis))


SPLIT = declare("split", _split, outputs=None, saves="")


@SPLIT.gradient
def _(g):
    axis = g.attrs["axis"]
    if isinstance(g.dy[0], Tensor):
        return (concat(g.dy, axis),)
    return (np.concatenate(g.dy, axis),)
