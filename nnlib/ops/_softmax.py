"""What the softmax family and the fused cross-entropies share.

The forward shifts by the maximum so ``exp`` never overflows (``shifted_exp``).
``softmax`` and ``log_softmax`` are declared here, with rules that work on arrays
and on Tensors. The fused cross-entropies keep the forward's exponentials as
hidden outputs for their first-order rules; when an outer tape records a rule
(higher order), the rule calls these ops on the logits instead, so that the
probabilities are recorded as a function of the logits and can be
differentiated again. ``nnlib.ops.nn`` and ``nnlib.ops.cross_entropy`` hold the
public functions.
"""

import numpy as np

from . import poly as _poly
from ._dispatch import as_tensor
from .declare import declare
from .reduction import normalize_axes


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


def _softmax(x, axis=-1):
    _, e, total = shifted_exp(x, axis)
    return e / total


SOFTMAX = declare("softmax", _softmax, saves="y")


@SOFTMAX.gradient
def _(g):
    (y,), dy = g.outputs, g.dy
    return (y * (dy - _poly.reduce_sum(dy * y, axis=g.attrs["axis"], keepdims=True)),)


def _log_softmax(x, axis=-1):
    shifted, _, total = shifted_exp(x, axis)
    return shifted - np.log(total)


LOG_SOFTMAX = declare("log_softmax", _log_softmax, saves="y")


@LOG_SOFTMAX.gradient
def _(g):
    (y,), dy = g.outputs, g.dy
    total = _poly.reduce_sum(dy, axis=g.attrs["axis"], keepdims=True)
    return (dy - _poly.exp(y) * total,)
