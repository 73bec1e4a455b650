"""Array helpers for the optimizers' updates: in-place safety, checks, clipping."""

import math
import numbers
import sys

import numpy as np

from ..engine import Variable


def _refs(variable):
    return sys.getrefcount(variable._value)


# How many references ``_refs`` sees to an array that only its variable holds,
# measured through the same function so the count matches on every Python.
_ALONE = _refs(Variable(np.zeros(1)))


def writable(variable):
    """The variable's array, safe to write in place.

    Writing in place saves an allocation and a memory pass per array per step
    (Adam on a 670k-parameter MLP runs about twice as fast). It is safe only when
    no tensor, view or ``numpy()`` result shares the array: their references
    show in the reference count. Otherwise the variable gets a private copy
    first, so whoever holds the old array keeps the old values.
    """
    shared = _refs(variable) > _ALONE
    value = variable._value
    if shared or not (value.flags.owndata and value.flags.writeable):
        value = variable._value = np.array(value, copy=True)
    return value


def moving_average(average, value, decay, tmp):
    """``average += (value - average) * (1 - decay)`` in place, through ``tmp``."""
    np.subtract(value, average, out=tmp)
    tmp *= 1.0 - decay
    average += tmp


def check_number(owner, name, value, low=0.0, high=math.inf, high_open=False):
    """``value`` as a float in ``[low, high]`` (``[low, high)`` if ``high_open``).

    Raises:
        TypeError: If ``value`` is not a real number.
        ValueError: Naming ``owner`` and ``name``, if it is out of range or not
            finite.
    """
    if isinstance(value, Variable):
        raise TypeError(
            f"{owner}: {name} must be a number, got a Variable ('{value.name}'): "
            f"{name} is read once, not at every step; pass float(variable)"
        )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    value = float(value)
    below_high = value < high if high_open else value <= high
    if not (math.isfinite(value) and low <= value and below_high):
        if high == math.inf:
            wanted = f">= {low}"
        else:
            wanted = f"in [{low}, {high}{')' if high_open else ']'}"
        raise ValueError(
            f"{owner}: {name} must be a finite number {wanted}, got {value}"
        )
    return value


def check_variable(owner, var):
    if not isinstance(var, Variable):
        raise TypeError(
            f"{owner}: can only update nnlib.Variable objects, got "
            f"{type(var).__name__}; create parameters with nnlib.Variable or "
            "nnlib.get_variable"
        )
    if var.dtype.kind != "f":
        raise TypeError(
            f"{owner}: variable '{var.name}' has dtype {var.dtype}; optimizers "
            "update floating-point variables only"
        )


def l2_norm(grad):
    flat = grad.reshape(-1)
    return math.sqrt(float(np.dot(flat, flat)))


def clipped_to(grad, norm, limit):
    # As tf.clip_by_norm: unchanged within the limit, else rescaled onto it.
    return grad * (limit / norm) if norm > limit else grad
