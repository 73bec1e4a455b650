"""IndexedSlices: a sparse gradient, some rows of a tensor (TensorFlow's).

The gradient of ``embedding_lookup(params, ids)`` (and of ``gather`` along axis
0) with respect to ``params`` is zero but for the rows the ids picked. A dense
gradient of a 1,000,000-row table costs a full table of zeros per step; an
``IndexedSlices`` keeps only the picked rows (``values``), their row numbers
(``indices``) and the shape of the dense tensor it stands for (``dense_shape``).
Repeated indices mean their rows add up.

The backward pass produces them (when no outer tape records it) and adds them
up with ``add``; ``GradientTape.gradient`` returns one for a source whose every
gradient was sparse, and optimizers apply them row by row. Anything else
densifies them (``dense``): ``nnlib.convert_to_tensor``, ``np.asarray``, any op.
"""

import numpy as np

from .._warn import warn
from .tensor import ARRAY_LIKES, Tensor, to_array, wrap

__all__ = ["IndexedSlices"]

# TensorFlow's threshold (``_LARGE_SPARSE_NUM_ELEMENTS``): densifying more
# elements than this warns, since it is usually a mistake.
LARGE_DENSE_SIZE = 100_000_000

# Beyond this many elements the flat element index (an intp array) costs more
# memory than the speed of the flat scatter is worth.
_FLAT_LIMIT = 1 << 22


class IndexedSlices:
    """A sparse tensor made of rows: ``values[k]`` is row ``indices[k]``.

    It stands for the dense tensor of shape ``dense_shape`` that is zero except
    at the rows named in ``indices``, where it holds the matching rows of
    ``values``; rows named twice add up. It is what ``GradientTape.gradient``
    returns for the parameters of ``embedding_lookup`` and ``gather`` (as in
    TensorFlow), and what optimizers apply without touching the other rows.

    ``nnlib.convert_to_tensor(slices)``, ``np.asarray(slices)`` and
    ``slices.numpy()`` give the dense value (with a warning beyond 100 million
    elements, TensorFlow's threshold); any op given one densifies it.

    Args:
        values: The rows, of shape ``(n,) + dense_shape[1:]``.
        indices: ``n`` integer row numbers, each in ``[0, dense_shape[0])`` (the
            optimizers check the range; here any integers are kept).
        dense_shape: The shape of the dense tensor, a tuple of ints of rank >= 1.

    Raises:
        TypeError: If ``indices`` are not integers.
        ValueError: If ``indices`` is not 1-D, or ``values`` does not have one
            row per index of shape ``dense_shape[1:]``.

    Examples:
        >>> g = nnlib.IndexedSlices(np.array([[1., 2.], [3., 4.]]), [2, 0], (3, 2))
        >>> g.indices.numpy(), g.dense_shape
        (array([2, 0]), (3, 2))
        >>> nnlib.convert_to_tensor(g).numpy()
        array([[3., 4.],
               [0., 0.],
               [1., 2.]])
    """

    __slots__ = ("_dense_shape", "_indices", "_values")

    def __init__(self, values, indices, dense_shape):
        values = to_array(values)
        indices = to_array(indices)
        shape = tuple(int(n) for n in dense_shape)
        if indices.dtype.kind not in "iu":
            raise TypeError(
                f"IndexedSlices: indices must be integers, got {indices.dtype}"
            )
        if indices.ndim != 1:
            raise ValueError(
                f"IndexedSlices: indices must be 1-D, got shape {indices.shape}"
            )
        if not shape:
            raise ValueError("IndexedSlices: dense_shape must have rank >= 1, got ()")
        if values.shape != (indices.size,) + shape[1:]:
            raise ValueError(
                f"IndexedSlices: values of shape {values.shape} do not hold one "
                f"row of shape {shape[1:]} for each of the {indices.size} indices "
                f"of dense_shape {shape}"
            )
        self._values, self._indices = wrap(values), wrap(indices)
        self._dense_shape = shape

    @classmethod
    def _make(cls, values, indices, dense_shape):
        """Builds one from arrays known to fit (the gradient rules' fast path)."""
        slices = object.__new__(cls)
        slices._values, slices._indices = wrap(values), wrap(indices)
        slices._dense_shape = dense_shape
        return slices

    @property
    def values(self):
        """The rows, a Tensor of shape ``(len(indices),) + dense_shape[1:]``."""
        return self._values

    @property
    def indices(self):
        """The row of each of ``values``, a 1-D integer Tensor."""
        return self._indices

    @property
    def dense_shape(self):
        """The shape of the dense tensor this stands for, a tuple of ints."""
        return self._dense_shape

    @property
    def shape(self):
        """The same as ``dense_shape``, as for a Tensor."""
        return self._dense_shape

    @property
    def dtype(self):
        """The dtype of ``values``."""
        return self._values._value.dtype

    def numpy(self):
        """Returns the dense value as a new numpy array.

        Examples:
            >>> nnlib.IndexedSlices([[1., 1.]], [1], (2, 2)).numpy()
            array([[0., 0.],
                   [1., 1.]], dtype=float32)
        """
        return dense(self)

    def __array__(self, dtype=None, copy=None):
        array = dense(self)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __repr__(self):
        values = np.array2string(self._values._value, precision=4, separator=" ")
        indices = np.array2string(self._indices._value, separator=" ")
        return (
            f"nnlib.IndexedSlices(values={values}, indices={indices}, "
            f"dense_shape={self._dense_shape}, dtype={self.dtype.name})"
        )

    __str__ = __repr__


ARRAY_LIKES.add(IndexedSlices)  # converted keeping its dtype, as an array is


def dense(slices, warn_large=True):
    """The dense numpy array an ``IndexedSlices`` stands for (a new array).

    Args:
        slices: An ``IndexedSlices``.
        warn_large: Warn when the array has more than ``LARGE_DENSE_SIZE``
            elements.
    """
    shape = slices._dense_shape
    if warn_large:
        size = int(np.prod(shape, dtype=np.int64))
        if size > LARGE_DENSE_SIZE:
            warn(
                f"converting an IndexedSlices of dense_shape {shape} to a dense "
                f"tensor of {size} elements; this may use a large amount of memory"
            )
    values = slices._values._value
    return scatter_add(np.zeros(shape, values.dtype), slices._indices._value, values)


def scatter_add(out, indices, values):
    """Adds row ``values[k]`` into row ``indices[k]`` of ``out``, in place.

    Repeated indices add up, in their order. numpy's ``add.at`` is fast only
    along one axis: with whole rows it takes about 5x longer than on the flat
    element numbers ``index * row_size + column``, used below a size limit.

    Returns:
        ``out``.
    """
    rows = out.shape[0]
    row = out.size // rows if rows else 0
    if indices.size * row > _FLAT_LIMIT:
        np.add.at(out, indices, values)
        return out
    flat = indices.astype(np.intp, copy=False).reshape(-1, 1)
    if row > 1:
        flat = flat * row + np.arange(row)
    np.add.at(out.reshape(-1), flat.reshape(-1), np.ravel(values))
    return out


def add(a, b):
    """The sum of two gradients in the backward pass, one or both sparse.

    Two ``IndexedSlices`` concatenate (TensorFlow's aggregation: nothing dense
    is built); with a dense array the sum is a new dense array.
    """
    if type(a) is IndexedSlices:
        if type(b) is IndexedSlices:
            return IndexedSlices._make(
                np.concatenate([a._values._value, b._values._value]),
                np.concatenate([a._indices._value, b._indices._value]),
                a._dense_shape,
            )
        a, b = b, a
    a = a._value if isinstance(a, Tensor) else a
    values = b._values._value
    out = np.array(a, dtype=np.result_type(a, values), copy=True)
    return scatter_add(out, b._indices._value, values)
