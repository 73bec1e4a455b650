"""Probabilistic losses: the cross-entropies and the Kullback-Leibler divergence.

Each function returns one loss per example (Keras semantics: the class axis,
or the last axis, is reduced). With ``from_logits=True`` they call the fused
ops of ``nnlib.ops``, exact and finite even for logits of +-1e4: prefer that to
a softmax or sigmoid layer followed by ``from_logits=False``. From
probabilities they clip to ``[1e-7, 1 - 1e-7]`` as Keras does, so ``log`` never
sees 0 (and the loss of a confident mistake saturates near 16.1).
"""

import numbers

import numpy as np

from .._args import boolean
from .._warn import warn
from ..ops import (
    clip_by_value,
    log,
    one_hot,
    reduce_mean,
    reduce_sum,
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
    transpose,
)
from ..ops.reduction import normalize_axes
from . import _inputs
from ._inputs import EPSILON

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "kl_divergence",
    "sparse_categorical_crossentropy",
    "sparse_softmax_cross_entropy",
]


def _class_axis(axis, ndim, owner):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{owner}: axis must be an int, got {axis!r}")
    if ndim == 0:
        raise ValueError(f"{owner}: y_pred must have a class axis, got a scalar")
    return normalize_axes(axis, ndim, owner)[0]


def _smoothing(value, owner):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= value <= 1.0
    ):
        raise ValueError(
            f"{owner}: label_smoothing must be a number in [0, 1], got {value!r}"
        )
    return float(value)


def _clipped(probabilities):
    return clip_by_value(probabilities, EPSILON, 1.0 - EPSILON)


def sparse_categorical_crossentropy(
    y_true, y_pred, from_logits=False, ignore_class=None, axis=-1
):
    """Cross-entropy between integer class ids and predicted class scores.

    ``loss = -log(p[y_true])`` where ``p`` is ``softmax(y_pred)`` (logits) or
    ``y_pred`` normalized to sum to 1 and clipped to ``[1e-7, 1 - 1e-7]``.

    Args:
        y_true: Class ids in ``[0, num_classes)``, of ``y_pred``'s shape without
            ``axis`` (a trailing axis of size 1 is accepted, as in Keras).
            Integers, or floats holding whole numbers.
        y_pred: Predicted probabilities, or logits when ``from_logits``.
        from_logits: Whether ``y_pred`` holds unnormalized log-probabilities.
        ignore_class: Optional class id (such as -1 or 255 for padding) whose
            examples get a loss of 0 and no gradient. The class form
            ``SparseCategoricalCrossentropy`` also leaves them out of the mean.
        axis: The class axis of ``y_pred``.

    Returns:
        A Tensor of ``y_pred``'s shape without ``axis``: one loss per example.

    Raises:
        ValueError: Before computing anything, when a label lies outside
            ``[0, num_classes)`` ("label 10 outside [0, 10)") or ``y_true``'s shape
            does not fit (both shapes are named).
        TypeError: If class ids are neither integers nor floats, or
            ``from_logits`` is not True or False.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.sparse_categorical_crossentropy(
        ...     [1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        nnlib.Tensor([0.0513 2.3026], shape=(2,), dtype=float32)
        >>> losses.sparse_categorical_crossentropy([0], [[0., 0.]], from_logits=True)
        nnlib.Tensor([0.6931], shape=(1,), dtype=float32)
    """
    owner = "sparse_categorical_crossentropy"
    from_logits = boolean(from_logits, "from_logits", owner)
    y_pred = _inputs.predictions(y_pred)
    axis = _class_axis(axis, y_pred.ndim, owner)
    labels, valid = _inputs.class_ids(y_true, y_pred.shape, axis, owner, ignore_class)
    if axis != y_pred.ndim - 1:  # the fused op reads classes from the last axis
        y_pred = transpose(
            y_pred, [i for i in range(y_pred.ndim) if i != axis] + [axis]
        )
    if from_logits:
        loss = sparse_softmax_cross_entropy_with_logits(labels, y_pred)
    else:
        # Normalizing and clipping commute with picking the label's entry, so
        # only one probability per example goes through clip and log.
        hot = one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)
        picked = reduce_sum(hot * y_pred, axis=-1) / reduce_sum(y_pred, axis=-1)
        loss = -log(_clipped(picked))
    if valid is not None:
        loss = loss * valid.astype(loss.dtype)
    return loss


def _one_hot_targets(y_true, pred_shape, axis, owner):
    """Raises when ``y_true`` cannot be one-hot (or soft) targets for ``y_pred``."""
    values = y_true._value
    problem = None
    if values.shape != pred_shape:
        problem = "must have y_pred's shape"
    elif values.dtype.kind in "iu" and ((values != 0) & (values != 1)).any():
        problem = "holds integers other than 0 and 1, which look like class ids"
    if problem:
        ids = pred_shape[:axis] + pred_shape[axis + 1 :]
        raise ValueError(
            f"{owner}: y_true of shape {values.shape} {problem} (y_pred has shape "
            f"{pred_shape}); one-hot or soft targets have y_pred's shape. For "
            f"integer class ids of shape {ids}, use sparse_categorical_crossentropy"
        )


def categorical_crossentropy(
    y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Cross-entropy ``-sum(y_true * log(p), axis)`` with one-hot or soft targets.

    ``p`` is ``softmax(y_pred)`` (logits) or ``y_pred`` normalized to sum to 1
    and clipped to ``[1e-7, 1 - 1e-7]``. Label smoothing (Keras's formula)
    replaces the targets by ``y_true * (1 - s) + s / num_classes``.

    Args:
        y_true: Targets of ``y_pred``'s shape, each slice along ``axis`` a
            distribution over the classes.
        y_pred: Predicted probabilities, or logits when ``from_logits``.
        from_logits: Whether ``y_pred`` holds unnormalized log-probabilities.
        label_smoothing: A number in ``[0, 1]``.
        axis: The class axis.

    Returns:
        A Tensor of ``y_pred``'s shape without ``axis``: one loss per example.

    Raises:
        ValueError: If ``y_true``'s shape differs from ``y_pred``'s, or it holds
            integer class ids (the message names both shapes and says "use
            sparse_categorical_crossentropy"); for a bad ``label_smoothing``.
        TypeError: If ``from_logits`` is not True or False.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.categorical_crossentropy(
        ...     [[0., 1., 0.], [0., 0., 1.]], [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]])
        nnlib.Tensor([0.0513 2.3026], shape=(2,), dtype=float32)
        >>> losses.categorical_crossentropy(
        ...     [[0., 1.]], [[0., 0.]], from_logits=True, label_smoothing=0.2)
        nnlib.Tensor([0.6931], shape=(1,), dtype=float32)
    """
    owner = "categorical_crossentropy"
    from_logits = boolean(from_logits, "from_logits", owner)
    smoothing = _smoothing(label_smoothing, owner)
    y_pred = _inputs.predictions(y_pred)
    axis = _class_axis(axis, y_pred.ndim, owner)
    y_true = _inputs.tensor(y_true)
    _one_hot_targets(y_true, y_pred.shape, axis, owner)
    y_true = _inputs.targets(y_true, y_pred)
    classes = y_pred.shape[axis]
    if classes == 1:
        warn(
            f"{owner}: y_pred of shape {y_pred.shape} has a single class, so the "
            "loss is always 0; for two classes use binary_crossentropy"
        )
    if smoothing:
        y_true = y_true * (1.0 - smoothing) + smoothing / classes
    if from_logits:
        return softmax_cross_entropy_with_logits(y_true, y_pred, axis=axis)
    probabilities = y_pred / reduce_sum(y_pred, axis=axis, keepdims=True)
    return -reduce_sum(y_true * log(_clipped(probabilities)), axis=axis)


def binary_crossentropy(
    y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1
):
    """Binary cross-entropy of each element, averaged over ``axis``.

    ``-(y * log(p) + (1 - y) * log(1 - p))`` with ``p = sigmoid(y_pred)`` (logits,
    computed stably by ``sigmoid_cross_entropy_with_logits``) or ``y_pred``
    clipped to ``[1e-7, 1 - 1e-7]``. Label smoothing (Keras's formula) squeezes
    the targets towards 0.5: ``y * (1 - s) + 0.5 * s``.

    Args:
        y_true: Targets in ``[0, 1]`` of ``y_pred``'s shape (a trailing axis of
            size 1 may differ: ``(32,)`` against ``(32, 1)`` is accepted).
        y_pred: Predicted probabilities, or logits when ``from_logits``.
        from_logits: Whether ``y_pred`` holds logits.
        label_smoothing: A number in ``[0, 1]``.
        axis: The axis averaged over (Keras's default, the last).

    Returns:
        A Tensor of the (aligned) shape without ``axis``.

    Raises:
        ValueError: If the shapes differ otherwise (both are named), or for a
            bad ``label_smoothing``.
        TypeError: If ``from_logits`` is not True or False.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.binary_crossentropy([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
        nnlib.Tensor([0.9163 0.7136], shape=(2,), dtype=float32)
        >>> losses.binary_crossentropy([1., 0.], [[1e4], [1e4]], from_logits=True)
        nnlib.Tensor([    0. 10000.], shape=(2,), dtype=float32)
    """
    owner = "binary_crossentropy"
    from_logits = boolean(from_logits, "from_logits", owner)
    smoothing = _smoothing(label_smoothing, owner)
    y_true, y_pred = _inputs.pair(y_true, y_pred, owner)
    if smoothing:
        y_true = y_true * (1.0 - smoothing) + 0.5 * smoothing
    if from_logits:
        values = sigmoid_cross_entropy_with_logits(y_true, y_pred)
    else:
        p = _clipped(y_pred)
        values = -(y_true * log(p) + (1.0 - y_true) * log(1.0 - p))
    return reduce_mean(values, axis=axis)


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), -1)``.

    Both distributions are clipped to ``[1e-7, 1]`` first, as in Keras, so
    zeros in either give finite values.

    Args:
        y_true: Target distributions over the last axis.
        y_pred: Predicted distributions, of ``y_true``'s shape.

    Returns:
        A Tensor of the shape without its last axis.

    Raises:
        ValueError: If the shapes differ (beyond a trailing axis of size 1).

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.kl_divergence([[0.5, 0.5]], [[0.25, 0.75]])
        nnlib.Tensor([0.1438], shape=(1,), dtype=float32)
    """
    y_true, y_pred = _inputs.pair(y_true, y_pred, "kl_divergence")
    y_true = clip_by_value(y_true, EPSILON, 1.0)
    y_pred = clip_by_value(y_pred, EPSILON, 1.0)
    return reduce_sum(y_true * log(y_true / y_pred), axis=-1)


def sparse_softmax_cross_entropy(labels, logits):
    """The mean over the batch of the cross-entropy of class ids and logits.

    ``reduce_mean(sparse_categorical_crossentropy(labels, logits,
    from_logits=True))``: the scalar a hand-written training loop minimizes.

    Args:
        labels: Integer class ids of ``logits``' shape without its last axis.
        logits: Unnormalized log-probabilities; classes on the last axis.

    Returns:
        A scalar Tensor of ``logits``' dtype.

    Raises:
        ValueError: If a label is out of range or the shapes do not fit.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.sparse_softmax_cross_entropy([0, 1], [[0., 0.], [0., 1e4]])
        nnlib.Tensor(0.3466, shape=(), dtype=float32)
    """
    return reduce_mean(
        sparse_categorical_crossentropy(labels, logits, from_logits=True)
    )
