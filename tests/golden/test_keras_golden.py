"""Files written by real Keras 3 (committed under ``keras/``) load into nnlib.

``make_keras_files.py`` wrote them once (see README.md): each model as
``.weights.h5``, legacy ``.h5`` and ``.keras``, with an input and Keras's
prediction. tests/checkpoint/test_keras_real.py makes the same files live where
Keras is installed; this runs everywhere, Keras or not.
"""

import os

import numpy as np
import pytest

import nnlib

N = nnlib.layers
KERAS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras")
SUFFIXES = (".weights.h5", ".h5", ".keras")

# The nnlib twins of make_keras_files.py's models.
NNLIB_MODELS = {
    "mlp": lambda: nnlib.Sequential(
        [N.Dense(8, activation="relu", input_shape=(6,)), N.Dense(3)]
    ),
    "cnn": lambda: nnlib.Sequential(
        [
            N.Conv2D(4, 3, padding="same", input_shape=(8, 8, 2)),
            N.BatchNormalization(),
            N.Activation("relu"),
            N.MaxPooling2D(),
            N.Flatten(),
            N.Dense(3),
        ]
    ),
    "recurrent": lambda: nnlib.Sequential(
        [
            N.Embedding(10, 4, input_shape=(5,)),
            N.LSTM(6, return_sequences=True),
            N.GRU(5),
            N.Dense(2),
        ]
    ),
    "conv1d_layernorm_simplernn": lambda: nnlib.Sequential(
        [
            N.Conv1D(4, 2, input_shape=(7, 3)),
            N.LayerNormalization(),
            N.SimpleRNN(5),
            N.Dense(2),
        ]
    ),
    "rnn_cells": lambda: nnlib.Sequential(
        [
            N.RNN(N.LSTMCell(4), return_sequences=True, input_shape=(6, 3)),
            N.RNN([N.GRUCell(3), N.SimpleRNNCell(2)], return_sequences=True),
            N.RNN(N.GRUCell(2, reset_after=False)),
            N.Dense(2),
        ]
    ),
}


def test_every_case_has_its_files():
    names = sorted(n for n in os.listdir(KERAS_DIR) if not n.startswith("."))
    want = sorted(f"{c}{s}" for c in NNLIB_MODELS for s in SUFFIXES + (".npz",))
    assert names == want


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("case", sorted(NNLIB_MODELS))
def test_keras_file_predicts_as_keras_did(case, suffix):
    with np.load(os.path.join(KERAS_DIR, f"{case}.npz")) as data:
        x, y = data["x"], data["y"]
        assert str(data["keras_version"]).startswith("3.")
    model = NNLIB_MODELS[case]()
    model.load_weights(os.path.join(KERAS_DIR, f"{case}{suffix}"))
    np.testing.assert_allclose(model.predict(x), y, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", sorted(NNLIB_MODELS))
def test_the_three_formats_give_the_same_weights(case):
    weights = []
    for suffix in SUFFIXES:
        model = NNLIB_MODELS[case]()
        model.load_weights(os.path.join(KERAS_DIR, f"{case}{suffix}"))
        weights.append(model.get_weights())
    for other in weights[1:]:
        assert len(other) == len(weights[0])
        for a, b in zip(weights[0], other):
            np.testing.assert_array_equal(a, b)


def _fused_twin():
    """``rnn_cells`` with ``LSTM`` and ``GRU`` where Keras had ``RNN`` over one cell."""
    return nnlib.Sequential(
        [
            N.LSTM(4, return_sequences=True, input_shape=(6, 3)),
            N.RNN([N.GRUCell(3), N.SimpleRNNCell(2)], return_sequences=True),
            N.GRU(2, reset_after=False),
            N.Dense(2),
        ]
    )


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_keras_rnn_over_cells_loads_into_the_fused_layers(suffix):
    with np.load(os.path.join(KERAS_DIR, "rnn_cells.npz")) as data:
        x, y = data["x"], data["y"]
    model = _fused_twin()
    model.load_weights(os.path.join(KERAS_DIR, f"rnn_cells{suffix}"))
    np.testing.assert_allclose(model.predict(x), y, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_keras_lstm_and_gru_load_into_rnn_over_cells(suffix):
    with np.load(os.path.join(KERAS_DIR, "recurrent.npz")) as data:
        x, y = data["x"], data["y"]
    model = nnlib.Sequential(
        [
            N.Embedding(10, 4, input_shape=(5,)),
            N.RNN(N.LSTMCell(6), return_sequences=True),
            N.RNN(N.GRUCell(5)),
            N.Dense(2),
        ]
    )
    model.load_weights(os.path.join(KERAS_DIR, f"recurrent{suffix}"))
    np.testing.assert_allclose(model.predict(x), y, rtol=1e-5, atol=1e-5)
