"""``TensorSpec``: the shape and dtype an argument of a traced function must have."""

import numpy as np

from ..engine.tensor import Tensor

__all__ = ["TensorSpec"]


class TensorSpec:
    """Describes a tensor argument: its shape (``None`` for any length) and dtype.

    Args:
        shape: A tuple of ints and ``None``s, or None for any shape.
        dtype: The dtype arguments are converted to (default float32).
        name: An optional name, for messages.

    Raises:
        ValueError: If ``shape`` holds something other than non-negative ints
            and ``None``.

    Examples:
        >>> spec = nnlib.TensorSpec((None, 784), "float32")
        >>> spec
        TensorSpec(shape=(None, 784), dtype=float32)
        >>> spec.is_compatible_with(np.zeros((32, 784)))
        True
    """

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
        self.dtype = np.dtype(dtype)
        self.name = name

    def is_compatible_with(self, value):
        """Whether ``value``'s shape fits (dtypes are converted, not compared)."""
        shape = np.shape(value._value if isinstance(value, Tensor) else value)
        if self.shape is None:
            return True
        return len(shape) == len(self.shape) and all(
            d is None or d == n for d, n in zip(self.shape, shape)
        )

    def conform(self, value, where):
        """``value`` as an array of this spec's dtype.

        Raises:
            ValueError: If its shape does not fit, naming ``where``.
        """
        array = value._value if isinstance(value, Tensor) else np.asarray(value)
        if not self.is_compatible_with(array):
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
