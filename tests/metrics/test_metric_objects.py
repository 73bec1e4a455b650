"""Metric objects: get, resolve_accuracy, configs, bad input, no tape recording."""

import numpy as np
import pytest

import nnlib
from nnlib import losses, metrics
from nnlib.engine import tape as _tape

ALL_CLASSES = [
    metrics.Accuracy,
    metrics.BinaryAccuracy,
    metrics.CategoricalAccuracy,
    metrics.SparseCategoricalAccuracy,
    metrics.TopKCategoricalAccuracy,
    metrics.SparseTopKCategoricalAccuracy,
    metrics.Precision,
    metrics.Recall,
    metrics.AUC,
    metrics.MeanSquaredError,
    metrics.MeanAbsoluteError,
    metrics.Mean,
    metrics.Sum,
]


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_config_round_trip(cls):
    metric = cls(name="custom")
    config = metric.get_config()
    again = cls.from_config(config)
    assert again.get_config() == config and again.name == "custom"
    assert metrics.deserialize(metrics.serialize(metric)).get_config() == config
    assert isinstance(metrics.get(cls.__name__), cls)


def test_configs_keep_arguments():
    config = metrics.AUC(
        curve="pr", thresholds=[0.5, 0.25], multi_label=True
    ).get_config()
    again = metrics.AUC.from_config(config)
    assert again.curve == "PR" and again.multi_label
    np.testing.assert_allclose(again.thresholds, [-1e-7, 0.25, 0.5, 1 + 1e-7])
    assert metrics.TopKCategoricalAccuracy(k=3).get_config()["k"] == 3
    assert metrics.BinaryAccuracy(threshold=0.0).get_config()["threshold"] == 0.0
    precision = metrics.Precision(thresholds=[0.2, 0.4], top_k=2, class_id=1)
    assert metrics.Precision.from_config(precision.get_config()).get_config() == (
        precision.get_config()
    )


def test_mean_metric_wrapper_round_trips_built_in_functions():
    wrapper = metrics.MeanMetricWrapper(metrics.binary_accuracy, threshold=0.3)
    again = metrics.deserialize(metrics.serialize(wrapper))
    assert again(np.array([1.0, 0.0]), np.array([0.4, 0.2])) == 1.0
    with pytest.raises(TypeError, match="needs 'fn'"):
        metrics.MeanMetricWrapper.from_config({"name": "x"})


def test_get_names_as_compile_takes_them():
    for name, cls in [
        ("mse", metrics.MeanSquaredError),
        ("mae", metrics.MeanAbsoluteError),
        ("auc", metrics.AUC),
        ("precision", metrics.Precision),
        ("recall", metrics.Recall),
        ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
        ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
        ("binary_accuracy", metrics.BinaryAccuracy),
        ("acc", metrics.Accuracy),
    ]:
        metric = metrics.get(name)
        assert type(metric) is cls and metric.name == name
    m = metrics.get("AUC")
    assert isinstance(m, metrics.AUC) and m.name == "auc"
    existing = metrics.Recall()
    assert metrics.get(existing) is existing
    assert metrics.get(None) is None


def test_get_wraps_functions_and_loss_names():
    m = metrics.get("binary_crossentropy")
    m.update_state([[1.0], [0.0]], [[0.5], [0.5]])
    assert m.name == "binary_crossentropy"
    assert m.result() == pytest.approx(np.log(2), rel=1e-6)
    m = metrics.get(lambda y, p: np.abs(np.asarray(y) - np.asarray(p)))
    m.update_state([1.0, 2.0], [2.0, 2.0])
    assert m.result() == 0.5


def test_get_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'precision'"):
        metrics.get("precison")
    with pytest.raises(ValueError, match="Did you mean 'sparse_categorical_accuracy'"):
        metrics.get("sparse_categorical_acuracy")
    with pytest.raises(ValueError, match="could not interpret"):
        metrics.get(3)


@pytest.mark.parametrize(
    "loss, cls",
    [
        ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
        ("SparseCategoricalCrossentropy", metrics.SparseCategoricalAccuracy),
        (
            losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics.SparseCategoricalAccuracy,
        ),
        (losses.sparse_categorical_crossentropy, metrics.SparseCategoricalAccuracy),
        ("categorical_crossentropy", metrics.CategoricalAccuracy),
        (losses.CategoricalCrossentropy, metrics.CategoricalAccuracy),
        ("binary_crossentropy", metrics.BinaryAccuracy),
        ("hinge", metrics.BinaryAccuracy),
    ],
)
def test_resolve_accuracy_follows_the_loss(loss, cls):
    metric = metrics.resolve_accuracy(loss)
    assert type(metric) is cls and metric.name == "accuracy"
    assert metrics.resolve_accuracy(loss, name="acc").name == "acc"


def test_resolve_accuracy_for_logits_and_other_losses():
    logits = metrics.resolve_accuracy(losses.BinaryCrossentropy(from_logits=True))
    assert logits.threshold == 0.0
    assert metrics.resolve_accuracy("binary_crossentropy").threshold == 0.5
    for loss in ("mse", None, losses.MeanSquaredError()):
        m = metrics.resolve_accuracy(loss)  # decided from the shapes, as Keras 3
        m.update_state([[1.0], [0.0]], [[0.7], [0.7]])  # one column: binary
        assert m.result() == 0.5
        m.reset_state()
        m.update_state([1, 0], [[0.2, 0.8], [0.3, 0.7]])  # rank less: sparse
        assert m.result() == 0.5
        m.reset_state()
        m.update_state(np.eye(2), [[0.2, 0.8], [0.7, 0.3]])  # one-hot: categorical
        assert m.result() == 0.0


def test_bad_input_raises_and_leaves_the_state_alone():
    m = metrics.AUC()
    m.update_state([0, 1], [0.2, 0.8])
    before = m.counts.copy()
    with pytest.raises(ValueError, match=r"\[0, 1\], got 1.5.*from_logits=True"):
        m.update_state([0, 1], [0.2, 1.5])
    with pytest.raises(ValueError, match=r"y_true \(3,\) and y_pred \(2,\)"):
        m.update_state([0, 1, 1], [0.2, 0.5])
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\)"):
        m.update_state([0, 1], [0.2, 0.5], sample_weight=[1, 1, 1])
    np.testing.assert_array_equal(m.counts, before)
    acc = metrics.SparseCategoricalAccuracy()
    acc.update_state([1], [[0.2, 0.8]])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 3\).*categorical_accuracy"):
        acc.update_state(np.eye(3)[:2], np.ones((2, 3)))
    with pytest.raises(ValueError, match="sample_weight of shape"):
        acc.update_state([1, 0], [[0.2, 0.8], [0.5, 0.5]], sample_weight=[1, 2, 3])
    assert (acc.total, acc.count) == (1.0, 1.0)
    with pytest.raises(ValueError, match="use sparse_categorical_accuracy"):
        metrics.CategoricalAccuracy().update_state([1, 0], [[0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"y_true \(4,\) and y_pred \(4, 2\)"):
        metrics.MeanSquaredError().update_state(np.zeros(4), np.zeros((4, 2)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Did you mean 'ROC'"):
        metrics.AUC(curve="RCO")
    with pytest.raises(ValueError, match="summation_method"):
        metrics.AUC(summation_method="trapezoid")
    with pytest.raises(ValueError, match="thresholds"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="k must be"):
        metrics.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match="threshold"):
        metrics.BinaryAccuracy(threshold=float("nan"))
    with pytest.raises(ValueError, match="class_id 5"):
        metrics.Recall(class_id=5).update_state([[0, 1]], [[0.2, 0.8]])
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        m = metrics.AUC(multi_label=True)
        m.update_state([[0, 1]], [[0.2, 0.8]])
        m.update_state([[0, 1, 1]], [[0.2, 0.8, 0.3]])


def test_metrics_record_nothing_on_a_tape():
    seen = []

    class Observer:
        def observe(self, name, *args):
            seen.append(name)

    x = nnlib.constant([[0.2, 0.8], [0.6, 0.4]])
    observer = Observer()
    stack = _tape.push(observer)
    try:
        nnlib.tanh(x)  # the observer sees this thread's ops ...
        assert seen == ["tanh"]
        seen.clear()
        for metric in (
            metrics.SparseCategoricalAccuracy(),
            metrics.AUC(),
            metrics.Precision(),
            metrics.MeanSquaredError(),
        ):
            y = (
                [1, 0]
                if isinstance(metric, metrics.SparseCategoricalAccuracy)
                else [[0, 1], [1, 0]]
            )
            metric.update_state(y, x)
            assert isinstance(metric.result(), float)
    finally:
        _tape.pop(stack, observer)
    assert seen == []  # ... and none of the metrics' bookkeeping


def test_call_updates_and_returns_the_result():
    m = metrics.Accuracy()
    assert m([1, 2], [1, 3]) == 0.5
    assert m([3, 4], [3, 4]) == 0.75
    assert repr(metrics.TopKCategoricalAccuracy(k=2)) == (
        "TopKCategoricalAccuracy(name='top_k_categorical_accuracy', k=2)"
    )


def test_bad_top_k_and_class_id():
    with pytest.raises(ValueError, match="top_k must be None or an int >= 1"):
        metrics.Precision(top_k=0)
    with pytest.raises(ValueError, match="class_id must be None or an int >= 0"):
        metrics.Recall(class_id=-1)
