"""Bad arguments and labels of the metrics: a typed error naming what is wrong.

One row per bad input: (id, call, exception type, message regex). Labels beyond
the class count used to give an accuracy of 0.0 without a word.
"""

import numpy as np
import pytest

import nnlib
from nnlib import metrics

SCORES = [[0.2, 0.8], [0.9, 0.1]]

BAD_ARGUMENTS = [
    (
        "AUC.from_logits",
        lambda: metrics.AUC(from_logits="False"),
        TypeError,
        r"AUC: from_logits must be True or False, got 'False' \(str\)",
    ),
    (
        "AUC.multi_label",
        lambda: metrics.AUC(multi_label="no"),
        TypeError,
        r"AUC: multi_label must be True or False, got 'no' \(str\)",
    ),
    (
        "SparseCategoricalAccuracy label beyond the classes",
        lambda: metrics.SparseCategoricalAccuracy()([5, 1], SCORES),
        ValueError,
        (
            r"sparse_categorical_accuracy: label 5 outside \[0, 2\) "
            r"\(y_pred of shape \(2, 2\) has 2 classes\)"
        ),
    ),
    (
        "SparseCategoricalAccuracy negative label",
        lambda: metrics.SparseCategoricalAccuracy()([-1, 1], SCORES),
        ValueError,
        r"label -1 outside \[0, 2\).*ignore_class",
    ),
    (
        "sparse_categorical_accuracy label beyond the classes",
        lambda: metrics.sparse_categorical_accuracy([[2], [1]], SCORES),
        ValueError,
        r"sparse_categorical_accuracy: label 2 outside \[0, 2\)",
    ),
    (
        "SparseTopKCategoricalAccuracy label beyond the classes",
        lambda: metrics.SparseTopKCategoricalAccuracy(k=1)([5, 1], SCORES),
        ValueError,
        r"sparse_top_k_categorical_accuracy: label 5 outside \[0, 2\)",
    ),
    (
        "sparse_top_k_categorical_accuracy label beyond the classes",
        lambda: metrics.sparse_top_k_categorical_accuracy([3, 0], SCORES, k=1),
        ValueError,
        r"sparse_top_k_categorical_accuracy: label 3 outside \[0, 2\)",
    ),
    (
        "SparseCategoricalAccuracy.ignore_class",
        lambda: metrics.SparseCategoricalAccuracy(ignore_class=0.5),
        TypeError,
        r"SparseCategoricalAccuracy: ignore_class must be an integer",
    ),
]


@pytest.mark.parametrize(
    "call, error, match",
    [pytest.param(*row[1:], id=row[0]) for row in BAD_ARGUMENTS],
)
def test_bad_argument_raises_naming_it(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_bad_batch_leaves_the_metric_as_it_was():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([1, 0], SCORES)
    with pytest.raises(ValueError, match="label 5"):
        m.update_state([5, 0], SCORES)
    assert m.result() == 1.0


def test_ignore_class_leaves_padding_out_of_the_accuracy():
    m = metrics.SparseCategoricalAccuracy(ignore_class=-1)
    m.update_state([1, -1, 0], [[0.2, 0.8], [0.9, 0.1], [0.1, 0.9]])
    assert m.result() == 0.5  # 1 of the 2 real labels
    m.update_state([1, -1], SCORES, sample_weight=[2.0, 5.0])
    assert m.result() == pytest.approx(3 / 4)  # (1 + 2) / (2 + 2)
    assert m.get_config()["ignore_class"] == -1
    top = metrics.SparseTopKCategoricalAccuracy(k=1, ignore_class=-1)
    top.update_state([-1, 1], SCORES)
    assert top.result() == 0.0 and top.count == 1.0


def test_accuracy_follows_the_losss_ignore_class():
    loss = nnlib.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    metric = metrics.resolve_accuracy(loss)
    metric.update_state(np.array([1, -1]), np.array(SCORES))
    assert metric.result() == 1.0
