"""Masks in functional models: the graph runs its layers eagerly, on tensors
that carry their masks, so a functional model masks as the layers do alone."""

import warnings

import numpy as np

import nnlib
from nnlib import layers

IDS = np.array([[4, 2, 7, 0, 0], [1, 3, 0, 0, 0]])
LENGTHS = (3, 2)


def _tagger():
    inputs = nnlib.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(10, 4, mask_zero=True, dtype="float64")(inputs)
    x = layers.LSTM(5, return_sequences=True, dtype="float64")(x)
    return nnlib.Model(inputs, layers.Dense(3, dtype="float64")(x))


def test_a_functional_model_masks_like_its_layers():
    model = _tagger()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = model(IDS)
    np.testing.assert_array_equal(y._keras_mask.numpy(), IDS != 0)
    for row, n in enumerate(LENGTHS):
        one = model(IDS[row : row + 1, :n]).numpy()[0]
        np.testing.assert_allclose(y.numpy()[row, :n], one, atol=1e-12)


def test_functional_evaluate_counts_the_real_steps_only():
    model = _tagger()
    model.compile(
        optimizer="sgd",
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    tags = np.array([[0, 1, 2, 2, 2], [2, 1, 0, 0, 0]])
    got = model.evaluate(IDS, tags, batch_size=2, verbose=0)
    real = [
        nnlib.losses.sparse_categorical_crossentropy(
            tags[row, :n], model(IDS[row : row + 1, :n])[0], from_logits=True
        ).numpy()
        for row, n in enumerate(LENGTHS)
    ]
    np.testing.assert_allclose(got, np.concatenate(real).mean(), rtol=1e-6)


def test_attention_and_pooling_in_a_functional_model():
    inputs = nnlib.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(10, 4, mask_zero=True, dtype="float64")(inputs)
    x = layers.MultiHeadAttention(2, key_dim=2, dtype="float64")(x, x)
    model = nnlib.Model(inputs, layers.GlobalAveragePooling1D(dtype="float64")(x))
    pooled = model(IDS).numpy()
    for row, n in enumerate(LENGTHS):
        one = model(IDS[row : row + 1, :n]).numpy()[0]
        np.testing.assert_allclose(pooled[row], one, atol=1e-12)
