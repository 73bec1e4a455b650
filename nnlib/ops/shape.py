"""Shape ops: reshape, broadcast, transpose, cast, join, split, tile and pad.

The joining and splitting ops are each other's gradients (``concat`` and ``split``,
``stack`` and ``unstack``), so every rule here is differentiable again.
"""

import operator

import numpy as np

from . import indexing as _indexing
from . import reduction as _reduction
from ..engine.variable import Variable
from ._dispatch import ACTIVE, Tensor, as_tensor, is_float, record, wrap
from .registry import Sample, register

__all__ = [
    "broadcast_to", "cast", "concat", "expand_dims", "pad", "reshape", "split",
    "squeeze", "stack", "tile", "transpose", "unstack",
]


@register(Sample(shapes=[(3, 4)], kwargs={"shape": (2, 6)}),
          Sample(shapes=[(2, 3, 2)], kwargs={"shape": (-1,)}), second_order=True)
def reshape(x, shape):
    """Returns ``x`` with a new shape holding the same elements.

    Args:
        x: A tensor, array or number.
        shape: The new shape; one entry may be -1 (inferred).

    Returns:
        A Tensor.

    Raises:
        ValueError: If the element counts differ.

    Example:
        >>> nnlib.reshape([1., 2., 3., 4.], (2, 2))
        nnlib.Tensor([[1. 2.]
                      [3. 4.]], shape=(2, 2), dtype=float32)
    """
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        y = wrap(np.reshape(x._value, shape))
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into shape {shape}") from None
    if ACTIVE:
        x_shape = x.shape
        record("reshape", (x,), y, lambda dy: (reshape(dy, x_shape),))
    return y


@register(Sample(shapes=[(3,)], kwargs={"shape": (2, 3)}),
          Sample(shapes=[(2, 1)], kwargs={"shape": (4, 2, 3)}), second_order=True)
def broadcast_to(x, shape):
    """Broadcasts ``x`` to ``shape`` with numpy's rules.

    Raises:
        ValueError: If ``x``'s shape cannot broadcast to ``shape``.

    Example:
        >>> nnlib.broadcast_to([1., 2.], (2, 2))
        nnlib.Tensor([[1. 2.]
                      [1. 2.]], shape=(2, 2), dtype=float32)
    """
    x = as_tensor(x)
    shape = tuple(shape)
    try:
        y = wrap(np.broadcast_to(x._value, shape))
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} "
                         f"to {shape}") from None
    if ACTIVE:
        x_shape = x.shape
        record("broadcast_to", (x,), y,
               lambda dy: (_reduction.sum_to_shape(dy, x_shape),))
    return y


@register(Sample(shapes=[(3, 4)]),
          Sample(shapes=[(2, 3, 4)], kwargs={"perm": (1, 2, 0)}), second_order=True)
def transpose(x, perm=None):
    """Permutes the axes of ``x`` (reverses them when ``perm`` is None).

    Raises:
        ValueError: If ``perm`` is not a permutation of ``x``'s axes.

    Example:
        >>> nnlib.transpose(nnlib.zeros((2, 3, 4)), perm=(2, 0, 1)).shape
        (4, 2, 3)
    """
    x = as_tensor(x)
    if perm is None:
        perm = tuple(range(x.ndim))[::-1]
    else:
        perm = tuple(int(p) % max(x.ndim, 1) for p in perm)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: perm {perm} is not a permutation of the "
                         f"{x.ndim} axes of a tensor of shape {x.shape}")
    y = wrap(np.transpose(x._value, perm))
    if ACTIVE:
        inverse = tuple(np.argsort(perm))
        record("transpose", (x,), y, lambda dy: (transpose(dy, inverse),))
    return y


# float64 -> float64 only: a float32 round trip would defeat the float64 check.
@register(Sample(shapes=[(3, 4)], kwargs={"dtype": "float64"}), second_order=True)
def cast(x, dtype):
    """Converts ``x`` to ``dtype``.

    Casting between floating-point dtypes is differentiable; casting to an
    integer or boolean dtype is not (no gradient flows through it).

    Example:
        >>> nnlib.cast([1.7, -1.2], "int32")
        nnlib.Tensor([ 1 -1], shape=(2,), dtype=int32)
    """
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    if x.dtype == dtype and not isinstance(x, Variable):
        return x  # tensors are immutable; a variable's value is not
    y = wrap(x._value.astype(dtype))
    if ACTIVE:
        source = x.dtype
        differentiable = dtype.kind in "fc" and source.kind in "fc"
        backward = (lambda dy: (cast(dy, source),)) if differentiable else None
        record("cast", (x,), y, backward)
    return y


def _axis(axis, rank, op, what):
    """``axis`` as an int in ``[0, rank)``; a ValueError names ``op`` and ``what``."""
    axis = operator.index(axis)
    if not -rank <= axis < rank:
        raise ValueError(f"{op}: axis {axis} is out of range [{-rank}, {rank - 1}] "
                         f"for {what}")
    return axis % rank


def _shapes(shapes):
    text = [str(s) for s in shapes]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def _tensors(values, op):
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{op}: expects a list of tensors, got {type(values).__name__}")
    if not values:
        raise ValueError(f"{op}: expects at least one tensor, got an empty list")
    return [as_tensor(v) for v in values]


def _cast_back(grad, dtype):
    """The gradient for an input of ``dtype`` (None: the input carries none)."""
    if dtype is None:
        return None
    return grad if grad.dtype == dtype else cast(grad, dtype)


@register(Sample(shapes=[(3, 4)], kwargs={"axis": 1}),
          Sample(shapes=[(3, 4)], kwargs={"axis": -1}), second_order=True)
def expand_dims(x, axis):
    """Inserts an axis of length 1 at position ``axis``.

    Args:
        x: A tensor, array or number.
        axis: Where the new axis goes, in ``[-rank - 1, rank]``.

    Returns:
        A Tensor of rank ``x.ndim + 1``.

    Raises:
        ValueError: If ``axis`` is out of range.

    Example:
        >>> nnlib.expand_dims(nnlib.zeros((2, 3)), -1).shape
        (2, 3, 1)
    """
    x = as_tensor(x)
    axis = _axis(axis, x.ndim + 1, "expand_dims", f"a tensor of shape {x.shape}")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


@register(Sample(shapes=[(3, 1, 4, 1)]),
          Sample(shapes=[(1, 3, 1)], kwargs={"axis": -1}), second_order=True)
def squeeze(x, axis=None):
    """Removes axes of length 1 (all of them when ``axis`` is None).

    Args:
        x: A tensor, array or number.
        axis: An int or a list of ints; each named axis must have length 1.

    Returns:
        A Tensor.

    Raises:
        ValueError: If a named axis is out of range or longer than 1.

    Example:
        >>> nnlib.squeeze(nnlib.zeros((1, 3, 1))).shape
        (3,)
    """
    x = as_tensor(x)
    shape = x.shape
    if axis is None:
        axes = {i for i, d in enumerate(shape) if d == 1}
    else:
        what = f"a tensor of shape {shape}"
        axes = {_axis(a, x.ndim, "squeeze", what)
                for a in (axis if isinstance(axis, (list, tuple)) else [axis])}
        for a in sorted(axes):
            if shape[a] != 1:
                raise ValueError(f"squeeze: cannot squeeze axis {a} of size {shape[a]} "
                                 f"in a tensor of shape {shape}; only axes of size 1 "
                                 "can go")
    return reshape(x, tuple(d for i, d in enumerate(shape) if i not in axes))


@register(Sample(shapes=[(2, 3), (4, 3)], kwargs={"axis": 0}),
          Sample(shapes=[(2, 3), (2, 1), (2, 2)], kwargs={"axis": -1}),
          second_order=True, takes_list=True)
def concat(values, axis):
    """Joins tensors along an existing axis.

    Args:
        values: A list of tensors of equal rank whose shapes agree except on ``axis``.
        axis: The axis to join along.

    Returns:
        A Tensor; its dtype follows numpy's promotion rules.

    Raises:
        ValueError: Naming every shape when ranks or the other axes differ.

    Example:
        >>> nnlib.concat([nnlib.ones((1, 2)), nnlib.zeros((1, 2))], axis=0)
        nnlib.Tensor([[1. 1.]
                      [0. 0.]], shape=(2, 2), dtype=float32)
    """
    tensors = _tensors(values, "concat")
    shapes = [t.shape for t in tensors]
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise ValueError(f"concat: tensors must have the same rank, got shapes "
                         f"{_shapes(shapes)}")
    axis = _axis(axis, rank, "concat", f"shapes {_shapes(shapes)}")
    if any(s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]
           for s in shapes):
        raise ValueError(f"concat: shapes {_shapes(shapes)} differ on an axis other "
                         f"than {axis}")
    y = wrap(np.concatenate([t._value for t in tensors], axis=axis))
    if ACTIVE:
        sizes = [s[axis] for s in shapes]
        dtypes = [t.dtype if is_float(t) else None for t in tensors]

        def backward(dy):
            parts = split(dy, sizes, axis)
            return tuple(_cast_back(g, d) for g, d in zip(parts, dtypes))

        record("concat", tuple(tensors), y, backward)
    return y


@register(Sample(shapes=[(3,), (3,)]),
          Sample(shapes=[(2, 3), (2, 3), (2, 3)], kwargs={"axis": -1}),
          second_order=True, takes_list=True)
def stack(values, axis=0):
    """Joins tensors of one shape along a new axis.

    Args:
        values: A list of tensors of the same shape.
        axis: Position of the new axis in the result, in ``[-rank - 1, rank]``.

    Returns:
        A Tensor of rank one more than the inputs'.

    Raises:
        ValueError: Naming every shape when they differ.

    Example:
        >>> nnlib.stack([nnlib.zeros((2, 3)), nnlib.ones((2, 3))], axis=1).shape
        (2, 2, 3)
    """
    tensors = _tensors(values, "stack")
    shapes = [t.shape for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: tensors must have the same shape, got shapes "
                         f"{_shapes(shapes)}")
    axis = _axis(axis, len(shapes[0]) + 1, "stack", f"shapes {_shapes(shapes)}")
    y = wrap(np.stack([t._value for t in tensors], axis=axis))
    if ACTIVE:
        dtypes = [t.dtype if is_float(t) else None for t in tensors]

        def backward(dy):
            return tuple(_cast_back(g, d) for g, d in zip(unstack(dy, axis), dtypes))

        record("stack", tuple(tensors), y, backward)
    return y


@register(Sample(shapes=[(3, 4)]), Sample(shapes=[(2, 3, 2)], kwargs={"axis": 1}),
          second_order=True)
def unstack(x, axis=0):
    """Splits ``x`` along ``axis`` into a list of tensors of one rank less.

    Args:
        x: A tensor of rank >= 1.
        axis: The axis to unpack.

    Returns:
        A list of ``x.shape[axis]`` Tensors.

    Raises:
        ValueError: If ``axis`` is out of range.

    Example:
        >>> [t.numpy().tolist() for t in nnlib.unstack([[1., 2.], [3., 4.]], axis=1)]
        [[1.0, 3.0], [2.0, 4.0]]
    """
    x = as_tensor(x)
    axis = _axis(axis, x.ndim, "unstack", f"a tensor of shape {x.shape}")
    ys = [wrap(v) for v in np.moveaxis(x._value, axis, 0)]
    if ACTIVE and ys:
        record("unstack", (x,), tuple(ys), lambda dys: (stack(dys, axis),))
    return ys


def _split_sizes(spec, size, where):
    spec = np.asarray(spec._value if isinstance(spec, Tensor) else spec)
    if spec.dtype.kind not in "iu" or spec.ndim > 1:
        raise TypeError(f"split: num_or_size_splits must be an int or a list of ints, "
                        f"got {spec.tolist()!r}")
    if spec.ndim == 0:
        count = int(spec)
        if count <= 0 or size % count:
            raise ValueError(f"split: cannot split {where} into {count} equal parts")
        return [size // count] * count
    sizes = [int(s) for s in spec]
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = size - sum(sizes) - 1
    if not sizes or min(sizes) < 0 or sum(sizes) != size:
        raise ValueError(f"split: sizes {spec.tolist()} do not add up to {where} "
                         "(one size may be -1, meaning the rest)")
    return sizes


@register(Sample(shapes=[(6, 2)], kwargs={"num_or_size_splits": 3}),
          Sample(shapes=[(2, 7)], kwargs={"num_or_size_splits": [2, -1, 1], "axis": 1}),
          second_order=True)
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

    Example:
        >>> [t.shape for t in nnlib.split(nnlib.zeros((2, 5)), [1, -1], axis=1)]
        [(2, 1), (2, 4)]
    """
    x = as_tensor(x)
    axis = _axis(axis, x.ndim, "split", f"a tensor of shape {x.shape}")
    where = f"axis {axis} of size {x.shape[axis]} (shape {x.shape})"
    sizes = _split_sizes(num_or_size_splits, x.shape[axis], where)
    ys = [wrap(v) for v in np.split(x._value, np.cumsum(sizes)[:-1], axis=axis)]
    if ACTIVE:
        record("split", (x,), tuple(ys), lambda dys: (concat(dys, axis),))
    return ys


@register(Sample(shapes=[(2, 3)], kwargs={"multiples": (2, 1)}),
          Sample(shapes=[(2, 1, 2)], kwargs={"multiples": (1, 3, 2)}),
          second_order=True)
def tile(x, multiples):
    """Repeats ``x`` ``multiples[i]`` times along each axis ``i``.

    Args:
        x: A tensor.
        multiples: One non-negative int per axis of ``x``.

    Returns:
        A Tensor of shape ``x.shape[i] * multiples[i]``.

    Raises:
        ValueError: If ``multiples`` does not have one entry per axis.

    Example:
        >>> nnlib.tile([[1., 2.]], (2, 2))
        nnlib.Tensor([[1. 2. 1. 2.]
                      [1. 2. 1. 2.]], shape=(2, 4), dtype=float32)
    """
    x = as_tensor(x)
    reps = np.asarray(multiples).reshape(-1)
    if (reps.size != x.ndim or (reps.size and reps.dtype.kind not in "iu")
            or (reps < 0).any()):
        raise ValueError(f"tile: multiples must be {x.ndim} non-negative ints, one per "
                         f"axis of shape {x.shape}, got {reps.tolist()}")
    reps = tuple(int(m) for m in reps)
    y = wrap(np.tile(x._value, reps))
    if ACTIVE:
        # Split each axis into (copy, original) and sum the copies away.
        paired = tuple(n for m, d in zip(reps, x.shape) for n in (m, d))
        copies = tuple(2 * i for i in range(len(reps)))
        record("tile", (x,), y,
               lambda dy: (_reduction.reduce_sum(reshape(dy, paired), axis=copies),))
    return y


_PAD_LIMIT = {"reflect": 1, "symmetric": 0}  # how close to the axis length pads may go


@register(Sample(shapes=[(3, 4)], kwargs={"paddings": [[1, 0], [2, 1]]}),
          Sample(shapes=[(2, 3)], kwargs={"paddings": [[0, 2], [1, 1]],
                                          "constant_values": 1.5}),
          Sample(shapes=[(3, 4)], kwargs={"paddings": [[2, 1], [1, 3]],
                                          "mode": "reflect"}),
          Sample(shapes=[(2, 3)], kwargs={"paddings": [[2, 1], [3, 0]],
                                          "mode": "SYMMETRIC"}),
          second_order=True)
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

    Example:
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
        raise ValueError(f"pad: paddings must be {x.ndim} [before, after] pairs of "
                         f"non-negative ints for a tensor of shape {x.shape}, got "
                         f"{pads.tolist()}")
    pads = [(int(a), int(b)) for a, b in pads]
    mode = mode.lower()
    if mode == "constant":
        y = wrap(np.pad(x._value, pads, constant_values=np.asarray(constant_values)))
        if ACTIVE:
            key = tuple(slice(a, a + d) for (a, _), d in zip(pads, x.shape))
            record("pad", (x,), y, lambda dy: (_indexing.getitem(dy, key),))
        return y
    if mode not in _PAD_LIMIT:
        raise ValueError(f"pad: mode must be 'constant', 'reflect' or 'symmetric', "
                         f"got {mode!r}")
    for i, ((a, b), d) in enumerate(zip(pads, x.shape)):
        if max(a, b) > d - _PAD_LIMIT[mode]:
            raise ValueError(f"pad: {mode} padding {[a, b]} is too long for axis {i} "
                             f"of size {d} (shape {x.shape})")
    # Mirroring is a gather: index maps per axis, so the gradient is getitem's.
    maps = [np.pad(np.arange(d), p, mode=mode) for p, d in zip(pads, x.shape)]
    return _indexing.getitem(x, np.ix_(*maps))
