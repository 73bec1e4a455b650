"""Recording ops: the list of active observers and the ``record`` call ops make.

An op checks ``if ACTIVE:`` (one global lookup, so eager ops with no tape stay
cheap) and only then calls ``record``. Observers are the active
``GradientTape`` objects and the numeric checker of ``nnlib.seterr``.
"""

from threading import get_ident

from .tensor import Tensor
from .variable import Variable

# Observers with an ``observe(name, inputs, outputs, backward, raw)`` method.
ACTIVE = []

_FLOAT_KINDS = "fc"


def record(name, inputs, outputs, backward, raw=False):
    """Offers one op to every active observer.

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
    """
    for observer in ACTIVE:
        observer.observe(name, inputs, outputs, backward, raw)


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
        if self._thread != get_ident() or self._paused:
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

    def observe(self, name, inputs, outputs, backward, raw=False):
        """Records the op when one of its inputs is watched (see ``record``).

        An entry is the tuple ``(out_ids, in_ids, backward, out_specs, raw, name)``:
        tuples are cheaper to build than objects, and this runs once per op.
        """
        if self._paused or self._thread != get_ident():
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
