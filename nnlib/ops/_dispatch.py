"""What every op shares: operand conversion.

Kept free of op definitions so every op module can import it.
"""

import numpy as np

from .._warn import warn
from ..engine.tape import ACTIVE, record
from ..engine.tensor import Tensor, to_array, wrap

__all__ = [
    "ACTIVE",
    "Tensor",
    "as_tensor",
    "beside",
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
