"""The Initializer base class and what every initializer shares: fans, seeds, checks."""

import math
import numbers

import numpy as np

from .. import random as _random

__all__ = ["Initializer", "compute_fans"]

# The standard deviation of a standard normal truncated to [-2, 2] (Keras's
# constant): dividing by it gives truncated draws the intended variance.
_TRUNCATED_STD = 0.87962566103423978


def _number(value, name, owner, minimum=None):
    """``value`` as a Python float, checked to be a finite real >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum:g}"
        raise ValueError(f"{owner}: {name} must be a finite number{bound}, got {value}")
    return value


def _seed(seed, owner):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{owner}: seed must be None or an int >= 0, got {seed!r}")
    return int(seed)


def _choice(value, name, allowed, owner):
    if value not in allowed:
        raise ValueError(
            f"{owner}: {name} must be one of {', '.join(map(repr, allowed))}, "
            f"got {value!r}"
        )
    return value


def compute_fans(shape):
    """Returns ``(fan_in, fan_out)`` for a weight of ``shape``, as Keras computes them.

    A dense kernel ``(in, out)`` has ``fan_in = in`` and ``fan_out = out``; a
    convolution kernel ``(*spatial, in, out)`` multiplies both by the receptive
    field size ``prod(spatial)``; a 1-D shape has both equal to its length, and a
    scalar both 1.

    Examples:
        >>> from nnlib import initializers
        >>> initializers.compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = tuple(int(d) for d in shape)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(rng, shape):
    """Standard normal draws, redrawing those beyond 2 standard deviations."""
    flat = rng.standard_normal(math.prod(shape))
    redo = np.flatnonzero(np.abs(flat) > 2.0)
    while redo.size:
        flat[redo] = rng.standard_normal(redo.size)
        redo = redo[np.abs(flat[redo]) > 2.0]
    return flat.reshape(shape)


class Initializer:
    """Base class: ``initializer(shape, dtype)`` returns a numpy array.

    Subclasses implement ``_generate(shape)`` (float64 values of ``shape``) or
    override ``__call__``, and ``get_config`` when they take arguments. A plain
    function ``(shape, dtype) -> array`` works wherever an initializer is accepted.

    Examples:
        >>> from nnlib import initializers
        >>> class Twos(initializers.Initializer):
        ...     def _generate(self, shape):
        ...         return np.full(shape, 2.0)
        >>> Twos()((2,), dtype="float64")
        array([2., 2.])
    """

    # Random initializers refuse integer dtypes (their values would be truncated).
    _floating_only = False

    def __call__(self, shape, dtype="float32"):
        """Returns an array of ``shape`` and ``dtype`` (float32 by default).

        Raises:
            ValueError: If the shape has a negative dimension, or the dtype is not
                floating for a random initializer.
        """
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        if any(int(d) < 0 for d in shape):
            raise ValueError(
                f"{self.__class__.__name__}: negative dimension in {shape}"
            )
        shape = tuple(int(d) for d in shape)
        dtype = np.dtype("float32" if dtype is None else dtype)
        if self._floating_only and dtype.kind != "f":
            raise ValueError(
                f"{self.__class__.__name__}: dtype must be floating, got {dtype}"
            )
        return np.asarray(self._generate(shape)).astype(dtype, copy=False)

    def _generate(self, shape):
        raise NotImplementedError(
            f"{self.__class__.__name__} must implement _generate(shape) or __call__"
        )

    def _rng(self):
        seed = getattr(self, "seed", None)
        return _random.get_generator() if seed is None else np.random.default_rng(seed)

    def get_config(self):
        """Returns the constructor arguments as a JSON-friendly dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Builds an initializer from ``get_config()``'s dict.

        Examples:
            >>> from nnlib import initializers
            >>> initializers.RandomNormal.from_config({"stddev": 2.0}).stddev
            2.0
        """
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.__class__.__name__}({args})"
