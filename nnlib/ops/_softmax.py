"""What the softmax family and the fused cross-entropies share.

The forward shifts by the maximum so ``exp`` never overflows (``shifted_exp``).
Probabilities a gradient rule needs are not recomputed: ``connected`` wraps the
forward's array and records it as the output of ``softmax``/``log_softmax``/
``sigmoid`` of the logits for outer tapes, with rules written with nnlib ops so
they can be differentiated again. ``nnlib.ops.nn`` and ``nnlib.ops.cross_entropy``
declare the ops.
"""

import numpy as np

from . import math as _math
from ._dispatch import ACTIVE, as_tensor, record, wrap
from .reduction import normalize_axes, reduce_sum


def float_logits(logits, op):
    """``logits`` as a Tensor, or a TypeError naming ``op`` if not floating."""
    logits = as_tensor(logits)
    if logits.dtype.kind != "f":
        raise TypeError(
            f"{op}: logits must be floating point, got {logits.dtype}; "
            "cast them with nnlib.cast"
        )
    return logits


def class_axis(axis, logits, op):
    """The class axis as a non-negative int (errors name ``op``)."""
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    return normalize_axes(axis, logits.ndim, op)[0]


def shifted_exp(x, axis):
    """``x - max``, its exp and the sum of that: stable pieces of (log-)softmax."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return shifted, e, np.sum(e, axis=axis, keepdims=True)


def _softmax_grad(dy, y, axis):
    return y * (dy - reduce_sum(dy * y, axis=axis, keepdims=True))


def _log_softmax_grad(dy, y, axis):
    return dy - _math.exp(y) * reduce_sum(dy, axis=axis, keepdims=True)


def _sigmoid_grad(dy, y, axis):
    return dy * y * (1.0 - y)


_RULES = {
    "softmax": _softmax_grad,
    "log_softmax": _log_softmax_grad,
    "sigmoid": _sigmoid_grad,
}


def connected(name, x, value, axis=None):
    """Wraps ``value`` (``name`` of ``x``, already computed) and records it as such."""
    y = wrap(value)
    if ACTIVE:
        rule = _RULES[name]
        record(name, (x,), y, lambda dy: (rule(dy, y, axis),))
    return y
