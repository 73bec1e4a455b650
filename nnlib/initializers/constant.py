"""Initializers with fixed values: Zeros, Ones, Constant, Identity."""

import numpy as np

from .base import Initializer, _number

__all__ = ["Constant", "Identity", "Ones", "Zeros"]


class Zeros(Initializer):
    """Fills with 0.

    Examples:
        >>> from nnlib import initializers
        >>> initializers.Zeros()((2,))
        array([0., 0.], dtype=float32)
    """

    def _generate(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    """Fills with 1.

    Examples:
        >>> from nnlib import initializers
        >>> initializers.Ones()((2,), dtype="int32")
        array([1, 1], dtype=int32)
    """

    def _generate(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    """Fills with ``value``, a number or an array that broadcasts to the shape.

    Examples:
        >>> from nnlib import initializers
        >>> initializers.Constant(0.5)((2,))
        array([0.5, 0.5], dtype=float32)
    """

    def __init__(self, value=0.0):
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"Constant: value must be numeric, got {value!r}")
        self.value = (
            value.item() if array.ndim == 0 and hasattr(value, "item") else value
        )
        self._array = array

    def _generate(self, shape):
        try:
            return np.broadcast_to(self._array, shape)
        except ValueError:
            raise ValueError(
                f"Constant: value of shape {self._array.shape} does not broadcast "
                f"to {shape}"
            ) from None

    def get_config(self):
        value = self._array.tolist() if self._array.ndim else self.value
        return {"value": value}


class Identity(Initializer):
    """``gain`` times the identity matrix; 2-D shapes only (rectangular allowed).

    Raises:
        ValueError: When called with a shape that is not 2-D.

    Examples:
        >>> from nnlib import initializers
        >>> initializers.Identity(gain=2.0)((2, 3))
        array([[2., 0., 0.],
               [0., 2., 0.]], dtype=float32)
    """

    def __init__(self, gain=1.0):
        self.gain = _number(gain, "gain", "Identity")

    def _generate(self, shape):
        if len(shape) != 2:
            raise ValueError(f"Identity: shape must be 2-D, got {shape}")
        return self.gain * np.eye(*shape)

    def get_config(self):
        return {"gain": self.gain}
