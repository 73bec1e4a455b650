"""A traced function under a tape: one recorded op whose gradient is traced too.

When a tape records a call of an ``nnlib.function`` (``implicit_gradients`` of
a traced loss, a ``GradientTape`` around a traced model), the call replays its
graph and the tape records it as a single op. The op's gradient is a second
traced function, the vector-Jacobian product: it runs the function again under
a tape and returns the gradients of its tensor arguments and of the trainable
variables it reads. It is traced once per signature and replayed after, so the
backward pass is as fast as the forward.

A graph with writes to variables (an optimizer step) or random ops (dropout)
runs eagerly instead: the gradient recomputes the forward pass, which would
write twice or draw other random numbers. So does a gradient of the gradient
(an outer tape recording the backward pass), which then is eager's, exact.
"""

from ..engine import nest
from ..engine.gradient_tape import GradientTape
from ..engine.tape import record
from ..engine.tensor import Tensor, wrap
from .signature import array_leaf

__all__ = ["call_recorded", "replayable"]


def replayable(graph):
    """True when a recorded call may replay ``graph``: no writes, no random op."""
    return not any(
        step.kind == "effect" or (step.op is not None and step.op.random)
        for step in graph.steps
    )


def call_recorded(function, concrete, key, args, kwargs, arrays):
    """Replays ``concrete`` for ``function(*args, **kwargs)`` as one recorded op.

    Args:
        function: The ``Function`` called.
        concrete: Its ``ConcreteFunction`` for this signature.
        key: The signature (caches the gradient function).
        args: The positional arguments.
        kwargs: The keyword arguments.
        arrays: The arrays of the tensor and array arguments, in signature order.

    Returns:
        The function's result, whose tensors a tape sees as one op's outputs.
    """
    leaves = nest.flatten((args, kwargs))
    inputs = [leaf for leaf in leaves if array_leaf(leaf) is not None]
    variables = [
        v for v in concrete.graph.variables() if v.trainable and v.dtype.kind in "fc"
    ]
    result = concrete._run(arrays)
    outputs = [leaf for leaf in nest.flatten(result) if isinstance(leaf, Tensor)]
    vjp = function._vjps.get(key)
    if vjp is None:
        vjp = function._vjps[key] = _vjp_function(function, args, kwargs, variables)

    def backward(dys):
        dys = list(dys) if isinstance(dys, (list, tuple)) else [dys]
        if any(isinstance(d, Tensor) for d in dys):
            # An outer tape records this backward pass: run it eagerly.
            return vjp.python_function(*arrays, *dys)
        grads = vjp(*arrays, *dys)
        return [g._value if isinstance(g, Tensor) else g for g in grads]

    single = outputs[0] if len(outputs) == 1 else tuple(outputs)
    record(
        f"function({function.__name__})",
        tuple(inputs) + tuple(variables),
        single,
        backward,
        raw=True,
    )
    return result


def _vjp_function(function, args, kwargs, variables):
    """The traced vector-Jacobian product of ``function`` at this signature
    (a ``Function`` of the same class: this module sits below its own)."""
    structure = (args, kwargs)
    positions = [
        i
        for i, leaf in enumerate(nest.flatten(structure))
        if array_leaf(leaf) is not None
    ]
    count = len(positions)

    def vjp(*flat):
        xs = [x if isinstance(x, Tensor) else wrap(x) for x in flat[:count]]
        dys = list(flat[count:])
        leaves = nest.flatten(structure)
        for i, x in zip(positions, xs):
            leaves[i] = x
        call_args, call_kwargs = nest.pack_as(structure, leaves)
        with GradientTape() as tape:
            for x in xs:
                if x.dtype.kind in "fc":
                    tape.watch(x)
            out = function.python_function(*call_args, **call_kwargs)
        targets = [leaf for leaf in nest.flatten(out) if isinstance(leaf, Tensor)]
        return tape.gradient(
            targets,
            xs + variables,
            output_gradients=dys,
            unconnected_gradients="none",
        )

    return type(function)(vjp, name=f"{function.__name__}_gradient")
