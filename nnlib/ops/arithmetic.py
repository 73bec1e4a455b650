"""Binary arithmetic with numpy broadcasting, ``where``, and comparisons.

Broadcasting is undone in one place (``declare.fit_gradient``): ``binary`` sums
each operand's gradient back to its shape and dtype, so the rules below are the
textbook derivatives.
"""

import functools

import numpy as np

from . import math as _math
from . import poly as _poly
from ._dispatch import (
    ACTIVE,
    Tensor,
    as_tensor,
    operands,
    record,
    value_of,
    wrap,
)
from .declare import Spec, declare, fit_gradient
from .registry import Sample, register

__all__ = [
    "add",
    "divide",
    "equal",
    "floor_divide",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "maximum",
    "minimum",
    "mod",
    "multiply",
    "not_equal",
    "power",
    "subtract",
    "where",
]

# Shape pairs every broadcasting binary op is checked on. The last three give
# outputs with a size-1 axis where an operand with fewer dimensions has a size > 1
# (and the reverse), so an axis mis-offset by the leading (prepended) dimensions in
# the gradient's reduction to the operand's shape is caught.
_BROADCAST = (
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((2, 1, 4), (3, 1)),
    ((1, 3), (1, 2, 1)),
    ((1, 1, 4), (3, 1)),
    ((2, 1, 1), (1, 3, 1)),
)


def _samples(low=-2.0, high=2.0):
    return tuple(Sample(shapes=s, low=low, high=high) for s in _BROADCAST)


def _nonzero_denominator(x_shape, y_shape):
    def make(rng):
        x = rng.uniform(-2, 2, x_shape)
        y = rng.uniform(0.5, 2, y_shape) * rng.choice([-1, 1], y_shape)
        return [x, y], {}

    return Sample(make=make)


def _floating(v):
    """True for a floating-point Tensor or array (a rule's operand in either mode)."""
    return isinstance(v, (Tensor, np.ndarray, np.generic)) and v.dtype.kind in "fc"


def _broadcast_spec(x, y):
    """A binary op's output: the broadcast shape, numpy's result dtype."""
    shape = np.broadcast_shapes(x.shape, y.shape)
    return Spec(shape, np.result_type(np.empty(0, x.dtype), np.empty(0, y.dtype)))


def binary(forward, *samples, second_order=True):
    """Declares a broadcasting binary op from its forward and its gradient rule.

    The decorated function is the rule ``rule(dy, x, y) -> (dx, dy)`` on the
    broadcast shape, written with operators so that it works on Tensors and on
    numpy arrays (see ``nnlib.ops.poly``); its name and docstring become the op's.
    """

    def decorate(rule):
        name = rule.__name__
        op_def = declare(name, forward, broadcasts=True, infer=_broadcast_spec)

        @op_def.gradient
        def _(g):
            return rule(g.dy, *g.inputs)

        # The declared op's call, specialized for the most frequent ops (the
        # record is Op.__call__'s, node included).
        @functools.wraps(rule)
        def op(x, y):
            x, y = operands(x, y)
            xv = x._value if isinstance(x, Tensor) else x
            yv = y._value if isinstance(y, Tensor) else y
            try:
                out = wrap(forward(xv, yv))
            except ValueError as err:
                if "broadcast" not in str(err):
                    raise
                raise ValueError(
                    f"{name}: incompatible shapes {np.shape(value_of(x))} and "
                    f"{np.shape(value_of(y))} (they cannot be broadcast together)"
                ) from None
            if ACTIVE:

                def backward(dy):
                    if isinstance(dy, Tensor):
                        dx, dy_ = rule(dy, x, y)
                    else:
                        dx, dy_ = rule(dy, xv, yv)
                    return fit_gradient(dx, x_spec), fit_gradient(dy_, y_spec)

                x_spec = (xv.shape, xv.dtype) if isinstance(x, Tensor) else None
                y_spec = (yv.shape, yv.dtype) if isinstance(y, Tensor) else None

                record(name, (x, y), out, backward, raw=True, node=(op_def, {}, ()))
            return out

        del op.__wrapped__
        op.gradient_rule = rule
        op.op = op_def
        return register(*samples, second_order=second_order, name=name)(op)

    return decorate


@binary(np.add, *_samples())
def add(dy, x, y):
    """Adds ``x`` and ``y`` elementwise, with numpy broadcasting.

    Args:
        x: A tensor, array or number.
        y: A tensor, array or number.

    Returns:
        A Tensor of the broadcast shape.

    Raises:
        ValueError: If the shapes cannot be broadcast together.

    Examples:
        >>> nnlib.add([1., 2.], 10.)
        nnlib.Tensor([11. 12.], shape=(2,), dtype=float32)
    """
    return dy, dy


@binary(np.subtract, *_samples())
def subtract(dy, x, y):
    """Subtracts ``y`` from ``x`` elementwise, with broadcasting.

    Examples:
        >>> nnlib.subtract([3., 4.], [1., 1.])
        nnlib.Tensor([2. 3.], shape=(2,), dtype=float32)
    """
    return dy, -dy


@binary(np.multiply, *_samples())
def multiply(dy, x, y):
    """Multiplies ``x`` and ``y`` elementwise, with broadcasting.

    Examples:
        >>> nnlib.multiply([1., 2.], [3., 4.])
        nnlib.Tensor([3. 8.], shape=(2,), dtype=float32)
    """
    return dy * y, dy * x


@binary(np.true_divide, *(_nonzero_denominator(*s) for s in _BROADCAST))
def divide(dy, x, y):
    """Divides ``x`` by ``y`` elementwise (true division), with broadcasting.

    Examples:
        >>> nnlib.divide([1., 3.], 2.)
        nnlib.Tensor([0.5 1.5], shape=(2,), dtype=float32)
    """
    return dy / y, -dy * x / (y * y)


@binary(np.power, *_samples(low=0.5, high=2.0))
def power(dy, x, y):
    """Raises ``x`` to the power ``y`` elementwise, with broadcasting.

    The gradient with respect to ``y`` uses ``log(x)`` and needs ``x > 0``.

    Examples:
        >>> nnlib.power([2., 3.], 2.)
        nnlib.Tensor([4. 9.], shape=(2,), dtype=float32)
    """
    dx = dy * y * x ** (y - 1) if _floating(x) else None
    dp = dy * x**y * _math.log(x) if _floating(y) else None
    return dx, dp


@binary(np.maximum, *_samples())
def maximum(dy, x, y):
    """The elementwise maximum of ``x`` and ``y``; ties send the gradient to ``x``.

    Examples:
        >>> nnlib.maximum([1., 5.], [3., 2.])
        nnlib.Tensor([3. 5.], shape=(2,), dtype=float32)
    """
    return dy * (x >= y), dy * (x < y)


@binary(np.minimum, *_samples())
def minimum(dy, x, y):
    """The elementwise minimum of ``x`` and ``y``; ties send the gradient to ``x``.

    Examples:
        >>> nnlib.minimum([1., 5.], [3., 2.])
        nnlib.Tensor([1. 2.], shape=(2,), dtype=float32)
    """
    return dy * (x <= y), dy * (x > y)


def _mod_samples(rng):
    return [
        rng.uniform(0.1, 0.9, (3, 4)) + rng.integers(-3, 3, (3, 4)),
        np.full((4,), 1.0),
    ], {}


@binary(np.mod, Sample(make=_mod_samples, wrt=(0,)))
def mod(dy, x, y):
    """The remainder of ``x / y`` with the sign of ``y`` (Python's ``%``).

    Differentiable almost everywhere: d/dx is 1 and d/dy is ``-floor(x / y)``.

    Examples:
        >>> nnlib.mod([5., -5.], 3.)
        nnlib.Tensor([2. 1.], shape=(2,), dtype=float32)
    """
    return dy, -dy * (x // y)


def _non_differentiable(forward, name, doc, infer):
    op_def = declare(name, forward, infer=infer)

    def op(x, y):
        x, y = operands(x, y)
        try:
            return op_def(x, y)
        except ValueError as err:
            raise ValueError(
                f"{name}: incompatible shapes {np.shape(value_of(x))} and "
                f"{np.shape(value_of(y))}: {err}"
            ) from None

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    op.op = op_def
    return register(differentiable=False, name=name)(op)


def _comparison_spec(x, y):
    """A comparison's output: the broadcast shape, bool."""
    return Spec(np.broadcast_shapes(x.shape, y.shape), np.bool_)


floor_divide = _non_differentiable(
    np.floor_divide,
    "floor_divide",
    """Floor division ``x // y``, elementwise (no gradient: it is piecewise constant).

    Examples:
        >>> nnlib.floor_divide([7., -7.], 2.)
        nnlib.Tensor([ 3. -4.], shape=(2,), dtype=float32)
    """,
    _broadcast_spec,
)


def _comparison(ufunc, symbol):
    name = ufunc.__name__
    expected = [bool(v) for v in ufunc(np.array([1.0, 2.0, 3.0]), 2.0)]
    doc = f"""Returns the boolean tensor ``x {symbol} y``, elementwise with broadcasting.

    Comparisons are not differentiable.

    Examples:
        >>> nnlib.{name}([1., 2., 3.], 2.).numpy().tolist()
        {expected}
    """
    return _non_differentiable(ufunc, name, doc, _comparison_spec)


equal = _comparison(np.equal, "==")
not_equal = _comparison(np.not_equal, "!=")
less = _comparison(np.less, "<")
less_equal = _comparison(np.less_equal, "<=")
greater = _comparison(np.greater, ">")
greater_equal = _comparison(np.greater_equal, ">=")


def _where_samples(cond_shape, x_shape, y_shape):
    def make(rng):
        cond = rng.random(cond_shape) > 0.5
        return [cond, rng.uniform(-2, 2, x_shape), rng.uniform(-2, 2, y_shape)], {}

    return Sample(make=make)


WHERE = declare("where", np.where, broadcasts=True, saves="x")


@WHERE.gradient
def _(g):
    # A mask multiply, not a where: the condition gets no gradient.
    condition = g.inputs[0]
    return None, g.dy * condition, g.dy * _poly.logical_not(condition)


@register(
    _where_samples((3, 4), (3, 4), (4,)),
    # An output axis of size 1 before one an operand with fewer dims broadcasts.
    _where_samples((1, 2, 1), (1, 3), (2, 1)),
    second_order=True,
)
def where(condition, x, y):
    """Picks ``x`` where ``condition`` is true and ``y`` elsewhere (broadcasting).

    Args:
        condition: A boolean tensor or array.
        x: Values where ``condition`` is true.
        y: Values where it is false.

    Returns:
        A Tensor of the broadcast shape.

    Examples:
        >>> nnlib.where([True, False], [1., 2.], [10., 20.])
        nnlib.Tensor([ 1. 20.], shape=(2,), dtype=float32)
    """
    condition = as_tensor(condition)
    x, y = operands(x, y)
    try:
        return WHERE(condition, x, y)
    except ValueError:
        raise ValueError(
            f"where: incompatible shapes {condition.shape}, {np.shape(value_of(x))} "
            f"and {np.shape(value_of(y))}"
        ) from None
