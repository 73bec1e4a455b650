"""``AUC``: the area under the ROC or precision-recall curve, Keras's way.

Confusion counts are accumulated at ``num_thresholds`` fixed thresholds
(evenly spaced over ``[0, 1]``, plus one just below 0 and one just above 1);
the area is a Riemann sum over them. The ROC area uses trapezoids; the PR
area, with ``summation_method="interpolation"``, interpolates precision as
Davis & Goadrich (2006) do, in Keras's closed form.
"""

import numbers

import numpy as np

from .._args import boolean
from .._lookup import unknown_name
from ..losses._inputs import EPSILON
from .base import Metric
from .confusion import _confusion, _divide, _read, _thresholds

__all__ = ["AUC"]

_CURVES = ("ROC", "PR")
_SUMMATIONS = ("interpolation", "minoring", "majoring")


def _choice(value, options, what):
    names = {o.lower(): o for o in options}
    if not isinstance(value, str) or value.lower() not in names:
        raise unknown_name(f"AUC {what}", value, list(options))
    return names[value.lower()]


def _riemann_terms(counts, curve, summation):
    """The area under the curve between successive thresholds (axis 0)."""
    tp, fp, tn, fn = counts
    if curve == "PR" and summation == "interpolation":
        return _interpolated_pr_terms(tp, fp, fn)
    recall = _divide(tp, tp + fn)
    if curve == "ROC":
        x, y = _divide(fp, fp + tn), recall
    else:
        x, y = recall, _divide(tp, tp + fp)
    if summation == "interpolation":
        heights = (y[:-1] + y[1:]) / 2
    elif summation == "minoring":
        heights = np.minimum(y[:-1], y[1:])
    else:
        heights = np.maximum(y[:-1], y[1:])
    return (x[:-1] - x[1:]) * heights


def _interpolated_pr_terms(tp, fp, fn):
    """Keras's ``interpolate_pr_auc``: precision varies as ``(TP_A + slope *
    (P - P_A)) / P`` between thresholds A and B (P = TP + FP), integrated in
    closed form: ``slope * (dTP + intercept * log(P_B / P_A)) / positives``."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = _divide(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, _divide(p[:-1], np.maximum(p[1:], 0)), 1.0)
    log_ratio = np.log(ratio, out=np.zeros(ratio.shape), where=ratio > 0)
    return _divide(
        slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0)
    )


class AUC(Metric):
    """Area under the ROC curve (or the precision-recall curve).

    Args:
        num_thresholds: How many thresholds to count at, an int > 1; more gives
            a closer approximation (200 by default, as in Keras).
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"`` (trapezoids for ROC, Davis &
            Goadrich's interpolation for PR), ``"minoring"`` or ``"majoring"``
            (lower or upper Riemann sums).
        name: The metric's name.
        thresholds: Optional thresholds in ``[0, 1]`` to use instead of evenly
            spaced ones (``num_thresholds`` then becomes their number + 2).
        multi_label: With ``y_pred`` of shape ``(batch, labels)``, compute one AUC
            per label and average them, instead of one AUC over all elements.
        num_labels: The number of labels, when ``multi_label`` (by default taken
            from the first batch).
        label_weights: Optional weights of the labels: of each label's AUC in the
            average (``multi_label``), or of each label's predictions otherwise.
        from_logits: Whether ``y_pred`` holds logits (a sigmoid is applied).

    Raises:
        ValueError: For a bad ``num_thresholds``, curve, summation method or
            thresholds.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> m = metrics.AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> m.result()
        0.75
        >>> metrics.AUC()([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
    """

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        self.curve = _choice(curve, _CURVES, "curve")
        self.summation_method = _choice(
            summation_method, _SUMMATIONS, "summation_method"
        )
        if thresholds is not None:
            inner = np.sort(_thresholds(thresholds, "AUC"))
            self.init_thresholds = [float(t) for t in inner]
        else:
            bad = isinstance(num_thresholds, bool) or not isinstance(
                num_thresholds, numbers.Integral
            )
            if bad or num_thresholds <= 1:
                raise ValueError(
                    f"AUC: num_thresholds must be an int > 1, got {num_thresholds!r}"
                )
            inner = np.arange(1, num_thresholds - 1) / (num_thresholds - 1)
            self.init_thresholds = None
        self.thresholds = np.concatenate([[-EPSILON], inner, [1.0 + EPSILON]])
        self.num_thresholds = len(self.thresholds)
        self.multi_label = boolean(multi_label, "multi_label", "AUC")
        self.num_labels = num_labels
        self.label_weights = (
            None if label_weights is None else np.asarray(label_weights, np.float64)
        )
        if self.label_weights is not None and (self.label_weights < 0).any():
            raise ValueError(f"AUC: label_weights must be >= 0, got {label_weights!r}")
        self.from_logits = boolean(from_logits, "from_logits", "AUC")
        super().__init__(name=name)

    def reset_state(self):
        if not self.multi_label:
            self.counts = np.zeros((4, self.num_thresholds))
        elif self.num_labels is None:
            self.counts = None  # sized by the first batch
        else:
            self.counts = np.zeros((4, self.num_thresholds, self.num_labels))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the confusion counts of a batch at every threshold.

        Args:
            y_true: Labels, positive where nonzero.
            y_pred: Probabilities (or logits, with ``from_logits``) of
                ``y_true``'s shape; ``(batch, labels)`` when ``multi_label``.
            sample_weight: Optional weights per sample (or element).

        Raises:
            ValueError: For shapes that do not fit or predictions outside [0, 1].
        """
        positive, predictions, weights = _read(
            y_true, y_pred, sample_weight, "AUC", from_logits=self.from_logits
        )
        if self.label_weights is not None and not self.multi_label:
            weights = weights * self.label_weights
        if not self.multi_label:
            self.counts += _confusion(positive, predictions, weights, self.thresholds)
            return
        labels = self._labels(predictions)
        counts = np.stack(
            [
                _confusion(
                    positive[:, i], predictions[:, i], weights[:, i], self.thresholds
                )
                for i in range(labels)
            ],
            axis=-1,
        )
        self.counts = counts if self.counts is None else self.counts + counts

    def _labels(self, predictions):
        expected = self.num_labels if self.counts is None else self.counts.shape[-1]
        if predictions.ndim != 2 or expected not in (None, predictions.shape[1]):
            want = f"(batch, {expected})" if expected else "(batch, labels)"
            raise ValueError(
                f"{self.name}: with multi_label, y_pred must have shape {want}, got "
                f"{predictions.shape}"
            )
        return predictions.shape[1]

    @property
    def true_positives(self):
        return None if self.counts is None else self.counts[0]

    def result(self):
        """The area, a float (0 before any positive and negative were seen)."""
        if self.counts is None:
            return 0.0
        terms = _riemann_terms(self.counts, self.curve, self.summation_method)
        by_label = np.sum(terms, axis=0)
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(
            _divide(np.sum(by_label * self.label_weights), np.sum(self.label_weights))
        )

    def get_config(self):
        weights = self.label_weights
        return {
            "name": self.name,
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "thresholds": self.init_thresholds,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if weights is None else weights.tolist(),
            "from_logits": self.from_logits,
        }
