"""Functional models' configs, files, summaries and training."""

import json

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.checkpoint import CheckpointConfigError

_RNG = np.random.default_rng(1)


def _x(*shape):
    return _RNG.normal(size=shape).astype(np.float32)


def _branchy_model(name="branchy"):
    """Two inputs, a shared layer, a nested model, a Sequential, ops, a dict out."""
    a = nnlib.Input(shape=(3,), name="a")
    b = nnlib.Input(shape=(None, 3), name="b")
    x = nnlib.Input(shape=(3,))
    inner = nnlib.Model(x, layers.Dense(3, activation="tanh")(x), name="inner")
    shared = layers.Dense(4, name="shared")
    pooled = layers.GlobalAveragePooling1D()(layers.LSTM(3, return_sequences=True)(b))
    joined = layers.Concatenate()([shared(inner(a)), shared(pooled)])
    seq = nnlib.Sequential([layers.Dense(5), layers.BatchNormalization()], name="seq")
    outputs = {
        "score": layers.Dense(1)(seq(joined)),
        "probs": layers.Dense(3, activation="softmax")(joined * 0.5 + joined[:, :1]),
    }
    return nnlib.Model({"a": a, "b": b}, outputs, name=name)


def _data(n=6):
    return {"a": _x(n, 3), "b": _x(n, 4, 3)}


def _assert_same(x, y):
    for key in x:
        np.testing.assert_allclose(np.asarray(x[key]), np.asarray(y[key]), rtol=1e-5)


def test_the_config_has_keras_functional_structure():
    config = _branchy_model("structure").get_config()
    assert set(config) >= {"name", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    shared = next(entry for entry in config["layers"] if entry["name"] == "shared")
    assert len(shared["inbound_nodes"]) == 2
    history = shared["inbound_nodes"][1]["args"][0]["config"]["keras_history"]
    assert history == ["global_average_pooling1d", 0, 0]
    inner = next(entry for entry in config["layers"] if entry["name"] == "inner")
    assert inner["class_name"] == "Model" and "layers" in inner["config"]
    json.dumps(config)  # written as JSON by model.save


def test_from_config_rebuilds_a_model_that_computes_the_same():
    model = _branchy_model("round_trip")
    data = _data()
    expected = model(data)
    clone = nnlib.Model.from_config(json.loads(json.dumps(model.get_config())))
    assert [layer.name for layer in clone.layers] == [
        layer.name for layer in model.layers
    ]
    clone.set_weights(model.get_weights())
    _assert_same(clone(data), expected)


def test_save_and_load_model_round_trip(tmp_path):
    model = _branchy_model("saved")
    model.compile(
        optimizer="adam",
        loss={"score": "mse", "probs": "sparse_categorical_crossentropy"},
    )
    data = _data(8)
    targets = {"score": _x(8, 1), "probs": _RNG.integers(0, 3, 8)}
    model.fit(data, targets, epochs=1, batch_size=4, verbose=0)
    path = model.save(tmp_path / "model.h5")
    loaded = nnlib.load_model(path)
    assert type(loaded) is nnlib.Model
    _assert_same(loaded(data), model(data))
    relative = [v.name.split("/", 1)[1] for v in loaded.variables]
    assert relative == [v.name.split("/", 1)[1] for v in model.variables]
    # Training goes on where it stopped: same optimizer state, same step.
    before = model.train_on_batch(data, targets)
    assert np.isclose(loaded.train_on_batch(data, targets), before, rtol=1e-4)


def test_load_model_keeps_safe_mode_for_layers_inside(tmp_path):
    class Doubling(layers.Layer):
        def call(self, inputs):
            return inputs * 2

        def compute_output_shape(self, input_shape):
            return input_shape

    x = nnlib.Input(shape=(2,))
    model = nnlib.Model(x, layers.Dense(1)(Doubling()(x)))
    path = model.save(tmp_path / "custom.h5")
    with pytest.raises(CheckpointConfigError, match="safe mode.*Doubling"):
        nnlib.load_model(path)
    loaded = nnlib.load_model(path, custom_objects={"Doubling": Doubling})
    data = _x(3, 2)
    np.testing.assert_allclose(loaded(data).numpy(), model(data).numpy(), rtol=1e-6)


def test_a_layer_without_compute_output_shape_loads_inside_its_model(tmp_path):
    class Scale(layers.Layer):  # traced: run on zeros to find its shapes
        def build(self, input_shape):
            self.w = self.add_weight("w", shape=(input_shape[-1],))

        def call(self, inputs):
            return inputs * self.w

    # 1.6 MB of weights: built twice, they would pass load_model's budget
    # (the stored bytes + 1 MiB), so the run on zeros must build for good.
    x = nnlib.Input(shape=(400_000,))
    model = nnlib.Model(x, layers.GlobalMaxPooling1D()(Scale()(x)[:, None]))
    path = model.save(tmp_path / "traced.h5")
    loaded = nnlib.load_model(path, custom_objects={"Scale": Scale})
    assert [v.name.split("/", 1)[1] for v in loaded.variables] == ["scale/w"]
    data = _x(2, 400_000)
    np.testing.assert_allclose(loaded(data).numpy(), model(data).numpy(), rtol=1e-6)


def test_a_lambda_layer_cannot_be_saved_and_says_so(tmp_path):
    x = nnlib.Input(shape=(2,))
    model = nnlib.Model(x, layers.Lambda(lambda t: t * 2, name="double")(x))
    with pytest.raises(ValueError, match="Lambda layer 'double'.*rebuild it in code"):
        model.save(tmp_path / "lambda.h5")


def test_summary_shows_what_each_layer_is_connected_to():
    lines = []
    _branchy_model("summarized").summary(print_fn=lines.append)
    text = lines[0]
    assert "Connected to" in text.splitlines()[1]
    rows = {line.split()[0]: line for line in text.splitlines()[3:]}
    assert rows["a"].rstrip().endswith("-")
    assert (
        rows["shared"].rstrip().endswith("inner[0][0], global_average_pooling1d[0][0]")
    )
    assert "(None, 8)" in rows["concatenate"]
    assert rows["lstm"].split()[2:5] == ["(None,", "None,", "3)"]


def test_fit_evaluate_predict_with_several_inputs_and_outputs():
    a, b = nnlib.Input(shape=(3,), name="a"), nnlib.Input(shape=(2,), name="b")
    joined = layers.Concatenate()([a, b])
    first = layers.Dense(1, name="first")(joined)
    second = layers.Dense(2, name="second")(joined)
    model = nnlib.Model([a, b], [first, second])
    model.compile(
        optimizer=nnlib.optimizers.GradientDescent(0.1),
        loss={"first": "mse", "second": "mse"},  # keyed by output name
        loss_weights={"first": 1.0, "second": 0.5},
    )
    x = [_x(32, 3), _x(32, 2)]
    y = [x[0][:, :1] * 2, x[1] - 1]
    history = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] / 4
    assert model.evaluate(x, y, verbose=0) == pytest.approx(losses[-1], rel=0.5)
    predicted = model.predict(x, batch_size=5)
    assert [p.shape for p in predicted] == [(32, 1), (32, 2)]


def test_models_nested_in_a_sequential_reload_into_its_scope(tmp_path):
    x = nnlib.Input(shape=(3,))
    inner = nnlib.Model(x, layers.Dense(2)(x), name="inner_fn")
    stacked = nnlib.Sequential(
        [nnlib.Sequential([layers.Dense(3, input_shape=(3,))], name="first"), inner],
        name="stacked",
    )
    assert stacked.built
    loaded = nnlib.load_model(stacked.save(tmp_path / "stacked.h5"))
    data = _x(2, 3)
    np.testing.assert_allclose(loaded(data).numpy(), stacked(data).numpy(), rtol=1e-6)
    assert [v.name.split("/", 1)[1] for v in loaded.variables] == [
        "first/dense/kernel",
        "first/dense/bias",
        "inner_fn/dense/kernel",
        "inner_fn/dense/bias",
    ]
