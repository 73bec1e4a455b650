"""Writes the Keras-made files that ``test_keras_golden.py`` loads into nnlib.

Run once, from the repository root, with Keras 3 and PyTorch installed (Keras
is not an nnlib dependency; install it only to run this)::

    pip install keras==3.15.1
    KERAS_BACKEND=torch python3 tests/golden/make_keras_files.py [case ...]

(naming cases writes only theirs). For each model of ``_models`` (those of
tests/checkpoint/test_keras_real.py, which does the same live where Keras is
installed, and ``rnn_cells``: ``RNN`` over cells, a stack of cells among
them) it writes, under ``keras/``: ``<case>.weights.h5`` (``save_weights``), ``<case>.h5`` (legacy
``model.save``), ``<case>.keras`` (the archive) and ``<case>.npz`` with the
input ``x``, Keras's prediction ``y`` and the Keras version and backend.

Importing this module has no side effects and needs no Keras (pytest's doctest
collection imports it): Keras is imported in ``main``.
"""

import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keras")


def _models(keras):
    """``{case: (layers, input maker)}``, as test_keras_real.py's writer has them."""
    L = keras.layers
    return {
        "mlp": (
            [keras.Input((6,)), L.Dense(8, activation="relu"), L.Dense(3)],
            lambda r: r.normal(size=(4, 6)),
        ),
        "cnn": (
            [
                keras.Input((8, 8, 2)),
                L.Conv2D(4, 3, padding="same"),
                L.BatchNormalization(),
                L.ReLU(),
                L.MaxPooling2D(),
                L.Flatten(),
                L.Dense(3),
            ],
            lambda r: r.normal(size=(2, 8, 8, 2)),
        ),
        "recurrent": (
            [
                keras.Input((5,), dtype="int32"),
                L.Embedding(10, 4),
                L.LSTM(6, return_sequences=True),
                L.GRU(5),
                L.Dense(2),
            ],
            lambda r: r.integers(0, 10, size=(3, 5)),
        ),
        "conv1d_layernorm_simplernn": (
            [
                keras.Input((7, 3)),
                L.Conv1D(4, 2),
                L.LayerNormalization(),
                L.SimpleRNN(5),
                L.Dense(2),
            ],
            lambda r: r.normal(size=(3, 7, 3)),
        ),
        "rnn_cells": (
            [
                keras.Input((6, 3)),
                L.RNN(L.LSTMCell(4), return_sequences=True),
                L.RNN([L.GRUCell(3), L.SimpleRNNCell(2)], return_sequences=True),
                L.RNN(L.GRUCell(2, reset_after=False)),
                L.Dense(2),
            ],
            lambda r: r.normal(size=(3, 6, 3)),
        ),
    }


def main(cases=()):
    """Writes the files of ``cases`` (names of ``_models``; default all)."""
    os.environ["KERAS_BACKEND"] = "torch"
    warnings.simplefilter("ignore")
    import keras

    os.makedirs(OUT, exist_ok=True)
    for name, (layers, make_x) in _models(keras).items():
        if cases and name not in cases:
            continue
        rng = np.random.default_rng(0)
        model = keras.Sequential(layers)
        for w in model.weights:  # random values; variances positive
            shift = 1.0 if "variance" in w.path else 0.0
            w.assign(rng.normal(size=w.shape).astype("float32") * 0.5 + shift)
        x = make_x(rng)
        x = x.astype("int32" if x.dtype.kind == "i" else "float32")
        y = np.asarray(model.predict(x, verbose=0))
        np.savez(
            os.path.join(OUT, name + ".npz"),
            x=x,
            y=y,
            keras_version=np.array(keras.__version__),
            backend=np.array(keras.backend.backend()),
        )
        model.save_weights(os.path.join(OUT, name + ".weights.h5"))
        model.save(os.path.join(OUT, name + ".h5"))
        model.save(os.path.join(OUT, name + ".keras"))
    for filename in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, filename))
        print(f"{filename}: {size} bytes")
    print(f"keras {keras.__version__} ({keras.backend.backend()} backend)")


if __name__ == "__main__":
    main(sys.argv[1:])
