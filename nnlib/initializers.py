"""Initializers: objects that return a variable's starting value as a numpy array.

They follow Keras: same class names, arguments, defaults, fan computation and
``{"class_name": ..., "config": ...}`` serialization, so Keras configs load.

Randomness: an initializer built with ``seed=`` draws from a fresh
``np.random.default_rng(seed)`` on every call, so it returns the same values each
time it is called (Keras 3 does the same; give each variable its own seed, or
none). With ``seed=None`` it draws from ``nnlib.random.get_generator()``, so
``nnlib.random.set_seed`` makes a whole run reproducible. Values are drawn in
float64 and cast to the requested dtype.
"""

import difflib
import math
import numbers
import re

import numpy as np

from . import random as _random

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "get",
    "serialize",
]

# The standard deviation of a standard normal truncated to [-2, 2] (Keras's
# constant): dividing by it gives truncated draws the intended variance.
_TRUNCATED_STD = 0.87962566103423978


def _unknown_name(kind, name, names, shown=None):
    """A ValueError for an unknown ``name``, with the closest valid one."""
    lowered = {}
    for n in names:  # the first spelling wins: callers list snake_case first
        lowered.setdefault(n.lower(), n)
    close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1)
    hint = f" Did you mean {lowered[close[0]]!r}?" if close else ""
    valid = ", ".join(sorted(shown if shown is not None else names))
    return ValueError(f"unknown {kind} {name!r}.{hint} Valid names: {valid}.")


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

    Example:
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

    Example:
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

        Example:
            >>> from nnlib import initializers
            >>> initializers.RandomNormal.from_config({"stddev": 2.0}).stddev
            2.0
        """
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.__class__.__name__}({args})"


class Zeros(Initializer):
    """Fills with 0.

    Example:
        >>> from nnlib import initializers
        >>> initializers.Zeros()((2,))
        array([0., 0.], dtype=float32)
    """

    def _generate(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    """Fills with 1.

    Example:
        >>> from nnlib import initializers
        >>> initializers.Ones()((2,), dtype="int32")
        array([1, 1], dtype=int32)
    """

    def _generate(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    """Fills with ``value``, a number or an array that broadcasts to the shape.

    Example:
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


class RandomNormal(Initializer):
    """Draws from a normal distribution ``N(mean, stddev**2)``.

    Args:
        mean: The mean.
        stddev: The standard deviation, >= 0.
        seed: None (draw from ``nnlib.random``) or an int (same values each call).

    Example:
        >>> from nnlib import initializers
        >>> init = initializers.RandomNormal(stddev=1.0, seed=0)
        >>> np.array_equal(init((3,)), init((3,)))
        True
    """

    _floating_only = True

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = _number(mean, "mean", "RandomNormal")
        self.stddev = _number(stddev, "stddev", "RandomNormal", minimum=0.0)
        self.seed = _seed(seed, "RandomNormal")

    def _generate(self, shape):
        return self._rng().normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Draws uniformly from ``[minval, maxval)``.

    Example:
        >>> from nnlib import initializers
        >>> values = initializers.RandomUniform(-1.0, 1.0)((100,))
        >>> bool(values.min() >= -1.0 and values.max() < 1.0)
        True
    """

    _floating_only = True

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = _number(minval, "minval", "RandomUniform")
        self.maxval = _number(maxval, "maxval", "RandomUniform")
        if self.maxval < self.minval:
            raise ValueError(
                f"RandomUniform: maxval ({maxval}) must be >= minval ({minval})"
            )
        self.seed = _seed(seed, "RandomUniform")

    def _generate(self, shape):
        return self._rng().uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal draws, redrawing those more than 2 ``stddev`` from the mean (Keras).

    Note that the values' standard deviation is about ``0.88 * stddev``.

    Example:
        >>> from nnlib import initializers
        >>> values = initializers.TruncatedNormal(stddev=1.0)((1000,))
        >>> bool(np.abs(values).max() <= 2.0)
        True
    """

    _floating_only = True

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = _number(mean, "mean", "TruncatedNormal")
        self.stddev = _number(stddev, "stddev", "TruncatedNormal", minimum=0.0)
        self.seed = _seed(seed, "TruncatedNormal")

    def _generate(self, shape):
        return self.mean + self.stddev * _truncated_normal(self._rng(), shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(Initializer):
    """Draws with variance ``scale / n``, ``n`` being a fan of the shape.

    ``n`` is ``fan_in``, ``fan_out`` or their average (``mode``), as
    ``compute_fans`` gives them. ``"truncated_normal"`` draws a truncated normal
    whose standard deviation after truncation is ``sqrt(scale / n)``;
    ``"untruncated_normal"`` a normal with that standard deviation;
    ``"uniform"`` draws from ``[-limit, limit)`` with ``limit = sqrt(3 scale / n)``.

    Args:
        scale: The variance scale, > 0.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or
            ``"uniform"``.
        seed: None (draw from ``nnlib.random``) or an int (same values each call).

    Raises:
        ValueError: For a scale <= 0 or an unknown mode or distribution.

    Example:
        >>> from nnlib import initializers
        >>> init = initializers.VarianceScaling(2.0, "fan_in", "uniform")
        >>> bool(np.abs(init((50, 10))).max() <= np.sqrt(3 * 2.0 / 50))
        True
    """

    _floating_only = True

    def __init__(
        self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None
    ):
        owner = self.__class__.__name__
        self.scale = _number(scale, "scale", owner)
        if self.scale <= 0:
            raise ValueError(f"{owner}: scale must be positive, got {scale!r}")
        self.mode = _choice(mode, "mode", _MODES, owner)
        # "normal" is the name Keras 2.0 configs used for the truncated normal.
        if distribution == "normal":
            distribution = "truncated_normal"
        self.distribution = _choice(distribution, "distribution", _DISTRIBUTIONS, owner)
        self.seed = _seed(seed, owner)

    def _generate(self, shape):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        variance = self.scale / max(1.0, fan[self.mode])
        rng = self._rng()
        if self.distribution == "truncated_normal":
            return math.sqrt(variance) / _TRUNCATED_STD * _truncated_normal(rng, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), shape)
        limit = math.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, shape)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


def _preset(name, scale, mode, distribution, summary):
    """A VarianceScaling subclass with fixed arguments, configured by seed only."""

    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    doc = f"""{summary}

    ``VarianceScaling(scale={scale}, mode="{mode}", distribution="{distribution}")``,
    as Keras defines it.

    Args:
        seed: None (draw from ``nnlib.random``) or an int (same values each call).

    Example:
        >>> from nnlib import initializers
        >>> initializers.{name}(seed=0)((4, 3)).shape
        (4, 3)
    """
    namespace = {"__init__": __init__, "get_config": get_config, "__doc__": doc}
    return type(name, (VarianceScaling,), {"__module__": __name__, **namespace})


GlorotUniform = _preset(
    "GlorotUniform", 1.0, "fan_avg", "uniform",
    "Glorot (Xavier) uniform: bound ``sqrt(6 / (fan_in + fan_out))``.",
)  # fmt: skip
GlorotNormal = _preset(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal",
    "Glorot (Xavier) normal: stddev ``sqrt(2 / (fan_in + fan_out))``, truncated.",
)  # fmt: skip
HeNormal = _preset(
    "HeNormal", 2.0, "fan_in", "truncated_normal",
    "He normal: stddev ``sqrt(2 / fan_in)``, truncated.",
)  # fmt: skip
HeUniform = _preset(
    "HeUniform", 2.0, "fan_in", "uniform",
    "He uniform: bound ``sqrt(6 / fan_in)``.",
)  # fmt: skip
LecunNormal = _preset(
    "LecunNormal", 1.0, "fan_in", "truncated_normal",
    "LeCun normal: stddev ``sqrt(1 / fan_in)``, truncated.",
)  # fmt: skip
LecunUniform = _preset(
    "LecunUniform", 1.0, "fan_in", "uniform",
    "LeCun uniform: bound ``sqrt(3 / fan_in)``.",
)  # fmt: skip


class Orthogonal(Initializer):
    """An orthogonal matrix times ``gain`` (Saxe et al., 2014), as Keras builds it.

    The shape is flattened to ``(prod(shape[:-1]), shape[-1])``; the Q of a QR
    decomposition of a normal matrix, signs fixed so the distribution is uniform,
    gives orthonormal columns (or rows, when there are fewer rows than columns).

    Raises:
        ValueError: When called with a shape of rank < 2.

    Example:
        >>> from nnlib import initializers
        >>> q = initializers.Orthogonal()((4, 3), dtype="float64")
        >>> np.allclose(q.T @ q, np.eye(3))
        True
    """

    _floating_only = True

    def __init__(self, gain=1.0, seed=None):
        self.gain = _number(gain, "gain", "Orthogonal")
        self.seed = _seed(seed, "Orthogonal")

    def _generate(self, shape):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: shape must have rank >= 2, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        normal = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(normal)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix; 2-D shapes only (rectangular allowed).

    Raises:
        ValueError: When called with a shape that is not 2-D.

    Example:
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


_CLASSES = (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
    VarianceScaling, GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal,
    LecunUniform, Orthogonal, Identity,
)  # fmt: skip
# Keras's snake_case names: "GlorotUniform" -> "glorot_uniform".
_SNAKE = {re.sub(r"(?<!^)(?=[A-Z])", "_", c.__name__).lower(): c for c in _CLASSES}
_BY_NAME = {**_SNAKE, **{cls.__name__: cls for cls in _CLASSES}}


def _class_named(name):
    if name not in _BY_NAME:
        raise _unknown_name("initializer", name, list(_BY_NAME), shown=list(_SNAKE))
    return _BY_NAME[name]


def get(identifier):
    """Returns the initializer that ``identifier`` names.

    Args:
        identifier: An ``Initializer`` (returned as is), a name (``"glorot_uniform"``
            or ``"GlorotUniform"``) for an instance with default arguments, a
            ``{"class_name": ..., "config": {...}}`` dict (Keras's format, as
            ``serialize`` writes), a function ``(shape, dtype) -> array``, or None.

    Returns:
        A callable ``(shape, dtype) -> array``, or None for None.

    Raises:
        ValueError: For an unknown name (with the closest valid one) or an
            identifier of another kind.

    Example:
        >>> from nnlib import initializers
        >>> initializers.get("he_normal")
        HeNormal(seed=None)
        >>> initializers.get({"class_name": "Constant", "config": {"value": 3.0}})
        Constant(value=3.0)
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return _class_named(identifier)()
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                f"initializer dict needs a 'class_name' key, got {identifier!r}"
            )
        config = identifier.get("config") or {}
        return _class_named(identifier["class_name"]).from_config(config)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret initializer identifier {identifier!r}")


def serialize(initializer):
    """Returns ``{"class_name": ..., "config": ...}`` for an ``Initializer``, or None.

    ``get`` turns the result back into the initializer (None stays None).

    Raises:
        ValueError: For a plain function, which has no config to save.

    Example:
        >>> from nnlib import initializers
        >>> initializers.serialize(initializers.GlorotUniform(seed=1))
        {'class_name': 'GlorotUniform', 'config': {'seed': 1}}
    """
    if initializer is None:
        return None
    if not isinstance(initializer, Initializer):
        # ValueError as activations.serialize raises for a custom function.
        raise ValueError(  # noqa: TRY004
            f"cannot serialize {initializer!r}: only Initializer instances have a "
            "config; subclass nnlib.initializers.Initializer to make one"
        )
    return {
        "class_name": type(initializer).__name__,
        "config": initializer.get_config(),
    }
