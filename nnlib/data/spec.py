"""Element specs, cardinality constants and the error a pipeline function raises."""

import numpy as np

__all__ = ["AUTOTUNE", "INFINITE", "UNKNOWN", "DatasetError", "TensorSpec"]

INFINITE = -1
"""``Dataset.cardinality()`` of a dataset that never ends (``repeat()``)."""

UNKNOWN = -2
"""``Dataset.cardinality()`` when the length is only known by iterating."""

AUTOTUNE = -1
"""``num_parallel_calls``/``buffer_size``/``cycle_length``: let nnlib choose."""


class DatasetError(RuntimeError):
    """A function given to a dataset (map, filter, interleave) raised.

    The message names the transformation, the function and the index of the
    element (counted from the start of the pass) it failed on; the original
    exception is chained as ``__cause__``.

    Examples:
        >>> from nnlib.data import Dataset, DatasetError
        >>> ds = Dataset.range(3).map(lambda i: {0: "a", 2: "c"}[int(i)])
        >>> try:
        ...     list(ds)
        ... except DatasetError as err:
        ...     print(type(err.__cause__).__name__, "element 1" in str(err))
        KeyError True
    """


def _dtype(dtype):
    dtype = np.dtype(dtype)
    # Strings vary in length from element to element: keep only the kind.
    return np.dtype(dtype.kind) if dtype.kind in "US" else dtype


class TensorSpec:
    """The shape and dtype of one component of a dataset element.

    A ``None`` dimension is one that varies between elements (the batch axis
    after ``batch`` without ``drop_remainder``, or padded dimensions). String
    components have dtype ``np.dtype("U")`` (any length).

    Args:
        shape: A tuple of ints or ``None``.
        dtype: A numpy dtype or its name; default ``"float32"``.
        name: Optional name (not used by nnlib, kept for TensorFlow parity).

    Examples:
        >>> from nnlib.data import TensorSpec
        >>> spec = TensorSpec((None, 3), "float32")
        >>> spec
        TensorSpec(shape=(None, 3), dtype=float32)
        >>> spec.is_compatible_with(np.zeros((5, 3), np.float32))
        True
    """

    __slots__ = ("dtype", "name", "shape")

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = _dtype(dtype)
        self.name = name

    @classmethod
    def from_value(cls, value):
        """The spec of a numpy array or scalar.

        Examples:
            >>> from nnlib.data import TensorSpec
            >>> TensorSpec.from_value(np.zeros((2, 3), np.int64))
            TensorSpec(shape=(2, 3), dtype=int64)
        """
        value = np.asarray(value)
        return cls(value.shape, value.dtype)

    def shape_compatible(self, shape):
        """True when ``shape`` fits this spec's shape (``None`` matches any size).

        Examples:
            >>> from nnlib.data import TensorSpec
            >>> TensorSpec((None, 3)).shape_compatible((8, 3))
            True
        """
        return len(shape) == len(self.shape) and all(
            want is None or want == got for want, got in zip(self.shape, shape)
        )

    def is_compatible_with(self, value):
        """True when ``value``'s shape fits and its dtype is this spec's dtype.

        Examples:
            >>> from nnlib.data import TensorSpec
            >>> TensorSpec((2,), "int64").is_compatible_with(np.zeros(2))
            False
        """
        value = np.asarray(value)
        return self.shape_compatible(value.shape) and _dtype(value.dtype) == self.dtype

    def __eq__(self, other):
        return (
            isinstance(other, TensorSpec)
            and self.shape == other.shape
            and self.dtype == other.dtype
        )

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype})"
