"""Embedding lookup: rows of a parameter matrix picked by integer ids.

The gradient with respect to the parameters is an ``IndexedSlices``: the
upstream rows and the ids they belong to (repeated ids add up), so a step on a
large table costs the rows it read, not the table. When an outer tape records
the backward pass (higher-order gradients) the rule gets Tensors and gives the
dense, recorded ``indexing._scatter_add``, whose gradient is a gather again, so
the lookup is differentiable to any order.
"""

import numpy as np

from ._dispatch import Tensor, as_tensor
from .declare import declare
from .indexing import _ARRAY, _scatter_add, _sparse_rows
from .registry import Sample, register

__all__ = ["embedding_lookup"]


def _lookup(params, ids):
    return np.take(params, ids, axis=0)


EMBEDDING_LOOKUP = declare("embedding_lookup", _lookup, saves="x")


@EMBEDDING_LOOKUP.gradient
def _(g):
    params, ids = g.inputs
    if isinstance(g.dy, Tensor):
        return _scatter_add(g.dy, (ids,), _ARRAY, params.shape), None
    return _sparse_rows(g.dy, ids, params.shape), None


def _sample(params_shape, ids):
    def make(rng):
        return [rng.uniform(-2, 2, params_shape), np.array(ids)], {}

    return Sample(make=make)


def _ids(ids, vocabulary, op):
    idx = ids._value if isinstance(ids, Tensor) else np.asarray(ids)
    if idx.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: ids must be integers, got {idx.dtype}; cast them with nnlib.cast"
        )
    if idx.size and (idx.min() < 0 or idx.max() >= vocabulary):
        bad = idx[(idx < 0) | (idx >= vocabulary)].flat[0]
        raise IndexError(
            f"{op}: id {int(bad)} is out of range for a vocabulary of size "
            f"{vocabulary} (ids must lie in [0, {vocabulary}))"
        )
    return idx


@register(
    _sample((5, 3), [[0, 4], [4, 2]]),
    _sample((4,), [3, 3, 1]),
    _sample((3, 2, 2), [2, 0]),
    second_order=True,
)
def embedding_lookup(params, ids):
    """Looks up rows of ``params`` by id: ``params[ids]``, like ``tf.nn.embedding_lookup``.

    Args:
        params: A tensor of shape ``(vocabulary_size,) + row_shape``.
        ids: An integer tensor or array of any shape, every value in
            ``[0, vocabulary_size)``.

    Returns:
        A Tensor of shape ``ids.shape + row_shape`` and ``params``' dtype. The
        gradient with respect to ``params`` is an ``IndexedSlices`` of dense
        shape ``params.shape`` (the upstream rows, one per id; repeated ids add
        up), dense where an outer tape records the backward pass; ids get none.

    Raises:
        TypeError: If ``ids`` are not integers.
        IndexError: If an id is negative or not below the vocabulary size (the id
            and the size are named).
        ValueError: If ``params`` is a scalar.

    Examples:
        >>> table = nnlib.constant([[0., 0.], [1., 10.], [2., 20.]])
        >>> nnlib.embedding_lookup(table, [[2, 1], [1, 1]])[..., 1]
        nnlib.Tensor([[20. 10.]
                      [10. 10.]], shape=(2, 2), dtype=float32)
        >>> w = nnlib.Variable(table)
        >>> with nnlib.GradientTape() as tape:
        ...     y = nnlib.embedding_lookup(w, [2, 2])
        >>> g = tape.gradient(y, w)
        >>> g.indices.numpy(), g.dense_shape
        (array([2, 2]), (3, 2))
    """
    op = "embedding_lookup"
    params = as_tensor(params)
    if params.ndim == 0:
        raise ValueError(f"{op}: params must have rank >= 1, got a scalar")
    shape = params.shape
    idx = _ids(ids, shape[0], op)
    return EMBEDDING_LOOKUP(params, ids if isinstance(ids, Tensor) else idx)
