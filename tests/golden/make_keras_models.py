"""Writes the Keras whole-model files that ``test_keras_models.py`` loads.

Run once, from the repository root, with Keras 3 and PyTorch installed (Keras
is not an nnlib dependency; install it only to run this)::

    pip install keras==3.15.1
    KERAS_BACKEND=torch python3 tests/golden/make_keras_models.py [case ...]

(naming cases writes only theirs; every model is still built, so Keras's
automatic names stay the same). For each model of ``_models`` (functional
models: dict inputs and outputs, a shared layer, merges; masks, Bidirectional,
a nested Sequential and a nested functional model; a Lambda layer; ``RNN``
over cells; and a Sequential of the layers Keras spells differently from
nnlib) it writes,
under ``keras_models/``: ``<case>.keras`` (the archive), ``<case>.h5`` (legacy
``model.save``) and ``<case>.npz`` with the inputs (``x`` or ``x/<name>``),
Keras's predictions (``y`` or ``y/<name>``), the Keras and Python versions. The models
are compiled, so the files carry a ``compile_config`` (``.keras``) and a
``training_config`` (``.h5``). ``make_keras_files.py`` wrote the Sequential
models of ``keras/`` (uncompiled) the same way.

Importing this module has no side effects and needs no Keras (pytest's doctest
collection imports it): Keras is imported in ``main``.
"""

import os
import platform
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keras_models")


def _two_inputs(keras):
    """Two named inputs as a dict, a shared Dense, every merge, dict outputs."""
    L = keras.layers
    left = keras.Input((6,), name="left")
    right = keras.Input((6,), name="right")
    shared = L.Dense(5, activation="tanh", name="shared")
    a, b = shared(left), shared(right)
    joined = L.Concatenate(name="joined")([a, b])
    merged = [
        L.Add()([a, b]),
        L.Subtract()([a, b]),
        L.Multiply()([a, b]),
        L.Maximum()([a, b]),
        L.Minimum()([a, b]),
    ]
    mean = L.Average(name="mean")(merged)
    score = L.Dense(2, name="score")(joined)
    prob = L.Dense(1, activation="sigmoid", name="prob")(mean)
    model = keras.Model(
        {"left": left, "right": right}, {"score": score, "prob": prob}, name="pair"
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss={"score": "mse", "prob": "binary_crossentropy"},
        metrics={"prob": ["accuracy"]},
    )

    def inputs(r):
        return {
            "left": r.normal(size=(4, 6)).astype("float32"),
            "right": r.normal(size=(4, 6)).astype("float32"),
        }

    return model, inputs


def _nested(keras):
    """A list of three inputs, Masking, Embedding(mask_zero=True), Bidirectional
    LSTM and GRU, a nested Sequential and a nested functional model, Dropout,
    a list of outputs."""
    L = keras.layers
    seq = keras.Input((7, 3), name="sequence")
    extra = keras.Input((4,), name="extra")
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    masked = L.Masking(mask_value=0.0)(seq)
    hidden = L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode="sum")(masked)
    block = keras.Sequential(
        [L.Conv1D(5, 3, activation="relu"), L.GlobalMaxPooling1D()], name="block"
    )
    pooled = block(hidden)
    embedded = L.Embedding(9, 3, mask_zero=True)(tokens)
    read = L.SimpleRNN(2, name="read")(embedded)
    both = L.Concatenate()([pooled, L.Dense(3, activation="elu")(extra), read])
    both = L.Dropout(0.3)(both)
    head_in = keras.Input((10,), name="head_in")
    head = keras.Model(
        head_in, L.Dense(4, activation="softmax", name="classes")(head_in), name="head"
    )
    classes = head(both)
    gru = L.Bidirectional(L.GRU(2), merge_mode="concat", name="summary")(hidden)
    model = keras.Model([seq, extra, tokens], [classes, gru], name="nested")
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
        loss=["sparse_categorical_crossentropy", "mae"],
        metrics=[["accuracy"], []],
    )

    def inputs(r):
        x = r.normal(size=(3, 7, 3)).astype("float32")
        x[0, 5:] = 0.0  # masked steps
        ids = r.integers(1, 9, size=(3, 5)).astype("int32")
        ids[1, 3:] = 0  # masked steps
        return [x, r.normal(size=(3, 4)).astype("float32"), ids]

    return model, inputs


def _spelled_differently(keras):
    """A Sequential of layers nnlib spells differently: ReLU, LeakyReLU,
    Softmax, ELU layers; Reshape, Permute, pooling, DepthwiseConv2D."""
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((12,)),
            L.Reshape((3, 4, 1)),
            L.Conv2D(3, 2, padding="same", use_bias=False),
            L.LeakyReLU(negative_slope=0.2),
            L.DepthwiseConv2D(2, depth_multiplier=2),
            L.ReLU(max_value=6.0),
            L.AveragePooling2D(pool_size=(1, 2)),
            L.Permute((2, 1, 3)),
            L.GlobalAveragePooling2D(),
            L.Activation("gelu"),
            L.Dense(4),
            L.Softmax(),
        ],
        name="spelled",
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    # Large inputs, so that ReLU(max_value=6) clips and LeakyReLU's slope shows.
    return model, lambda r: (8 * r.normal(size=(2, 12))).astype("float32")


def _lambda(keras):
    """A Lambda layer (Python bytecode): refused in safe mode."""
    L = keras.layers
    x = keras.Input((3,), name="x")
    y = L.Lambda(lambda t: t * 2.0 + 1.0, name="affine")(L.Dense(2, name="dense")(x))
    model = keras.Model(x, y, name="with_lambda")
    return model, lambda r: r.normal(size=(2, 3)).astype("float32")


def _rnn_cells(keras):
    """RNN over an LSTMCell; over a stack of a GRUCell and a SimpleRNNCell,
    backwards, with its states; Bidirectional over RNN(GRUCell); after a mask."""
    L = keras.layers
    x = keras.Input((5, 3), name="steps")
    seq = L.RNN(L.LSTMCell(3), return_sequences=True, name="lstm_cells")(
        L.Masking(mask_value=0.0, name="mask")(x)
    )
    last, gru_h, simple_h = L.RNN(
        [L.GRUCell(2), L.SimpleRNNCell(2)],
        return_state=True,
        go_backwards=True,
        name="stacked",
    )(seq)
    both = L.Bidirectional(L.RNN(L.GRUCell(2, reset_after=False)), name="both_ways")(
        seq
    )
    joined = L.Concatenate(name="joined")([last, gru_h, both])
    model = keras.Model(x, [joined, simple_h], name="cells")

    def inputs(r):
        x = r.normal(size=(2, 5, 3)).astype("float32")
        x[0, 3:] = 0.0  # masked steps
        return x

    return model, inputs


def _models(keras):
    return {
        "functional_two_inputs": _two_inputs(keras),
        "functional_nested": _nested(keras),
        "sequential_spelled": _spelled_differently(keras),
        "functional_lambda": _lambda(keras),
        "functional_rnn_cells": _rnn_cells(keras),
    }


def _flat(prefix, value):
    if isinstance(value, dict):
        return {f"{prefix}/{k}": np.asarray(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return {f"{prefix}/{i}": np.asarray(v) for i, v in enumerate(value)}
    return {prefix: np.asarray(value)}


def main(cases=()):
    """Writes the files of ``cases`` (names of ``_models``; default all)."""
    os.environ["KERAS_BACKEND"] = "torch"
    warnings.simplefilter("ignore")
    import keras

    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(0)
    for name, (model, make_x) in _models(keras).items():
        if cases and name not in cases:
            continue
        rng = np.random.default_rng(0)
        for w in model.weights:  # random values; variances positive
            w.assign(rng.normal(size=w.shape).astype("float32") * 0.5)
        x = make_x(rng)
        y = model.predict(x, verbose=0)
        np.savez(
            os.path.join(OUT, name + ".npz"),
            **_flat("x", x),
            **_flat("y", y),
            keras_version=np.array(keras.__version__),
            backend=np.array(keras.backend.backend()),
            python_version=np.array(platform.python_version()),
        )
        # .keras first: Keras 3.15's legacy .h5 writer pops the optimizer out
        # of the model's compile config, so a later .keras would lack it.
        model.save(os.path.join(OUT, name + ".keras"))
        model.save(os.path.join(OUT, name + ".h5"))
    for filename in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, filename))
        print(f"{filename}: {size} bytes")
    print(f"keras {keras.__version__} ({keras.backend.backend()} backend)")


if __name__ == "__main__":
    main(sys.argv[1:])
