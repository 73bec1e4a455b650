"""Confusion-matrix metrics: ``Precision``, ``Recall`` and ``AUC``, as Keras has them.

Every element of ``y_pred`` is a binary prediction, positive where it exceeds
a threshold (strictly), scored against the element of ``y_true`` (positive
where nonzero). Weighted true/false positive/negative counts accumulate per
threshold in float64. Predictions must be probabilities in ``[0, 1]``
(``AUC(from_logits=True)`` takes logits); anything else raises before the
state changes.
"""

import numbers

import numpy as np

from ..losses._inputs import same_shape, weight_shape
from .base import Metric, values_of

__all__ = ["Precision", "Recall"]

_NEG_INF = -1e10  # Keras's NEG_INF: with top_k, being in the top k is what counts


def _divide(a, b):
    """``a / b``, 0 where ``b`` is 0 (Keras's ``divide_no_nan``)."""
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return np.divide(a, b, out=np.zeros(a.shape), where=b != 0)


def _thresholds(thresholds, owner):
    values = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if values.ndim != 1 or not values.size or not ((values >= 0) & (values <= 1)).all():
        raise ValueError(
            f"{owner}: thresholds must be numbers in [0, 1], got {thresholds!r}"
        )
    return values


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _read(y_true, y_pred, sample_weight, owner, from_logits=False):
    """Checked inputs: positive labels, predictions and weights of one shape."""
    y_true, y_pred = same_shape(values_of(y_true), values_of(y_pred), owner)
    if from_logits:
        y_pred = _sigmoid(y_pred)
    else:
        inside = (y_pred >= 0) & (y_pred <= 1)
        if not inside.all():
            raise ValueError(
                f"{owner}: predictions must be probabilities in [0, 1], got "
                f"{y_pred[~inside].flat[0]}; apply a sigmoid to logits"
                + (" or pass from_logits=True" if owner == "AUC" else "")
            )
    if sample_weight is None:
        weights = np.ones(y_pred.shape)
    else:
        weights = values_of(sample_weight)
        shape = weight_shape(weights.shape, y_pred.shape, owner)
        weights = np.broadcast_to(weights.reshape(shape), y_pred.shape)
    return y_true != 0, y_pred, weights


def _above(thresholds, predictions, weights):
    """Summed weights of the predictions above each threshold, and of the rest."""
    order = np.argsort(thresholds, kind="stable")
    # How many thresholds lie strictly below each prediction: one binary search
    # each, then cumulative sums, instead of comparing against every threshold.
    below = np.searchsorted(thresholds[order], predictions, side="left")
    counts = np.bincount(below, weights=weights, minlength=len(thresholds) + 1)
    above, rest = np.empty(len(thresholds)), np.empty(len(thresholds))
    above[order] = np.cumsum(counts[::-1])[::-1][1:]
    rest[order] = np.cumsum(counts)[:-1]
    return above, rest


def _confusion(positive, predictions, weights, thresholds):
    """``(tp, fp, tn, fn)`` at each threshold, over all elements."""
    tp, fn = _above(thresholds, predictions[positive], weights[positive])
    fp, tn = _above(thresholds, predictions[~positive], weights[~positive])
    return np.stack([tp, fp, tn, fn])


def _top_k(predictions, k):
    """Keeps the ``k`` largest predictions of each row; the rest become NEG_INF."""
    index = np.argsort(-predictions, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(predictions.shape, bool)
    np.put_along_axis(keep, index, True, axis=-1)
    return np.where(keep, predictions, _NEG_INF)


class _ThresholdCounts(Metric):
    """Precision and Recall: confusion counts at a few thresholds."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        owner = type(self).__name__
        for arg, value, least in (("top_k", top_k, 1), ("class_id", class_id, 0)):
            bad = isinstance(value, bool) or not isinstance(value, numbers.Integral)
            if value is not None and (bad or value < least):
                raise ValueError(
                    f"{owner}: {arg} must be None or an int >= {least}, got {value!r}"
                )
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        if thresholds is None:
            self.thresholds = np.array([0.5 if top_k is None else _NEG_INF])
        else:
            self.thresholds = _thresholds(thresholds, owner)
        super().__init__(name=name)

    def reset_state(self):
        self.counts = np.zeros((4, len(self.thresholds)))

    true_positives = property(lambda self: self.counts[0])
    false_positives = property(lambda self: self.counts[1])
    false_negatives = property(lambda self: self.counts[3])

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the counts of a batch.

        Args:
            y_true: Labels, positive where nonzero.
            y_pred: Probabilities of ``y_true``'s shape.
            sample_weight: Optional weights per sample (or element).

        Raises:
            ValueError: For shapes that do not fit, predictions outside [0, 1],
                a ``class_id`` beyond the last axis, or a ``class_id`` with
                predictions of fewer than 2 axes (no class axis).
        """
        positive, predictions, weights = _read(y_true, y_pred, sample_weight, self.name)
        if self.class_id is not None and predictions.ndim < 2:
            raise ValueError(
                f"{self.name}: class_id={self.class_id} indexes the classes, the "
                f"last axis of predictions shaped (batch, classes); got y_pred of "
                f"shape {predictions.shape}, which has no class axis. For binary "
                "predictions drop class_id, or pass them as (batch, 1) with "
                "class_id=0"
            )
        if self.top_k is not None:
            predictions = _top_k(predictions, self.top_k)
        if self.class_id is not None:
            if predictions.ndim == 0 or self.class_id >= predictions.shape[-1]:
                raise ValueError(
                    f"{self.name}: class_id {self.class_id} is outside y_pred of "
                    f"shape {predictions.shape}"
                )
            c = self.class_id
            positive, predictions, weights = (
                positive[..., c],
                predictions[..., c],
                weights[..., c],
            )
        self.counts += _confusion(positive, predictions, weights, self.thresholds)

    def _value(self, ratio):
        return float(ratio[0]) if ratio.size == 1 else ratio

    def get_config(self):
        return {
            "name": self.name,
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_ThresholdCounts):
    """The fraction of positive predictions that are right: ``tp / (tp + fp)``.

    Args:
        thresholds: A threshold in ``[0, 1]`` or a list of them (then ``result``
            gives one precision per threshold); default 0.5, or with ``top_k``
            "among the k largest".
        top_k: Count only the ``k`` largest predictions along the last axis
            as positive (of each row; for 1-D predictions, of the batch, as
            Keras documents).
        class_id: Score only this class: an index on the last axis of
            ``(batch, classes)`` predictions (1-D predictions are refused).
        name: The metric's name.

    Raises:
        ValueError: For thresholds outside ``[0, 1]`` or a bad ``top_k``/``class_id``.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.Precision()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(m.result(), 4)
        0.6667
        >>> metrics.Precision(thresholds=[0.2, 0.95])([0, 1, 1], [0.3, 0.9, 1.0])
        array([0.6667, 1.    ])
    """

    def result(self):
        tp, fp = self.counts[0], self.counts[1]
        return self._value(_divide(tp, tp + fp))


class Recall(_ThresholdCounts):
    """The fraction of positives that are found: ``tp / (tp + fn)``.

    Args:
        thresholds: A threshold in ``[0, 1]`` or a list of them (see ``Precision``).
        top_k: Count only the ``k`` largest predictions along the last axis
            as positive (see ``Precision``).
        class_id: Score only this class: an index on the last axis of
            ``(batch, classes)`` predictions (1-D predictions are refused).
        name: The metric's name.

    Raises:
        ValueError: For thresholds outside ``[0, 1]`` or a bad ``top_k``/``class_id``.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.Recall()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(m.result(), 4)
        0.6667
    """

    def result(self):
        tp, fn = self.counts[0], self.counts[3]
        return self._value(_divide(tp, tp + fn))
