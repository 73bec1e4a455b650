"""Keras HDF5 weight files: legacy .h5 and Keras 3 .weights.h5 into nnlib models.

The files are written here with h5py in Keras's exact layouts (legacy:
``save_weights_to_hdf5_group``; Keras 3: ``saving_lib``'s ``H5IOStore``), and
predictions are checked against a numpy forward pass of the raw arrays.
"""

import io
import json
import zipfile

import h5py
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import nnlib
from nnlib import layers
from nnlib.checkpoint import (
    CheckpointCorruptError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    keras_h5,
    weights,
)

CELLS = {"lstm": "lstm_cell", "gru": "gru_cell", "simple_rnn": "simple_rnn_cell"}


class KL:
    """One Keras layer: its class as Keras names it and its weights in order.

    ``inner`` is the wrapped layer's class for a Bidirectional, whose weights
    are the forward layer's then the backward layer's.
    """

    def __init__(self, kind, weights=(), inner=None):
        self.kind, self.weights, self.inner = kind, list(weights), inner

    def arrays(self):
        return [a for _, a in self.weights]


# -- writing files as Keras does --------------------------------------------------


def legacy_weight_names(name, kl):
    if kl.kind == "bidirectional":
        half = len(kl.weights) // 2
        return [
            f"{name}/{side}_{kl.inner}/{CELLS[kl.inner]}/{short}:0"
            for side, (short, _) in zip(
                ["forward"] * half + ["backward"] * half, kl.weights
            )
        ]
    cell = f"{CELLS[kl.kind]}/" if kl.kind in CELLS else ""
    return [f"{name}/{cell}{short}:0" for short, _ in kl.weights]


def write_legacy(path, klayers, names=None, listed=None, whole=False):
    """tf.keras's ``save_weights("w.h5")`` (or ``save("m.h5")`` with ``whole``)."""
    names = names or [f"{kl.kind}_{i + 7}" for i, kl in enumerate(klayers)]
    with h5py.File(path, "w") as f:
        root = f
        if whole:
            f.attrs["model_config"] = json.dumps({"class_name": "Sequential"}).encode()
            f.attrs["keras_version"] = b"2.15.0"
            f.attrs["backend"] = b"tensorflow"
            root = f.create_group("model_weights")
            opt = f.create_group("optimizer_weights")
            opt.attrs["weight_names"] = [b"Adam/iter:0"]
            opt["Adam/iter:0"] = np.int64(3)
        root.attrs["layer_names"] = [n.encode() for n in (listed or names)]
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = b"2.15.0"
        for name, kl in sorted(zip(names, klayers), key=lambda e: e[0]):
            group = root.create_group(name)
            weight_names = legacy_weight_names(name, kl)
            group.attrs["weight_names"] = [w.encode() for w in weight_names]
            for weight, array in zip(weight_names, kl.arrays()):
                group.create_dataset(weight, data=array)
    return path


def keras3_groups(kl):
    if kl.kind == "bidirectional":
        half = len(kl.weights) // 2
        return {
            "": [],
            "forward_layer": [],
            "forward_layer/cell": kl.arrays()[:half],
            "backward_layer": [],
            "backward_layer/cell": kl.arrays()[half:],
        }
    if kl.kind in CELLS:
        return {"": [], "cell": kl.arrays()}
    return {"": kl.arrays()}


def write_keras3(path, klayers, prefix="layers", archive=False):
    """Keras 3's ``save_weights("w.weights.h5")`` of a Sequential model."""
    buffer = io.BytesIO() if archive else path
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")  # the model's own (none)
        counts = {}
        for kl in klayers:
            k = counts[kl.kind] = counts.get(kl.kind, -1) + 1
            base = f"{prefix}/{kl.kind}" + (f"_{k}" if k else "")
            for sub, arrays in keras3_groups(kl).items():
                group = f.create_group("/".join(p for p in (base, sub, "vars") if p))
                for i, array in enumerate(arrays):
                    group[str(i)] = array
        optimizer = f.create_group("optimizer/vars")  # not the model's concern
        optimizer["0"] = np.int64(5)
    if archive:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("metadata.json", json.dumps({"keras_version": "3.5.0"}))
            z.writestr("config.json", json.dumps({"class_name": "Sequential"}))
            z.writestr("model.weights.h5", buffer.getvalue())
    return path


def write(layout, path, klayers):
    if layout == "legacy":
        return write_legacy(path / "w.h5", klayers)
    if layout == "keras3":
        return write_keras3(path / "w.weights.h5", klayers)
    return write_keras3(path / "m.keras", klayers, archive=True)


# -- numpy references -------------------------------------------------------------


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def conv(x, kernel, bias):
    """Valid, stride-1, channels-last convolution of rank 1 or 2."""
    size = kernel.shape[:-2]
    windows = sliding_window_view(x, size, axis=tuple(range(1, 1 + len(size))))
    if len(size) == 1:
        return np.einsum("ntck,kcf->ntf", windows, kernel) + bias
    return np.einsum("nhwcij,ijcf->nhwf", windows, kernel) + bias


def normalize(x, gamma, beta, mean, var, eps=1e-3):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def recurrent(kind, x, kernel, rec, bias, sequences=False, backwards=False):
    n, units = x.shape[0], rec.shape[0]
    h, c, outputs = np.zeros((n, units)), np.zeros((n, units)), []
    steps = range(x.shape[1])
    for t in reversed(steps) if backwards else steps:
        xt = x[:, t]
        if kind == "simple_rnn":
            h = np.tanh(xt @ kernel + h @ rec + bias)
        elif kind == "lstm":
            i, f, g, o = np.split(xt @ kernel + h @ rec + bias, 4, axis=-1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        else:
            u = units
            if bias.ndim == 2:  # reset_after
                xz, hz = xt @ kernel + bias[0], h @ rec + bias[1]
                z = sigmoid(xz[:, :u] + hz[:, :u])
                r = sigmoid(xz[:, u : 2 * u] + hz[:, u : 2 * u])
                hh = np.tanh(xz[:, 2 * u :] + r * hz[:, 2 * u :])
            else:
                xz = xt @ kernel + bias
                z = sigmoid(xz[:, :u] + h @ rec[:, :u])
                r = sigmoid(xz[:, u : 2 * u] + h @ rec[:, u : 2 * u])
                hh = np.tanh(xz[:, 2 * u :] + (r * h) @ rec[:, 2 * u :])
            h = z * h + (1 - z) * hh
        outputs.append(h)
    return np.stack(outputs, axis=1) if sequences else h


# -- models: (nnlib model, Keras layers, input, numpy forward) ---------------------


def _w(rng, *shape):
    return rng.normal(scale=0.5, size=shape).astype(np.float32)


def _dense(rng, n_in, n_out):
    return KL("dense", [("kernel", _w(rng, n_in, n_out)), ("bias", _w(rng, n_out))])


def _rnn(rng, kind, n_in, units, gates, bias_shape=None):
    return KL(
        kind,
        [
            ("kernel", _w(rng, n_in, gates * units)),
            ("recurrent_kernel", _w(rng, units, gates * units)),
            ("bias", _w(rng, *(bias_shape or (gates * units,)))),
        ],
    )


def mlp(rng):
    model = nnlib.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(5,)),
            layers.Dropout(0.5),
            layers.Dense(3),
        ]
    )
    kls = [_dense(rng, 5, 8), KL("dropout"), _dense(rng, 8, 3)]
    (k1, b1), (k2, b2) = kls[0].arrays(), kls[2].arrays()
    return model, kls, _w(rng, 4, 5), lambda x: np.maximum(x @ k1 + b1, 0) @ k2 + b2


def conv1d(rng):
    model = nnlib.Sequential(
        [
            layers.Conv1D(4, 3, activation="relu", input_shape=(7, 2)),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    kls = [
        KL("conv1d", [("kernel", _w(rng, 3, 2, 4)), ("bias", _w(rng, 4))]),
        KL("flatten"),
        _dense(rng, 20, 2),
    ]
    (k, b), (k2, b2) = kls[0].arrays(), kls[2].arrays()

    def forward(x):
        return np.maximum(conv(x, k, b), 0).reshape(len(x), -1) @ k2 + b2

    return model, kls, _w(rng, 3, 7, 2), forward


def cnn(rng):
    model = nnlib.Sequential(
        [
            layers.Conv2D(3, 3, input_shape=(6, 6, 2)),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    stats = [_w(rng, 3), _w(rng, 3), _w(rng, 3), rng.uniform(0.5, 2, 3)]
    kls = [
        KL("conv2d", [("kernel", _w(rng, 3, 3, 2, 3)), ("bias", _w(rng, 3))]),
        KL(
            "batch_normalization",
            zip(["gamma", "beta", "moving_mean", "moving_variance"], stats),
        ),
        KL("flatten"),
        _dense(rng, 48, 2),
    ]
    (k, b), (k2, b2) = kls[0].arrays(), kls[3].arrays()

    def forward(x):
        return normalize(conv(x, k, b), *stats).reshape(len(x), -1) @ k2 + b2

    return model, kls, _w(rng, 2, 6, 6, 2), forward


def embedding_rnn(rng):
    model = nnlib.Sequential(
        [
            layers.Embedding(10, 4, input_shape=(6,)),
            layers.SimpleRNN(5),
            layers.Dense(2),
        ]
    )
    table = _w(rng, 10, 4)
    kls = [KL("embedding", [("embeddings", table)])]
    kls += [_rnn(rng, "simple_rnn", 4, 5, 1), _dense(rng, 5, 2)]
    (k2, b2) = kls[2].arrays()

    def forward(ids):
        return recurrent("simple_rnn", table[ids], *kls[1].arrays()) @ k2 + b2

    return model, kls, rng.integers(0, 10, (3, 6)), forward


def lstm(rng):
    model = nnlib.Sequential(
        [layers.LSTM(4, return_sequences=True, input_shape=(5, 3)), layers.LSTM(3)]
    )
    kls = [_rnn(rng, "lstm", 3, 4, 4), _rnn(rng, "lstm", 4, 3, 4)]

    def forward(x):
        first = recurrent("lstm", x, *kls[0].arrays(), sequences=True)
        return recurrent("lstm", first, *kls[1].arrays())

    return model, kls, _w(rng, 2, 5, 3), forward


def gru(reset_after):
    def make(rng):
        model = nnlib.Sequential(
            [layers.GRU(4, reset_after=reset_after, input_shape=(5, 3))]
        )
        shape = (2, 12) if reset_after else (12,)
        kls = [_rnn(rng, "gru", 3, 4, 3, shape)]
        return (
            model,
            kls,
            _w(rng, 2, 5, 3),
            lambda x: recurrent("gru", x, *kls[0].arrays()),
        )

    make.__name__ = f"gru_reset_after_{reset_after}"
    return make


def layer_norm(rng):
    model = nnlib.Sequential(
        [
            layers.Dense(6, input_shape=(4,)),
            layers.LayerNormalization(),
            layers.Dense(2),
        ]
    )
    gamma, beta = _w(rng, 6), _w(rng, 6)
    kls = [
        _dense(rng, 4, 6),
        KL("layer_normalization", [("gamma", gamma), ("beta", beta)]),
    ]
    kls.append(_dense(rng, 6, 2))
    (k1, b1), (k2, b2) = kls[0].arrays(), kls[2].arrays()

    def forward(x):
        y = x @ k1 + b1
        mean, var = y.mean(-1, keepdims=True), y.var(-1, keepdims=True)
        return normalize(y, gamma, beta, mean, var) @ k2 + b2

    return model, kls, _w(rng, 3, 4), forward


def bidirectional(rng):
    model = nnlib.Sequential(
        [layers.Bidirectional(layers.LSTM(3), input_shape=(5, 2)), layers.Dense(2)]
    )
    fw, bw = _rnn(rng, "lstm", 2, 3, 4), _rnn(rng, "lstm", 2, 3, 4)
    kls = [KL("bidirectional", fw.weights + bw.weights, inner="lstm")]
    kls.append(_dense(rng, 6, 2))
    (k2, b2) = kls[1].arrays()

    def forward(x):
        both = [
            recurrent("lstm", x, *fw.arrays()),
            recurrent("lstm", x, *bw.arrays(), backwards=True),
        ]
        return np.concatenate(both, axis=-1) @ k2 + b2

    return model, kls, _w(rng, 2, 5, 2), forward


MODELS = [
    mlp,
    conv1d,
    cnn,
    embedding_rnn,
    lstm,
    gru(True),
    gru(False),
    layer_norm,
    bidirectional,
]


@pytest.mark.parametrize("layout", ["legacy", "keras3", "archive"])
@pytest.mark.parametrize("make", MODELS, ids=lambda m: m.__name__)
def test_keras_weights_predict_like_the_numpy_reference(tmp_path, make, layout):
    model, kls, x, forward = make(np.random.default_rng(0))
    path = write(layout, tmp_path, kls)
    report = model.load_weights(path, by_name=False)
    assert not report.mismatched and len(report.matched) == len(model.variables)
    np.testing.assert_allclose(model(x).numpy(), forward(x), rtol=1e-5, atol=1e-5)


def test_default_pairs_legacy_layers_by_order_whatever_their_names(tmp_path, helpers):
    model, kls, x, forward = mlp(np.random.default_rng(1))
    path = write_legacy(tmp_path / "w.h5", kls, names=["a", "b", "c"])
    assert keras_h5.keras_format(path) == "legacy" and keras_h5.is_keras_file(path)
    keras_h5.load_keras_weights(model, path)
    np.testing.assert_allclose(model(x).numpy(), forward(x), rtol=1e-5, atol=1e-5)
    helpers.scramble(model)
    weights.load_layer_weights(model, path)  # by_name=None: Keras's default
    np.testing.assert_allclose(model(x).numpy(), forward(x), rtol=1e-5, atol=1e-5)


def test_by_name_pairs_layers_by_name_in_any_file_order(tmp_path):
    model, kls, x, forward = mlp(np.random.default_rng(2))
    names = ["dense", "dropout", "dense_1"]
    # The second Dense first: by order it would not even fit.
    path = write_legacy(
        tmp_path / "w.h5",
        [kls[2], kls[1], kls[0]],
        names=names[::-1],
        listed=["dense_1", "dropout", "dense"],
    )
    with pytest.raises(CheckpointMismatchError):
        model.load_weights(path, by_name=False)
    report = model.load_weights(path, by_name=True)
    assert report.matched == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    np.testing.assert_allclose(model(x).numpy(), forward(x), rtol=1e-5, atol=1e-5)


def test_whole_model_file_loads_its_model_weights_group(tmp_path):
    model, kls, x, forward = cnn(np.random.default_rng(3))
    path = write_legacy(tmp_path / "m.h5", kls, whole=True)
    model.load_weights(path, by_name=False)
    np.testing.assert_allclose(model(x).numpy(), forward(x), rtol=1e-5, atol=1e-5)


def test_layer_names_split_into_chunks_are_joined(tmp_path):
    model, kls, x, forward = mlp(np.random.default_rng(4))
    path = write_legacy(tmp_path / "w.h5", kls)
    with h5py.File(path, "a") as f:  # as Keras writes attributes over 64 KiB
        names = f.attrs["layer_names"]
        del f.attrs["layer_names"]
        f.attrs["layer_names0"] = np.asarray([n.encode() for n in names[:2]])
        f.attrs["layer_names1"] = np.asarray([n.encode() for n in names[2:]])
    model.load_weights(path, by_name=False)
    np.testing.assert_allclose(model(x).numpy(), forward(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("frozen", [False, True])
def test_nested_model_weights_come_in_keras_order(tmp_path, frozen):
    rng = np.random.default_rng(5)
    inner = nnlib.Sequential([layers.BatchNormalization(), layers.Dense(2)])
    model = nnlib.Sequential([inner, layers.Dense(1)])
    model(np.zeros((1, 3), np.float32))
    inner.trainable = not frozen  # freezing changes no file order
    gamma, beta, mean, var = _w(rng, 3), _w(rng, 3), _w(rng, 3), rng.uniform(1, 2, 3)
    dense, last = _dense(rng, 3, 2), _dense(rng, 2, 1)
    # Keras lists a model's trainable weights first: BN's statistics come last.
    nested = KL("sequential", [("g", gamma), ("b", beta), *dense.weights])
    nested.weights += [("m", mean), ("v", var)]
    path = write_legacy(tmp_path / "w.h5", [nested, last])
    model.load_weights(path, by_name=False)
    x = _w(rng, 4, 3)
    expected = normalize(x, gamma, beta, mean, var) @ dense.arrays()[0]
    expected = (expected + dense.arrays()[1]) @ last.arrays()[0] + last.arrays()[1]
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_layer_count_mismatch_names_both_lists(tmp_path):
    model, kls, _, _ = mlp(np.random.default_rng(6))
    extra = _dense(np.random.default_rng(7), 3, 3)
    path = write_legacy(tmp_path / "w.h5", [*kls, extra])
    with pytest.raises(CheckpointMismatchError) as info:
        model.load_weights(path, by_name=False)
    message = str(info.value)
    assert (
        "file has 3 layers with weights ['dense_7', 'dense_9', 'dense_10']" in message
    )
    assert "model has 2 ['dense', 'dense_1']" in message and "by_name=True" in message


def test_shape_mismatch_names_keras_layer_weight_variable_and_shapes(tmp_path, helpers):
    model, kls, _, _ = mlp(np.random.default_rng(8))
    kls[2] = _dense(np.random.default_rng(9), 8, 4)
    path = write_legacy(tmp_path / "w.h5", kls)
    before = helpers.values(model)
    with pytest.raises(CheckpointMismatchError) as info:
        model.load_weights(path, by_name=False)
    message = str(info.value)
    assert (
        "dense_1/kernel: Keras layer 'dense_9', weight 'dense_9/kernel:0': "
        "saved (8, 4), model (8, 3)" in message
    )
    assert "dense_1/bias" in message and "skip_mismatch=True" in message
    assert helpers.same(before, helpers.values(model))  # nothing changed


def test_skip_mismatch_loads_the_rest(tmp_path):
    model, kls, _, _ = mlp(np.random.default_rng(10))
    kls[2] = _dense(np.random.default_rng(11), 8, 4)
    path = write_legacy(tmp_path / "w.h5", kls)
    with pytest.warns(UserWarning, match="skipping 'dense_1/(kernel|bias)'") as record:
        report = model.load_weights(path, by_name=False, skip_mismatch=True)
    assert {w.filename for w in record} == {__file__}  # the user's line
    assert report.skipped == ["dense_1/kernel", "dense_1/bias"]
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), kls[0].arrays()[0])


def test_strict_false_by_name_loads_the_layers_both_have(tmp_path):
    model, kls, _, _ = mlp(np.random.default_rng(12))
    path = write_legacy(tmp_path / "w.h5", kls, names=["dense", "dropout", "head"])
    with pytest.raises(CheckpointMismatchError, match="2 missing, 2 unexpected"):
        model.load_weights(path, by_name=True)
    with pytest.warns(UserWarning, match="match no variable"):
        report = model.load_weights(path, by_name=True, strict=False)
    assert report.matched == ["dense/kernel", "dense/bias"]
    assert report.missing == ["dense_1/kernel", "dense_1/bias"]
    assert report.unexpected == ["head/kernel:0", "head/bias:0"]


def test_weight_count_mismatch_in_a_layer_pairs_nothing(tmp_path):
    model = nnlib.Sequential([layers.Dense(2, use_bias=False, input_shape=(3,))])
    path = write_legacy(tmp_path / "w.h5", [_dense(np.random.default_rng(13), 3, 2)])
    with pytest.raises(CheckpointMismatchError, match="'dense_7' has 2 weights"):
        model.load_weights(path, by_name=False)


def test_keras3_extra_layer_is_unexpected_and_optimizer_ignored(tmp_path):
    model, kls, _, _ = mlp(np.random.default_rng(14))
    path = write_keras3(
        tmp_path / "w.weights.h5", [*kls, _dense(np.random.default_rng(15), 3, 3)]
    )
    assert keras_h5.keras_format(path) == "keras3"
    with pytest.raises(CheckpointMismatchError) as info:
        model.load_weights(path)
    assert info.value.report.unexpected == [
        "layers/dense_2/vars/0",
        "layers/dense_2/vars/1",
    ]


def test_keras3_subclassed_model_layout(tmp_path, make_mlp):
    model = make_mlp(hidden=4)  # attributes hidden and logits, as a Keras subclass
    rng = np.random.default_rng(16)
    hidden, logits = _dense(rng, 5, 4), _dense(rng, 4, 3)
    # Keras 3 walks sorted attributes: "hidden", then "layers" (dense_1 there,
    # since "logits" comes later).
    with h5py.File(tmp_path / "w.weights.h5", "w") as f:
        f.create_group("vars")
        for where, kl in (("hidden", hidden), ("layers/dense_1", logits)):
            group = f.create_group(f"{where}/vars")
            for i, array in enumerate(kl.arrays()):
                group[str(i)] = array
    model.load_weights(tmp_path / "w.weights.h5")
    x = _w(rng, 2, 5)
    (k1, b1), (k2, b2) = hidden.arrays(), logits.arrays()
    expected = np.maximum(x @ k1 + b1, 0) @ k2 + b2
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_unbuilt_model_is_a_clear_error(tmp_path):
    model = nnlib.Sequential([layers.Dense(8), layers.Dense(3)])
    path = write_legacy(tmp_path / "w.h5", mlp(np.random.default_rng(17))[1])
    with pytest.raises(ValueError, match="call the model on a batch of data"):
        model.load_weights(path, by_name=False)


def test_files_that_are_not_keras_give_clear_errors(tmp_path):
    model, kls, _, _ = mlp(np.random.default_rng(18))
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.ones(3)
    assert keras_h5.keras_format(other) is None
    with pytest.raises(CheckpointCorruptError, match="not an nnlib checkpoint"):
        model.load_weights(other)
    with pytest.raises(CheckpointCorruptError, match="not a Keras weights file"):
        keras_h5.load_keras_weights(model, other)
    text = tmp_path / "w.h5"
    text.write_text("not hdf5")
    with pytest.raises(CheckpointCorruptError, match="not an HDF5 file"):
        keras_h5.load_keras_weights(model, text)
    with pytest.raises(CheckpointNotFoundError):
        keras_h5.load_keras_weights(model, tmp_path / "missing.h5")
    full = write_legacy(tmp_path / "full.h5", kls).read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(CheckpointCorruptError, match="truncated"):
        model.load_weights(cut, by_name=False)
