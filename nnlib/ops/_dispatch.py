"""What every op shares: operand conversion and the elementwise-op declaration.

Kept free of op definitions so every op module can import it.
"""

import functools

import numpy as np

from .._warn import warn
from ..engine.tape import ACTIVE, record
from ..engine.tensor import Tensor, to_array, wrap
from .registry import register

__all__ = [
    "ACTIVE",
    "Tensor",
    "as_tensor",
    "beside",
    "elementwise",
    "operands",
    "record",
    "value_of",
    "wrap",
]

_SCALARS = (int, float, bool)


def as_tensor(x):
    """Returns ``x`` as a Tensor (no copy when it already is one)."""
    return x if isinstance(x, Tensor) else wrap(to_array(x))


def operands(x, y):
    """Converts the operands of a binary op.

    A Python number beside a Tensor stays a raw number, so numpy treats it as
    weakly typed (a float32 tensor times 2.5 stays float32); so does a numpy
    scalar (see ``beside``). Anything else becomes a Tensor.
    """
    if isinstance(x, Tensor):
        if isinstance(y, Tensor) or type(y) in _SCALARS:
            return x, y
        return x, beside(y, x)
    if isinstance(y, Tensor):
        if type(x) in _SCALARS:
            return x, y
        return beside(x, y), y
    return as_tensor(x), as_tensor(y)


def beside(value, tensor):
    """Converts the non-Tensor operand of a binary op whose other one is ``tensor``.

    A numpy scalar or 0-d array becomes a Python number, weakly typed as a Python
    number is: ``float32 tensor * np.float64(2)`` stays float32 (numpy alone
    would give float64, doubling the memory of the result for nothing); so does
    a list of Python ints beside a floating-point tensor. A numpy array keeps
    numpy's promotion, but one that widens a floating-point ``tensor`` (a float64
    array beside a float32 tensor) warns, once per line of user code.
    Only this path pays for the checks: Tensor and Python-number operands skip it.
    """
    array = to_array(value)
    if array.ndim == 0:
        return array.item()
    dtype = tensor._value.dtype
    if array.dtype != dtype and dtype.kind == "f":
        if array.dtype.kind in "biu" and not isinstance(value, np.ndarray):
            return wrap(array.astype(dtype))  # Python ints, weak as one int is
        wider = np.result_type(dtype, array.dtype)
        if wider != dtype:
            warn(
                f"a {array.dtype} numpy array of shape {array.shape} beside a "
                f"{dtype} Tensor promotes the result to {wider}, as numpy does "
                f"(twice the memory, and every op after it runs in {wider}); "
                f"convert the array first (array.astype(np.{dtype})), or "
                f"nnlib.cast the tensor to {wider} to make the promotion explicit",
                once="promotion",
            )
    return wrap(array)


def value_of(x):
    """The numpy value of a Tensor; anything else (an array, a number, None) as is."""
    return x._value if isinstance(x, Tensor) else x


def is_float(x):
    """True for a floating-point (or complex) Tensor: one that can carry a gradient."""
    return isinstance(x, Tensor) and x._value.dtype.kind in "fc"


def elementwise(forward, *samples, second_order=True, saves="y"):
    """Declares a unary elementwise op from its forward and its gradient rule.

    The decorated function is the gradient rule ``rule(dy, x, y) -> dx``, written
    with operators and ``nnlib.ops.poly`` functions so that it works on Tensors
    (and is differentiable again) and on plain arrays (the first-order fast
    path); its name and docstring become the op's. ``saves`` says which forward values the rule reads
    (``"x"``, ``"y"``, ``"xy"`` or ``""``), so the tape keeps only those alive.

    Args:
        forward: The numpy function computing the op on an array.
        *samples: ``Sample`` inputs for the registry's gradient check.
        second_order: Whether the generic test also checks second derivatives.
        saves: The forward values the gradient rule needs.

    Examples:
        >>> import numpy as np
        >>> from nnlib.ops.registry import REGISTRY, Sample
        >>> @elementwise(np.exp, Sample(shapes=[(3,)]), saves="y")
        ... def my_exp(dy, x, y):
        ...     '''exp, elementwise.'''
        ...     return dy * y
        >>> my_exp(0.0)
        nnlib.Tensor(1., shape=(), dtype=float32)
        >>> _ = REGISTRY.pop("my_exp")
    """

    def decorate(rule):
        name = rule.__name__
        keep_x, keep_y = "x" in saves, "y" in saves

        @functools.wraps(rule)
        def op(x):
            if not isinstance(x, Tensor):
                x = wrap(to_array(x))
            y = wrap(forward(x._value))
            if ACTIVE:
                sx = x if keep_x else None
                sy = y if keep_y else None
                vx = x._value if keep_x else None
                vy = y._value if keep_y else None

                def backward(dy):
                    if isinstance(dy, Tensor):
                        return (rule(dy, sx, sy),)
                    return (rule(dy, vx, vy),)

                record(name, (x,), y, backward, raw=True)
            return y

        del op.__wrapped__  # the op takes x, not the rule's (dy, x, y)
        op.gradient_rule = rule
        return register(*samples, second_order=second_order, name=name)(op)

    return decorate
