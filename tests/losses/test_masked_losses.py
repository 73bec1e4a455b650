"""Losses and metrics leave out what ``y_pred``'s mask marks, as Keras 3 does.

Keras 3 (``keras/src/losses/loss.py``, ``apply_mask``): the mask multiplies
the sample weights and the mean reductions divide by the number of unmasked
values; metrics (``MeanMetricWrapper``) take the mask as a sample weight.
"""

import numpy as np
import pytest

import nnlib
from nnlib import losses, metrics

MASK = np.array([[True, True, False], [True, False, False]])


def _masked(y_pred, mask=MASK):
    t = nnlib.constant(y_pred)
    t._keras_mask = nnlib.constant(mask)
    return t


def _data(rng):
    y_true = rng.integers(0, 4, size=(2, 3))
    logits = rng.normal(size=(2, 3, 4))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_step = -np.take_along_axis(log_probs, y_true[..., None], -1)[..., 0]
    return y_true, logits, per_step


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_a_masked_loss_counts_the_unmasked_steps_only(reduction):
    y_true, logits, per_step = _data(np.random.default_rng(0))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)
    got = loss(y_true, _masked(logits)).numpy()
    kept = np.where(MASK, per_step, 0.0)
    want = {
        "sum_over_batch_size": kept.sum() / MASK.sum(),
        "sum": kept.sum(),
        "none": kept,
    }[reduction]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_sample_weights_and_mask_multiply():
    y_true, logits, per_step = _data(np.random.default_rng(1))
    weights = np.array([2.0, 0.5])
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    got = loss(y_true, _masked(logits), sample_weight=weights).numpy()
    want = (per_step * weights[:, None] * MASK).sum() / MASK.sum()  # Keras: / valid
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_ignore_class_and_mask_combine():
    y_true, logits, per_step = _data(np.random.default_rng(2))
    y_true[0, 0] = -1
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    counted = MASK & (y_true != -1)
    want = np.where(counted, per_step, 0.0).sum() / counted.sum()
    np.testing.assert_allclose(loss(y_true, _masked(logits)).numpy(), want, rtol=1e-6)


def test_a_fully_masked_batch_has_zero_loss_and_gradient():
    y_true, logits, _ = _data(np.random.default_rng(3))
    x = _masked(logits, np.zeros_like(MASK))
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        value = losses.SparseCategoricalCrossentropy(from_logits=True)(y_true, x)
    assert float(value) == 0.0
    np.testing.assert_array_equal(tape.gradient(value, x).numpy(), 0.0)


def test_masked_steps_get_no_gradient():
    _, logits, _ = _data(np.random.default_rng(4))
    x = _masked(logits)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        value = losses.MeanSquaredError()(np.zeros((2, 3, 4)), x)
    grad = tape.gradient(value, x).numpy()
    np.testing.assert_array_equal(grad[~MASK], 0.0)
    np.testing.assert_allclose(grad[MASK], 2 * logits[MASK] / 4 / MASK.sum())


def test_a_mask_that_does_not_fit_the_values_is_refused():
    x = _masked(np.zeros((2, 3)), np.ones((2, 3), bool))  # the loss keeps (2,)
    with pytest.raises(ValueError, match=r"mask of shape \(2, 3\).*values of shape"):
        losses.MeanSquaredError()(np.zeros((2, 3)), x)


def test_metrics_take_the_mask_as_sample_weights():
    y_true, logits, _ = _data(np.random.default_rng(5))
    right = logits.argmax(-1) == y_true
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(y_true, _masked(logits))
    assert m.result() == pytest.approx(right[MASK].mean())
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(y_true, _masked(logits), sample_weight=[1.0, 3.0])
    weights = np.array([[1.0], [3.0]]) * MASK
    # Keras's samplewise means: per sequence, then weighted by mean weight.
    per_sample = (right * weights).mean(1)
    assert m.result() == pytest.approx(per_sample.sum() / weights.mean(1).sum())
