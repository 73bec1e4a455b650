"""Recording ops: the list of active observers and the ``record`` call ops make.

An op checks ``if ACTIVE:`` (one global lookup, so eager ops with no tape stay
cheap) and only then calls ``record``. Observers are the active
``GradientTape`` objects and the numeric checker of ``nnlib.seterr``.
"""

import threading

from .tensor import Tensor
from .variable import Variable

# Observers with an ``observe(name, inputs, outputs, backward)`` method.
ACTIVE = []

_FLOAT_KINDS = "fc"


def record(name, inputs, outputs, backward):
    """Offers one op to every active observer.

    Args:
        name: The op's name, used in error messages.
        inputs: The op's operands, Tensors or raw constants (numbers, arrays).
        outputs: The output Tensor, or a tuple of output Tensors.
        backward: ``backward(dy) -> tuple of input gradients`` (one per input,
            ``None`` where there is none); for a tuple of outputs it receives a
            list of upstream gradients. ``None`` marks a non-differentiable op.
    """
    for observer in ACTIVE:
        observer.observe(name, inputs, outputs, backward)


def needs_gradient(tensor):
    """True when some active tape in this thread would route a gradient to ``tensor``.

    Ops with expensive gradients (matmul, convolution) use this at record time to
    skip gradients nobody will read, such as the gradient of the input data.
    """
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in _FLOAT_KINDS:
        return False
    for observer in ACTIVE:
        if getattr(observer, "_would_watch", None) and observer._would_watch(tensor):
            return True
    return False


class Entry:
    """One recorded op: the ids it produced and consumed, and its gradient rule."""

    __slots__ = ("backward", "in_ids", "name", "out_ids", "out_specs")

    def __init__(self, name, out_ids, in_ids, backward, out_specs):
        self.name = name
        self.out_ids = out_ids
        self.in_ids = in_ids
        self.backward = backward
        self.out_specs = out_specs


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
        self._thread = None
        self._paused = 0

    def _would_watch(self, tensor):
        if self._thread != threading.get_ident() or self._paused:
            return False
        return tensor._id in self._watched or self._watches_on_read(tensor)

    def _watches_on_read(self, t):
        return (self._watch_accessed_variables and isinstance(t, Variable)
                and t._trainable and t._value.dtype.kind in _FLOAT_KINDS)

    def _watch_tensor(self, tensor):
        """Watches a leaf. Integer tensors are never watched: no gradient flows
        through them, so the hot path below need not check dtypes."""
        if tensor._value.dtype.kind not in _FLOAT_KINDS:
            return
        self._watched.add(tensor._id)
        self._leaves.add(tensor._id)
        if isinstance(tensor, Variable):
            self._variables[tensor._id] = tensor

    def observe(self, name, inputs, outputs, backward):
        """Records the op when one of its inputs is watched (see ``record``)."""
        if self._paused or self._thread != threading.get_ident():
            return
        watched = self._watched
        in_ids = []
        hit = False
        for t in inputs:
            if isinstance(t, Tensor):
                tid = t._id
                if tid in watched or self._watches_on_read(t):
                    if tid not in watched:
                        self._watch_tensor(t)
                    in_ids.append(tid)
                    hit = True
                    continue
            in_ids.append(None)
        if not hit:
            return
        if backward is None:
            for tid in in_ids:
                if tid is not None:
                    self._blocked.setdefault(tid, name)
            return
        self._read.update(in_ids)
        if isinstance(outputs, Tensor):
            watched.add(outputs._id)
            entry = Entry(name, (outputs._id,), tuple(in_ids), backward, None)
        else:
            specs = tuple((o.shape, o.dtype) for o in outputs)
            out_ids = tuple(o._id for o in outputs)
            watched.update(out_ids)
            entry = Entry(name, out_ids, tuple(in_ids), backward, specs)
        self._entries.append(entry)
