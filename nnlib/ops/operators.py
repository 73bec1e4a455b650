"""Attaches Python operators and numpy interoperability to Tensor.

The engine defines Tensor without importing any op; this module, run once when
``nnlib.ops`` is imported, binds ``+``, ``@``, ``[]``, comparisons and numpy's
ufunc protocol to the ops, so every operator is recorded like a function call.
"""

import numpy as np

from ..engine.tensor import Tensor
from . import arithmetic, indexing, linalg, math, shape

_OPERATORS = {
    "__add__": arithmetic.add,
    "__sub__": arithmetic.subtract,
    "__mul__": arithmetic.multiply,
    "__truediv__": arithmetic.divide,
    "__floordiv__": arithmetic.floor_divide,
    "__mod__": arithmetic.mod,
    "__pow__": arithmetic.power,
    "__matmul__": linalg.matmul,
    "__lt__": arithmetic.less,
    "__le__": arithmetic.less_equal,
    "__gt__": arithmetic.greater,
    "__ge__": arithmetic.greater_equal,
    "__eq__": arithmetic.equal,
    "__ne__": arithmetic.not_equal,
    "__neg__": math.negative,
    "__getitem__": indexing.getitem,
}


def _reflected(op):
    def reflected(self, other):
        return op(other, self)

    return reflected


# numpy ufuncs that map onto ops, so np.add(array, tensor) stays differentiable.
_UFUNCS = {
    np.add: arithmetic.add,
    np.subtract: arithmetic.subtract,
    np.multiply: arithmetic.multiply,
    np.true_divide: arithmetic.divide,
    np.floor_divide: arithmetic.floor_divide,
    np.remainder: arithmetic.mod,
    np.power: arithmetic.power,
    np.matmul: linalg.matmul,
    np.maximum: arithmetic.maximum,
    np.minimum: arithmetic.minimum,
    np.less: arithmetic.less,
    np.less_equal: arithmetic.less_equal,
    np.greater: arithmetic.greater,
    np.greater_equal: arithmetic.greater_equal,
    np.equal: arithmetic.equal,
    np.not_equal: arithmetic.not_equal,
}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    op = _UFUNCS.get(ufunc) or getattr(math, ufunc.__name__, None)
    if method == "__call__" and op is not None and not kwargs:
        return op(*inputs)
    # Anything else runs on plain arrays and returns plain numpy results.
    arrays = [np.asarray(i._value) if isinstance(i, Tensor) else i for i in inputs]
    return getattr(ufunc, method)(*arrays, **kwargs)


def install():
    """Binds the operators to Tensor (idempotent)."""
    for name, op in _OPERATORS.items():
        setattr(Tensor, name, op)
    for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"):
        setattr(Tensor, f"__r{name}__", _reflected(_OPERATORS[f"__{name}__"]))
    Tensor.__abs__ = lambda self: math.abs(self)
    Tensor.__pos__ = lambda self: self
    Tensor.__array_ufunc__ = _array_ufunc
    Tensor.__hash__ = object.__hash__  # __eq__ is elementwise; identity hashing stays
    Tensor.T = property(
        lambda self: shape.transpose(self), doc="The tensor with its axes reversed."
    )
    Tensor.reshape = lambda self, *shape_: shape.reshape(
        self, shape_[0] if len(shape_) == 1 else shape_
    )
