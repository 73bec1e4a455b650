"""fit and evaluate on padded, masked sequences: the padding does not count.

The reference is computed independently, on the unpadded sequences one by one:
the loss is the mean over the real time steps of the whole batch (Keras 3:
the mask multiplies the sample weights, and ``sum_over_batch_size`` divides by
the number of unmasked steps), the accuracy the fraction of real steps right.
"""

import numpy as np
import pytest

import nnlib
from nnlib import layers

LENGTHS = (6, 2, 4, 5)
TIME, VOCAB, CLASSES = 6, 12, 3
RTOL = 1e-6  # the loss tracker (a Mean metric) holds the loss as float32


def _data(seed=0):
    rng = np.random.default_rng(seed)
    ids = np.zeros((len(LENGTHS), TIME), np.int64)
    for row, n in enumerate(LENGTHS):
        ids[row, :n] = rng.integers(1, VOCAB, n)
    labels = rng.integers(0, CLASSES, (len(LENGTHS), TIME))  # padding: noise
    return ids, labels


def _model(weights=None):
    model = nnlib.Sequential(
        [
            layers.Embedding(VOCAB, 4, mask_zero=True, dtype="float64"),
            layers.LSTM(5, return_sequences=True, dtype="float64"),
            layers.Dense(CLASSES, dtype="float64"),
        ]
    )
    model(np.ones((1, TIME), np.int64))
    if weights is not None:
        model.set_weights(weights)
    model.compile(
        optimizer=nnlib.optimizers.GradientDescent(0.5),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _per_step(model, ids, labels):
    """Cross-entropy and correctness of every real step, sequence by sequence."""
    losses, right = [], []
    for row, n in enumerate(LENGTHS):
        logits = model(ids[row : row + 1, :n]).numpy()[0]
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        target = labels[row, :n]
        losses.append(-log_probs[np.arange(n), target])
        right.append(logits.argmax(-1) == target)
    return losses, right


def test_evaluate_counts_the_real_steps_only():
    ids, labels = _data()
    model = _model()
    logs = model.evaluate(
        ids, labels, batch_size=len(LENGTHS), verbose=0, return_dict=True
    )
    losses, right = _per_step(model, ids, labels)
    assert logs["loss"] == pytest.approx(np.concatenate(losses).mean(), rel=RTOL)
    assert logs["accuracy"] == pytest.approx(np.concatenate(right).mean())


def test_evaluate_over_batches_weights_each_batch_by_its_sequences():
    """As in Keras, the loss of each batch (a mean over its real steps) is
    averaged over batches with the number of sequences as weight."""
    ids, labels = _data(1)
    model = _model()
    logs = model.evaluate(ids, labels, batch_size=2, verbose=0, return_dict=True)
    losses, _ = _per_step(model, ids, labels)
    batch_means = [np.concatenate(losses[i : i + 2]).mean() for i in (0, 2)]
    assert logs["loss"] == pytest.approx(np.mean(batch_means), rel=RTOL)


def test_sample_weights_multiply_the_mask():
    ids, labels = _data(2)
    weights = np.array([1.0, 3.0, 0.5, 2.0])
    model = _model()
    got = model.evaluate(
        ids, labels, sample_weight=weights, batch_size=4, verbose=0, return_dict=True
    )["loss"]
    losses, _ = _per_step(model, ids, labels)
    total = sum(w * step.sum() for w, step in zip(weights, losses))
    assert got == pytest.approx(total / sum(LENGTHS), rel=RTOL)


def test_a_fit_step_follows_the_gradient_of_the_unpadded_loss():
    ids, labels = _data(3)
    model = _model()
    reference = _model(model.get_weights())
    model.fit(ids, labels, batch_size=len(LENGTHS), epochs=1, shuffle=False, verbose=0)

    def unpadded_loss():
        total = 0.0
        for row, n in enumerate(LENGTHS):
            logits = reference(ids[row : row + 1, :n])
            total = total + nnlib.reduce_sum(
                nnlib.losses.sparse_categorical_crossentropy(
                    labels[row : row + 1, :n], logits, from_logits=True
                )
            )
        return total / sum(LENGTHS)

    _, grads_and_vars = nnlib.implicit_value_and_gradients(unpadded_loss)()
    nnlib.optimizers.GradientDescent(0.5).apply_gradients(grads_and_vars)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-12)
