"""User-defined gradients (``custom_gradient``) and ``stop_gradient``."""

import contextlib
import functools
import inspect

from . import nest
from .indexed_slices import IndexedSlices
from .tape import (
    ACTIVE,
    ALIAS,
    Recorder,
    global_observers,
    observers,
    pop,
    push,
    record,
)
from .tensor import Tensor, _next_id, convert_to_tensor, wrap
from .variable import Variable


def custom_gradient(f):
    """Decorates a function that returns ``(value, grad_fn)`` with its own gradient.

    ``f`` runs without being recorded; the tape records one op whose gradient is
    ``grad_fn(*upstream)``, which returns one gradient per tensor argument (a
    single gradient for a single argument). When ``f`` reads trainable variables,
    ``grad_fn`` must accept a ``variables`` keyword and return
    ``(input_gradients, variable_gradients)``, as in TensorFlow. A gradient
    may be an ``IndexedSlices`` (kept sparse on its way to a source, as the
    gradient of ``embedding_lookup`` is). ``grad_fn``
    written with nnlib ops is itself differentiable, with one limit: values that
    ``f`` computed (``e`` below) are constants to a second derivative, because
    ``f``'s body is not recorded. For a correct second derivative, recompute
    them from the inputs inside ``grad_fn``.

    ``grad_fn`` replaces the function's whole gradient. So while a tape records,
    an output ``f`` did not create (an argument, a variable, which then counts
    as read, or a tensor from outside) comes back as a new Tensor with the same
    value; one returned twice comes back as two.

    Args:
        f: The function to decorate.

    Returns:
        A function with ``f``'s signature returning ``value``.

    Raises:
        TypeError: If ``f`` reads variables and ``grad_fn`` has no ``variables``
            keyword.

    Examples:
        >>> @nnlib.custom_gradient
        ... def log1pexp(x):
        ...     e = nnlib.exp(x)
        ...     def grad(dy):
        ...         return dy * (1 - 1 / (1 + e))
        ...     return nnlib.log(1 + e), grad
        >>> float(nnlib.gradients_function(log1pexp)(100.)[0])
        1.0
        >>> @nnlib.custom_gradient
        ... def clip_gradient(x):  # an identity whose gradient is clipped
        ...     return x, lambda dy: nnlib.clip_by_value(dy, -1.0, 1.0)
        >>> float(nnlib.gradients_function(lambda x: 5.0 * clip_gradient(x))(2.)[0])
        1.0
    """

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        args = tuple(
            convert_to_tensor(a) if not isinstance(a, Tensor) and _numeric(a) else a
            for a in args
        )
        if not (observers() or global_observers()):  # nobody would see the op
            value, _ = f(*args, **kwargs)
            return value
        first_new = _next_id()  # tensors with smaller ids existed before f ran
        with _unrecorded() as read_variables:
            value, grad_fn = f(*args, **kwargs)
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        outputs, returned = _own_outputs(nest.flatten(value), first_new)
        variables = _variables(read_variables + returned, tensor_args)
        if variables and "variables" not in inspect.signature(grad_fn).parameters:
            raise TypeError(
                f"custom_gradient function '{f.__name__}' reads trainable variables "
                f"({', '.join(v.name for v in variables)}), so its grad_fn must accept "
                "a 'variables' keyword and return (input_gradients, variable_gradients)"
            )
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
            outputs[0] if single else tuple(outputs),
            backward,
            node=ALIAS,
        )
        return nest.pack_as(value, outputs)

    return wrapper


def _own_outputs(outputs, first_new):
    """Gives each output Tensor its own identity; returns it and the trainable
    variables among the outputs.

    An output that existed before ``f`` ran (an argument, any tensor already on
    a tape), a variable, or one ``f`` returned twice is replaced by a new Tensor
    with the same value: recorded as it is, the custom op's output would share
    its id with an input or with another op's output, and the backward pass
    would add the identity's gradient (or the other op's) to the custom one.
    """
    fresh, returned, seen = [], [], set()
    for out in outputs:
        if isinstance(out, Tensor) and (
            out._id < first_new or out._id in seen or isinstance(out, Variable)
        ):
            if isinstance(out, Variable) and _trainable_float(out):
                returned.append(out)  # returning a variable is reading it
            out = wrap(out._value)
        if isinstance(out, Tensor):
            seen.add(out._id)
        fresh.append(out)
    return fresh, returned


def _variables(candidates, tensor_args):
    """The trainable variables ``f`` read, once each in creation order, less its
    arguments (those get their gradients as inputs)."""
    found = {v._id: v for v in candidates if all(v is not a for a in tensor_args)}
    return [found[i] for i in sorted(found)]


def _trainable_float(t):
    return t._trainable and t.dtype.kind in "fc"


def _numeric(a):
    return isinstance(a, (int, float, list)) or hasattr(a, "__array__")


def _as_tuple(grads, n):
    grads = tuple(grads) if isinstance(grads, (list, tuple)) else (grads,)
    if len(grads) != n:
        raise ValueError(
            f"custom gradient returned {len(grads)} gradients for {n} inputs"
        )
    return tuple(
        g if g is None or type(g) is IndexedSlices else convert_to_tensor(g)
        for g in grads
    )


class _VariableCollector:
    """An observer that notes the trainable variables its thread's ops read."""

    def __init__(self):
        self.variables = {}

    def observe(self, name, inputs, outputs, backward, raw=False, node=None):
        for t in inputs:
            if isinstance(t, Variable) and _trainable_float(t):
                self.variables[t._id] = t


@contextlib.contextmanager
def _unrecorded():
    """Pauses this thread's tapes; yields the list of trainable variables read."""
    paused = [o for o in observers() if isinstance(o, Recorder)]
    collector = _VariableCollector()
    for tape in paused:
        tape._paused += 1
    stack = push(collector)
    read = []
    try:
        yield read
    finally:
        pop(stack, collector)
        for tape in paused:
            tape._paused -= 1
        read.extend(collector.variables[i] for i in sorted(collector.variables))


def stop_gradient(x):
    """Returns ``x`` unchanged, but no gradient flows through it.

    Args:
        x: A tensor, array or number.

    Returns:
        A Tensor with the same value.

    Examples:
        >>> g = nnlib.gradients_function(lambda x: x * nnlib.stop_gradient(x))
        >>> float(g(3.)[0])
        3.0
    """
    x = convert_to_tensor(x)
    out = wrap(x._value)
    if ACTIVE:
        record("stop_gradient", (x,), out, None, node=ALIAS)
    return out
