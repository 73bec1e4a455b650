"""PyTorch state_dicts into nnlib models: layouts, gate orders, errors, and torch.

The state_dicts are built in PyTorch's exact names and layouts with numpy, and
each model's predictions are checked against a numpy forward pass written here
from the torch-layout arrays (PyTorch's own equations). Where torch is
installed, real torch modules are compared too.
"""

import itertools

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import nnlib
from nnlib import layers
from nnlib.checkpoint import (
    CheckpointMismatchError,
    from_torch_state_dict,
    load_torch_safetensors,
    nchw_to_nhwc_columns,
    save_safetensors,
    to_torch_state_dict,
)

F64 = {"dtype": "float64"}


def _rng(seed=0):
    return np.random.default_rng(seed)


def _normal(rng, *shape):
    return rng.normal(scale=0.5, size=shape)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _predict(model, x):
    return np.asarray(model(x).numpy())


# -- numpy references in PyTorch's layouts --------------------------------------


def _linear(x, sd, name):
    return x @ sd[f"{name}.weight"].T + sd[f"{name}.bias"]


def _conv2d_nchw(x, w, b):
    windows = sliding_window_view(x, w.shape[2:], axis=(2, 3))  # N C H W kh kw
    return np.einsum("nchwij,ocij->nohw", windows, w) + b[:, None, None]


def _batch_norm_nchw(x, sd, name, eps=1e-5):
    def per_channel(key):
        return sd[f"{name}.{key}"][:, None, None]

    normed = (x - per_channel("running_mean")) / np.sqrt(
        per_channel("running_var") + eps
    )
    return normed * per_channel("weight") + per_channel("bias")


def _torch_lstm(x, sd, name, hidden):
    h = c = np.zeros((len(x), hidden))
    for t in range(x.shape[1]):
        g = _linear(x[:, t], sd, name + ".ih") + _linear(h, sd, name + ".hh")
        i, f, gg, o = np.split(g, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(gg)
        h = _sigmoid(o) * np.tanh(c)
    return h


def _torch_gru(x, sd, name, hidden):
    h = np.zeros((len(x), hidden))
    for t in range(x.shape[1]):
        i_r, i_z, i_n = np.split(_linear(x[:, t], sd, name + ".ih"), 3, axis=-1)
        h_r, h_z, h_n = np.split(_linear(h, sd, name + ".hh"), 3, axis=-1)
        r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
        n = np.tanh(i_n + r * h_n)
        h = (1 - z) * n + z * h
    return h


def _torch_rnn(x, sd, name, hidden):
    h = np.zeros((len(x), hidden))
    for t in range(x.shape[1]):
        h = np.tanh(_linear(x[:, t], sd, name + ".ih") + _linear(h, sd, name + ".hh"))
    return h


def _rnn_state(rng, name, gates, features, hidden):
    return {
        f"{name}.weight_ih_l0": _normal(rng, gates * hidden, features),
        f"{name}.weight_hh_l0": _normal(rng, gates * hidden, hidden),
        f"{name}.bias_ih_l0": _normal(rng, gates * hidden),
        f"{name}.bias_hh_l0": _normal(rng, gates * hidden),
    }


def _split_view(sd, name):
    """``name.ih.weight`` etc. views of a recurrent module's l0 keys."""
    return {
        f"{name}.{part}.{kind}": sd[f"{name}.{kind}_{part}_l0"]
        for part in ("ih", "hh")
        for kind in ("weight", "bias")
    }


# -- numpy state_dicts ----------------------------------------------------------


def test_mlp():
    rng = _rng()
    sd = {
        "0.weight": _normal(rng, 8, 5),
        "0.bias": _normal(rng, 8),
        "2.weight": _normal(rng, 3, 8),
        "2.bias": _normal(rng, 3),
    }
    model = nnlib.Sequential(
        [layers.Dense(8, activation="relu", **F64), layers.Dense(3, **F64)]
    )
    x = _normal(rng, 4, 5)
    model(x)
    report = from_torch_state_dict(model, sd)
    assert report.matched == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    expected = _linear(np.maximum(_linear(x, sd, "0"), 0), sd, "2")
    np.testing.assert_allclose(_predict(model, x), expected, atol=1e-5)


def _cnn_state(rng):
    return {
        "features.0.weight": _normal(rng, 4, 2, 3, 3),  # OIHW
        "features.0.bias": _normal(rng, 4),
        "features.1.weight": rng.uniform(0.5, 1.5, 4),
        "features.1.bias": _normal(rng, 4),
        "features.1.running_mean": _normal(rng, 4),
        "features.1.running_var": rng.uniform(0.5, 1.5, 4),
        "features.1.num_batches_tracked": np.array(7, np.int64),
        "head.weight": _normal(rng, 3, 4),
        "head.bias": _normal(rng, 3),
    }


def _cnn():
    # Global pooling before the Linear: no channels-first flatten to undo.
    return nnlib.Sequential(
        [
            layers.Conv2D(4, 3, **F64),
            layers.BatchNormalization(epsilon=1e-5, **F64),
            layers.Activation("relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3, **F64),
        ]
    )


def test_cnn_conv2d_batchnorm_linear():
    rng = _rng(1)
    sd = _cnn_state(rng)
    x = _normal(rng, 2, 2, 6, 6)  # NCHW, as torch takes it
    model = _cnn()
    model(x.transpose(0, 2, 3, 1))
    report = from_torch_state_dict(model, sd)
    assert "batch_normalization/moving_variance" in report.matched
    assert not report.unexpected  # num_batches_tracked is ignored
    y = _conv2d_nchw(x, sd["features.0.weight"], sd["features.0.bias"])
    y = np.maximum(_batch_norm_nchw(y, sd, "features.1"), 0).mean(axis=(2, 3))
    expected = _linear(y, sd, "head")
    got = _predict(model, x.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_flatten_after_conv_needs_its_columns_reordered():
    rng = _rng(2)
    w, b = _normal(rng, 3, 2, 2, 2), _normal(rng, 3)
    fc_w, fc_b = _normal(rng, 2, 3 * 3 * 3), _normal(rng, 2)
    x = _normal(rng, 2, 2, 4, 4)
    feature_map = _conv2d_nchw(x, w, b)  # (N, 3, 3, 3)
    expected = feature_map.reshape(2, -1) @ fc_w.T + fc_b
    model = nnlib.Sequential(
        [layers.Conv2D(3, 2, **F64), layers.Flatten(), layers.Dense(2, **F64)]
    )
    model(x.transpose(0, 2, 3, 1))
    fixed = nchw_to_nhwc_columns(fc_w, (3, 3, 3))
    from_torch_state_dict(
        model, {"0.weight": w, "0.bias": b, "2.weight": fixed, "2.bias": fc_b}
    )
    got = _predict(model, x.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_embedding_lstm_linear():
    rng = _rng(3)
    sd = {"emb.weight": _normal(rng, 10, 4)}
    sd.update(_rnn_state(rng, "lstm", 4, 4, 5))
    sd.update({"fc.weight": _normal(rng, 2, 5), "fc.bias": _normal(rng, 2)})
    model = nnlib.Sequential(
        [layers.Embedding(10, 4, **F64), layers.LSTM(5, **F64), layers.Dense(2, **F64)]
    )
    ids = rng.integers(0, 10, size=(3, 6))
    model(ids)
    from_torch_state_dict(model, sd)
    h = _torch_lstm(sd["emb.weight"][ids], _split_view(sd, "lstm"), "lstm", 5)
    np.testing.assert_allclose(_predict(model, ids), _linear(h, sd, "fc"), atol=1e-5)


@pytest.mark.parametrize(
    "kind",
    [("gru", layers.GRU, 3, _torch_gru), ("rnn", layers.SimpleRNN, 1, _torch_rnn)],
    ids=["gru", "rnn"],
)
def test_gru_and_simple_rnn(kind):
    name, layer_class, gates, reference = kind
    rng = _rng(4)
    sd = _rnn_state(rng, name, gates, 3, 4)
    model = nnlib.Sequential([layer_class(4, **F64)])
    x = _normal(rng, 2, 5, 3)
    model(x)
    from_torch_state_dict(model, sd)
    expected = reference(x, _split_view(sd, name), name, 4)
    np.testing.assert_allclose(_predict(model, x), expected, atol=1e-5)
    back = to_torch_state_dict(model, modules=[name])
    assert list(back) == list(sd)
    for key in (f"{name}.weight_ih_l0", f"{name}.weight_hh_l0"):
        np.testing.assert_allclose(back[key], sd[key])


def test_layer_norm():
    rng = _rng(5)
    sd = {
        "norm.weight": rng.uniform(0.5, 1.5, 6),
        "norm.bias": _normal(rng, 6),
        "out.weight": _normal(rng, 2, 6),
        "out.bias": _normal(rng, 2),
    }
    model = nnlib.Sequential(
        [layers.LayerNormalization(epsilon=1e-5, **F64), layers.Dense(2, **F64)]
    )
    x = _normal(rng, 3, 6)
    model(x)
    from_torch_state_dict(model, sd)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    normed = (x - mean) / np.sqrt(var + 1e-5) * sd["norm.weight"] + sd["norm.bias"]
    np.testing.assert_allclose(
        _predict(model, x), _linear(normed, sd, "out"), atol=1e-5
    )


def test_tensor_like_values_are_converted_by_duck_typing():
    class FakeTensor:  # torch.Tensor's conversion protocol, without torch
        def __init__(self, array):
            self.array, self.dtype = array, "torch.float32"

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.array

    model = nnlib.Sequential([layers.Dense(2, input_shape=(3,))])
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    from_torch_state_dict(model, {"weight": FakeTensor(weight), "bias": np.ones(2)})
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), weight.T)


def test_round_trip_through_to_torch_state_dict():
    rng = _rng(6)

    def make():
        return nnlib.Sequential(
            [
                layers.Conv2D(3, 3, padding="same", **F64),
                layers.BatchNormalization(**F64),
                layers.Reshape((4 * 4, 3)),
                layers.Bidirectional(layers.GRU(2, return_sequences=True, **F64)),
                layers.LSTM(3, **F64),
                layers.Dense(2, **F64),
            ]
        )

    x = _normal(rng, 2, 4, 4, 2)
    source, target = make(), make()
    source(x), target(x)
    for v in source.variables:
        v.assign(rng.uniform(0.5, 1.5, v.shape))
    sd = to_torch_state_dict(source)
    assert "bidirectional.weight_ih_l0_reverse" in sd
    assert sd["batch_normalization.num_batches_tracked"].dtype == np.int64
    report = from_torch_state_dict(target, sd)
    assert len(report.matched) == len(source.variables)
    np.testing.assert_allclose(_predict(target, x), _predict(source, x), atol=1e-12)


# -- errors ---------------------------------------------------------------------


def _mlp_sd(rng, sizes=(5, 8, 3)):
    sd = {}
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        sd[f"{i}.weight"], sd[f"{i}.bias"] = _normal(rng, b, a), _normal(rng, b)
    return sd


def _mlp(*units):
    model = nnlib.Sequential([layers.Dense(u, **F64) for u in units])
    model(np.zeros((1, 5)))
    return model


def test_module_count_mismatch_names_both_lists():
    model = _mlp(8, 3, 2)
    before = [v.numpy().copy() for v in model.variables]
    with pytest.raises(CheckpointMismatchError) as info:
        from_torch_state_dict(model, _mlp_sd(_rng()))
    message = str(info.value)
    assert "2 modules" in message and "3 layers" in message
    assert "['0', '1']" in message and "dense_2 (Dense)" in message
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.variables))
    # strict=False pairs in order: a new head keeps its values...
    report = from_torch_state_dict(model, _mlp_sd(_rng()), strict=False)
    assert report.missing == ["dense_2/kernel", "dense_2/bias"]
    assert np.array_equal(before[-1], model.variables[-1].numpy())
    # ...and keys of modules beyond the model's layers are left, with a warning.
    with pytest.warns(UserWarning, match="no variable"):
        report = from_torch_state_dict(_mlp(8), _mlp_sd(_rng()), strict=False)
    assert report.unexpected == ["1.weight", "1.bias"]


def test_a_key_of_another_module_kind_is_named():
    sd = _mlp_sd(_rng())
    sd["1.running_mean"] = np.zeros(3)  # a BatchNorm where a Linear should be
    with pytest.raises(CheckpointMismatchError, match=r"'1\.running_mean'.*dense_1"):
        from_torch_state_dict(_mlp(8, 3), sd)


def test_unsupported_nnlib_layer_is_named_with_the_torch_keys():
    layer = layers.MultiHeadAttention(1, 2, name="mha")
    query = np.zeros((1, 2, 3), np.float32)
    layer(query, query)
    sd = {f"attn.{k}": np.ones(1) for k in ("in_proj_weight", "in_proj_bias")}
    sd.update({"attn.out_proj.weight": np.ones(1), "attn.out_proj.bias": np.ones(1)})
    with pytest.raises(CheckpointMismatchError, match="MultiHeadAttention.*in_proj"):
        from_torch_state_dict(layer, sd)
    with pytest.raises(ValueError, match="'mha' .MultiHeadAttention"):
        to_torch_state_dict(layer)


def test_shape_mismatch_names_torch_key_nnlib_variable_and_shapes():
    rng = _rng()
    sd = _mlp_sd(rng, (5, 7, 3))
    model = _mlp(8, 3)
    with pytest.raises(CheckpointMismatchError) as info:
        from_torch_state_dict(model, sd)
    message = str(info.value)
    assert "nnlib 'dense/kernel' (5, 8) <- torch '0.weight' (7, 5)" in message
    assert "skip_mismatch=True" in message
    with pytest.warns(UserWarning, match="skipping"):
        report = from_torch_state_dict(model, sd, skip_mismatch=True)
    assert report.skipped == ["dense/kernel", "dense/bias", "dense_1/kernel"]
    assert report.matched == ["dense_1/bias"]


def test_gru_without_reset_after_and_unbuilt_models_are_refused():
    sd = _rnn_state(_rng(), "gru", 3, 3, 2)
    model = nnlib.Sequential([layers.GRU(2, reset_after=False)])
    with pytest.raises(ValueError, match="call the model"):
        from_torch_state_dict(model, sd)
    model(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(ValueError, match="reset_after=True"):
        from_torch_state_dict(model, sd)


def test_modules_chooses_and_orders_torch_modules():
    rng = _rng()
    sd = {"b.weight": _normal(rng, 8, 5), "b.bias": _normal(rng, 8)}
    sd.update({"a.weight": _normal(rng, 3, 8), "a.bias": _normal(rng, 3)})
    sd["aux.weight"] = np.ones(2)
    model = _mlp(8, 3)
    with pytest.raises(CheckpointMismatchError, match="3 modules"):
        from_torch_state_dict(model, sd)
    with pytest.raises(CheckpointMismatchError, match=r"\['nope'\] are not"):
        from_torch_state_dict(model, sd, modules=["nope"])
    with pytest.warns(UserWarning, match="aux.weight"):
        report = from_torch_state_dict(model, sd, modules=["b", "a"], strict=False)
    assert report.unexpected == ["aux.weight"] and len(report.matched) == 4


def test_safetensors_files_of_sequentials_load_in_numeric_order(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy")
    rng = _rng(7)
    sizes = (5,) + (4,) * 11 + (3,)  # modules "0" to "11": "10" sorts before "2"
    sd = {k: v.astype(np.float32) for k, v in _mlp_sd(rng, sizes).items()}
    path = str(tmp_path / "torch.safetensors")
    st_numpy.save_file(sd, path)  # as safetensors.torch does: sorted, no order
    model = nnlib.Sequential([layers.Dense(u) for u in sizes[1:]])
    x = _normal(rng, 2, 5).astype(np.float32)
    model(x)
    load_torch_safetensors(model, path)
    expected = x
    for i in range(len(sizes) - 1):
        expected = _linear(expected, sd, str(i))
    np.testing.assert_allclose(_predict(model, x), expected, rtol=1e-4, atol=1e-5)
    # Named modules sort by name: the error says to give their order.
    st_numpy.save_file({"z.weight": sd["0.weight"], "a.weight": sd["1.weight"]}, path)
    small = nnlib.Sequential([layers.Dense(4, use_bias=False) for _ in range(2)])
    small(x)
    with pytest.raises(CheckpointMismatchError, match="modules=") as info:
        load_torch_safetensors(small, path)
    assert info.value.path == path
    load_torch_safetensors(small, path, modules=["z", "a"])
    # A file nnlib wrote keeps the state_dict's order.
    save_safetensors(path, {"z.weight": sd["0.weight"], "a.weight": sd["1.weight"]})
    assert load_torch_safetensors(small, path).matched == [
        "dense/kernel",
        "dense_1/kernel",
    ]


# -- real PyTorch ---------------------------------------------------------------


def _torch_out(module, x):
    torch = pytest.importorskip("torch")
    with torch.no_grad():
        out = module(torch.from_numpy(x))
    return (out[0] if isinstance(out, tuple) else out).numpy()


def _agree(torch_model, nnlib_model, x, nnlib_x=None, **load):
    nnlib_x = x if nnlib_x is None else nnlib_x
    nnlib_model(nnlib_x)
    from_torch_state_dict(nnlib_model, torch_model.state_dict(), **load)
    np.testing.assert_allclose(
        _predict(nnlib_model, nnlib_x), _torch_out(torch_model, x), atol=1e-5
    )


def test_torch_modules_agree():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    rng = _rng(8)
    x = rng.normal(size=(2, 3, 7, 7)).astype(np.float32)
    nhwc = x.transpose(0, 2, 3, 1)

    cnn = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 8, 3, groups=4),  # depthwise, multiplier 2
        nn.ConvTranspose2d(8, 2, 3, stride=2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2, 3),
    )
    with torch.no_grad():
        cnn[1].running_mean.uniform_(-1, 1)
        cnn[1].running_var.uniform_(0.5, 2)
    cnn.eval()
    ours = nnlib.Sequential(
        [
            layers.Conv2D(4, 3, padding="same"),
            layers.BatchNormalization(epsilon=1e-5),
            layers.Activation("relu"),
            layers.DepthwiseConv2D(3, depth_multiplier=2),
            layers.Conv2DTranspose(2, 3, strides=2),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3),
        ]
    )
    _agree(cnn, ours, x, nhwc)

    conv1d = nn.Sequential(nn.Conv1d(3, 4, 2), nn.Flatten(1), nn.Linear(24, 2))
    seq = rng.normal(size=(2, 3, 7)).astype(np.float32)
    ours = nnlib.Sequential([layers.Conv1D(4, 2), layers.Flatten(), layers.Dense(2)])
    ours(seq.transpose(0, 2, 1))
    sd = conv1d.state_dict()
    sd["2.weight"] = sd["2.weight"].reshape(2, 4, 6).transpose(1, 2).reshape(2, 24)
    from_torch_state_dict(ours, sd)
    np.testing.assert_allclose(
        _predict(ours, seq.transpose(0, 2, 1)), _torch_out(conv1d, seq), atol=1e-5
    )


class _Recurrent:
    """A torch recurrent module followed by a Linear on its last output."""

    def __init__(self, torch, rnn, features):
        self.rnn = rnn
        self.fc = torch.nn.Linear(features, 2)

    def state_dict(self):
        sd = {f"rnn.{k}": v for k, v in self.rnn.state_dict().items()}
        return sd | {f"fc.{k}": v for k, v in self.fc.state_dict().items()}

    def load_state_dict(self, sd):
        torch = pytest.importorskip("torch")
        for name in ("rnn", "fc"):
            part = {
                k.removeprefix(name + "."): torch.from_numpy(v)
                for k, v in sd.items()
                if k.startswith(name + ".")
            }
            getattr(self, name).load_state_dict(part)  # strict: every key fits

    def __call__(self, x):
        return self.fc(self.rnn(x)[0][:, -1])


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn", "stacked_bidirectional"])
def test_torch_recurrent_modules_agree_both_ways(kind):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(1)
    x = _rng(9).normal(size=(2, 5, 3)).astype(np.float32)
    if kind == "stacked_bidirectional":
        rnn = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
        model = _Recurrent(torch, rnn, 8)
        ours = nnlib.Sequential(
            [
                layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
                layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
                layers.Lambda(lambda h: h[:, -1]),
                layers.Dense(2),
            ]
        )
        names = ["rnn", "rnn", "fc"]
    else:
        torch_class = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        model = _Recurrent(torch, torch_class(3, 4, batch_first=True), 4)
        layer = {"lstm": layers.LSTM, "gru": layers.GRU, "rnn": layers.SimpleRNN}
        ours = nnlib.Sequential([layer[kind](4), layers.Dense(2)])
        names = ["rnn", "fc"]
    _agree(model, ours, x)
    # And back: nnlib's weights, exported, give torch the same outputs.
    for v in ours.variables:
        v.assign(_rng(10).uniform(-0.5, 0.5, v.shape).astype(np.float32))
    model.load_state_dict(to_torch_state_dict(ours, modules=names))
    np.testing.assert_allclose(_predict(ours, x), _torch_out(model, x), atol=1e-5)


def test_a_file_of_safetensors_torch_loads(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(2)
    nn = torch.nn
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.LayerNorm(4), nn.Linear(4, 2))
    path = str(tmp_path / "model.safetensors")
    safetensors_torch.save_file(net.state_dict(), path)
    ours = nnlib.Sequential(
        [
            layers.Dense(4, activation="tanh"),
            layers.LayerNormalization(epsilon=1e-5),
            layers.Dense(2),
        ]
    )
    x = _rng(11).normal(size=(3, 5)).astype(np.float32)
    ours(x)
    assert len(load_torch_safetensors(ours, path).matched) == 6
    np.testing.assert_allclose(_predict(ours, x), _torch_out(net, x), atol=1e-5)
