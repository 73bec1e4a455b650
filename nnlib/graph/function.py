"""``nnlib.function`` (tfe's ``defun``): trace a function once per signature, replay it.

The first call with a new signature runs the function eagerly under a
``Tracer``: that call's results are the eager ones, and its ops and writes
become a graph, compiled to straight-line numpy code (``codegen``). Later calls
with the same signature run that code on the new arguments' arrays.

A signature is the structure of the arguments, the shape and dtype of each
tensor or array in them, and the value of every other argument (Python numbers,
flags such as ``training``, objects by identity). Variables are captured by
reference, never copied.
"""

import functools
import inspect
import threading

from .._warn import warn
from ..engine import nest
from ..engine import tape as _tape
from ..engine import variable as _variable
from ..engine.tensor import Tensor, wrap
from ..engine.variable import Variable
from . import differentiable as _differentiable
from . import signature as _sig
from .codegen import compile_graph, step_of
from .passes import optimize
from .tracer import Tracer, TracingError

__all__ = [
    "ConcreteFunction",
    "Function",
    "TracingError",
    "function",
    "run_functions_eagerly",
]

_EAGERLY = [False]
_TRACED = object()  # marks the outputs a replay computes
RETRACE_WARNING = 5  # traces of one function before a retrace warns


def run_functions_eagerly(run_eagerly):
    """Makes every ``nnlib.function`` run its Python eagerly (for debugging).

    Args:
        run_eagerly: True to skip tracing and replay everywhere; False to
            restore graph mode.

    Returns:
        The previous setting.

    Examples:
        >>> previous = nnlib.run_functions_eagerly(True)
        >>> nnlib.run_functions_eagerly(previous)
        True
    """
    previous, _EAGERLY[0] = _EAGERLY[0], bool(run_eagerly)
    return previous


class ConcreteFunction:
    """One trace of a function: its graph and the compiled replay.

    Attributes:
        graph: The ``Graph``, optimized (``passes``: constants folded,
            duplicates merged, steps no output or write needs dropped).
        source: The Python source of the replay.

    Examples:
        >>> f = nnlib.function(lambda x: nnlib.tanh(x) * 2.0)
        >>> concrete = f.get_concrete_function(np.zeros(3, np.float32))
        >>> print(concrete)
        graph <lambda>(a0: float32[3]):
          t0.0: float32[3] = tanh(a0)
          t1.0: float32[3] = multiply(t0.0, const 2.0)
          return t1.0
    """

    def __init__(self, graph, structure, leaves):
        self.graph = optimize(graph)
        self._replay, self.source = compile_graph(self.graph)
        self._structure = structure
        # Per output leaf: _TRACED where the replay returns it, else the value.
        self._leaves = leaves
        self._single = isinstance(structure, Tensor) and leaves == [_TRACED]

    def _run(self, arrays):
        try:
            outputs = self._replay(*arrays)
        except Exception as err:
            index = step_of(err.__traceback__)
            if index is None or not 0 <= index < len(self.graph.steps):
                raise
            step = self.graph.steps[index]
            note = (
                f"in nnlib.function '{self.graph.name}', step {index} "
                f"({step.name}), traced from {step.where}"
            )
            if hasattr(err, "add_note"):  # Python 3.11+
                err.add_note(note)
            else:
                err.args = (*err.args[:1], note, *err.args[1:])
            raise
        if self._single:
            return wrap(outputs[0])
        outputs = iter(outputs)
        leaves = [
            wrap(next(outputs)) if leaf is _TRACED else leaf for leaf in self._leaves
        ]
        return nest.pack_as(self._structure, leaves)

    def __str__(self):
        return str(self.graph)


class _Trace:
    """What a signature maps to: a ConcreteFunction, or why it runs eagerly."""

    __slots__ = ("concrete", "eager_because")

    def __init__(self, concrete=None, eager_because=None):
        self.concrete = concrete
        self.eager_because = eager_because


class Function:
    """A Python function traced once per signature and replayed (see ``function``).

    Examples:
        >>> @nnlib.function
        ... def f(x):
        ...     return x * x + 1.0
        >>> f(np.array([1.0, 2.0], np.float32))
        nnlib.Tensor([2. 5.], shape=(2,), dtype=float32)
        >>> f(np.array([3.0, 4.0], np.float32))  # replayed
        nnlib.Tensor([10. 17.], shape=(2,), dtype=float32)
        >>> f.trace_count
        1
    """

    def __init__(self, fn, input_signature=None, name=None):
        if not callable(fn):
            raise TypeError(f"nnlib.function: expected a callable, got {fn!r}")
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._name = name or getattr(fn, "__name__", type(fn).__name__)
        self._signature = _sig.checked_signature(self._name, input_signature)
        self._traces = {}
        self._fast = {}  # (shape, dtype) per positional array -> its traced _Trace
        self._vjps = {}  # signature -> the traced gradient (see differentiable)
        self._keys = []  # the keys in the order traced, for the retrace warning
        self._lock = threading.Lock()
        try:
            self._parameters = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            self._parameters = []

    @property
    def trace_count(self):
        """How many times the function was traced (one per signature seen)."""
        return len(self._keys)

    @property
    def python_function(self):
        """The function as written."""
        return self._fn

    def __get__(self, instance, owner):
        # A decorated method: bind it, keeping one Function per instance.
        if instance is None:
            return self
        bound = instance.__dict__.get(f"_nnlib_function_{id(self)}")
        if bound is None:
            method = self._fn.__get__(instance, owner)
            bound = Function(method, self._signature, self._name)
            instance.__dict__[f"_nnlib_function_{id(self)}"] = bound
        return bound

    def __call__(self, *args, **kwargs):
        if _tape.observers() or _tape.global_observers() or _EAGERLY[0]:
            return self._observed_call(args, kwargs)
        return self._replayed(args, kwargs)

    def _replayed(self, args, kwargs):
        fast = None if kwargs or self._signature else _sig.fast_key(args)
        if fast is not None:  # plain arrays and tensors: skip the structure walk
            trace = self._fast.get(fast)
            if trace is not None:
                return trace.concrete._run([getattr(a, "_value", a) for a in args])
        args, kwargs = self._conformed(args, kwargs)
        key, arrays = self._key(args, kwargs)
        trace = self._traces.get(key)
        if trace is None:
            return self._trace(key, args, kwargs)
        if trace.concrete is None:
            return self._fn(*args, **kwargs)
        if fast is not None:
            self._fast[fast] = trace
        return trace.concrete._run(arrays)

    def _observed_call(self, args, kwargs):
        """A call that observers may want to see: run eagerly when debugging,
        inside another trace (inlined) or under the numeric checker; under a
        recording tape, replayed as one op (``differentiable``)."""
        observers = _tape.observers()
        if (
            _EAGERLY[0]
            or _tape.global_observers()
            or any(isinstance(o, Tracer) for o in observers)
        ):
            return self._fn(*args, **kwargs)
        if not any(_records(o) for o in observers):  # only paused tapes
            return self._replayed(args, kwargs)
        args, kwargs = self._conformed(args, kwargs)
        key, arrays = self._key(args, kwargs)
        trace = self._traces.get(key)
        if trace is None:  # the tracing run is eager: the tape sees its ops
            return self._trace(key, args, kwargs)
        if trace.concrete is None or not _differentiable.replayable(
            trace.concrete.graph
        ):
            return self._fn(*args, **kwargs)
        return _differentiable.call_recorded(
            self, trace.concrete, key, args, kwargs, arrays
        )

    def get_concrete_function(self, *args, **kwargs):
        """The trace for these arguments, traced now (running the function) if new.

        Raises:
            TracingError: If the function cannot be traced for them (the
                message says why: an op without a declaration).
        """
        args, kwargs = self._conformed(args, kwargs)
        key, _ = self._key(args, kwargs)
        if key not in self._traces:
            self._trace(key, args, kwargs)
        trace = self._traces[key]
        if trace.concrete is None:
            raise TracingError(trace.eager_because)
        return trace.concrete

    # -- tracing ----------------------------------------------------------------

    def _trace(self, key, args, kwargs):
        with self._lock:
            first = not self._keys
            created = []
            _variable._creation_hooks.append(created.append)
            try:
                result, concrete, because = self._run_traced(args, kwargs)
            finally:
                _variable._creation_hooks.remove(created.append)
            if created and not first:
                raise ValueError(
                    f"nnlib.function '{self._name}' created variables (first: "
                    f"'{created[0].name}') when traced again for new arguments; "
                    "variables may be created only on the first trace: create "
                    "them outside the function or on its first call"
                )
            self._traces[key] = _Trace(concrete, because)
            self._keys.append(key)
            if because is not None:
                warn(
                    f"nnlib.function '{self._name}' runs eagerly for these "
                    f"arguments: {because}",
                    once=f"nnlib.function {self._name} eager",
                )
            if len(self._keys) > RETRACE_WARNING:
                self._warn_retrace()
            return result

    def _run_traced(self, args, kwargs):
        with Tracer(self._name) as tracer:
            args, kwargs = _as_arguments(tracer, (args, kwargs))
            result = self._fn(*args, **kwargs)
            leaves = nest.flatten(result)
            kinds = []
            for leaf in leaves:
                if isinstance(leaf, Tensor) and not isinstance(leaf, Variable):
                    tracer.output(leaf)
                    kinds.append(_TRACED)
                else:
                    kinds.append(leaf)
        if tracer.undeclared:
            names = sorted({name for name, _ in tracer.undeclared})
            where = tracer.undeclared[0][1]
            because = (
                f"the ops {names} cannot be traced yet (first at {where}); "
                "nnlib.ops.declare them"
            )
            return result, None, because
        return result, ConcreteFunction(tracer.graph, result, kinds), None

    # -- signatures -------------------------------------------------------------

    def _conformed(self, args, kwargs):
        return _sig.conformed(self._name, self._signature, args, kwargs)

    def _key(self, args, kwargs):
        return _sig.signature_key(args, kwargs)

    def _warn_retrace(self):
        changed = _sig.changed_arguments(
            self._keys[-2], self._keys[-1], self._parameters
        )
        warn(
            f"nnlib.function '{self._name}' was traced {len(self._keys)} times; "
            f"the last retrace was for a new {', '.join(changed[:3])}. Each new "
            "shape, dtype or Python value traces again: pass changing numbers "
            "as arrays or tensors, or give input_signature=[nnlib.TensorSpec("
            "(None, ...), ...)] for a changing batch size",
            once=f"nnlib.function {self._name} retrace",
        )

    def __repr__(self):
        return f"<nnlib.function {self._name}, {self.trace_count} trace(s)>"


def function(fn=None, input_signature=None, name=None):
    """Traces ``fn`` once per input signature and replays the trace after.

    Usable as ``@nnlib.function``, ``@nnlib.function(input_signature=...)`` or
    ``nnlib.function(fn)``; ``nnlib.defun`` is the same (tfe's name).

    Args:
        fn: The function (or bound method) to trace.
        input_signature: Optional list of ``nnlib.TensorSpec``, one per
            positional argument: arguments are checked and converted to the
            spec's dtype, and ``None`` dimensions may change without a
            retrace warning.
        name: The name in graph listings and messages (default: ``fn``'s).

    Returns:
        A ``Function``.

    Raises:
        TypeError: If ``fn`` is not callable or ``input_signature`` holds
            something other than ``TensorSpec``s.

    Examples:
        >>> w = nnlib.Variable([[1.0], [2.0]], name="w")
        >>> @nnlib.function
        ... def predict(x):
        ...     return nnlib.matmul(x, w)
        >>> predict(np.ones((1, 2), np.float32))
        nnlib.Tensor([[3.]], shape=(1, 1), dtype=float32)
        >>> _ = w.assign([[0.0], [1.0]])
        >>> predict(np.ones((1, 2), np.float32))  # reads w when run
        nnlib.Tensor([[1.]], shape=(1, 1), dtype=float32)
    """
    if fn is None:
        return lambda f: Function(f, input_signature, name)
    return Function(fn, input_signature, name)


def _as_arguments(tracer, structure):
    """The arguments with each tensor or array replaced by a traced Tensor."""
    leaves = []
    for leaf in nest.flatten(structure):
        value = _sig.array_leaf(leaf)
        if value is not None:
            tensor = wrap(value)
            tracer.argument(tensor)
            if isinstance(leaf, Tensor):
                # Linked to the caller's tensor, so that a tape around this
                # (tracing, eager) call sees the argument's gradient flow.
                _tape.record(
                    "identity", (leaf,), tensor, _identity, raw=True, node=_tape.ALIAS
                )
            leaves.append(tensor)
        else:
            leaves.append(leaf)
    return nest.pack_as(structure, leaves)


def _identity(dy):
    return (dy,)


def _records(observer):
    """Whether ``observer`` would record a call (a tape in its backward pass is
    paused: it records nothing)."""
    return not (isinstance(observer, _tape.Recorder) and observer._paused)
