"""OpLambda: the layer an operator on KerasTensors becomes (``x + y``, ``x[:, 0]``).

``x + 1`` on a KerasTensor makes ``OpLambda("add", [<input 0>, 1])`` and calls
it on ``[x]``: the constants live in the layer's config, the symbolic operands
are its inputs. Only the operators' own ops can be named, so a config (a
file) cannot make an OpLambda run anything else.
"""

import weakref

import numpy as np

from .. import naming
from ..engine.tensor import Tensor
from ..ops import arithmetic, indexing, linalg
from ..ops import math as _math
from ..variable_scope import get_variable_scope
from . import _json_values, _symbolic
from .base import Layer
from .keras_tensor import KerasTensor

__all__ = ["OpLambda", "apply"]

_ELEMENTWISE = {
    "add": arithmetic.add,
    "subtract": arithmetic.subtract,
    "multiply": arithmetic.multiply,
    "divide": arithmetic.divide,
    "floor_divide": arithmetic.floor_divide,
    "mod": arithmetic.mod,
    "power": arithmetic.power,
    "less": arithmetic.less,
    "less_equal": arithmetic.less_equal,
    "greater": arithmetic.greater,
    "greater_equal": arithmetic.greater_equal,
    "negative": _math.negative,
    "abs": _math.abs,
}
_OPS = {**_ELEMENTWISE, "matmul": linalg.matmul, "getitem": indexing.getitem}


class _Input:
    """Where operand ``index`` of the call goes in the op's arguments."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class OpLambda(Layer):
    """One nnlib op applied to the layer's inputs and some constants.

    Made by the operators of ``KerasTensor``; rarely built by hand.

    Args:
        op: The op's name: ``"add"``, ``"subtract"``, ``"multiply"``,
            ``"divide"``, ``"floor_divide"``, ``"mod"``, ``"power"``,
            ``"matmul"``, ``"less"``, ``"less_equal"``, ``"greater"``,
            ``"greater_equal"``, ``"negative"``, ``"abs"`` or ``"getitem"``.
        arguments: The op's arguments, with ``{"class_name": "__input__",
            "config": {"index": i}}`` where input ``i`` goes (as in the config).
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Raises:
        ValueError: For an op not in the list.

    Examples:
        >>> x = nnlib.Input(shape=(3,))
        >>> y = 2 * x
        >>> layer = y.node.layer
        >>> type(layer).__name__, layer.get_config()["op"]
        ('OpLambda', 'multiply')
        >>> layer([np.ones((1, 3), np.float32)]).numpy()
        array([[2., 2., 2.]], dtype=float32)
    """

    # Operands keep their dtypes, as the operators on Tensors do.
    _autocast = False

    def __init__(self, op, arguments, **kwargs):
        super().__init__(**kwargs)
        if op not in _OPS:
            raise ValueError(
                f"OpLambda: unknown op {op!r}; expected one of {sorted(_OPS)}"
            )
        self.op = op
        self.arguments = _json_values.decode(arguments, _read_input)

    def _adopt(self, parent):
        # Named after the op (add, add_1, getitem...), made unique as any
        # default name is; a name given explicitly is the base class's business.
        state = self._nnlib
        if state.given_name is not None:
            return super()._adopt(parent)
        if parent is None:
            state.scope_prefix = get_variable_scope().name
            state.name = naming.unique_name(self.op)
            return None
        taken = {
            c._nnlib.name
            for c in parent._nnlib.sublayers
            if c is not self and c._nnlib.name
        }
        state.parent = weakref.ref(parent)
        state.name = naming.unique_name(self.op, taken)
        return None

    def call(self, inputs):
        operands = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        return _OPS[self.op](*_fill(self.arguments, operands))

    def compute_output_shape(self, input_shape):
        shapes = [input_shape] if _symbolic.is_shape(input_shape) else input_shape
        if self.op == "getitem":
            return super().compute_output_shape(input_shape)
        args = _fill(self.arguments, [tuple(s) for s in shapes], constant=np.shape)
        if self.op == "matmul":
            return _matmul_shape(self.name, *args)
        return _symbolic.broadcast_shapes(args, f"layer '{self.name}' ({self.op})")

    def _compute_output_dtype(self, input_dtypes):
        if self.op == "getitem":
            return input_dtypes[0]
        if self.op == "matmul":
            constants = [
                np.asarray(a).dtype for a in self.arguments if not isinstance(a, _Input)
            ]
            return np.result_type(*input_dtypes, *constants)
        zeros = [Tensor(np.zeros((1, 1), d)) for d in input_dtypes]
        value = _OPS[self.op](*_fill(self.arguments, zeros))
        return value.dtype

    def get_config(self):
        return {
            **super().get_config(),
            "op": self.op,
            "arguments": _json_values.encode(self.arguments, _write_input),
        }


def apply(op, operands):
    """Calls ``OpLambda(op, ...)`` on the KerasTensors among ``operands``.

    The other operands (numbers, arrays, slices) become the layer's
    constants; KerasTensors inside a tuple (an index) are inputs too.
    """
    tensors = []

    def template(value):
        if isinstance(value, KerasTensor):
            tensors.append(value)
            return _Input(len(tensors) - 1)
        if isinstance(value, tuple):
            return tuple(template(v) for v in value)
        if isinstance(value, list) and op == "getitem":
            return [template(v) for v in value]
        return value

    arguments = [template(value) for value in operands]
    return OpLambda(op, arguments)(tensors)


def _fill(arguments, operands, constant=None):
    def fill(value):
        if isinstance(value, _Input):
            return operands[value.index]
        if isinstance(value, tuple):
            return tuple(fill(v) for v in value)
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value if constant is None else constant(value)

    return [fill(value) for value in arguments]


def _write_input(value):
    if isinstance(value, _Input):
        return {"class_name": "__input__", "config": {"index": value.index}}
    return None


def _read_input(data):
    if data.get("class_name") == "__input__":
        return _Input(int(data["config"]["index"]))
    return None


def _matmul_shape(name, a, b):
    if len(a) == 0 or len(b) == 0:
        raise ValueError(
            f"layer '{name}' (matmul): operands must have at least one axis, got "
            f"shapes {a} and {b}"
        )
    k_a = a[-1]
    k_b = b[-2] if len(b) > 1 else b[0]
    if k_a is not None and k_b is not None and k_a != k_b:
        raise ValueError(
            f"layer '{name}' (matmul): the last axis of {a} and the contracted "
            f"axis of {b} differ ({k_a} != {k_b})"
        )
    batch = _symbolic.broadcast_shapes(
        [a[:-2], b[:-2]], f"layer '{name}' (matmul batch axes)"
    )
    rows = a[-2:-1] if len(a) > 1 else ()
    cols = b[-1:] if len(b) > 1 else ()
    return tuple(batch) + tuple(rows) + tuple(cols)
