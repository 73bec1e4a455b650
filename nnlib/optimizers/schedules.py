"""Learning-rate schedules: functions of the step, with Keras 3 semantics.

A schedule is called with the optimizer's step (the number of updates applied
so far, 0 for the first) and returns the learning rate as a Python float. Any
callable ``step -> rate`` works as a learning rate; subclass
``LearningRateSchedule`` to make one that ``get_config`` can save.
"""

import bisect
import itertools
import math
import numbers

import numpy as np

from .._args import boolean
from .._lookup import unknown_name as _unknown_name

__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]


def _number(owner, name, value, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        wanted = "> 0" if positive else ">= 0"
        raise ValueError(
            f"{owner}: {name} must be a finite number {wanted}, got {value}"
        )
    return value


def _step(step):
    return float(np.asarray(step))


class LearningRateSchedule:
    """Base class: ``schedule(step)`` returns the learning rate at ``step``.

    Subclasses implement ``__call__`` and ``get_config`` (the constructor
    arguments), so ``type(s).from_config(s.get_config())`` rebuilds them.

    Examples:
        >>> from nnlib.optimizers import schedules
        >>> class Halving(schedules.LearningRateSchedule):
        ...     def __init__(self, initial_learning_rate):
        ...         self.initial_learning_rate = initial_learning_rate
        ...     def __call__(self, step):
        ...         return self.initial_learning_rate / 2 ** step
        ...     def get_config(self):
        ...         return {"initial_learning_rate": self.initial_learning_rate}
        >>> Halving(1.0)(3)
        0.125
    """

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def get_config(self):
        """Returns the constructor arguments as a JSON-friendly dict."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement get_config to be saved"
        )

    @classmethod
    def from_config(cls, config):
        """Builds a schedule from ``get_config()``'s dict."""
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = "..."
        return f"{type(self).__name__}({args})"


class _RateDecay(LearningRateSchedule):
    """What ``ExponentialDecay`` and ``InverseTimeDecay`` share: their arguments
    and the progress ``step / decay_steps`` (rounded down with ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        owner = type(self).__name__
        self.initial_learning_rate = _number(
            owner, "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _number(owner, "decay_steps", decay_steps, positive=True)
        self.decay_rate = _number(owner, "decay_rate", decay_rate)
        self.staircase = boolean(staircase, "staircase", owner)

    def _progress(self, step):
        p = _step(step) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps per factor of ``decay_rate``, > 0.
        decay_rate: The decay factor, >= 0.
        staircase: If True, ``step / decay_steps`` is rounded down, so the
            rate drops every ``decay_steps`` steps.

    Examples:
        >>> from nnlib.optimizers import schedules
        >>> s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
        >>> s(0), s(10), s(5)
        (0.1, 0.05, 0.0707...)
    """

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` up to ``boundaries[0]``, ``values[1]`` up to the next, ...

    The rate is ``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``,
    and ``values[-1]`` past the last boundary.

    Args:
        boundaries: Strictly increasing steps.
        values: The rates, one more than ``boundaries``.

    Raises:
        ValueError: If the lengths do not match or the boundaries do not
            increase.

    Examples:
        >>> from nnlib.optimizers import schedules
        >>> s = schedules.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
        >>> s(100), s(101), s(500)
        (1.0, 0.5, 0.1)
    """

    def __init__(self, boundaries, values):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: needs one more value than boundaries, got "
                f"{len(boundaries)} boundaries and {len(values)} values"
            )
        if any(b <= a for a, b in itertools.pairwise(boundaries)):
            raise ValueError(
                "PiecewiseConstantDecay: boundaries must increase strictly, got "
                f"{boundaries}"
            )
        self.boundaries = boundaries
        self.values = [_number("PiecewiseConstantDecay", "values", v) for v in values]

    def __call__(self, step):
        return self.values[bisect.bisect_left(self.boundaries, _step(step))]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values}


class PolynomialDecay(LearningRateSchedule):
    """Decays from ``initial_learning_rate`` to ``end_learning_rate`` as a power.

    ``(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end``.
    With ``cycle=True`` the decay restarts: ``decay_steps`` is replaced by its
    first multiple at or above ``step``.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps to reach ``end_learning_rate``, > 0.
        end_learning_rate: The final rate (default 0.0001).
        power: The power of the polynomial (default 1: linear).
        cycle: Whether to restart after ``decay_steps``.

    Examples:
        >>> from nnlib.optimizers import schedules
        >>> s = schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.0)
        >>> s(0), s(5), s(20)
        (1.0, 0.5, 0.0)
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
    ):
        owner = "PolynomialDecay"
        self.initial_learning_rate = _number(
            owner, "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _number(owner, "decay_steps", decay_steps, positive=True)
        self.end_learning_rate = _number(owner, "end_learning_rate", end_learning_rate)
        self.power = _number(owner, "power", power)
        self.cycle = boolean(cycle, "cycle", owner)

    def __call__(self, step):
        step, decay_steps = _step(step), self.decay_steps
        if self.cycle:
            decay_steps *= max(math.ceil(step / decay_steps), 1)
        else:
            step = min(step, decay_steps)
        fraction = (1.0 - step / decay_steps) ** self.power
        return (
            self.initial_learning_rate - self.end_learning_rate
        ) * fraction + self.end_learning_rate

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
        }


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: The step scale, > 0.
        decay_rate: The decay rate, >= 0.
        staircase: If True, ``step / decay_steps`` is rounded down.

    Examples:
        >>> from nnlib.optimizers import schedules
        >>> s = schedules.InverseTimeDecay(1.0, decay_steps=1, decay_rate=0.5)
        >>> s(0), s(2)
        (1.0, 0.5)
    """

    def __call__(self, step):
        return self.initial_learning_rate / (
            1.0 + self.decay_rate * self._progress(step)
        )


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov and Hutter, 2017), after an optional linear warmup.

    Without a warmup target, the rate falls from ``initial_learning_rate`` to
    ``alpha * initial_learning_rate`` over ``decay_steps`` along half a cosine.
    With ``warmup_target``, it first rises linearly from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then
    decays from ``warmup_target`` to ``alpha * warmup_target`` (Keras 3).

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps of the decay, > 0.
        alpha: The final rate as a fraction of the decay's starting rate.
        warmup_target: The rate at the end of the warmup, or None (no warmup).
        warmup_steps: Steps of the warmup.

    Examples:
        >>> from nnlib.optimizers import schedules
        >>> s = schedules.CosineDecay(0.0, 100, warmup_target=1.0, warmup_steps=10)
        >>> s(5), s(10), s(60), s(110)
        (0.5, 1.0, 0.5, 0.0)
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        warmup_target=None,
        warmup_steps=0,
    ):
        owner = "CosineDecay"
        self.initial_learning_rate = _number(
            owner, "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _number(owner, "decay_steps", decay_steps, positive=True)
        self.alpha = _number(owner, "alpha", alpha)
        self.warmup_target = (
            None
            if warmup_target is None
            else _number(owner, "warmup_target", warmup_target)
        )
        self.warmup_steps = _number(owner, "warmup_steps", warmup_steps)

    def _decayed(self, step, start):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _step(step)
        if self.warmup_target is None:
            return self._decayed(
                min(step, self.decay_steps), self.initial_learning_rate
            )
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            delta = self.warmup_target - self.initial_learning_rate
            return delta * fraction + self.initial_learning_rate
        return self._decayed(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


_BUILT_IN = {
    cls.__name__: cls
    for cls in (
        CosineDecay,
        ExponentialDecay,
        InverseTimeDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
    )
}


def serialize(schedule):
    """Returns ``{"class_name": ..., "config": ...}`` for a schedule.

    Examples:
        >>> from nnlib.optimizers import schedules
        >>> schedules.serialize(schedules.InverseTimeDecay(0.1, 1, 0.5))["class_name"]
        'InverseTimeDecay'
    """
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config, custom_objects=None):
    """Rebuilds a schedule from ``serialize``'s dict.

    Args:
        config: A dict with ``class_name`` and ``config``.
        custom_objects: Optional ``{class_name: class}`` for your own schedules.

    Raises:
        ValueError: For an unknown class name.

    Examples:
        >>> from nnlib.optimizers import schedules
        >>> s = schedules.ExponentialDecay(0.1, 10, 0.5)
        >>> schedules.deserialize(schedules.serialize(s))(10)
        0.05
    """
    classes = {**_BUILT_IN, **(custom_objects or {})}
    name = config.get("class_name")
    if name not in classes:
        raise _unknown_name("learning-rate schedule", name, list(classes))
    return classes[name].from_config(config.get("config", {}))
