"""Precision/Recall ``class_id`` and ``top_k`` index the last axis, the classes.

Keras documents ``class_id`` as a class index, on the last axis of
``(batch, classes)`` predictions. One-dimensional predictions have no class
axis: ``class_id`` there would pick a *sample* and score it alone, so it is
refused, naming ``class_id`` and the shape. ``top_k`` keeps Keras's documented
meaning, the k largest along the last axis (for 1-D input, of the batch).
"""

import numpy as np
import pytest

from nnlib import metrics


@pytest.mark.parametrize("cls", [metrics.Precision, metrics.Recall])
@pytest.mark.parametrize("class_id", [0, 1, 2])
def test_class_id_on_one_dimensional_predictions_is_refused(cls, class_id):
    metric = cls(class_id=class_id)
    with pytest.raises(ValueError) as error:
        metric.update_state([1, 0, 1], [0.9, 0.2, 0.8])
    message = str(error.value)
    assert f"class_id={class_id}" in message
    assert "shape (3,)" in message
    assert "(batch, classes)" in message
    assert metric.result() == 0.0  # nothing counted
    np.testing.assert_array_equal(metric.counts, np.zeros((4, 1)))


@pytest.mark.parametrize("cls", [metrics.Precision, metrics.Recall])
def test_class_id_with_top_k_on_one_dimensional_predictions_is_refused(cls):
    with pytest.raises(ValueError, match=r"class_id=0 .*shape \(4,\)"):
        cls(class_id=0, top_k=1).update_state([1, 0, 1, 1], [0.9, 0.2, 0.8, 0.1])


def test_class_id_on_a_single_class_column_scores_that_column():
    y = np.array([[1], [0], [1], [1]])
    p = np.array([[0.9], [0.7], [0.2], [0.6]])
    # by hand at 0.5: predicted positive rows 0, 1, 3; true positives 0, 3
    assert metrics.Precision(class_id=0)(y, p) == pytest.approx(2 / 3)
    assert metrics.Recall(class_id=0)(y, p) == pytest.approx(2 / 3)


def test_class_id_picks_the_class_column_of_every_sample():
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]])
    p = np.array([[0.1, 0.8, 0.3], [0.6, 0.7, 0.1], [0.2, 0.4, 0.9], [0.3, 0.6, 0.2]])
    # column 1 at 0.5: predicted rows 0, 1, 3; positive rows 0, 2
    assert metrics.Precision(class_id=1)(y, p) == pytest.approx(1 / 3)
    assert metrics.Recall(class_id=1)(y, p) == pytest.approx(1 / 2)
    # with top_k=1, column 1 counts where it is the row's largest: rows 0, 1, 3
    assert metrics.Precision(class_id=1, top_k=1)(y, p) == pytest.approx(1 / 3)
    # column 2, top 1: only row 2; positive rows 2, 3
    assert metrics.Recall(class_id=2, top_k=1)(y, p) == pytest.approx(1 / 2)


def test_top_k_on_one_dimensional_predictions_keeps_keras_documented_meaning():
    """Keras's docstring example: top_k=2 over [1, 1, 1, 1] scores the first two."""
    m = metrics.Precision(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.0
    m = metrics.Recall(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.0
