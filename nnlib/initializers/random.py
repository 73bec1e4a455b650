"""Random initializers: normal, uniform, truncated, variance scaling, orthogonal."""

import math

import numpy as np

from .base import (
    _TRUNCATED_STD,
    Initializer,
    _choice,
    _number,
    _seed,
    _truncated_normal,
    compute_fans,
)

__all__ = [
    "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
    "LecunUniform", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling",
]  # fmt: skip


class RandomNormal(Initializer):
    """Draws from a normal distribution ``N(mean, stddev**2)``.

    Args:
        mean: The mean.
        stddev: The standard deviation, >= 0.
        seed: None (draw from ``nnlib.random``) or an int (same values each call).

    Examples:
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

    Examples:
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

    Examples:
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

    Examples:
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

    Examples:
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

    Examples:
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
