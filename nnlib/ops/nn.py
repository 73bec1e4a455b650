"""Neural-network functions: softmax family, cross-entropies, l2_loss, dropout.

The softmax family and the cross-entropies are fused ops: the forward shifts by
the maximum so ``exp`` never overflows, and the gradient rules are written with
nnlib ops so they can be differentiated again. Probabilities a rule needs are
not recomputed: ``_connected`` wraps the forward's array and records it as the
output of ``softmax``/``log_softmax``/``sigmoid`` of the logits for outer tapes.
"""

import numpy as np

from .. import random as _random
from ..engine.tape import needs_gradient
from . import math as _math
from ._dispatch import ACTIVE, as_tensor, record, wrap
from .reduction import kept_shape, normalize_axes, reduce_sum
from .registry import Sample, register
from .shape import cast, reshape

__all__ = [
    "dropout",
    "l2_loss",
    "log_softmax",
    "sigmoid_cross_entropy_with_logits",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
]


def _float_logits(logits, op):
    logits = as_tensor(logits)
    if logits.dtype.kind != "f":
        raise TypeError(
            f"{op}: logits must be floating point, got {logits.dtype}; "
            "cast them with nnlib.cast"
        )
    return logits


def _class_axis(axis, logits, op):
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    return normalize_axes(axis, logits.ndim, op)[0]


def _shifted_exp(x, axis):
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


def _connected(name, x, value, axis=None):
    """Wraps ``value`` (``name`` of ``x``, already computed) and records it as such."""
    y = wrap(value)
    if ACTIVE:
        rule = _RULES[name]
        record(name, (x,), y, lambda dy: (rule(dy, y, axis),))
    return y


def _labels_like(labels, logits, op):
    """Labels as a tensor of the logits' shape and dtype (casting is recorded)."""
    labels = as_tensor(labels)
    if labels.shape != logits.shape:
        raise ValueError(
            f"{op}: labels and logits must have the same shape, got "
            f"labels {labels.shape} and logits {logits.shape}"
        )
    return labels if labels.dtype == logits.dtype else cast(labels, logits.dtype)


_CLASSES = (
    Sample(shapes=[(3, 4)]),
    Sample(shapes=[(2, 3, 4)], kwargs={"axis": 1}),
    Sample(shapes=[(5,)], low=-4.0, high=4.0),
)


@register(*_CLASSES, second_order=True)
def softmax(logits, axis=-1):
    """Normalizes ``logits`` into probabilities: ``exp(x) / sum(exp(x), axis)``.

    Computed stably (shifted by the maximum), so large logits do not overflow.

    Args:
        logits: A floating-point tensor.
        axis: The class axis (an int, negative counts from the end).

    Returns:
        A Tensor of ``logits``' shape and dtype whose slices along ``axis`` sum to 1.

    Raises:
        TypeError: If ``logits`` is not floating point.
        ValueError: If ``axis`` is out of range.

    Example:
        >>> nnlib.softmax([1., 2., 3.])
        nnlib.Tensor([0.09   0.2447 0.6652], shape=(3,), dtype=float32)
        >>> nnlib.softmax([1e4, 0.])
        nnlib.Tensor([1. 0.], shape=(2,), dtype=float32)
    """
    logits = _float_logits(logits, "softmax")
    axis = _class_axis(axis, logits, "softmax")
    _, e, total = _shifted_exp(logits._value, axis)
    return _connected("softmax", logits, e / total, axis)


@register(*_CLASSES, second_order=True)
def log_softmax(logits, axis=-1):
    """Log-probabilities ``x - log(sum(exp(x)))`` along ``axis``, computed stably.

    Exact and finite for logits far apart: ``log_softmax([1e4, 0])`` is
    ``[0, -1e4]``, where ``log(softmax(x))`` would give ``-inf``.

    Args:
        logits: A floating-point tensor.
        axis: The class axis (an int, negative counts from the end).

    Returns:
        A Tensor of ``logits``' shape and dtype.

    Raises:
        TypeError: If ``logits`` is not floating point.
        ValueError: If ``axis`` is out of range.

    Example:
        >>> nnlib.log_softmax([0., 1.])
        nnlib.Tensor([-1.3133 -0.3133], shape=(2,), dtype=float32)
        >>> nnlib.log_softmax([1e4, 0.])
        nnlib.Tensor([     0. -10000.], shape=(2,), dtype=float32)
    """
    logits = _float_logits(logits, "log_softmax")
    axis = _class_axis(axis, logits, "log_softmax")
    shifted, _, total = _shifted_exp(logits._value, axis)
    return _connected("log_softmax", logits, shifted - np.log(total), axis)


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

    Example:
        >>> nnlib.sparse_softmax_cross_entropy_with_logits(
        ...     [0, 1], [[0., 0.], [0., 1e4]])
        nnlib.Tensor([0.6931 0.    ], shape=(2,), dtype=float32)
    """
    op = "sparse_softmax_cross_entropy_with_logits"
    logits = _float_logits(logits, op)
    labels = _check_sparse_labels(labels, logits, op)
    index = labels._value[..., None]
    shifted, e, total = _shifted_exp(logits._value, -1)
    picked = np.take_along_axis(shifted, index, axis=-1)[..., 0]
    loss = wrap(np.log(total[..., 0]) - picked)
    if ACTIVE:
        probs = e / total
        expanded = labels.shape + (1,)

        def backward(dy):
            one_hot = np.zeros(logits.shape, logits.dtype)
            np.put_along_axis(one_hot, index, 1, axis=-1)
            p = _connected("softmax", logits, probs, -1)
            return None, (p - one_hot) * reshape(dy, expanded)

        record(op, (labels, logits), loss, backward)
    return loss


def _dense_samples(rng):
    labels = rng.uniform(0.1, 1.0, (3, 4))
    return [labels / labels.sum(-1, keepdims=True), rng.uniform(-2, 2, (3, 4))], {}


def _dense_samples_axis0(rng):
    return [rng.uniform(0.0, 1.0, (3, 2)), rng.uniform(-2, 2, (3, 2))], {"axis": 0}


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

    Example:
        >>> nnlib.softmax_cross_entropy_with_logits([[0., 1.], [.5, .5]],
        ...                                         [[0., 0.], [0., 0.]])
        nnlib.Tensor([0.6931 0.6931], shape=(2,), dtype=float32)
    """
    op = "softmax_cross_entropy_with_logits"
    logits = _float_logits(logits, op)
    labels = _labels_like(labels, logits, op)
    axis = _class_axis(axis, logits, op)
    shifted, e, total = _shifted_exp(logits._value, axis)
    log_probs = shifted - np.log(total)
    loss = wrap(-np.sum(labels._value * log_probs, axis=axis))
    if ACTIVE:
        probs = e / total
        kept = kept_shape(logits.shape, (axis,))
        need_labels = needs_gradient(labels)

        def backward(dy):
            dy = reshape(dy, kept)
            p = _connected("softmax", logits, probs, axis)
            mass = reduce_sum(labels, axis=axis, keepdims=True)
            dlogits = (p * mass - labels) * dy
            if not need_labels:
                return None, dlogits
            return -_connected("log_softmax", logits, log_probs, axis) * dy, dlogits

        record(op, (labels, logits), loss, backward)
    return loss


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

    Example:
        >>> nnlib.sigmoid_cross_entropy_with_logits([1., 0., 1.], [0., 1e4, -1e4])
        nnlib.Tensor([6.931e-01 1.000e+04 1.000e+04], shape=(3,), dtype=float32)
    """
    op = "sigmoid_cross_entropy_with_logits"
    logits = _float_logits(logits, op)
    labels = _labels_like(labels, logits, op)
    x, z = logits._value, labels._value
    e = np.exp(-np.abs(x))
    loss = wrap(np.maximum(x, 0) - x * z + np.log1p(e))
    if ACTIVE:
        sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))

        def backward(dy):
            s = _connected("sigmoid", logits, sig)
            return -dy * logits, dy * (s - labels)

        record(op, (labels, logits), loss, backward)
    return loss


@register(Sample(shapes=[(3, 4)]), second_order=True)
def l2_loss(t):
    """Half the squared L2 norm, ``sum(t ** 2) / 2`` (TensorFlow's ``l2_loss``).

    Args:
        t: A floating-point tensor.

    Returns:
        A scalar Tensor of ``t``'s dtype.

    Example:
        >>> nnlib.l2_loss([1., 2., 3.])
        nnlib.Tensor(7., shape=(), dtype=float32)
    """
    return reduce_sum(_math.square(t)) * 0.5


def _noise_shape(noise_shape, shape):
    if noise_shape is None:
        return shape
    noise = tuple(d if n is None else int(n) for n, d in zip(noise_shape, shape))
    fits = len(noise_shape) == len(shape)
    if not fits or any(n not in (1, d) for n, d in zip(noise, shape)):
        raise ValueError(
            f"dropout: noise_shape {tuple(noise_shape)} must have one "
            f"entry per axis of x, each 1 or x's size, for x of shape "
            f"{shape}"
        )
    return noise


@register(
    Sample(shapes=[(3, 4)], kwargs={"rate": 0.5, "seed": 1}),
    Sample(
        shapes=[(2, 3, 4)], kwargs={"rate": 0.25, "noise_shape": (2, 1, 4), "seed": 2}
    ),
    second_order=True,
)
def dropout(x, rate, training=True, noise_shape=None, seed=None):
    """Zeroes elements with probability ``rate``, scales the rest by ``1 / (1 - rate)``.

    Inverted dropout: the expected output equals ``x``, so nothing changes at
    inference. The gradient is ``dy`` times the same scaled mask.

    Args:
        x: A floating-point tensor.
        rate: The probability of dropping an element, in ``[0, 1)``.
        training: When False, ``x`` is returned unchanged.
        noise_shape: Shape of the random mask, broadcast to ``x``'s shape: one entry
            per axis, each 1 (share the draw along that axis), ``x``'s size or None.
        seed: An int for a private generator; by default the mask is drawn from
            ``nnlib.random.get_generator()``, which ``nnlib.random.set_seed`` seeds.

    Returns:
        A Tensor of ``x``'s shape and dtype (``x`` itself when not training or
        ``rate`` is 0).

    Raises:
        ValueError: If ``rate`` is outside ``[0, 1)`` or ``noise_shape`` does not fit.
        TypeError: If ``x`` is not floating point.

    Example:
        >>> y = nnlib.dropout(np.ones((2, 4), np.float32), rate=0.5, seed=0)
        >>> sorted(set(y.numpy().ravel().tolist()))
        [0.0, 2.0]
        >>> x = nnlib.constant([1., 2.])
        >>> nnlib.dropout(x, 0.5, training=False) is x
        True
    """
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise TypeError(f"dropout: rate must be a number, got {rate!r}") from None
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: x must be floating point, got {x.dtype}")
    if not training or rate == 0.0:
        return x
    shape = _noise_shape(noise_shape, x.shape)
    rng = np.random.default_rng(seed) if seed is not None else _random.get_generator()
    keep = rng.random(shape) >= rate
    mask = (keep * (1.0 / (1.0 - rate))).astype(x.dtype)
    y = wrap(x._value * mask)
    if ACTIVE:
        scale = wrap(mask)
        record("dropout", (x,), y, lambda dy: (dy * scale,))
    return y
