"""``nnlib.cond`` and ``nnlib.while_loop``: control flow on tensor values.

Eagerly they are Python's ``if`` and ``while``: the predicate's value picks a
branch, the loop runs until its condition is false, and gradients flow through
what ran. Inside ``nnlib.function``, where a traced predicate has no value yet,
they become data flow: ``cond`` runs both branches and selects each output with
``nnlib.where``; ``while_loop`` unrolls ``maximum_iterations`` steps, each
selecting the new loop variables while the condition holds. Gradients flow
through the selection, so the traced and the eager gradients agree. The
branches and the body must then be free of writes to variables (refused:
both branches would write) and give outputs of the same structure, shape and
dtype.
"""

from ..engine import nest
from ..engine.tape import observers
from ..engine.tensor import Tensor
from ..ops.arithmetic import where
from .tracer import Tracer, TracingError

__all__ = ["cond", "while_loop"]


def _value_of(pred, what):
    """``bool(pred)``, or None when ``pred`` is a traced tensor (no value yet)."""
    try:
        return bool(pred)
    except TracingError:
        return None
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what}: the predicate must be a scalar, got {err}") from None


def _selected(pred, a, b, what):
    """``where(pred, a, b)`` leaf by leaf over two structures that must match."""
    leaves_a, leaves_b = nest.flatten(a), nest.flatten(b)
    if len(leaves_a) != len(leaves_b):
        raise ValueError(
            f"{what}: the two sides return different structures "
            f"({len(leaves_a)} and {len(leaves_b)} values)"
        )
    out = []
    for x, y in zip(leaves_a, leaves_b):
        sx, sy = getattr(x, "shape", ()), getattr(y, "shape", ())
        if tuple(sx) != tuple(sy):
            raise ValueError(
                f"{what}: the two sides give values of shapes {tuple(sx)} and "
                f"{tuple(sy)}; a traced {what} needs the same shapes"
            )
        out.append(where(pred, x, y))
    return nest.pack_as(a, out)


def _without_writes(fn, args, what):
    """Runs ``fn(*args)``, refusing writes to variables in a trace."""
    tracers = _tracers()
    before = [len(t.graph.steps) for t in tracers]
    result = fn(*args)
    for tracer, start in zip(tracers, before):
        if any(s.kind == "effect" for s in tracer.graph.steps[start:]):
            raise TracingError(
                f"{what}: a branch or body writes a variable, which a traced "
                f"{what} cannot do (both sides run); move the write out of it"
            )
    return result


def _tracers():
    return [o for o in observers() if isinstance(o, Tracer)]


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``, also inside ``nnlib.function``.

    Args:
        pred: A Python bool or a scalar boolean tensor.
        true_fn: A function of no arguments.
        false_fn: A function of no arguments returning the same structure (and,
            when traced, the same shapes and dtypes) as ``true_fn``.

    Returns:
        What the chosen function returns.

    Raises:
        ValueError: If ``pred`` is not a scalar, or (traced) the branches give
            different structures or shapes.
        TracingError: If (traced) a branch writes a variable.

    Examples:
        >>> f = nnlib.function(lambda x: nnlib.cond(nnlib.reduce_sum(x) > 0,
        ...                                         lambda: x * 2.0, lambda: -x))
        >>> f(np.array([1.0, 2.0], np.float32))
        nnlib.Tensor([2. 4.], shape=(2,), dtype=float32)
        >>> f(np.array([-1.0, -2.0], np.float32))  # the same trace, replayed
        nnlib.Tensor([1. 2.], shape=(2,), dtype=float32)
    """
    if not (callable(true_fn) and callable(false_fn)):
        raise TypeError("cond: true_fn and false_fn must be functions of no arguments")
    value = _value_of(pred, "cond")
    if value is not None:
        return true_fn() if value else false_fn()
    a = _without_writes(true_fn, (), "cond")
    b = _without_writes(false_fn, (), "cond")
    return _selected(pred, a, b, "cond")


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` holds.

    Args:
        cond: A function of the loop variables returning a scalar bool.
        body: A function of the loop variables returning new ones (the same
            structure; when traced, the same shapes and dtypes).
        loop_vars: A list or tuple of tensors (or numbers).
        maximum_iterations: Optional int: at most this many steps. Inside
            ``nnlib.function`` a condition on traced tensors needs it: the
            loop is unrolled to this many steps, each kept only while the
            condition holds.

    Returns:
        The final loop variables, as a list or tuple like ``loop_vars``.

    Raises:
        TracingError: If traced on a tensor condition without
            ``maximum_iterations``, or the body writes a variable.
        ValueError: If ``maximum_iterations`` is negative, or (traced) the body
            changes the variables' shapes.

    Examples:
        >>> nnlib.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2.0),
        ...                  (0, nnlib.constant(1.0)))
        (3, nnlib.Tensor(8., shape=(), dtype=float32))
    """
    if maximum_iterations is not None and (
        isinstance(maximum_iterations, bool)
        or not isinstance(maximum_iterations, int)
        or maximum_iterations < 0
    ):
        raise ValueError(
            f"while_loop: maximum_iterations must be a non-negative int, "
            f"got {maximum_iterations!r}"
        )
    kind = type(loop_vars)
    loop_vars = kind(loop_vars)
    steps = 0
    while maximum_iterations is None or steps < maximum_iterations:
        value = _value_of(cond(*loop_vars), "while_loop")
        if value is None:
            return _unrolled(cond, body, loop_vars, maximum_iterations, steps, kind)
        if not value:
            break
        loop_vars = kind(body(*loop_vars))
        steps += 1
    return loop_vars


def _unrolled(cond, body, loop_vars, maximum_iterations, done, kind):
    if maximum_iterations is None:
        raise TracingError(
            "while_loop: the condition depends on traced tensors, so the number "
            "of steps is known only when the graph runs; give "
            "maximum_iterations=<int> to unroll that many steps"
        )
    active = cond(*loop_vars)
    for _ in range(maximum_iterations - done):
        new = kind(_without_writes(body, tuple(loop_vars), "while_loop"))
        loop_vars = kind(_selected(active, list(new), list(loop_vars), "while_loop"))
        still = cond(*loop_vars)
        active = where(active, still, active) if isinstance(still, Tensor) else active
    return loop_vars
