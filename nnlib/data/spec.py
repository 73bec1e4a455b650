"""Element specs, cardinality constants and the error a pipeline function raises.

``TensorSpec`` also describes a traced function's arguments
(``nnlib.function(input_signature=...)``), as ``tf.TensorSpec`` does both jobs.
"""

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
    """Describes a tensor: its shape (``None`` for any length) and dtype.

    A ``None`` dimension varies between values (the batch axis of a traced
    function's argument, or of a dataset batched without ``drop_remainder``).
    String components have dtype ``np.dtype("U")`` (any length).

    Args:
        shape: A tuple of ints and ``None``s, or None for any shape.
        dtype: A numpy dtype or its name (default float32).
        name: An optional name, for messages.

    Raises:
        ValueError: If ``shape`` holds something other than non-negative ints
            and ``None``.

    Examples:
        >>> spec = nnlib.TensorSpec((None, 784), "float32")
        >>> spec
        TensorSpec(shape=(None, 784), dtype=float32)
        >>> spec.is_compatible_with(np.zeros((32, 784), np.float32))
        True
    """

    __slots__ = ("dtype", "name", "shape")

    def __init__(self, shape, dtype="float32", name=None):
        if shape is not None:
            shape = tuple(shape)
            for d in shape:
                if d is not None and (
                    isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0
                ):
                    raise ValueError(
                        f"TensorSpec: shape must hold non-negative ints and None, "
                        f"got {shape!r}"
                    )
            shape = tuple(None if d is None else int(d) for d in shape)
        self.shape = shape
        self.dtype = _dtype(dtype)
        self.name = name

    @classmethod
    def from_value(cls, value):
        """The spec of a Tensor, numpy array or scalar.

        Examples:
            >>> nnlib.TensorSpec.from_value(np.zeros((2, 3), np.int64))
            TensorSpec(shape=(2, 3), dtype=int64)
        """
        value = np.asarray(getattr(value, "_value", value))
        return cls(value.shape, value.dtype)

    def shape_compatible(self, shape):
        """True when ``shape`` fits this spec's shape (``None`` matches any size).

        Examples:
            >>> nnlib.TensorSpec((None, 3)).shape_compatible((8, 3))
            True
        """
        if self.shape is None:
            return True
        return len(shape) == len(self.shape) and all(
            want is None or want == got for want, got in zip(self.shape, shape)
        )

    def is_compatible_with(self, value):
        """True when ``value``'s shape fits and its dtype is this spec's dtype.

        Examples:
            >>> nnlib.TensorSpec((2,), "int64").is_compatible_with(np.zeros(2))
            False
        """
        value = np.asarray(getattr(value, "_value", value))
        return self.shape_compatible(value.shape) and _dtype(value.dtype) == self.dtype

    def conform(self, value, where):
        """``value`` as an array of this spec's dtype (a traced function's argument).

        Raises:
            ValueError: If its shape does not fit, naming ``where``.

        Examples:
            >>> nnlib.TensorSpec((None,), "float32").conform([1, 2], "f").dtype
            dtype('float32')
        """
        array = np.asarray(getattr(value, "_value", value))  # a Tensor's array
        if not self.shape_compatible(array.shape):
            label = f" ({self.name})" if self.name else ""
            raise ValueError(
                f"{where}{label}: expected shape {self.shape}, got {array.shape}"
            )
        return array if array.dtype == self.dtype else array.astype(self.dtype)

    def __eq__(self, other):
        return (
            isinstance(other, TensorSpec)
            and self.shape == other.shape
            and self.dtype == other.dtype
        )

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        name = f", name={self.name!r}" if self.name else ""
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype}{name})"
