"""``seterr``: catch the first op that turns finite inputs into NaN or infinity.

Off by default, and then it costs nothing: the checker is a global observer
(``tape.add_global_observer``), so ops only see it when it is on.
"""

import numpy as np

from .._warn import warn
from .tape import add_global_observer, remove_global_observer
from .tensor import Tensor

_MODES = ("ignore", "warn", "raise")


class _NumericChecker:
    mode = "ignore"

    def observe(self, name, inputs, outputs, backward, raw=False, node=None):
        outs = (outputs,) if isinstance(outputs, Tensor) else outputs
        if all(_finite(o) for o in outs):
            return
        if not all(_finite(i) for i in inputs):
            return  # an input was already bad: the culprit ran earlier
        shapes = ", ".join(str(np.shape(_raw(i))) for i in inputs)
        message = f"op '{name}' produced NaN or infinity from finite inputs of shapes {shapes}"
        if self.mode == "raise":
            raise FloatingPointError(message)
        warn(message, RuntimeWarning)


def _raw(x):
    return x._value if isinstance(x, Tensor) else x


def _finite(x):
    value = _raw(x)
    if not isinstance(value, (np.ndarray, np.generic)) or value.dtype.kind not in "fc":
        return not isinstance(value, float) or np.isfinite(value)
    return bool(np.isfinite(value).all())


_CHECKER = _NumericChecker()


class ErrorState:
    """The previous ``seterr`` mode; as a context manager it restores it on exit.

    Examples:
        >>> with nnlib.seterr(inf_or_nan="raise"):
        ...     nnlib.geterr()
        {'inf_or_nan': 'raise'}
        >>> nnlib.geterr()
        {'inf_or_nan': 'ignore'}
    """

    def __init__(self, previous):
        self.previous = previous

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        seterr(inf_or_nan=self.previous)
        return False

    def __repr__(self):
        return f"ErrorState(previous={self.previous!r})"


def seterr(inf_or_nan=None):
    """Sets what happens when an op first produces NaN or infinity.

    Args:
        inf_or_nan: ``"raise"`` (a ``FloatingPointError`` naming the op and its input
            shapes), ``"warn"`` (a ``RuntimeWarning``) or ``"ignore"`` (the default).
            ``None`` leaves the mode unchanged.

    Returns:
        An ``ErrorState`` holding the previous mode; use it in a ``with`` statement
        to restore that mode afterwards.

    Raises:
        ValueError: For an unknown mode.

    Examples:
        >>> with nnlib.seterr(inf_or_nan="raise"):
        ...     nnlib.log(nnlib.constant([0.0]))
        Traceback (most recent call last):
        ...
        FloatingPointError: op 'log' produced NaN or infinity from finite inputs of shapes (1,)
    """
    previous = _CHECKER.mode
    if inf_or_nan is None:
        return ErrorState(previous)
    if inf_or_nan not in _MODES:
        raise ValueError(f"inf_or_nan must be one of {_MODES}, got {inf_or_nan!r}")
    _CHECKER.mode = inf_or_nan
    if inf_or_nan == "ignore":
        remove_global_observer(_CHECKER)
    else:
        add_global_observer(_CHECKER)
    return ErrorState(previous)


def geterr():
    """Returns the current ``seterr`` settings as a dict.

    Examples:
        >>> nnlib.geterr()
        {'inf_or_nan': 'ignore'}
    """
    return {"inf_or_nan": _CHECKER.mode}
