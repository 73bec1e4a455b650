"""Indexing by coordinate tuples: ``gather_nd`` and its adjoint ``scatter_nd``.

The last axis of ``indices`` holds coordinates into the leading axes of a tensor
(TensorFlow's ``gather_nd``/``scatter_nd``). Both ops are linear, and each is
the other's gradient: ``gather_nd`` is an integer-array ``getitem`` (whose
gradient scatters), and the gradient of ``scatter_nd`` gathers; so both are
differentiable to any order.
"""

import numpy as np

from ._dispatch import Tensor, as_tensor
from .creation import _dims
from .declare import declare
from .indexing import getitem
from .registry import Sample, register

__all__ = ["gather_nd", "scatter_nd"]


def _indices(indices, op):
    idx = indices._value if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got {idx.dtype}")
    if idx.ndim == 0:
        raise ValueError(
            f"{op}: indices must have rank >= 1 (coordinates along the last "
            f"axis), got a scalar"
        )
    return idx


def _key(idx, shape, batch_dims, op):
    """The numpy index reading ``idx``'s coordinates from a tensor of ``shape``,
    after checking them (errors name ``op``)."""
    b, depth = batch_dims, idx.shape[-1]
    if not 0 <= b < idx.ndim or b + depth > len(shape):
        raise ValueError(
            f"{op}: indices of shape {idx.shape} (batch_dims {b}) index "
            f"{depth} axes after {b} batch axes; a tensor of shape {shape} has "
            f"{len(shape)}"
        )
    if shape[:b] != idx.shape[:b]:
        raise ValueError(
            f"{op}: the {b} batch axes differ: tensor shape {shape}, indices "
            f"shape {idx.shape}"
        )
    sizes = np.asarray(shape[b : b + depth])
    bad = (idx < 0) | (idx >= sizes)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise IndexError(
            f"{op}: indices{list(where)} = {int(idx[where])} is out of range "
            f"for axis {b + where[-1]} of size {shape[b + where[-1]]} (tensor "
            f"shape {shape})"
        )
    rank = idx.ndim - 1
    grids = tuple(
        np.arange(n).reshape((1,) * i + (n,) + (1,) * (rank - i - 1))
        for i, n in enumerate(shape[:b])
    )
    return grids + _coordinates(idx)


def _coordinates(idx):
    """The index arrays of the coordinates in ``idx``'s last axis (no batch axes);
    Tensors in a recorded gradient."""
    return tuple(idx[..., j] for j in range(idx.shape[-1]))


def _gather_sample(params_shape, indices, **kwargs):
    def make(rng):
        return [rng.uniform(-2, 2, params_shape)], {
            "indices": np.array(indices),
            **kwargs,
        }

    return Sample(make=make)


@register(
    _gather_sample((3, 4), [[2, 1], [0, 3], [2, 1]]),
    _gather_sample((3, 4, 2), [[[1], [0]], [[2], [2]]]),
    _gather_sample((2, 3, 4), [[1, 3], [0, 0]], batch_dims=1),
    second_order=True,
)
def gather_nd(params, indices, batch_dims=0):
    """Gathers the slices of ``params`` that coordinate tuples point at.

    ``indices[..., :]`` holds a coordinate into the first ``M =
    indices.shape[-1]`` axes of ``params`` (after ``batch_dims`` batch axes,
    which ``params`` and ``indices`` share): the result has shape
    ``indices.shape[:-1] + params.shape[batch_dims + M:]``. The gradient adds
    ``dy`` back at the coordinates (repeated ones add up).

    Args:
        params: The tensor to gather from.
        indices: An integer tensor or array; each coordinate must be in range
            (negative ones are errors, as in TensorFlow on the CPU).
        batch_dims: The number of leading batch axes.

    Returns:
        A Tensor of ``params``' dtype.

    Raises:
        TypeError: If ``indices`` are not integers.
        IndexError: For a coordinate out of range, naming it and the axis.
        ValueError: If the coordinates are longer than ``params``' rank or the
            batch axes differ.

    Examples:
        >>> x = nnlib.constant([[1., 2.], [3., 4.]])
        >>> nnlib.gather_nd(x, [[1, 0], [0, 1]])
        nnlib.Tensor([3. 2.], shape=(2,), dtype=float32)
        >>> nnlib.gather_nd(x, [[1]])
        nnlib.Tensor([[3. 4.]], shape=(1, 2), dtype=float32)
    """
    params = as_tensor(params)
    idx = _indices(indices, "gather_nd")
    return getitem(params, _key(idx, params.shape, batch_dims, "gather_nd"))


def _scatter_nd_forward(indices, updates, shape):
    out = np.zeros(shape, updates.dtype)
    np.add.at(out, _coordinates(indices), updates)
    return out


SCATTER_ND = declare("scatter_nd", _scatter_nd_forward, saves="x")


@SCATTER_ND.gradient
def _(g):
    idx, _ = g.inputs
    return None, g.dy[_coordinates(idx)]


def _scatter_sample(indices, updates_shape, shape):
    def make(rng):
        return [np.array(indices), rng.uniform(-2, 2, updates_shape)], {"shape": shape}

    return Sample(make=make)


@register(
    _scatter_sample([[0], [2], [0]], (3,), (4,)),
    _scatter_sample([[1, 0], [0, 2]], (2, 3), (2, 3, 3)),
    second_order=True,
)
def scatter_nd(indices, updates, shape):
    """Adds ``updates`` into zeros of ``shape`` at coordinate tuples.

    The adjoint of ``gather_nd``: ``updates`` has shape ``indices.shape[:-1] +
    shape[M:]`` (``M = indices.shape[-1]``), and updates at a repeated
    coordinate add up, as in TensorFlow. The gradient gathers ``dy`` at the
    coordinates.

    Args:
        indices: An integer tensor or array of coordinates.
        updates: The values to add.
        shape: The output's shape.

    Returns:
        A Tensor of ``updates``' dtype and the given ``shape``.

    Raises:
        TypeError: If ``indices`` are not integers.
        IndexError: For a coordinate out of range.
        ValueError: If ``updates`` does not have the shape the coordinates and
            ``shape`` imply.

    Examples:
        >>> nnlib.scatter_nd([[1], [3], [1]], [9., 10., 11.], [4])
        nnlib.Tensor([ 0. 20.  0. 10.], shape=(4,), dtype=float32)
    """
    updates = as_tensor(updates)
    idx = _indices(indices, "scatter_nd")
    shape = _dims(shape, "scatter_nd")
    _key(idx, shape, 0, "scatter_nd")  # checks the coordinates
    expected = idx.shape[:-1] + shape[idx.shape[-1] :]
    if updates.shape != expected:
        raise ValueError(
            f"scatter_nd: updates must have shape {expected} (indices.shape[:-1] "
            f"+ shape[{idx.shape[-1]}:]) for indices of shape {idx.shape} and "
            f"shape {shape}; got {updates.shape}"
        )
    return SCATTER_ND(
        indices if isinstance(indices, Tensor) else idx, updates, shape=shape
    )
