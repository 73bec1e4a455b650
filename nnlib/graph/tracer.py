"""Tracing: running a function eagerly while writing down every op and write.

The ``Tracer`` observes the record (``nnlib.engine.tape``) and the announced
writes (``nnlib.engine.effects``) of one call of a function, and turns them
into a ``Graph``. It also refuses Python values (``bool``, ``float``, ``int``)
of the tensors it traces: a Python ``if`` on one would be decided once, at
trace time, and frozen into the graph.

While a tracer observes, tapes compute their gradients with Tensors (not the
array fast path), so the gradient rules' own ops are traced too.
"""

import os
import sys

from ..engine import effects as _effects
from ..engine import tape as _tape
from ..engine.tensor import SCALAR_CHECKS, Tensor
from ..engine.variable import Variable
from ..ops.declare import Spec
from .graph import Graph, Step

__all__ = ["Tracer", "TracingError"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TracingError(TypeError):
    """A function did something a trace cannot replay (named in the message).

    Examples:
        >>> issubclass(TracingError, TypeError)
        True
    """


class Tracer:
    """Builds a ``Graph`` from the ops and writes of the code run inside it.

    Use as a context manager; register the function's tensor arguments with
    ``argument`` first and its tensor outputs with ``output`` at the end.

    Examples:
        >>> from nnlib.graph.tracer import Tracer
        >>> x = nnlib.constant([1.0, 2.0])
        >>> with Tracer("double") as tracer:
        ...     tracer.argument(x)
        ...     y = x * 2.0
        ...     tracer.output(y)
        >>> print(tracer.graph)
        graph double(a0: float32[2]):
          t0.0: float32[2] = multiply(a0, const 2.0)
          return t0.0
    """

    def __init__(self, name):
        self.graph = Graph(name)
        self._refs = {}  # tensor id -> reference
        # id of a traced tensor's array -> reference: code that wraps a traced
        # tensor's array in a new Tensor (nnlib.constant(t), wrap(t._value))
        # still refers to the traced value, not to a constant.
        self._arrays = {}
        self._alive = []  # the traced tensors, so that their ids stay theirs
        self.undeclared = []  # (op name, where) of ops with no declaration
        self._stack = None

    def __enter__(self):
        self._stack = _tape.push(self)
        _effects.watch(self)
        SCALAR_CHECKS.append(self._refuse_python_value)
        return self

    def __exit__(self, *exc):
        SCALAR_CHECKS.remove(self._refuse_python_value)
        _effects.unwatch(self)
        _tape.pop(self._stack, self)

    def argument(self, tensor):
        """Registers ``tensor`` as the next argument of the graph."""
        ref = ("arg", len(self.graph.args))
        self._refs[tensor._id] = self._arrays[id(tensor._value)] = ref
        self._alive.append(tensor)
        self.graph.args.append(Spec.of(tensor))

    def output(self, value):
        """Registers an output: a Tensor, or a value fixed at trace time."""
        self.graph.outputs.append(self._ref(value))

    def observe(self, name, inputs, outputs, backward, raw=False, node=None):
        """Adds an op to the graph (the tape calls this for every op run)."""
        if _effects.in_effect():
            return  # part of an announced write, which is redone as a whole
        if node is None:
            self.undeclared.append((name, _user_line()))
            return
        if node is _tape.ALIAS:
            self._alias(name, inputs, outputs)
            return
        op, attrs, hidden = node
        outs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
        outs += tuple(hidden)
        inputs = tuple(self._ref(x) for x in inputs)
        index = len(self.graph.steps)
        specs = tuple(Spec.of(o) for o in outs)
        step = Step("op", name, op.forward, inputs, specs, attrs, op, _user_line())
        self.graph.steps.append(step)
        for k, out in enumerate(outs):
            ref = self._refs[out._id] = ("node", index, k)
            self._arrays.setdefault(id(out._value), ref)
            self._alive.append(out)

    def _alias(self, name, inputs, outputs):
        """Outputs that hold existing arrays: each refers to what it holds."""
        outs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
        for out in outs:
            ref = self._refs.get(out._id) or self._arrays.get(id(out._value))
            if ref is None and len(inputs) == 1 and len(outs) == 1:
                ref = self._ref(inputs[0])
            if ref is None:
                self.undeclared.append((name, _user_line()))
                return
            self._refs[out._id] = ref
            self._alive.append(out)

    def observe_effect(self, name, redo, inputs):
        """Adds a write to variables (``nnlib.engine.effects`` calls this)."""
        inputs = tuple(self._ref(x) for x in inputs)
        self.graph.steps.append(
            Step("effect", name, redo, inputs, (), where=_user_line())
        )

    def _ref(self, value):
        if isinstance(value, Tensor):
            if isinstance(value, Variable):
                return ("var", value)
            ref = self._refs.get(value._id) or self._arrays.get(id(value._value))
            if ref is not None:
                self._refs[value._id] = ref
                return ref
            return ("const", value._value)
        ref = self._arrays.get(id(value))
        return ref if ref is not None else ("const", value)

    def _refuse_python_value(self, tensor, kind):
        if _effects.in_effect():
            return  # an announced write reads arrays; it is redone as a whole
        if tensor._id in self._refs or id(tensor._value) in self._arrays:
            raise TracingError(
                f"{self.graph.name}: a traced tensor of shape {tensor.shape} was "
                f"converted to a Python {kind} at {_user_line()}; its value is "
                "known only when the graph runs. Use nnlib.cond or "
                "nnlib.while_loop for control flow on tensors (nnlib.where for "
                "a choice per element), or pass a Python value as an argument "
                "(each value gets its own trace)"
            )


def _user_line():
    """``file:line`` of the innermost frame outside nnlib (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "<nnlib>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"
