"""Recording ops: who observes them, and the ``record`` call ops make.

An op checks ``if ACTIVE:`` (one global lookup, so eager ops with no tape stay
cheap) and only then calls ``record``. ``ACTIVE`` is non-empty while any
observer is registered in any thread; ``record`` then offers the op to the
global observers (the numeric checker of ``nnlib.seterr``) and to this thread's
own observers (its tapes). Each thread keeps its observers in a tuple that is
replaced, never edited, so ``record`` never iterates a sequence that another
thread's tape changes under it by entering or leaving.
"""

import threading

from .tensor import Tensor
from .variable import Variable

# Every registered observer, of all threads: only ever tested for truth by ops.
# Ops import it by name, so it stays this one list, edited in place (list.append
# and list.remove are atomic: observers compare by identity, in C).
ACTIVE = []

_GLOBAL = ()  # observers that see every thread's ops (replaced, never edited)
_GLOBAL_LOCK = threading.Lock()

_FLOAT_KINDS = "fc"

# ``record(..., node=ALIAS)``: the op's outputs hold arrays that already exist
# (its input's, or values computed by recorded ops): identity, stop_gradient,
# a variable's read, custom_gradient's outputs. A tracer adds no step for it.
ALIAS = "alias"


class _Stack:
    """One thread's observers, innermost last."""

    __slots__ = ("observers",)

    def __init__(self):
        self.observers = ()


class _PerThread(threading.local):
    """Each thread's ``stack``, made on its first use in that thread."""

    def __init__(self):
        self.stack = _Stack()


_THIS_THREAD = _PerThread()


# Only its own thread edits a stack (but for a tape left from another thread, as
# a generator resumed elsewhere can), so tapes enter and leave without a lock: a
# lock there convoys threads that switch often (the tests force that).
def push(observer):
    """Offers this thread's ops to ``observer`` until ``pop``.

    Args:
        observer: An object with an ``observe(name, inputs, outputs, backward,
            raw, node)`` method (see ``record``).

    Returns:
        The handle ``pop`` takes, so that an observer entered in one thread can
        leave from another (a generator resumed elsewhere).

    Examples:
        >>> class Names:
        ...     seen = []
        ...     def observe(self, name, *args):
        ...         self.seen.append(name)
        >>> names = Names()
        >>> stack = push(names)
        >>> _ = nnlib.tanh(nnlib.constant(1.0) * 2.0)
        >>> pop(stack, names)
        >>> names.seen
        ['multiply', 'tanh']
    """
    stack = _THIS_THREAD.stack
    stack.observers = (*stack.observers, observer)
    ACTIVE.append(observer)
    return stack


def pop(stack, observer):
    """Stops offering ops to ``observer``, which ``push`` returned ``stack`` for."""
    stack.observers = tuple(o for o in stack.observers if o is not observer)
    ACTIVE.remove(observer)


def add_global_observer(observer):
    """Offers every thread's ops to ``observer`` (once, however often it is added)."""
    global _GLOBAL
    with _GLOBAL_LOCK:
        if all(o is not observer for o in _GLOBAL):
            _GLOBAL = (*_GLOBAL, observer)
            ACTIVE.append(observer)


def remove_global_observer(observer):
    """Undoes ``add_global_observer``; does nothing for an observer not added."""
    global _GLOBAL
    with _GLOBAL_LOCK:
        if any(o is observer for o in _GLOBAL):
            _GLOBAL = tuple(o for o in _GLOBAL if o is not observer)
            ACTIVE.remove(observer)


def observers():
    """This thread's observers, innermost last (a tuple: a snapshot)."""
    return _THIS_THREAD.stack.observers


def global_observers():
    """The observers of every thread's ops (a tuple: a snapshot)."""
    return _GLOBAL


def record(name, inputs, outputs, backward, raw=False, node=None):
    """Offers one op to the global observers and to this thread's.

    Args:
        name: The op's name, used in error messages.
        inputs: The op's operands, Tensors or raw constants (numbers, arrays).
        outputs: The output Tensor, or a tuple of output Tensors.
        backward: ``backward(dy) -> tuple of input gradients`` (one per input,
            ``None`` where there is none); for a tuple of outputs it receives a
            list of upstream gradients. ``None`` marks a non-differentiable op.
        raw: True when ``backward`` also accepts plain numpy arrays for ``dy``
            (returning arrays). When no outer tape records the backward pass,
            the tape then skips Tensor wrapping in this op's gradient: the
            first-order fast path. Otherwise ``dy`` is always a Tensor.
        node: For an op declared with ``nnlib.ops.declare``, ``(op, attrs,
            hidden_outputs)``: what a tracer needs to run it again on new
            arrays; ``ALIAS`` for an op whose outputs are existing arrays;
            None for an op a tracer cannot replay.
    """
    if _GLOBAL:  # a test is cheaper than iterating an empty tuple
        for observer in _GLOBAL:
            observer.observe(name, inputs, outputs, backward, raw, node)
    for observer in _THIS_THREAD.stack.observers:
        observer.observe(name, inputs, outputs, backward, raw, node)


def needs_gradient(tensor):
    """True when some active tape in this thread would route a gradient to ``tensor``.

    Ops with expensive gradients (matmul, convolution) use this at record time to
    skip gradients nobody will read, such as the gradient of the input data.
    """
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in _FLOAT_KINDS:
        return False
    for observer in _THIS_THREAD.stack.observers:
        if getattr(observer, "_would_watch", None) and observer._would_watch(tensor):
            return True
    return False


class Recorder:
    """What a tape records: watched ids, entries in execution order, variables.

    ``GradientTape`` builds on this; the split keeps the recording rules apart
    from the user-facing API and the backward pass.
    """

    def __init__(self, watch_accessed_variables):
        self._watch_accessed_variables = watch_accessed_variables
        self._watched = set()
        self._entries = []
        self._variables = {}
        self._leaves = set()  # ids watched explicitly or as variables, not as outputs
        self._blocked = {}  # id -> name of the non-differentiable op that read it
        self._read = set()  # ids read by recorded (differentiable) ops
        self._paused = 0

    def _would_watch(self, tensor):
        if self._paused:
            return False
        return tensor._id in self._watched or self._watches_on_read(tensor)

    def _watches_on_read(self, t):
        return (
            self._watch_accessed_variables
            and isinstance(t, Variable)
            and t._trainable
            and t._value.dtype.kind in _FLOAT_KINDS
        )

    def _watch_on_read(self, t):
        """Watches ``t`` if it is a variable this tape watches when read."""
        if self._watches_on_read(t):
            self._watch_tensor(t)
            return True
        return False

    def _watch_tensor(self, tensor):
        """Watches a leaf. Integer tensors are never watched: no gradient flows
        through them, so the hot path below need not check dtypes."""
        if tensor._value.dtype.kind not in _FLOAT_KINDS:
            return
        self._watched.add(tensor._id)
        self._leaves.add(tensor._id)
        if isinstance(tensor, Variable):
            self._variables[tensor._id] = tensor

    def observe(self, name, inputs, outputs, backward, raw=False, node=None):
        """Records the op when one of its inputs is watched (see ``record``).

        An entry is the tuple ``(out_ids, in_ids, backward, out_specs, raw, name)``:
        tuples are cheaper to build than objects, and this runs once per op.
        """
        if self._paused:
            return
        watched = self._watched
        in_ids = [
            t._id
            if isinstance(t, Tensor)
            and (t._id in watched or (type(t) is not Tensor and self._watch_on_read(t)))
            else None
            for t in inputs
        ]
        if not any(in_ids):  # ids start at 1, so only None is false
            return
        if backward is None:
            for tid in in_ids:
                if tid is not None:
                    self._blocked.setdefault(tid, name)
            return
        self._read.update(in_ids)
        if isinstance(outputs, Tensor):
            watched.add(outputs._id)
            self._entries.append(((outputs._id,), in_ids, backward, None, raw, name))
        else:
            specs = tuple((o.shape, o.dtype) for o in outputs)
            out_ids = tuple(o._id for o in outputs)
            watched.update(out_ids)
            self._entries.append((out_ids, in_ids, backward, specs, raw, name))
