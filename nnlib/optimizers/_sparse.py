"""Sparse gradients in the optimizers: checking, deduplicating, the default update.

An ``IndexedSlices`` gradient (from ``embedding_lookup`` or ``gather``) is
checked against its variable, then its repeated rows are summed once
(``SparseGradient``): clipping then sees the same numbers as the dense gradient
(its norm is the norm of the summed rows), and an update can assign rows
(``w[rows] -= ...``) rather than scatter-add them. An optimizer overrides
``_update_sparse`` where its math allows a sparse step; the default densifies
and runs ``_update``.
"""

from typing import NamedTuple

import numpy as np

from ..engine.indexed_slices import IndexedSlices, scatter_add

# Beyond this many slices of one row, ``deduplicated`` sums with one scatter
# rather than one pass per repeat.
_MAX_PASSES = 16

__all__ = [
    "SparseGradient",
    "SparseUpdates",
    "checked_sparse",
    "flat_gradients",
    "map_values",
]


class SparseGradient(NamedTuple):
    """A checked sparse gradient: ``values[k]`` is the whole gradient of row
    ``rows[k]``; ``rows`` are distinct and sorted (``intp``), every other row's
    gradient is zero. Its arrays are the optimizer's own (never the caller's)."""

    values: np.ndarray
    rows: np.ndarray

    def dense(self, shape):
        """The dense gradient, a new array of ``shape``."""
        out = np.zeros(shape, self.values.dtype)
        out[self.rows] = self.values
        return out


def checked_sparse(owner, grad, var):
    """``grad`` (an ``IndexedSlices``) as a ``SparseGradient`` of ``var``'s dtype.

    Raises:
        ValueError: If its ``dense_shape`` is not the variable's shape, or an
            index is out of range (naming the variable and both shapes).
    """
    shape = var._value.shape
    where = (
        f"{owner}.apply_gradients: the IndexedSlices gradient for variable '{var.name}'"
    )
    if tuple(grad.dense_shape) != shape:
        raise ValueError(
            f"{where} has dense_shape {tuple(grad.dense_shape)}, but the variable "
            f"has shape {shape}"
        )
    indices = grad.indices._value
    if indices.size and (indices.min() < 0 or indices.max() >= shape[0]):
        bad = indices[(indices < 0) | (indices >= shape[0])][0]
        raise ValueError(
            f"{where} has index {int(bad)}, out of range for the variable's shape "
            f"{shape} (dense_shape {tuple(grad.dense_shape)}): indices must lie in "
            f"[0, {shape[0]})"
        )
    values = grad.values._value
    if values.dtype != var._value.dtype:
        values = values.astype(var._value.dtype)
    return deduplicated(values, indices)


def deduplicated(values, indices):
    """The ``SparseGradient`` of rows ``values`` at ``indices``, repeats summed.

    A stable sort keeps repeated rows in their order, so they add up in the
    order the dense gradient of the backward pass adds them: the same numbers.
    They are added one rank at a time (each row's second slice, then its
    third...), a few vectorized passes; numpy's ``add.reduceat`` over thousands
    of short groups and ``add.at`` both take several times longer.
    """
    order = np.argsort(indices, kind="stable")
    rows = indices[order].astype(np.intp, copy=False)
    values = values[order]  # a copy: the caller's array is never written
    if rows.size < 2:
        return SparseGradient(values, rows)
    first = np.empty(rows.size, bool)
    first[0] = True
    np.not_equal(rows[1:], rows[:-1], out=first[1:])
    if first.all():
        return SparseGradient(values, rows)
    starts = np.flatnonzero(first)
    counts = np.diff(starts, append=rows.size)
    if counts.max() > _MAX_PASSES:  # a row repeated very often (padding ids)
        summed = np.zeros((starts.size,) + values.shape[1:], values.dtype)
        scatter_add(summed, np.cumsum(first) - 1, values)
        return SparseGradient(summed, rows[starts])
    summed = values[starts]
    groups, k = np.flatnonzero(counts > 1), 1
    while groups.size:
        summed[groups] += values[starts[groups] + k]
        k += 1
        groups = groups[counts[groups] > k]
    return SparseGradient(summed, rows[starts])


def map_values(fn, grad):
    """``fn`` applied to a gradient: to a dense array, or to a sparse one's rows."""
    if type(grad) is SparseGradient:
        return SparseGradient(fn(grad.values), grad.rows)
    return fn(grad)


def values_of(grad):
    """A gradient's numbers: the array, or a sparse gradient's rows (whose norm
    and extremes are those of the dense gradient)."""
    return grad.values if type(grad) is SparseGradient else grad


class SparseUpdates:
    """The sparse half of ``Optimizer``'s update (not used alone).

    ``apply_gradients`` calls ``_update_sparse`` for an ``IndexedSlices``
    gradient; an algorithm overrides it where a step on the touched rows alone
    is right (exactly, or by the algorithm's documented lazy rule).

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([[1., 1.], [1., 1.], [1., 1.]], name="sparse_doc")
        >>> g = nnlib.IndexedSlices(np.array([[1., 2.], [1., 2.]]), [2, 2], (3, 2))
        >>> _ = optimizers.GradientDescent(0.5).apply_gradients([(g, w)])
        >>> w.numpy()
        array([[ 1.,  1.],
               [ 1.,  1.],
               [ 0., -1.]], dtype=float32)
    """

    def _apply_update(self, var, grad, slots, coefficients):
        """Updates ``var`` from a dense gradient or a ``SparseGradient``."""
        if type(grad) is SparseGradient:
            self._update_sparse(var, grad, slots, coefficients)
        else:
            self._update(var, grad, slots, coefficients)

    def _update_sparse(self, var, grad, slots, coefficients):
        """Updates ``var`` from a ``SparseGradient``; by default, densely."""
        self._update(var, grad.dense(var._value.shape), slots, coefficients)


def flat_gradients(grads):
    """Gradients as a flat list of tensors (an ``IndexedSlices`` as its values and
    indices), and the function that rebuilds them from those tensors' arrays."""
    flat, layout = [], []
    for grad in grads:
        if type(grad) is IndexedSlices:
            layout.append(grad.dense_shape)
            flat += [grad.values, grad.indices]
        else:
            layout.append(None)
            flat.append(grad)

    def rebuild(arrays):
        arrays, out = iter(arrays), []
        for shape in layout:
            if shape is None:
                out.append(next(arrays))
            else:
                out.append(IndexedSlices(next(arrays), next(arrays), shape))
        return out

    return flat, rebuild
