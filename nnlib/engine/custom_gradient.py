"""User-defined gradients (``custom_gradient``) and ``stop_gradient``."""

import contextlib
import functools
import inspect
import threading

from . import nest
from .tape import ACTIVE, record
from .tensor import Tensor, convert_to_tensor, wrap
from .variable import Variable


def custom_gradient(f):
    """Decorates a function that returns ``(value, grad_fn)`` with its own gradient.

    ``f`` runs without being recorded; the tape records one op whose gradient is
    ``grad_fn(*upstream)``, which returns one gradient per tensor argument (a
    single gradient for a single argument). When ``f`` reads trainable variables,
    ``grad_fn`` must accept a ``variables`` keyword and return
    ``(input_gradients, variable_gradients)``, as in TensorFlow. ``grad_fn``
    written with nnlib ops is itself differentiable, with one limit: values that
    ``f`` computed (``e`` below) are constants to a second derivative, because
    ``f``'s body is not recorded. For a correct second derivative, recompute
    them from the inputs inside ``grad_fn``.

    Args:
        f: The function to decorate.

    Returns:
        A function with ``f``'s signature returning ``value``.

    Raises:
        TypeError: If ``f`` reads variables and ``grad_fn`` has no ``variables``
            keyword.

    Example:
        >>> @nnlib.custom_gradient
        ... def log1pexp(x):
        ...     e = nnlib.exp(x)
        ...     def grad(dy):
        ...         return dy * (1 - 1 / (1 + e))
        ...     return nnlib.log(1 + e), grad
        >>> float(nnlib.gradients_function(log1pexp)(100.)[0])
        1.0
    """

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        args = tuple(
            convert_to_tensor(a) if not isinstance(a, Tensor) and _numeric(a) else a
            for a in args
        )
        with _unrecorded() as read_variables:
            value, grad_fn = f(*args, **kwargs)
        if not ACTIVE:
            return value
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        variables = [v for v in read_variables if all(v is not a for a in tensor_args)]
        if variables and "variables" not in inspect.signature(grad_fn).parameters:
            raise TypeError(
                f"custom_gradient function '{f.__name__}' reads trainable variables "
                f"({', '.join(v.name for v in variables)}), so its grad_fn must accept "
                "a 'variables' keyword and return (input_gradients, variable_gradients)"
            )
        outputs = tuple(nest.flatten(value))
        single = len(outputs) == 1

        def backward(dy):
            upstream = [dy] if single else dy
            if variables:
                dxs, dvars = grad_fn(*upstream, variables=variables)
                return _as_tuple(dxs, len(tensor_args)) + _as_tuple(
                    dvars, len(variables)
                )
            return _as_tuple(grad_fn(*upstream), len(tensor_args))

        record(
            f"custom_gradient({f.__name__})",
            tuple(tensor_args) + tuple(variables),
            outputs[0] if single else outputs,
            backward,
        )
        return value

    return wrapper


def _numeric(a):
    return isinstance(a, (int, float, list)) or hasattr(a, "__array__")


def _as_tuple(grads, n):
    grads = tuple(grads) if isinstance(grads, (list, tuple)) else (grads,)
    if len(grads) != n:
        raise ValueError(
            f"custom gradient returned {len(grads)} gradients for {n} inputs"
        )
    return tuple(None if g is None else convert_to_tensor(g) for g in grads)


class _VariableCollector:
    """An observer that notes the trainable variables read in this thread."""

    def __init__(self):
        self.thread = threading.get_ident()
        self.variables = {}

    def observe(self, name, inputs, outputs, backward, raw=False):
        if threading.get_ident() != self.thread:
            return
        for t in inputs:
            if isinstance(t, Variable) and t._trainable and t.dtype.kind in "fc":
                self.variables[t._id] = t


@contextlib.contextmanager
def _unrecorded():
    """Pauses this thread's tapes; yields the list of trainable variables read."""
    me = threading.get_ident()
    paused = [
        o for o in ACTIVE if getattr(o, "_thread", None) == me and hasattr(o, "_paused")
    ]
    collector = _VariableCollector()
    for tape in paused:
        tape._paused += 1
    ACTIVE.append(collector)
    read = []
    try:
        yield read
    finally:
        ACTIVE.remove(collector)
        for tape in paused:
            tape._paused -= 1
        read.extend(collector.variables[i] for i in sorted(collector.variables))


def stop_gradient(x):
    """Returns ``x`` unchanged, but no gradient flows through it.

    Args:
        x: A tensor, array or number.

    Returns:
        A Tensor with the same value.

    Example:
        >>> g = nnlib.gradients_function(lambda x: x * nnlib.stop_gradient(x))
        >>> float(g(3.)[0])
        3.0
    """
    x = convert_to_tensor(x)
    out = wrap(x._value)
    if ACTIVE:
        record("stop_gradient", (x,), out, None)
    return out
