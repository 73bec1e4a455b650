"""Shape ops: reshape, broadcast, transpose, cast, expand/squeeze, tile and pad.

Joining and splitting (concat, stack, split, unstack) live in ``joining.py``.
"""

import operator

import numpy as np

from ..engine.variable import Variable
from . import indexing as _indexing
from . import poly as _poly
from ._dispatch import as_tensor
from .declare import declare
from .registry import Sample, register

__all__ = [
    "broadcast_to",
    "cast",
    "expand_dims",
    "pad",
    "reshape",
    "squeeze",
    "tile",
    "transpose",
]


def _reshape(x, shape):
    return x.reshape(shape)


RESHAPE = declare("reshape", _reshape, saves="x")


@RESHAPE.gradient
def _(g):
    return (_poly.reshape(g.dy, g.inputs[0].shape),)


@register(
    Sample(shapes=[(3, 4)], kwargs={"shape": (2, 6)}),
    Sample(shapes=[(2, 3, 2)], kwargs={"shape": (-1,)}),
    second_order=True,
)
def reshape(x, shape):
    """Returns ``x`` with a new shape holding the same elements.

    Args:
        x: A tensor, array or number.
        shape: The new shape; one entry may be -1 (inferred).

    Returns:
        A Tensor.

    Raises:
        ValueError: If the element counts differ.

    Examples:
        >>> nnlib.reshape([1., 2., 3., 4.], (2, 2))
        nnlib.Tensor([[1. 2.]
                      [3. 4.]], shape=(2, 2), dtype=float32)
    """
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        return RESHAPE(x, shape=shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} "
            f"({x.size} elements) into shape {shape}"
        ) from None


def _broadcast_to(x, shape):
    return _poly.broadcast_to(x, shape)  # a read-only view, built cheaply


# The gradient is summed back to the input's shape by the declaration.
BROADCAST_TO = declare("broadcast_to", _broadcast_to, broadcasts=True, saves="")


@BROADCAST_TO.gradient
def _(g):
    return (g.dy,)


@register(
    Sample(shapes=[(3,)], kwargs={"shape": (2, 3)}),
    Sample(shapes=[(2, 1)], kwargs={"shape": (4, 2, 3)}),
    second_order=True,
)
def broadcast_to(x, shape):
    """Broadcasts ``x`` to ``shape`` with numpy's rules.

    Raises:
        ValueError: If ``x``'s shape cannot broadcast to ``shape``.

    Examples:
        >>> nnlib.broadcast_to([1., 2.], (2, 2))
        nnlib.Tensor([[1. 2.]
                      [1. 2.]], shape=(2, 2), dtype=float32)
    """
    x = as_tensor(x)
    shape = tuple(shape)
    try:
        return BROADCAST_TO(x, shape=shape)
    except ValueError:
        raise ValueError(
            f"broadcast_to: cannot broadcast shape {x.shape} to {shape}"
        ) from None


def _transpose(x, perm):
    return x.transpose(perm)


TRANSPOSE = declare("transpose", _transpose, saves="")


@TRANSPOSE.gradient
def _(g):
    return (_poly.transpose(g.dy, _inverse(g.attrs["perm"])),)


def _inverse(perm):
    """The permutation undoing ``perm``."""
    return tuple(sorted(range(len(perm)), key=perm.__getitem__))


@register(
    Sample(shapes=[(3, 4)]),
    Sample(shapes=[(2, 3, 4)], kwargs={"perm": (1, 2, 0)}),
    second_order=True,
)
def transpose(x, perm=None):
    """Permutes the axes of ``x`` (reverses them when ``perm`` is None).

    Raises:
        ValueError: If ``perm`` is not a permutation of ``x``'s axes.

    Examples:
        >>> nnlib.transpose(nnlib.zeros((2, 3, 4)), perm=(2, 0, 1)).shape
        (4, 2, 3)
    """
    x = as_tensor(x)
    if perm is None:
        perm = tuple(range(x.ndim))[::-1]
    else:
        perm = tuple(int(p) % max(x.ndim, 1) for p in perm)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: perm {perm} is not a permutation of the "
            f"{x.ndim} axes of a tensor of shape {x.shape}"
        )
    return TRANSPOSE(x, perm=perm)


def _cast(x, dtype):
    return x.astype(dtype)


CAST = declare("cast", _cast, saves="x")
# Casts to or from integers and booleans: the same op without a gradient, so a
# tape records that no gradient flows through it.
CAST_WITHOUT_GRADIENT = declare("cast", _cast)


@CAST.gradient
def _(g):
    return (_poly.cast(g.dy, g.inputs[0].dtype),)


# float64 -> float64 only: a float32 round trip would defeat the float64 check.
@register(Sample(shapes=[(3, 4)], kwargs={"dtype": "float64"}), second_order=True)
def cast(x, dtype):
    """Converts ``x`` to ``dtype``.

    Casting between floating-point dtypes is differentiable; casting to an
    integer or boolean dtype is not (no gradient flows through it).

    Examples:
        >>> nnlib.cast([1.7, -1.2], "int32")
        nnlib.Tensor([ 1 -1], shape=(2,), dtype=int32)
    """
    x = as_tensor(x)
    dtype, source = np.dtype(dtype), x._value.dtype
    if source == dtype and not isinstance(x, Variable):
        return x  # tensors are immutable; a variable's value is not
    if dtype.kind in "fc" and source.kind in "fc":
        return CAST(x, dtype=dtype)
    return CAST_WITHOUT_GRADIENT(x, dtype=dtype)


def checked_axis(axis, rank, op, what):
    """``axis`` as an int in ``[0, rank)``; a ValueError names ``op`` and ``what``."""
    axis = operator.index(axis)
    if not -rank <= axis < rank:
        raise ValueError(
            f"{op}: axis {axis} is out of range [{-rank}, {rank - 1}] for {what}"
        )
    return axis % rank


@register(
    Sample(shapes=[(3, 4)], kwargs={"axis": 1}),
    Sample(shapes=[(3, 4)], kwargs={"axis": -1}),
    second_order=True,
)
def expand_dims(x, axis):
    """Inserts an axis of length 1 at position ``axis``.

    Args:
        x: A tensor, array or number.
        axis: Where the new axis goes, in ``[-rank - 1, rank]``.

    Returns:
        A Tensor of rank ``x.ndim + 1``.

    Raises:
        ValueError: If ``axis`` is out of range.

    Examples:
        >>> nnlib.expand_dims(nnlib.zeros((2, 3)), -1).shape
        (2, 3, 1)
    """
    x = as_tensor(x)
    axis = checked_axis(axis, x.ndim + 1, "expand_dims", f"a tensor of shape {x.shape}")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


@register(
    Sample(shapes=[(3, 1, 4, 1)]),
    Sample(shapes=[(1, 3, 1)], kwargs={"axis": -1}),
    second_order=True,
)
def squeeze(x, axis=None):
    """Removes axes of length 1 (all of them when ``axis`` is None).

    Args:
        x: A tensor, array or number.
        axis: An int or a list of ints; each named axis must have length 1.

    Returns:
        A Tensor.

    Raises:
        ValueError: If a named axis is out of range or longer than 1.

    Examples:
        >>> nnlib.squeeze(nnlib.zeros((1, 3, 1))).shape
        (3,)
    """
    x = as_tensor(x)
    shape = x.shape
    if axis is None:
        axes = {i for i, d in enumerate(shape) if d == 1}
    else:
        what = f"a tensor of shape {shape}"
        axes = {
            checked_axis(a, x.ndim, "squeeze", what)
            for a in (axis if isinstance(axis, (list, tuple)) else [axis])
        }
        for a in sorted(axes):
            if shape[a] != 1:
                raise ValueError(
                    f"squeeze: cannot squeeze axis {a} of size {shape[a]} "
                    f"in a tensor of shape {shape}; only axes of size 1 "
                    "can go"
                )
    return reshape(x, tuple(d for i, d in enumerate(shape) if i not in axes))


TILE = declare("tile", np.tile, saves="x")


@TILE.gradient
def _(g):
    reps, shape = g.attrs["reps"], g.inputs[0].shape
    # Split each axis into (copy, original) and sum the copies away.
    paired = tuple(n for m, d in zip(reps, shape) for n in (m, d))
    copies = tuple(range(0, 2 * len(reps), 2))
    return (_poly.reduce_sum(_poly.reshape(g.dy, paired), axis=copies),)


@register(
    Sample(shapes=[(2, 3)], kwargs={"multiples": (2, 1)}),
    Sample(shapes=[(2, 1, 2)], kwargs={"multiples": (1, 3, 2)}),
    second_order=True,
)
def tile(x, multiples):
    """Repeats ``x`` ``multiples[i]`` times along each axis ``i``.

    Args:
        x: A tensor.
        multiples: One non-negative int per axis of ``x``.

    Returns:
        A Tensor of shape ``x.shape[i] * multiples[i]``.

    Raises:
        ValueError: If ``multiples`` does not have one entry per axis.

    Examples:
        >>> nnlib.tile([[1., 2.]], (2, 2))
        nnlib.Tensor([[1. 2. 1. 2.]
                      [1. 2. 1. 2.]], shape=(2, 4), dtype=float32)
    """
    x = as_tensor(x)
    reps = np.asarray(multiples).reshape(-1)
    if (
        reps.size != x.ndim
        or (reps.size and reps.dtype.kind not in "iu")
        or (reps < 0).any()
    ):
        raise ValueError(
            f"tile: multiples must be {x.ndim} non-negative ints, one per "
            f"axis of shape {x.shape}, got {reps.tolist()}"
        )
    return TILE(x, reps=tuple(int(m) for m in reps))


def _pad(x, paddings, constant_values):
    return np.pad(x, paddings, constant_values=np.asarray(constant_values))


PAD = declare("pad", _pad, saves="")


@PAD.gradient
def _(g):
    pads, dy = g.attrs["paddings"], g.dy
    return (dy[tuple(slice(a, n - b) for (a, b), n in zip(pads, dy.shape))],)


_PAD_LIMIT = {"reflect": 1, "symmetric": 0}  # how close to the axis length pads may go


@register(
    Sample(shapes=[(3, 4)], kwargs={"paddings": [[1, 0], [2, 1]]}),
    Sample(
        shapes=[(2, 3)], kwargs={"paddings": [[0, 2], [1, 1]], "constant_values": 1.5}
    ),
    Sample(shapes=[(3, 4)], kwargs={"paddings": [[2, 1], [1, 3]], "mode": "reflect"}),
    Sample(shapes=[(2, 3)], kwargs={"paddings": [[2, 1], [3, 0]], "mode": "SYMMETRIC"}),
    second_order=True,
)
def pad(x, paddings, mode="constant", constant_values=0):
    """Pads ``x`` with ``paddings[i] = [before, after]`` elements on each axis ``i``.

    Args:
        x: A tensor.
        paddings: One ``[before, after]`` pair of non-negative ints per axis.
        mode: ``"constant"`` (fill with ``constant_values``), ``"reflect"`` (mirror
            without the edge; pads below the axis length) or ``"symmetric"``
            (mirror with the edge; pads up to the axis length), in any case.
        constant_values: The fill value of ``"constant"`` mode (no gradient).

    Returns:
        A Tensor.

    Raises:
        ValueError: For malformed paddings, an unknown mode, or reflect/symmetric
            pads longer than the axis allows.

    Examples:
        >>> nnlib.pad([[1., 2.]], [[1, 0], [0, 1]])
        nnlib.Tensor([[0. 0. 0.]
                      [1. 2. 0.]], shape=(2, 3), dtype=float32)
        >>> nnlib.pad([1., 2., 3.], [[2, 1]], mode="reflect").numpy()
        array([3., 2., 1., 2., 3., 2.], dtype=float32)
    """
    x = as_tensor(x)
    pads = np.asarray(paddings)
    if pads.size == 0:
        pads = pads.reshape(0, 2).astype(int)
    if pads.shape != (x.ndim, 2) or pads.dtype.kind not in "iu" or (pads < 0).any():
        raise ValueError(
            f"pad: paddings must be {x.ndim} [before, after] pairs of "
            f"non-negative ints for a tensor of shape {x.shape}, got "
            f"{pads.tolist()}"
        )
    pads = tuple((int(a), int(b)) for a, b in pads)
    mode = mode.lower()
    if mode == "constant":
        return PAD(x, paddings=pads, constant_values=constant_values)
    if mode not in _PAD_LIMIT:
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect' or 'symmetric', got {mode!r}"
        )
    for i, ((a, b), d) in enumerate(zip(pads, x.shape)):
        if max(a, b) > d - _PAD_LIMIT[mode]:
            raise ValueError(
                f"pad: {mode} padding {[a, b]} is too long for axis {i} "
                f"of size {d} (shape {x.shape})"
            )
    # Mirroring is a gather: index maps per axis, so the gradient is getitem's.
    maps = [np.pad(np.arange(d), p, mode=mode) for p, d in zip(pads, x.shape)]
    return _indexing.getitem(x, np.ix_(*maps))
