"""Creating tensors: zeros, ones, fill, range, one_hot, sequence_mask.

None of these has a gradient: ``zeros_like`` and ``ones_like`` read a tensor only
for its shape, and the others build values from plain numbers. They still report
themselves to tapes, so a tape can say why a gradient is None.

``range`` is exported under TensorFlow's name but defined as ``range_``: inside this
module the name ``range`` means the op, so nothing here uses Python's builtin.
"""

import operator

import numpy as np

from ..engine.tensor import to_array
from ._dispatch import Tensor, as_tensor, wrap
from .declare import declare
from .registry import register

__all__ = [
    "fill",
    "one_hot",
    "ones",
    "ones_like",
    "range",
    "sequence_mask",
    "zeros",
    "zeros_like",
]

_FLOAT32 = np.dtype(np.float32)
_WEAK = (bool, int, float)  # exact types: numpy scalars such as np.float64 are strong


def _dims(shape, op):
    """``shape`` (an int, or a list/array/tensor of ints) as a tuple of ints."""
    dims = np.asarray(shape)
    if dims.size == 0:
        return ()
    if dims.ndim > 1 or dims.dtype.kind not in "iu" or (dims < 0).any():
        raise ValueError(
            f"{op}: shape must be an int or a list of non-negative ints, "
            f"got {dims.tolist()!r}"
        )
    return tuple(int(d) for d in dims.reshape(-1))


def _same_tensor(given, array):
    """``given`` if a Tensor (so a tracer links it), else its ``array``."""
    return given if isinstance(given, Tensor) else array


@register(differentiable=False)
def zeros(shape, dtype=_FLOAT32):
    """Returns a tensor of ``shape`` filled with zeros.

    Args:
        shape: An int or a list of non-negative ints.
        dtype: The element dtype, float32 by default.

    Returns:
        A Tensor.

    Raises:
        ValueError: If ``shape`` is not a list of non-negative ints.

    Examples:
        >>> nnlib.zeros((2, 3))
        nnlib.Tensor([[0. 0. 0.]
                      [0. 0. 0.]], shape=(2, 3), dtype=float32)
    """
    return wrap(np.zeros(_dims(shape, "zeros"), dtype))


@register(differentiable=False)
def ones(shape, dtype=_FLOAT32):
    """Returns a tensor of ``shape`` filled with ones (see ``zeros``).

    Examples:
        >>> nnlib.ones(3, dtype="int32")
        nnlib.Tensor([1 1 1], shape=(3,), dtype=int32)
    """
    return wrap(np.ones(_dims(shape, "ones"), dtype))


def _zeros_like(x, dtype):
    return np.zeros(x.shape, x.dtype if dtype is None else dtype)


def _ones_like(x, dtype):
    return np.ones(x.shape, x.dtype if dtype is None else dtype)


# Declared without gradient rules: a tape records that no gradient flows.
ZEROS_LIKE = declare("zeros_like", _zeros_like)
ONES_LIKE = declare("ones_like", _ones_like)


@register(differentiable=False)
def zeros_like(x, dtype=None):
    """Returns zeros with the shape of ``x`` and its dtype (or ``dtype``).

    No gradient flows to ``x``: only its shape is read.

    Args:
        x: A tensor, array or number.
        dtype: Optional dtype overriding ``x``'s.

    Returns:
        A Tensor.

    Examples:
        >>> nnlib.zeros_like(nnlib.constant([[1, 2]]))
        nnlib.Tensor([[0 0]], shape=(1, 2), dtype=int64)
    """
    return ZEROS_LIKE(as_tensor(x), dtype=dtype)


@register(differentiable=False)
def ones_like(x, dtype=None):
    """Returns ones with the shape of ``x`` and its dtype (see ``zeros_like``).

    Examples:
        >>> nnlib.ones_like(np.zeros(2), dtype="float32")
        nnlib.Tensor([1. 1.], shape=(2,), dtype=float32)
    """
    return ONES_LIKE(as_tensor(x), dtype=dtype)


def _fill(value, dims, dtype):
    return np.full(dims, value, dtype)


FILL = declare("fill", _fill)


@register(differentiable=False)
def fill(dims, value, dtype=None):
    """Returns a tensor of shape ``dims`` filled with the scalar ``value``.

    Args:
        dims: An int or a list of non-negative ints.
        value: A scalar; its dtype follows nnlib's rules (a Python float gives
            float32, an int int64) unless ``dtype`` is given.
        dtype: Optional element dtype.

    Returns:
        A Tensor (no gradient flows to ``value``).

    Raises:
        ValueError: If ``value`` is not a scalar or ``dims`` is malformed.

    Examples:
        >>> nnlib.fill((2,), 7.)
        nnlib.Tensor([7. 7.], shape=(2,), dtype=float32)
    """
    v = to_array(value, dtype)
    if v.ndim:
        raise ValueError(f"fill: value must be a scalar, got shape {v.shape}")
    return FILL(value, dims=_dims(dims, "fill"), dtype=v.dtype)


@register(differentiable=False, name="range")
def range_(start, limit=None, delta=1, dtype=None):
    """Returns ``start, start + delta, ...`` up to ``limit`` (excluded), as tf.range.

    With one argument it counts from 0: ``range(n)`` is ``0 .. n - 1``. Python
    numbers are weakly typed: numpy and tensor arguments set the dtype, and
    otherwise it is float32 when any argument is a float and int64 if not.

    Args:
        start: The first value (or the limit, when ``limit`` is None).
        limit: The exclusive end.
        delta: The step, positive or negative but not zero.
        dtype: Optional dtype; the arguments are cast to it first.

    Returns:
        A rank-1 Tensor.

    Raises:
        ValueError: If ``delta`` is zero or an argument is not a scalar.

    Examples:
        >>> nnlib.range(4)
        nnlib.Tensor([0 1 2 3], shape=(4,), dtype=int64)
        >>> nnlib.range(1., 2., 0.25)
        nnlib.Tensor([1.   1.25 1.5  1.75], shape=(4,), dtype=float32)
    """
    if limit is None:
        start, limit = 0, start
    raw = (start, limit, delta)
    args = [to_array(a) for a in raw]
    if any(a.ndim for a in args):
        raise ValueError(
            f"range: start, limit and delta must be scalars, got shapes "
            f"{tuple(a.shape for a in args)}"
        )
    dtype = _range_dtype(raw, args) if dtype is None else np.dtype(dtype)
    # Floats are computed in float64 and rounded once, so float32 steps do not drift.
    work = dtype if dtype.kind in "iu" else np.dtype(np.float64)
    first, end, step = (
        np.asarray(r if type(r) in _WEAK else a).astype(work).item()
        for r, a in zip(raw, args)
    )
    if step == 0:
        raise ValueError("range: delta must not be zero")
    return wrap(np.arange(first, end, step, dtype=work).astype(dtype, copy=False))


def _range_dtype(raw, args):
    """Python numbers are weak (as in numpy 2): numpy and tensor arguments decide."""
    strong = [a.dtype for r, a in zip(raw, args) if type(r) not in _WEAK]
    if any(a.dtype.kind in "fc" for a in args):
        floats = [d for d in strong if d.kind in "fc"]
        return np.result_type(*floats) if floats else _FLOAT32
    return np.result_type(*strong) if strong else np.dtype(np.int64)


range = range_  # TensorFlow's name; nothing below uses the builtin


def _one_hot(indices, depth, on_value, off_value, axis, dtype):
    hot = np.moveaxis(indices[..., None] == np.arange(depth), -1, axis)
    return np.where(hot, on_value, off_value).astype(dtype, copy=False)


ONE_HOT = declare("one_hot", _one_hot)


@register(differentiable=False)
def one_hot(indices, depth, on_value=1.0, off_value=0.0, axis=-1, dtype=_FLOAT32):
    """One-hot encodes integer ``indices`` into a new axis of length ``depth``.

    An index outside ``[0, depth)`` (negative ones included) gives an all-off
    row, as in TensorFlow, so ``-1`` can mark "no class".

    Args:
        indices: An integer tensor or array.
        depth: The number of classes, a non-negative int.
        on_value: The value at each index.
        off_value: The value elsewhere.
        axis: Where the new axis goes: -1 (last) or ``0 .. indices.ndim``.
        dtype: The element dtype, float32 by default.

    Returns:
        A Tensor of rank ``indices.ndim + 1``.

    Raises:
        TypeError: If ``indices`` are not integers.
        ValueError: If ``depth`` is negative or ``axis`` out of range.

    Examples:
        >>> nnlib.one_hot([0, 2, 5], 3)
        nnlib.Tensor([[1. 0. 0.]
                      [0. 0. 1.]
                      [0. 0. 0.]], shape=(3, 3), dtype=float32)
    """
    idx = to_array(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be integers, got {idx.dtype}")
    depth = operator.index(depth)
    if depth < 0:
        raise ValueError(f"one_hot: depth must be non-negative, got {depth}")
    axis = operator.index(axis)
    if not -1 <= axis <= idx.ndim:
        raise ValueError(
            f"one_hot: axis must be -1 or in [0, {idx.ndim}] for indices "
            f"of shape {idx.shape}, got {axis}"
        )
    return ONE_HOT(
        _same_tensor(indices, idx),
        depth=depth,
        on_value=on_value,
        off_value=off_value,
        axis=axis,
        dtype=dtype,
    )


def _sequence_mask(lengths, maxlen, dtype):
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.size else 0
    mask = np.arange(maxlen) < lengths[..., None]
    return mask if np.dtype(dtype) == np.bool_ else mask.astype(dtype)


SEQUENCE_MASK = declare("sequence_mask", _sequence_mask)


@register(differentiable=False)
def sequence_mask(lengths, maxlen=None, dtype=np.bool_):
    """A mask of the first ``lengths[i]`` steps of each sequence.

    ``mask[i, j] = j < lengths[i]``, for any shape of ``lengths`` (TensorFlow's
    ``sequence_mask``): the padding mask of a batch of sequences.

    Args:
        lengths: An integer tensor or array of non-negative lengths.
        maxlen: The length of the new last axis; default ``max(lengths)``.
        dtype: The mask's dtype, bool by default (1 and 0 for numeric ones).

    Returns:
        A Tensor of shape ``lengths.shape + (maxlen,)``.

    Raises:
        TypeError: If ``lengths`` are not integers.
        ValueError: If a length or ``maxlen`` is negative.

    Examples:
        >>> nnlib.sequence_mask([1, 3, 2], 4)
        nnlib.Tensor([[ True False False False]
                      [ True  True  True False]
                      [ True  True False False]], shape=(3, 4), dtype=bool)
        >>> nnlib.sequence_mask([2, 0], dtype="float32")
        nnlib.Tensor([[1. 1.]
                      [0. 0.]], shape=(2, 2), dtype=float32)
    """
    n = to_array(lengths)
    if n.dtype.kind not in "iu":
        raise TypeError(f"sequence_mask: lengths must be integers, got {n.dtype}")
    if (n < 0).any():
        raise ValueError(
            f"sequence_mask: lengths must be non-negative, got {n.min()} in "
            f"lengths of shape {n.shape}"
        )
    if maxlen is not None:
        maxlen = operator.index(maxlen)
        if maxlen < 0:
            raise ValueError(
                f"sequence_mask: maxlen must be non-negative, got {maxlen}"
            )
    # maxlen None stays None: the longest length is read when the op runs.
    return SEQUENCE_MASK(_same_tensor(lengths, n), maxlen=maxlen, dtype=dtype)
