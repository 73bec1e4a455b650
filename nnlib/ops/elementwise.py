"""``elementwise``: the shorthand that declares a unary elementwise op.

Most ops of ``math.py`` and ``activations.py`` are a numpy function and a
textbook derivative. ``elementwise`` declares one as an ``Op`` (``declare``)
from those two, and gives it a specialized eager call, since these are the most
frequent ops: the record is the Op's own, ``node`` included, so tapes and
tracers see no difference.
"""

import functools

from ..engine.tape import ACTIVE, record
from ..engine.tensor import Tensor, to_array, wrap
from .declare import Spec, declare
from .registry import register

__all__ = ["elementwise"]


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
        op_def = declare(name, forward, saves=saves, infer=_same_spec, fresh=True)

        @op_def.gradient
        def _(g):
            return (rule(g.dy, g.inputs[0], g.outputs[0]),)

        keep_x, keep_y = "x" in saves, "y" in saves
        node = (op_def, {}, ())

        # The declared op's call, specialized: elementwise ops are the most
        # frequent, and this skips Op.__call__'s generality (the record is
        # the same, node included, so tracers see no difference).
        @functools.wraps(rule)
        def op(x):
            if not isinstance(x, Tensor):
                x = wrap(to_array(x))
            y = wrap(forward(x._value))
            if ACTIVE:
                sx, sy = (x if keep_x else None), (y if keep_y else None)
                vx = x._value if keep_x else None
                vy = y._value if keep_y else None

                def backward(dy):
                    if isinstance(dy, Tensor):
                        return (rule(dy, sx, sy),)
                    return (rule(dy, vx, vy),)

                record(name, (x,), y, backward, raw=True, node=node)
            return y

        del op.__wrapped__  # the op takes x, not the rule's (dy, x, y)
        op.gradient_rule = rule
        op.op = op_def
        return register(*samples, second_order=second_order, name=name)(op)

    return decorate


def _same_spec(spec):
    """An elementwise op's output: its input's shape and dtype."""
    return Spec(spec.shape, spec.dtype)
