"""Indexing: numpy-style ``x[key]`` (basic, boolean-mask and integer-array), gather.

Every gradient here is ``scatter_add``, whose own gradient is ``getitem`` again, so
indexing is differentiable to any order; but ``gather`` along axis 0 gives
``IndexedSlices`` (the rows it read) when no outer tape records its backward pass.

The index arrays inside a key (integer arrays, boolean masks) are the ops' inputs,
after the indexed tensor; the rest of the key (ints, slices, ``None``, ``...``) is
the ``key`` attribute, with ``_ARRAY`` where each array goes. A tracer replaying
``x[x > 0]`` then reads the mask as data, not as a constant.
"""

import operator

import numpy as np

from ..engine.indexed_slices import IndexedSlices
from ._dispatch import Tensor, as_tensor
from .declare import declare
from .registry import Sample, register

__all__ = ["boolean_mask", "gather", "getitem"]


class _Array:
    """The place of an index array in a ``key`` attribute (the array is an input)."""

    __slots__ = ()

    def __repr__(self):
        return "ARRAY"

    def __reduce__(self):
        return "_ARRAY"  # one instance, also after pickling or copying


_ARRAY = _Array()
_ARRAYS = (Tensor, np.ndarray, list)


def _split_key(key):
    """``(template, arrays)``: ``key`` with each index array replaced by ``_ARRAY``,
    and those arrays in order (Tensors stay Tensors, lists become arrays)."""
    if type(key) is tuple:
        for k in key:
            if isinstance(k, _NESTED):
                break
        else:  # basic indexing, the common case: no arrays
            return key, ()
    elif isinstance(key, _ARRAYS):
        return _ARRAY, (np.asarray(key) if type(key) is list else key,)
    else:
        return key, ()
    arrays = []
    return _template(key, arrays), arrays


_NESTED = (*_ARRAYS, tuple)


def _template(key, arrays):
    if type(key) is tuple:
        return tuple([_template(k, arrays) for k in key])
    if isinstance(key, _ARRAYS):
        arrays.append(np.asarray(key) if type(key) is list else key)
        return _ARRAY
    return key


def _numpy_key(template, arrays):
    """The numpy key: ``template`` with ``arrays`` in its places."""
    if template is _ARRAY:
        return arrays[0]
    return _filled(template, iter(arrays))


def _filled(template, arrays):
    if type(template) is tuple:
        return tuple([_filled(k, arrays) for k in template])
    return next(arrays) if template is _ARRAY else template


def _describe(key):
    """``key`` as written inside brackets, with arrays shown by dtype and shape."""

    def one(k):
        if isinstance(k, slice):
            text = ":".join("" if v is None else str(v) for v in (k.start, k.stop))
            return text if k.step is None else f"{text}:{k.step}"
        if k is Ellipsis:
            return "..."
        if isinstance(k, np.ndarray) and k.ndim:
            return f"<{k.dtype} array of shape {k.shape}>"
        return repr(k)

    return ", ".join(one(k) for k in (key if isinstance(key, tuple) else (key,)))


def _getitem_forward(x, *arrays, key):
    return x[_numpy_key(key, arrays) if arrays else key]


GETITEM = declare("getitem", _getitem_forward, saves="x")


@GETITEM.gradient
def _(g):
    x, *arrays = g.inputs
    dx = _scatter_add(g.dy, arrays, g.attrs["key"], x.shape)
    return (dx, *(None for _ in arrays))


def _scatter_add_forward(dy, *arrays, key, shape):
    dx = np.zeros(shape, dy.dtype)
    if not arrays:
        dx[key] = dy
    elif any(a.dtype.kind in "iu" for a in arrays):  # repeated indices add up
        np.add.at(dx, _numpy_key(key, arrays), dy)
    else:
        dx[_numpy_key(key, arrays)] = dy
    return dx


SCATTER_ADD = declare("scatter_add", _scatter_add_forward, saves="x")


@SCATTER_ADD.gradient
def _(g):
    _, *arrays = g.inputs
    return (_read(g.dy, arrays, g.attrs["key"]), *(None for _ in arrays))


def _read(x, arrays, key):
    """``x[key]`` for a key template and its arrays: recorded on Tensors, numpy
    on arrays (a gradient rule's first-order fast path)."""
    if isinstance(x, Tensor):
        return GETITEM(x, *arrays, key=key)
    return _getitem_forward(x, *arrays, key=key)


def _scatter_add(dy, arrays, key, shape):
    """The gradient of ``getitem``: ``dy`` added into zeros of ``shape`` at the key
    (repeated integer indices add up); recorded on Tensors, numpy on arrays."""
    if isinstance(dy, Tensor):
        return SCATTER_ADD(dy, *arrays, key=key, shape=shape)
    return _scatter_add_forward(dy, *arrays, key=key, shape=shape)


def _getitem_samples(rng):
    return [rng.uniform(-2, 2, (4, 5))], {"key": (slice(1, 3), [0, 2, 2])}


@register(
    Sample(shapes=[(4, 5)], kwargs={"key": (slice(1, None), 2)}),
    Sample(shapes=[(4, 5)], kwargs={"key": (Ellipsis, None, slice(None, None, -2))}),
    Sample(make=_getitem_samples),
    Sample(
        make=lambda rng: (
            [rng.uniform(-2, 2, (3, 4))],
            {"key": rng.random((3, 4)) > 0.4},
        )
    ),
    second_order=True,
)
def getitem(x, key):
    """Returns ``x[key]`` with numpy's indexing rules; this is what ``x[key]`` calls.

    Basic indexing (ints, slices, ``None``, ``...``), boolean masks and integer
    arrays (repeated indices add their gradients) are all differentiable.

    Args:
        x: A tensor.
        key: An index as numpy accepts it; tensors inside it are allowed.

    Returns:
        A Tensor.

    Raises:
        IndexError: If an index is out of range, naming the shape.

    Examples:
        >>> x = nnlib.constant([[1., 2., 3.], [4., 5., 6.]])
        >>> x[:, 1]
        nnlib.Tensor([2. 5.], shape=(2,), dtype=float32)
        >>> x[x > 3.]
        nnlib.Tensor([4. 5. 6.], shape=(3,), dtype=float32)
    """
    x = as_tensor(x)
    template, arrays = _split_key(key)
    try:
        return GETITEM(x, *arrays, key=template)
    except IndexError as err:
        values = [a._value if isinstance(a, Tensor) else a for a in arrays]
        raise IndexError(
            f"getitem: index [{_describe(_numpy_key(template, values))}] is invalid "
            f"for a tensor of shape {x.shape}: {err}"
        ) from None


def _gather_forward(params, indices, axis, batch_dims):
    return params[_gather_key(indices, params.shape, axis, batch_dims)]


GATHER = declare("gather", _gather_forward, saves="x")


@GATHER.gradient
def _(g):
    params, idx = g.inputs
    axis, shape = g.attrs["axis"], params.shape
    if axis == 0 and not isinstance(g.dy, Tensor):  # as TensorFlow: rows, so sparse
        return _sparse_rows(g.dy, idx, shape), None
    template, arrays = _split_key(_gather_key(idx, shape, axis, g.attrs["batch_dims"]))
    return _scatter_add(g.dy, arrays, template, shape), None


def _gather_sample(params_shape, indices, **kwargs):
    def make(rng):
        params = rng.uniform(-2, 2, params_shape)
        return [params], {"indices": np.array(indices), **kwargs}

    return Sample(make=make)


@register(
    _gather_sample((5, 3), [4, 0, 4, 2]),
    _gather_sample((2, 4, 3), [[1, 3], [0, 0]], axis=-2),
    _gather_sample((2, 3, 4), [[3, 0, 3], [1, 1, 2]], axis=2, batch_dims=1),
    second_order=True,
)
def gather(params, indices, axis=None, batch_dims=0):
    """Gathers slices of ``params`` along ``axis`` at ``indices``, like ``tf.gather``.

    The result has shape ``params.shape[:axis] + indices.shape[batch_dims:] +
    params.shape[axis + 1:]``. With ``batch_dims = b`` the first ``b`` axes of
    ``params`` and ``indices`` are paired (they must be equal): each batch entry
    gathers with its own indices. Repeated indices add their gradients; along
    axis 0 the gradient with respect to ``params`` is an ``IndexedSlices``, as
    in TensorFlow (dense where an outer tape records the backward pass).

    Args:
        params: The tensor to gather from.
        indices: Integer tensor or array; every value must lie in
            ``[0, params.shape[axis])`` (negative indices are errors, as in TF).
        axis: The axis to gather along; defaults to ``batch_dims``.
        batch_dims: Number of leading batch axes shared by params and indices.

    Returns:
        A Tensor with the dtype of ``params``.

    Raises:
        IndexError: If an index is out of range, naming it and the axis size.
        TypeError: If ``indices`` are not integers.
        ValueError: If ``axis`` or ``batch_dims`` is out of range or the batch
            shapes differ.

    Examples:
        >>> x = nnlib.constant([[1., 2., 3.], [4., 5., 6.]])
        >>> nnlib.gather(x, [2, 0], axis=1)
        nnlib.Tensor([[3. 1.]
                      [6. 4.]], shape=(2, 2), dtype=float32)
        >>> nnlib.gather(x, [[1], [2]], axis=1, batch_dims=1)
        nnlib.Tensor([[2.]
                      [6.]], shape=(2, 1), dtype=float32)
    """
    params = as_tensor(params)
    idx = indices._value if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: indices must be integers, got {idx.dtype}")
    shape = params.shape
    b = operator.index(batch_dims)
    b = b + idx.ndim if b < 0 else b
    axis = b if axis is None else operator.index(axis)
    axis = axis + len(shape) if axis < 0 else axis
    if not 0 <= b <= min(axis, idx.ndim) or axis >= len(shape):
        raise ValueError(
            f"gather: need 0 <= batch_dims ({batch_dims}) <= axis "
            f"({axis}) < rank of params shape {shape}, and batch_dims <= "
            f"rank of indices shape {idx.shape}"
        )
    if shape[:b] != idx.shape[:b]:
        raise ValueError(
            f"gather: the {b} batch axes differ: params shape {shape}, "
            f"indices shape {idx.shape}"
        )
    bad = (idx < 0) | (idx >= shape[axis])
    if bad.any():
        raise IndexError(
            f"gather: index {int(idx[bad].flat[0])} is out of range for "
            f"axis {axis} of size {shape[axis]} (params shape {shape})"
        )
    indices = indices if isinstance(indices, Tensor) else idx
    return GATHER(params, indices, axis=axis, batch_dims=b)


def _sparse_rows(dy, idx, shape):
    """The gradient of ``params[idx]`` (rows, axis 0) as ``IndexedSlices``, on
    arrays: the upstream rows, one per index."""
    rows = dy.reshape((idx.size,) + shape[1:])
    return IndexedSlices._make(rows, idx.reshape(-1), shape)


def _gather_key(idx, shape, axis, batch_dims):
    """The numpy index that ``gather`` reads with (and scatters its gradient at);
    ``idx`` is an array, or a Tensor in a recorded gradient."""
    if batch_dims == 0:
        return (slice(None),) * axis + (idx,)
    # Index grids on every axis before ``axis`` keep numpy's advanced-index result
    # axes in place: params[:axis], then indices[batch_dims:].
    rank = axis + idx.ndim - batch_dims
    grids = []
    for i, n in enumerate(shape[:axis]):
        grids.append(np.arange(n).reshape((1,) * i + (n,) + (1,) * (rank - i - 1)))
    lead = shape[:batch_dims] + (1,) * (axis - batch_dims)
    return (*grids, idx.reshape(lead + idx.shape[batch_dims:]))


def _mask_sample(rng):
    mask = np.array([[True, False, True, True], [False, False, True, False]])
    return [rng.uniform(-2, 2, (3, 2, 4))], {"mask": mask, "axis": 1}


@register(
    Sample(
        make=lambda rng: (
            [rng.uniform(-2, 2, (4, 3))],
            {"mask": np.array([True, False, True, True])},
        )
    ),
    Sample(make=_mask_sample),
    second_order=True,
)
def boolean_mask(tensor, mask, axis=0):
    """Keeps the entries of ``tensor`` where ``mask`` is true, like ``tf.boolean_mask``.

    ``mask`` covers the axes ``axis .. axis + mask.ndim - 1`` of ``tensor``; those
    axes collapse into one axis holding the selected entries, in row-major order.

    Args:
        tensor: A tensor.
        mask: A boolean tensor or array.
        axis: The first axis ``mask`` covers.

    Returns:
        A Tensor.

    Raises:
        TypeError: If ``mask`` is not boolean.
        ValueError: If ``mask``'s shape does not match those axes of ``tensor``.

    Examples:
        >>> nnlib.boolean_mask([[1., 2.], [3., 4.]], [False, True])
        nnlib.Tensor([[3. 4.]], shape=(1, 2), dtype=float32)
    """
    tensor = as_tensor(tensor)
    given = mask
    mask = mask._value if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype.kind != "b":
        raise TypeError(f"boolean_mask: mask must be boolean, got {mask.dtype}")
    axis = operator.index(axis)
    axis = axis + tensor.ndim if axis < 0 else axis
    if (
        mask.ndim == 0
        or tensor.shape[axis : axis + mask.ndim] != mask.shape
        or axis < 0
    ):
        raise ValueError(
            f"boolean_mask: mask of shape {mask.shape} does not match the "
            f"axes from {axis} of a tensor of shape {tensor.shape}"
        )
    # A mask Tensor stays one: getitem's input, not a constant, to a tracer.
    mask = given if isinstance(given, Tensor) else mask
    return getitem(tensor, (slice(None),) * axis + (mask,))
