"""Cross-entropies from logits: sparse, dense (softmax) and sigmoid, each fused.

Each is computed stably from the logits in one op (shifted by the maximum, or
``log1p(exp(-|x|))`` for the sigmoid). The forward's exponentials are hidden
outputs, from which the first-order rule gets the probabilities without
recomputing them; when an outer tape records the rule (higher order), it calls
``softmax``, ``log_softmax`` or ``sigmoid`` on the logits instead, so that the
probabilities are recorded and can be differentiated again.
"""

import numpy as np

from . import activations as _activations
from . import creation as _creation
from . import poly as _poly
from ._dispatch import Tensor, as_tensor
from ._softmax import LOG_SOFTMAX, SOFTMAX, class_axis, float_logits, shifted_exp
from .declare import declare
from .reduction import kept_shape
from .registry import Sample, register
from .shape import cast

__all__ = [
    "sigmoid_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
]


def _labels_like(labels, logits, op):
    """Labels as a tensor of the logits' shape and dtype (casting is recorded)."""
    labels = as_tensor(labels)
    if labels.shape != logits.shape:
        raise ValueError(
            f"{op}: labels and logits must have the same shape, got "
            f"labels {labels.shape} and logits {logits.shape}"
        )
    return labels if labels.dtype == logits.dtype else cast(labels, logits.dtype)


def _sparse_samples(rng):
    return [rng.integers(0, 4, (3,)), rng.uniform(-2, 2, (3, 4))], {}


def _sparse_samples_3d(rng):
    return [rng.integers(0, 3, (2, 2)), rng.uniform(-2, 2, (2, 2, 3))], {}


def _check_sparse_labels(labels, logits, op):
    labels = as_tensor(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{op}: labels must be integer class ids, got {labels.dtype}")
    if logits.ndim == 0 or labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"{op}: labels must have shape logits.shape[:-1], got labels "
            f"{labels.shape} and logits {logits.shape}"
        )
    classes = logits.shape[-1]
    bad = (labels._value < 0) | (labels._value >= classes)
    if bad.any():
        first = labels._value[bad].flat[0]
        raise ValueError(f"{op}: label {first} outside [0, {classes})")
    return labels


def _sparse_softmax_xent(labels, logits):
    shifted, e, total = shifted_exp(logits, -1)
    picked = np.take_along_axis(shifted, labels[..., None], axis=-1)[..., 0]
    return np.log(total[..., 0]) - picked, e, total


SPARSE_SOFTMAX_XENT = declare(
    "sparse_softmax_cross_entropy_with_logits",
    _sparse_softmax_xent,
    hidden=2,
    saves="x",
)


@SPARSE_SOFTMAX_XENT.gradient
def _(g):
    (labels, logits), dy = g.inputs, g.dy
    if isinstance(dy, Tensor):  # recorded: the probabilities as an op of the logits
        p = SOFTMAX(logits, axis=-1)
        one_hot = _creation.one_hot(labels, logits.shape[-1], dtype=logits.dtype)
    else:
        e, total = g.outputs[1:]
        p = e / total
        one_hot = np.zeros(logits.shape, logits.dtype)
        np.put_along_axis(one_hot, labels[..., None], 1, axis=-1)
    return None, (p - one_hot) * _poly.reshape(dy, labels.shape + (1,))


@register(
    Sample(make=_sparse_samples), Sample(make=_sparse_samples_3d), second_order=True
)
def sparse_softmax_cross_entropy_with_logits(labels, logits):
    """Per-example cross-entropy between integer class ids and unnormalized logits.

    ``loss[i] = -log_softmax(logits[i])[labels[i]]``, computed stably. The
    gradient with respect to ``logits`` is ``softmax(logits) - one_hot(labels)``;
    labels get none.

    Args:
        labels: Integer class ids in ``[0, num_classes)``, of shape
            ``logits.shape[:-1]``.
        logits: A floating-point tensor whose last axis holds the classes.

    Returns:
        A Tensor of shape ``logits.shape[:-1]`` and ``logits``' dtype.

    Raises:
        TypeError: If labels are not integers or logits not floating point.
        ValueError: If the shapes do not match or a label is out of range
            (checked before anything is computed).

    Examples:
        >>> nnlib.sparse_softmax_cross_entropy_with_logits(
        ...     [0, 1], [[0., 0.], [0., 1e4]])
        nnlib.Tensor([0.6931 0.    ], shape=(2,), dtype=float32)
    """
    op = "sparse_softmax_cross_entropy_with_logits"
    logits = float_logits(logits, op)
    labels = _check_sparse_labels(labels, logits, op)
    return SPARSE_SOFTMAX_XENT(labels, logits)


def _dense_samples(rng):
    labels = rng.uniform(0.1, 1.0, (3, 4))
    return [labels / labels.sum(-1, keepdims=True), rng.uniform(-2, 2, (3, 4))], {}


def _dense_samples_axis0(rng):
    return [rng.uniform(0.0, 1.0, (3, 2)), rng.uniform(-2, 2, (3, 2))], {"axis": 0}


def _softmax_xent(labels, logits, axis=-1):
    shifted, e, total = shifted_exp(logits, axis)
    log_probs = shifted - np.log(total)
    return -np.sum(labels * log_probs, axis=axis), log_probs, e, total


SOFTMAX_XENT = declare(
    "softmax_cross_entropy_with_logits",
    _softmax_xent,
    hidden=3,
    saves="x",
    prunes=True,
)


@SOFTMAX_XENT.gradient
def _(g):
    (labels, logits), axis = g.inputs, g.attrs["axis"]
    dy = _poly.reshape(g.dy, kept_shape(logits.shape, (axis,)))
    recorded = isinstance(dy, Tensor)  # then the probabilities are ops of the logits
    _, log_probs, e, total = g.outputs
    p = SOFTMAX(logits, axis=axis) if recorded else e / total
    mass = _poly.reduce_sum(labels, axis=axis, keepdims=True)
    dlogits = (p * mass - labels) * dy
    if g.needs is not None and not g.needs[0]:
        return None, dlogits
    if recorded:
        log_probs = LOG_SOFTMAX(logits, axis=axis)
    return -log_probs * dy, dlogits


@register(
    Sample(make=_dense_samples), Sample(make=_dense_samples_axis0), second_order=True
)
def softmax_cross_entropy_with_logits(labels, logits, axis=-1):
    """Cross-entropy ``-sum(labels * log_softmax(logits), axis)`` per example.

    Labels are probability distributions over the classes (one-hot or soft).
    Gradients flow to both: ``softmax(logits) * sum(labels) - labels`` to the
    logits (``softmax - labels`` for normalized labels) and ``-log_softmax(logits)``
    to the labels.

    Args:
        labels: A tensor of ``logits``' shape; cast to ``logits``' dtype.
        logits: A floating-point tensor of unnormalized log-probabilities.
        axis: The class axis.

    Returns:
        A Tensor of ``logits``' shape without ``axis``.

    Raises:
        TypeError: If ``logits`` is not floating point.
        ValueError: If the shapes differ (both are named) or ``axis`` is out of range.

    Examples:
        >>> nnlib.softmax_cross_entropy_with_logits([[0., 1.], [.5, .5]],
        ...                                         [[0., 0.], [0., 0.]])
        nnlib.Tensor([0.6931 0.6931], shape=(2,), dtype=float32)
    """
    op = "softmax_cross_entropy_with_logits"
    logits = float_logits(logits, op)
    labels = _labels_like(labels, logits, op)
    axis = class_axis(axis, logits, op)
    return SOFTMAX_XENT(labels, logits, axis=axis)


def _sigmoid_xent(labels, logits):
    e = np.exp(-np.abs(logits))
    return np.maximum(logits, 0) - logits * labels + np.log1p(e), e


SIGMOID_XENT = declare(
    "sigmoid_cross_entropy_with_logits", _sigmoid_xent, hidden=1, saves="x"
)


@SIGMOID_XENT.gradient
def _(g):
    (labels, logits), dy = g.inputs, g.dy
    if isinstance(dy, Tensor):  # recorded; sigmoid's forward gives the same values
        s = _activations.sigmoid(logits)
    else:
        e = g.outputs[1]
        s = np.where(logits >= 0, 1 / (1 + e), e / (1 + e))
    return -dy * logits, dy * (s - labels)


@register(Sample(shapes=[(3, 4), (3, 4)], low=-3.0, high=3.0), second_order=True)
def sigmoid_cross_entropy_with_logits(labels, logits):
    """Elementwise binary cross-entropy between ``labels`` and ``sigmoid(logits)``.

    Computed as ``max(x, 0) - x * z + log1p(exp(-|x|))``, which never overflows.
    Gradients: ``sigmoid(x) - z`` to the logits and ``-x`` to the labels.

    Args:
        labels: Targets in ``[0, 1]``, of ``logits``' shape; cast to its dtype.
        logits: A floating-point tensor.

    Returns:
        A Tensor of ``logits``' shape and dtype.

    Raises:
        TypeError: If ``logits`` is not floating point.
        ValueError: If the shapes differ (both are named).

    Examples:
        >>> nnlib.sigmoid_cross_entropy_with_logits([1., 0., 1.], [0., 1e4, -1e4])
        nnlib.Tensor([6.931e-01 1.000e+04 1.000e+04], shape=(3,), dtype=float32)
    """
    op = "sigmoid_cross_entropy_with_logits"
    logits = float_logits(logits, op)
    labels = _labels_like(labels, logits, op)
    return SIGMOID_XENT(labels, logits)
