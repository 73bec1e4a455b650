"""Metric values: Keras's documented examples, accumulation, references, AUC."""

import numpy as np
import pytest

import nnlib
from nnlib import metrics

# Keras's documented examples (keras.io/api/metrics): (metric, y_true, y_pred,
# result, sample_weight, weighted result).
KERAS_EXAMPLES = [
    (
        metrics.Accuracy(),
        [[1], [2], [3], [4]],
        [[0], [2], [3], [4]],
        0.75,
        [1, 1, 0, 0],
        0.5,
    ),
    (
        metrics.BinaryAccuracy(),
        [[1], [1], [0], [0]],
        [[0.98], [1], [0], [0.6]],
        0.75,
        [1, 0, 0, 1],
        0.5,
    ),
    (
        metrics.CategoricalAccuracy(),
        [[0, 0, 1], [0, 1, 0]],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        0.5,
        [0.7, 0.3],
        0.3,
    ),
    (
        metrics.SparseCategoricalAccuracy(),
        [[2], [1]],
        [[0.1, 0.6, 0.3], [0.05, 0.95, 0]],
        0.5,
        [0.7, 0.3],
        0.3,
    ),
    (
        metrics.TopKCategoricalAccuracy(k=1),
        [[0, 0, 1], [0, 1, 0]],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        0.5,
        [0.7, 0.3],
        0.3,
    ),
    (
        metrics.SparseTopKCategoricalAccuracy(k=1),
        [2, 1],
        [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        0.5,
        [0.7, 0.3],
        0.3,
    ),
    (metrics.Precision(), [0, 1, 1, 1], [1, 0, 1, 1], 2 / 3, [0, 0, 1, 0], 1.0),
    (metrics.Recall(), [0, 1, 1, 1], [1, 0, 1, 1], 2 / 3, [0, 0, 1, 0], 1.0),
    (
        metrics.AUC(num_thresholds=3),
        [0, 0, 1, 1],
        [0, 0.5, 0.3, 0.9],
        0.75,
        [1, 0, 0, 1],
        1.0,
    ),
    (metrics.MeanSquaredError(), [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.25, [1, 0], 0.5),
    (
        metrics.MeanAbsoluteError(),
        [[0, 1], [0, 0]],
        [[1, 1], [0, 0]],
        0.25,
        [1, 0],
        0.5,
    ),
]


@pytest.mark.parametrize(
    "metric, y_true, y_pred, value, weights, weighted", KERAS_EXAMPLES
)
def test_keras_documented_values(metric, y_true, y_pred, value, weights, weighted):
    metric.update_state(y_true, y_pred)
    assert metric.result() == pytest.approx(value, abs=1e-6)
    metric.reset_state()
    metric.update_state(y_true, y_pred, sample_weight=weights)
    assert metric.result() == pytest.approx(weighted, abs=1e-6)


def test_precision_with_top_k_as_keras():
    m = metrics.Precision(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.0
    m = metrics.Precision(top_k=4)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.5


def test_mean_and_sum():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 2.0
    assert metrics.Mean().result() == 0.0  # nothing seen yet
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7])
    assert s.result() == 16.0
    # The training loop adds each batch's mean loss weighted by the batch size.
    m = metrics.Mean(name="loss")
    m.update_state(2.0, sample_weight=32)
    m.update_state(5.0, sample_weight=8)
    assert m.result() == pytest.approx((2 * 32 + 5 * 8) / 40)


def test_mean_averages_per_sample_first():
    m = metrics.Mean()
    m.update_state([[1.0, 3.0], [5.0, 7.0]], sample_weight=[1.0, 3.0])
    assert m.result() == pytest.approx((2 * 1 + 6 * 3) / 4)


@pytest.mark.parametrize(
    "make, sparse",
    [
        (metrics.SparseCategoricalAccuracy, True),
        (metrics.CategoricalAccuracy, False),
        (lambda: metrics.SparseTopKCategoricalAccuracy(k=2), True),
        (lambda: metrics.TopKCategoricalAccuracy(k=2), False),
        (metrics.AUC, None),
        (lambda: metrics.AUC(curve="PR"), None),
        (metrics.Precision, None),
        (lambda: metrics.Recall(thresholds=[0.3, 0.6]), None),
        (metrics.MeanSquaredError, None),
        (metrics.BinaryAccuracy, None),
    ],
)
def test_several_batches_equal_one_and_reset_forgets(make, sparse):
    rng = np.random.default_rng(0)
    if sparse is None:
        y, p = rng.integers(0, 2, (30, 3)), rng.uniform(size=(30, 3))
    else:
        labels, p = rng.integers(0, 5, 30), rng.uniform(size=(30, 5))
        y = labels if sparse else np.eye(5)[labels]
    w = rng.uniform(size=30)
    whole = make()
    whole.update_state(y, p, sample_weight=w)
    batched = make()
    batched.update_state(y[:7], p[:7])  # forgotten below
    batched.reset_state()
    for lo, hi in ((0, 10), (10, 11), (11, 30)):
        batched.update_state(y[lo:hi], p[lo:hi], sample_weight=w[lo:hi])
    np.testing.assert_allclose(batched.result(), whole.result(), rtol=1e-12)


def test_accuracies_against_numpy_reference():
    rng = np.random.default_rng(1)
    labels, p = rng.integers(0, 6, 50), rng.normal(size=(50, 6))
    w = rng.uniform(size=50)
    order = np.argsort(-p, axis=1)
    for k in (1, 2, 3, 6):
        hit = (order[:, :k] == labels[:, None]).any(1)
        m = metrics.SparseTopKCategoricalAccuracy(k=k)
        m.update_state(labels, p, sample_weight=w)
        assert m.result() == pytest.approx(np.sum(hit * w) / np.sum(w))
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(labels[:, None], nnlib.constant(p))  # Tensors work as well
    assert m.result() == pytest.approx(np.mean(order[:, 0] == labels))


def test_top_k_counts_ties_at_the_boundary_in():
    p = [[0.5, 0.5, 0.5, 0.1]]
    assert metrics.sparse_top_k_categorical_accuracy([2], p, k=1)[0] == 1.0
    assert metrics.sparse_top_k_categorical_accuracy([3], p, k=3)[0] == 0.0
    # A label outside the classes raises (tests/metrics/test_bad_arguments.py);
    # padding named by ignore_class reads as class 0 (its weight is 0 in the class).
    assert metrics.sparse_top_k_categorical_accuracy([-1], p, k=4, ignore_class=-1)[0]
    assert metrics.sparse_categorical_accuracy([-1], p, ignore_class=-1)[0] == 1.0


def _roc_trapezoid(y, p, thresholds):
    """Straightforward reference: counts by comparing with every threshold."""
    pos, neg = y == 1, y == 0
    tpr = np.array([np.sum((p > t) & pos) / pos.sum() for t in thresholds])
    fpr = np.array([np.sum((p > t) & neg) / neg.sum() for t in thresholds])
    return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)


def _pr_interpolated(y, p, thresholds):
    """Davis & Goadrich interpolation of precision between thresholds, summed by
    a fine midpoint rule instead of Keras's closed form."""
    tp = np.array([np.sum((p > t) & (y == 1)) for t in thresholds], float)
    fp = np.array([np.sum((p > t) & (y == 0)) for t in thresholds], float)
    total, area = float(np.sum(y == 1)), 0.0
    for a in range(len(thresholds) - 1):
        dtp, dp = tp[a] - tp[a + 1], (tp[a] + fp[a]) - (tp[a + 1] + fp[a + 1])
        if dtp == 0:
            continue
        s = np.linspace(0, 1, 20001)[1:]  # from B (s=0) towards A (s=1)
        pos = tp[a + 1] + fp[a + 1] + s * dp
        precision = (tp[a + 1] + s * dtp) / pos
        area += np.mean(precision) * dtp / total
    return area


def test_auc_against_trapezoid_reference_on_a_known_set():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.35 * y + 0.65 * rng.random(400), 0, 1)
    for n in (3, 10, 200):
        m = metrics.AUC(num_thresholds=n)
        m.update_state(y, p)
        thresholds = np.concatenate(
            [[-1e-7], np.arange(1, n - 1) / (n - 1), [1 + 1e-7]]
        )
        assert m.result() == pytest.approx(_roc_trapezoid(y, p, thresholds), abs=1e-12)
    # With many thresholds the area approaches the exact (Mann-Whitney) AUC.
    pos, neg = p[y == 1], p[y == 0]
    exact = np.mean(pos[:, None] > neg[None, :])
    m = metrics.AUC(num_thresholds=2000)
    m.update_state(y, p)
    assert m.result() == pytest.approx(exact, abs=1e-3)


def test_pr_auc_matches_interpolation_reference():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1)
    m = metrics.AUC(num_thresholds=20, curve="PR")
    m.update_state(y, p)
    thresholds = np.concatenate([[-1e-7], np.arange(1, 19) / 19, [1 + 1e-7]])
    assert m.result() == pytest.approx(_pr_interpolated(y, p, thresholds), abs=1e-6)


def test_auc_extremes_and_summation_methods():
    y, p = [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]
    for curve in ("ROC", "PR"):
        assert metrics.AUC(curve=curve)(y, p) == pytest.approx(1.0)
    assert metrics.AUC()([1, 1, 0, 0], p) == pytest.approx(0.0)
    rng = np.random.default_rng(4)
    y, p = rng.integers(0, 2, 200), rng.random(200)
    lower = metrics.AUC(num_thresholds=10, summation_method="minoring")(y, p)
    middle = metrics.AUC(num_thresholds=10)(y, p)
    upper = metrics.AUC(num_thresholds=10, summation_method="majoring")(y, p)
    assert lower <= middle <= upper and lower < upper


def test_auc_from_logits_multi_label_and_thresholds():
    rng = np.random.default_rng(5)
    y, logits = rng.integers(0, 2, (60, 3)), rng.normal(size=(60, 3)) * 2
    probs = 1 / (1 + np.exp(-logits))
    assert metrics.AUC(from_logits=True)(y, logits) == pytest.approx(
        metrics.AUC()(y, probs)
    )
    per_label = [metrics.AUC()(y[:, i], probs[:, i]) for i in range(3)]
    assert metrics.AUC(multi_label=True)(y, probs) == pytest.approx(np.mean(per_label))
    weights = [1.0, 0.0, 3.0]
    weighted = metrics.AUC(multi_label=True, label_weights=weights)(y, probs)
    assert weighted == pytest.approx(np.dot(per_label, weights) / 4)
    m = metrics.AUC(thresholds=[0.7, 0.2, 0.5])
    assert m.num_thresholds == 5
    np.testing.assert_allclose(m.thresholds, [-1e-7, 0.2, 0.5, 0.7, 1 + 1e-7])
    m.update_state(y, probs)
    assert m.result() == pytest.approx(
        _roc_trapezoid(y.ravel(), probs.ravel(), m.thresholds)
    )


def test_precision_recall_at_several_thresholds_and_class_id():
    y = np.array([[0, 1], [1, 1], [0, 0], [1, 0]])
    p = np.array([[0.2, 0.9], [0.6, 0.4], [0.7, 0.1], [0.9, 0.3]])
    precision = metrics.Precision(thresholds=[0.0, 0.5, 0.8])(y, p)
    tp = np.array([((p > t) & (y == 1)).sum() for t in (0.0, 0.5, 0.8)])
    predicted = np.array([(p > t).sum() for t in (0.0, 0.5, 0.8)])
    np.testing.assert_allclose(precision, tp / predicted)
    recall = metrics.Recall(thresholds=[0.0, 0.5, 0.8])(y, p)
    np.testing.assert_allclose(recall, tp / (y == 1).sum())
    assert metrics.Recall(class_id=1)(y, p) == 0.5
    assert metrics.Precision(class_id=0)(y, p) == pytest.approx(2 / 3)
    assert metrics.Precision().result() == 0.0  # nothing predicted yet
