"""Accuracy metrics: exact, binary, categorical, sparse categorical and top-k.

Each is a function returning 0/1 values (float32; elementwise for ``accuracy``
and ``binary_accuracy``, one per sample for the categorical ones, as in Keras 3)
and a ``MeanMetricWrapper`` class averaging them per sample, then over samples.
Shapes are checked as the losses check them: a trailing axis of size 1 may
differ, anything else raises, naming both shapes.
"""

import numbers

import numpy as np

from .._args import integer
from ..losses._inputs import same_shape
from .base import MeanMetricWrapper, values_of

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]


def accuracy(y_true, y_pred):
    """1 where ``y_pred`` equals ``y_true`` exactly, else 0, elementwise.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.accuracy([1, 2, 3], [1, 2, 4])
        array([1., 1., 0.], dtype=float32)
    """
    y_true, y_pred = same_shape(values_of(y_true), values_of(y_pred), "accuracy")
    return (y_true == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where ``y_pred > threshold`` matches the 0/1 label ``y_true``, elementwise.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.binary_accuracy([1., 0., 1.], [0.9, 0.7, 0.2])
        array([1., 0., 0.], dtype=float32)
    """
    y_true, y_pred = same_shape(values_of(y_true), values_of(y_pred), "binary_accuracy")
    return (y_true == (y_pred > threshold)).astype(np.float32)


def _one_hot_shape(y_true, y_pred, owner):
    if y_true.shape != y_pred.shape or y_pred.ndim == 0:
        raise ValueError(
            f"{owner}: y_true of shape {y_true.shape} must have y_pred's shape "
            f"{y_pred.shape} (one-hot targets); for integer class ids of shape "
            f"{y_pred.shape[:-1]}, use sparse_{owner}"
        )


def categorical_accuracy(y_true, y_pred):
    """1 where the largest score of ``y_pred`` is at the one-hot label's class.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.categorical_accuracy([[0, 1], [1, 0]], [[0.3, 0.7], [0.4, 0.6]])
        array([1., 0.], dtype=float32)
    """
    y_true, y_pred = values_of(y_true), values_of(y_pred)
    _one_hot_shape(y_true, y_pred, "categorical_accuracy")
    hits = np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)
    return hits.astype(np.float32)


def _labels(y_true, y_pred):
    """Sparse labels as float64, a trailing axis of 1 dropped (Keras's rule)."""
    labels = values_of(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1:] == (1,):
        labels = labels.reshape(labels.shape[:-1])
    return labels


def _class_ids(y_true, y_pred, owner, ignore_class=None):
    """Sparse labels checked against y_pred: their shape, then their range.

    Labels equal to ``ignore_class`` read as class 0 (their weight is 0 in the
    metric classes); any other label outside ``[0, num_classes)`` raises, since
    it can never match and would lower the accuracy without a word.
    """
    labels = _labels(y_true, y_pred)
    if y_pred.ndim == 0 or labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"{owner}: y_true of shape {np.shape(labels)} does not fit y_pred of "
            f"shape {y_pred.shape}: expected class ids of shape {y_pred.shape[:-1]}; "
            f"for one-hot targets use {owner.removeprefix('sparse_')}"
        )
    if ignore_class is not None:
        labels = np.where(labels == ignore_class, 0.0, labels)
    classes = y_pred.shape[-1]
    if labels.size and not (labels.min() >= 0 and labels.max() < classes):
        bad = labels[~((labels >= 0) & (labels < classes))].flat[0]
        bad = int(bad) if float(bad).is_integer() else float(bad)
        raise ValueError(
            f"{owner}: label {bad} outside [0, {classes}) (y_pred of shape "
            f"{y_pred.shape} has {classes} classes); a model's output needs one "
            "column per class, and padding labels need ignore_class=<label>"
        )
    return labels


def sparse_categorical_accuracy(y_true, y_pred, ignore_class=None):
    """1 where the largest score of ``y_pred`` is at class ``y_true``.

    Args:
        y_true: Class ids in ``[0, num_classes)``, of ``y_pred``'s shape without
            its last axis (a trailing axis of size 1 is accepted).
        y_pred: Scores, classes on the last axis.
        ignore_class: Optional label (such as -1 for padding) allowed outside
            the range; ``SparseCategoricalAccuracy`` leaves those out.

    Raises:
        ValueError: If a label lies outside ``[0, num_classes)`` or the shapes
            do not fit.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.sparse_categorical_accuracy([[1], [1]], [[0.3, 0.7], [0.4, 0.6]])
        array([1., 1.], dtype=float32)
        >>> metrics.sparse_categorical_accuracy([2], [[0.3, 0.7]])
        Traceback (most recent call last):
        ...
        ValueError: sparse_categorical_accuracy: label 2 outside [0, 2) ...
    """
    y_pred = values_of(y_pred)
    owner = "sparse_categorical_accuracy"
    labels = _class_ids(y_true, y_pred, owner, ignore_class)
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _in_top_k(labels, scores, k):
    """TensorFlow's ``in_top_k``: a score tied with the k-th largest is in."""
    classes = scores.shape[-1]
    inside = (labels >= 0) & (labels < classes)
    index = np.where(inside, labels, 0).astype(np.intp)
    target = np.take_along_axis(scores, index[..., None], axis=-1)
    above = np.count_nonzero(scores > target, axis=-1)
    return ((above < k) & inside & np.isfinite(target[..., 0])).astype(np.float32)


def _k(k, owner):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"{owner}: k must be an int >= 1, got {k!r}")
    return int(k)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the one-hot label's class is among the ``k`` largest scores.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.top_k_categorical_accuracy(
        ...     [[0, 0, 1], [0, 1, 0]], [[0.5, 0.3, 0.2], [0.1, 0.8, 0.1]], k=2)
        array([0., 1.], dtype=float32)
    """
    k = _k(k, "top_k_categorical_accuracy")
    y_true, y_pred = values_of(y_true), values_of(y_pred)
    _one_hot_shape(y_true, y_pred, "top_k_categorical_accuracy")
    return _in_top_k(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, ignore_class=None):
    """1 where class ``y_true`` is among the ``k`` largest scores.

    Labels outside ``[0, num_classes)`` raise, as for
    ``sparse_categorical_accuracy`` (``ignore_class`` as there).

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.sparse_top_k_categorical_accuracy(
        ...     [2, 1], [[0.5, 0.3, 0.2], [0.1, 0.8, 0.1]], k=2)
        array([0., 1.], dtype=float32)
    """
    k = _k(k, "sparse_top_k_categorical_accuracy")
    y_pred = values_of(y_pred)
    owner = "sparse_top_k_categorical_accuracy"
    labels = _class_ids(y_true, y_pred, owner, ignore_class)
    return _in_top_k(labels, y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly (see ``accuracy``).

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.Accuracy()
        >>> m.update_state([1, 2, 3, 4], [0, 2, 3, 4])
        >>> m.result()
        0.75
    """

    def __init__(self, name="accuracy"):
        super().__init__(accuracy, name=name)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 label.

    Args:
        name: The metric's name.
        threshold: The decision threshold, 0.5 for probabilities (use 0.0 for
            logits; Keras accepts only ``(0, 1)``).

    Raises:
        ValueError: If ``threshold`` is not a finite number.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.BinaryAccuracy()
        >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
        >>> m.result()
        0.75
    """

    def __init__(self, name="binary_accuracy", threshold=0.5):
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, numbers.Real)
            or not np.isfinite(threshold)
        ):
            raise ValueError(
                f"BinaryAccuracy: threshold must be a finite number, got {threshold!r}"
            )
        self.threshold = float(threshold)
        super().__init__(binary_accuracy, name=name, threshold=self.threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the largest score is at the one-hot label's class.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.CategoricalAccuracy()
        >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        >>> m.result()
        0.5
    """

    def __init__(self, name="categorical_accuracy"):
        super().__init__(categorical_accuracy, name=name)


class _SparseAccuracy(MeanMetricWrapper):
    """A sparse accuracy whose ``ignore_class`` labels get a weight of 0."""

    def __init__(self, fn, name, ignore_class, **kwargs):
        if ignore_class is not None:
            ignore_class = integer(ignore_class, "ignore_class", type(self).__name__)
        super().__init__(fn, name=name, ignore_class=ignore_class, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        ignore_class = self._fn_kwargs["ignore_class"]
        if ignore_class is not None:
            kept = _labels(y_true, values_of(y_pred)) != ignore_class
            sample_weight = _masked_weights(kept, sample_weight, self.name)
        super().update_state(y_true, y_pred, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        if config["ignore_class"] is None:
            del config["ignore_class"]
        return config


def _masked_weights(kept, sample_weight, owner):
    """``sample_weight`` spread over the labels' shape, 0 where not ``kept``."""
    if sample_weight is None:
        return kept.astype(np.float64)
    weights = values_of(sample_weight)
    if weights.ndim == kept.ndim + 1 and weights.shape[-1:] == (1,):
        weights = weights.reshape(weights.shape[:-1])
    weights = weights.reshape(weights.shape + (1,) * (kept.ndim - weights.ndim))
    try:
        return np.broadcast_to(weights, kept.shape) * kept
    except ValueError:
        raise ValueError(
            f"{owner}: sample_weight of shape {np.shape(sample_weight)} does not "
            f"fit labels of shape {kept.shape}: expected one weight per sample"
        ) from None


class SparseCategoricalAccuracy(_SparseAccuracy):
    """How often the largest score is at the integer label's class.

    Args:
        name: The metric's name.
        ignore_class: Optional label (such as -1 for padding) left out of the
            accuracy; any other label outside ``[0, num_classes)`` raises.

    Raises:
        ValueError: (in ``update_state``) a label outside ``[0, num_classes)``.
        TypeError: If ``ignore_class`` is not an integer.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.SparseCategoricalAccuracy()
        >>> m.update_state([2, 1], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
        >>> m.update_state([0], [[0.9, 0.1, 0.0]], sample_weight=[2.])
        >>> m.result()
        0.75
    """

    def __init__(self, name="sparse_categorical_accuracy", ignore_class=None):
        super().__init__(sparse_categorical_accuracy, name, ignore_class)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` largest scores.

    Args:
        k: How many of the largest scores count, an int >= 1.
        name: The metric's name.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.TopKCategoricalAccuracy(k=1)
        >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        >>> m.result()
        0.5
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy"):
        super().__init__(
            top_k_categorical_accuracy, name=name, k=_k(k, type(self).__name__)
        )


class SparseTopKCategoricalAccuracy(_SparseAccuracy):
    """How often the integer label's class is among the ``k`` largest scores.

    Args:
        k: How many of the largest scores count, an int >= 1.
        name: The metric's name.
        ignore_class: As in ``SparseCategoricalAccuracy``.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.SparseTopKCategoricalAccuracy(k=2)
        >>> m.update_state([2, 2], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
        >>> m.result()
        0.5
    """

    def __init__(
        self, k=5, name="sparse_top_k_categorical_accuracy", ignore_class=None
    ):
        k = _k(k, type(self).__name__)
        super().__init__(sparse_top_k_categorical_accuracy, name, ignore_class, k=k)
