"""Keras configs nnlib cannot take, hostile Keras model files, Keras 2's
format: ``load_model`` and ``keras_config.translate`` on edited copies of the
files real Keras wrote (``tests/golden/keras``, ``tests/golden/keras_models``).
"""

import base64
import json
import marshal
import os
import shutil
import zipfile

import h5py
import numpy as np
import pytest

import nnlib
from nnlib.checkpoint.errors import (
    CheckpointConfigError,
    CheckpointMismatchError,
    CheckpointUnsafeError,
)
from nnlib.checkpoint.keras_config import translate

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")
FORMATS = (".keras", ".h5")


def _file(case, suffix):
    folder = "keras" if case == "mlp" else "keras_models"
    return os.path.join(GOLDEN, folder, case + suffix)


def _data(case):
    with np.load(_file(case, ".npz")) as data:
        return data["x"], data["y"]


def _close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _dense(**extra):
    policy = {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "float32"},
    }
    config = {"name": "d", "trainable": True, "dtype": policy, "units": 2, **extra}
    return {"module": "keras.layers", "class_name": "Dense", "config": config}


def test_keras_arguments_at_their_neutral_values_load():
    spec = translate(
        _dense(
            kernel_constraint=None, activity_regularizer=None, quantization_config=None
        ),
        "m.keras",
    )
    assert spec == {
        "class_name": "Dense",
        "config": {"name": "d", "trainable": True, "dtype": "float32", "units": 2},
    }


@pytest.mark.parametrize(
    "extra, words",
    [
        (
            {
                "kernel_constraint": {
                    "class_name": "MaxNorm",
                    "config": {"max_value": 2},
                }
            },
            r"layer 'd' \(Dense\): argument kernel_constraint=\{'class_name': 'MaxNorm'.*no weight constraints",
        ),
        (
            {"activity_regularizer": {"class_name": "L2", "config": {"l2": 0.1}}},
            r"argument activity_regularizer=.*nnlib has no activity regularizers \(only None loads\)",
        ),
        ({"lora_rank": 4}, r"argument lora_rank=4 is not supported"),
        ({"activation": "mish"}, r"activation='mish' is not supported"),
        (
            {"kernel_initializer": {"class_name": "STFT", "config": {}}},
            r"kernel_initializer.*nnlib has no initializer 'STFT'",
        ),
        (
            {
                "dtype": {
                    "class_name": "DTypePolicy",
                    "config": {"name": "mixed_float16"},
                }
            },
            r"dtype 'mixed_float16' is not supported",
        ),
    ],
)
def test_a_keras_argument_nnlib_lacks_is_an_error_naming_it(extra, words):
    with pytest.raises(CheckpointConfigError, match=words) as caught:
        translate(_dense(**extra), "m.keras")
    assert "'m.keras'" in str(caught.value)
    assert "model.load_weights('m.keras')" in str(
        caught.value
    ) or "custom_objects" in str(caught.value)


def test_arguments_nnlib_lacks_and_unknown_classes_are_errors():
    conv = {
        "class_name": "Conv2D",
        "config": {"name": "c", "filters": 4, "kernel_size": [3, 3], "groups": 2},
    }
    with pytest.raises(
        CheckpointConfigError,
        match=r"layer 'c' \(Conv2D\): argument groups=2 .*no groups \(only 1 loads\)",
    ):
        translate(conv, "m.h5")
    norm = {
        "class_name": "BatchNormalization",
        "config": {"name": "bn", "renorm": True},
    }
    with pytest.raises(
        CheckpointConfigError, match=r"argument renorm=True is not supported"
    ):
        translate(norm, "m.h5")
    # Arguments that change no result load whatever their value.
    lstm = {
        "class_name": "LSTM",
        "config": {
            "name": "lstm",
            "units": 2,
            "dropout": 0.0,
            "unroll": True,
            "implementation": 2,
        },
    }
    config = translate(lstm, "m.h5")["config"]
    assert config["units"] == 2 and "implementation" not in config
    dot = {"class_name": "Dot", "config": {"name": "dot", "axes": 1}}
    with pytest.raises(
        CheckpointConfigError,
        match=r"layer 'dot' \(Dot\): nnlib has no layer for Keras's Dot.*custom_objects=\{'Dot': cls\}",
    ):
        translate(dot, "m.h5")


def _rewritten(source, target, change):
    """A copy of a Keras file whose model config ``change`` edited."""
    if source.endswith(".keras"):
        with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
            for info in old.infolist():
                data = old.read(info)
                if info.filename == "config.json":
                    config = json.loads(data)
                    data = json.dumps(change(config) or config)
                new.writestr(info, data)
    else:
        shutil.copy(source, target)
        with h5py.File(target, "r+") as f:
            config = json.loads(f.attrs["model_config"])
            f.attrs["model_config"] = json.dumps(change(config) or config)
    return target


@pytest.mark.parametrize("suffix", FORMATS)
def test_load_model_names_the_file_the_layer_and_the_argument(tmp_path, suffix):
    def constrain(config):
        dense = config["config"]["layers"][-1]["config"]
        dense["kernel_constraint"] = {"class_name": "NonNeg", "config": {}}

    path = _rewritten(_file("mlp", suffix), str(tmp_path / f"c{suffix}"), constrain)
    with pytest.raises(CheckpointConfigError) as caught:
        nnlib.load_model(path)
    message = str(caught.value)
    assert f"cannot load Keras model '{path}'" in message
    assert "layer 'dense_1' (Dense): argument kernel_constraint=" in message
    assert "NonNeg" in message and "model.load_weights(" in message


def test_lambda_bytecode_loads_only_without_safe_mode():
    code = (lambda t, k=2.0: t * k + 1.0).__code__  # what Keras marshals
    spec = {
        "class_name": "Lambda",
        "config": {
            "name": "affine",
            "trainable": True,
            "dtype": "float32",
            "function": {
                "class_name": "__lambda__",
                "config": {
                    "code": base64.b64encode(marshal.dumps(code)).decode("ascii"),
                    "defaults": [3.0],
                    "closure": None,
                },
            },
            "arguments": {},
            "output_shape": None,
        },
    }
    with pytest.raises(
        CheckpointConfigError, match=r"layer 'affine' \(Lambda\): .*safe mode refuses"
    ):
        translate(spec, "m.keras")
    config = translate(spec, "m.keras", safe_mode=False)["config"]
    layer = nnlib.layers.Lambda(**config)
    np.testing.assert_allclose(layer(np.ones((1, 2), "float32")).numpy(), [[4.0, 4.0]])


def test_a_lambda_of_a_named_function_comes_from_custom_objects():
    def triple(t):
        return t * 3.0

    spec = {
        "class_name": "Lambda",
        "config": {
            "name": "scale",
            "function": {
                "module": "builtins",
                "class_name": "function",
                "config": "triple",
            },
            "arguments": {},
        },
    }
    with pytest.raises(
        CheckpointConfigError, match=r"custom_objects=\{'triple': triple\}"
    ):
        translate(spec, "m.keras")
    config = translate(spec, "m.keras", custom_objects={"triple": triple})["config"]
    assert config["function"] is triple


def test_a_keras_class_nnlib_lacks_loads_from_custom_objects(tmp_path):
    class Scale(nnlib.layers.Layer):
        def __init__(self, factor=1.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

    def add_scale(config):
        config["config"]["layers"].append(
            {
                "module": "my_project",
                "class_name": "Scale",
                "registered_name": "my_project>Scale",
                "config": {"name": "scale", "factor": 2.0},
            }
        )

    path = _rewritten(_file("mlp", ".keras"), str(tmp_path / "s.keras"), add_scale)
    with pytest.raises(
        CheckpointConfigError, match=r"Keras's Scale.*custom_objects=\{'Scale'"
    ):
        nnlib.load_model(path)
    model = nnlib.load_model(path, custom_objects={"Scale": Scale})
    x, y = _data("mlp")
    _close(model.predict(x), 2.0 * y)


# -- hostile files ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_config_nested_too_deep_is_refused(tmp_path, suffix):
    def deepen(config):
        config["config"]["layers"][-1]["config"]["deep"] = json.loads(
            "[" * 300 + "]" * 300
        )

    path = _rewritten(_file("mlp", suffix), str(tmp_path / f"deep{suffix}"), deepen)
    with pytest.raises(CheckpointUnsafeError, match=r"nested 30\d deep"):
        nnlib.load_model(path)


@pytest.mark.parametrize("suffix", FORMATS)
def test_variables_larger_than_the_stored_weights_are_refused(tmp_path, suffix):
    def widen(config):
        config["config"]["layers"][-1]["config"]["units"] = 1 << 26

    path = _rewritten(_file("mlp", suffix), str(tmp_path / f"wide{suffix}"), widen)
    with pytest.raises(
        CheckpointUnsafeError,
        match=r"layer 'dense_1' would create variable .* larger than the file's stored weights",
    ):
        nnlib.load_model(path)


def test_an_archive_declaring_a_huge_config_is_refused(tmp_path):
    path = str(tmp_path / "huge.keras")
    source = _file("mlp", ".keras")
    with (
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "config.json":
                data = data[:-1] + b"," + b" " * (17 << 20) + b"}"
            new.writestr(info.filename, data)
    assert os.path.getsize(path) < 1 << 20
    with pytest.raises(CheckpointUnsafeError, match=r"config.json declares 17.0 MiB"):
        nnlib.load_model(path)


# -- Keras 2 ----------------------------------------------------------------------


def test_a_keras_2_functional_h5_file_loads(tmp_path):
    """tf.keras 2's whole-model ``.h5``: dtypes as names, ``batch_input_shape``,
    ``[[name, node, tensor, kwargs]]`` nodes, its optimizer config."""
    path = str(tmp_path / "keras2.h5")
    shutil.copy(_file("mlp", ".h5"), path)

    def dense(name, units, activation, inbound):
        return {
            "class_name": "Dense",
            "name": name,
            "config": {
                "name": name,
                "trainable": True,
                "dtype": "float32",
                "units": units,
                "activation": activation,
                "use_bias": True,
                "kernel_initializer": {
                    "class_name": "GlorotUniform",
                    "config": {"seed": None},
                },
                "bias_initializer": {"class_name": "Zeros", "config": {}},
                "kernel_regularizer": None,
                "bias_regularizer": None,
                "activity_regularizer": None,
                "kernel_constraint": None,
                "bias_constraint": None,
            },
            "inbound_nodes": [[[inbound, 0, 0, {}]]],
        }

    config = {
        "class_name": "Functional",
        "config": {
            "name": "model",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "name": "input_1",
                    "inbound_nodes": [],
                    "config": {
                        "batch_input_shape": [None, 6],
                        "dtype": "float32",
                        "sparse": False,
                        "ragged": False,
                        "name": "input_1",
                    },
                },
                dense("dense", 8, "relu", "input_1"),
                dense("dense_1", 3, "linear", "dense"),
            ],
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [["dense_1", 0, 0]],
        },
    }
    training = {
        "loss": "mse",
        "metrics": ["mae"],
        "weighted_metrics": None,
        "loss_weights": None,
        "optimizer_config": {
            "class_name": "Adam",
            "config": {
                "name": "Adam",
                "learning_rate": 0.002,
                "decay": 0.0,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-07,
                "amsgrad": False,
            },
        },
    }
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["training_config"] = json.dumps(training)
        f.attrs["keras_version"] = "2.15.0"
        f["model_weights"].attrs["keras_version"] = "2.15.0"
    model = nnlib.load_model(path)
    assert type(model) is nnlib.Model
    assert [layer.name for layer in model.layers] == ["input_1", "dense", "dense_1"]
    x, y = _data("mlp")
    _close(model.predict(x), y)
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.002)


def test_compile_settings_nnlib_lacks_warn_and_load_uncompiled(tmp_path):
    path = str(tmp_path / "ftrl.h5")
    shutil.copy(_file("sequential_spelled", ".h5"), path)
    with h5py.File(path, "r+") as f:
        training = json.loads(f.attrs["training_config"])
        training["optimizer_config"] = {
            "class_name": "Ftrl",
            "config": {"learning_rate": 0.1},
        }
        f.attrs["training_config"] = json.dumps(training)
    with pytest.warns(
        UserWarning, match=r"do not map to nnlib .*Ftrl.*loaded uncompiled"
    ):
        model = nnlib.load_model(path)
    assert model.optimizer is None
    x, y = _data("sequential_spelled")
    _close(model.predict(x), y)


def test_a_keras_weights_file_still_says_to_build_the_model():
    with pytest.raises(
        CheckpointMismatchError, match=r"Keras file of weights only.*load_weights"
    ):
        nnlib.load_model(_file("mlp", ".weights.h5"))


def test_keras_2s_hard_sigmoid_is_refused():
    dense = {"class_name": "Dense", "config": {"name": "d", "units": 2}}
    dense["config"]["activation"] = "hard_sigmoid"
    assert translate(dense, "m.keras", keras_version="3.15.1")["config"]["activation"]
    with pytest.raises(CheckpointConfigError, match=r"Keras 2's 0.2 \* x \+ 0.5"):
        translate(dense, "m.h5", keras_version="2.15.0")


def test_a_keras_op_feeding_a_layer_is_refused():
    def tensor(name):
        return {
            "class_name": "__keras_tensor__",
            "config": {"keras_history": [name, 0, 0]},
        }

    ops = {"module": "keras.src.ops.numpy", "class_name": "Square", "name": "square"}
    config = {
        "name": "m",
        "layers": [
            {
                "class_name": "InputLayer",
                "name": "x",
                "inbound_nodes": [],
                "config": {"batch_shape": [None, 2], "dtype": "float32", "name": "x"},
            },
            {
                **ops,
                "config": {"name": "square"},
                "inbound_nodes": [{"args": [tensor("x")], "kwargs": {}}],
            },
            {
                "class_name": "Dense",
                "name": "d",
                "config": {"name": "d", "units": 1},
                "inbound_nodes": [{"args": [tensor("square")], "kwargs": {}}],
            },
        ],
        "input_layers": [["x", 0, 0]],
        "output_layers": [["d", 0, 0]],
    }
    spec = {"class_name": "Functional", "config": config}
    with pytest.raises(
        CheckpointConfigError,
        match=r"keras op 'square': the model uses a keras.ops call on 'x'; nnlib rebuilds layers only",
    ):
        translate(spec, "m.keras")


# -- RNN over cells ---------------------------------------------------------------


def _cell(class_name, name, **extra):
    config = {"name": name, "units": 2, "dropout": 0.0, "recurrent_dropout": 0.0}
    return {"class_name": class_name, "config": {**config, **extra}}


def _rnn(cell, **extra):
    return {"class_name": "RNN", "config": {"name": "rnn", "cell": cell, **extra}}


def test_rnn_over_cells_maps_its_cells_and_arguments():
    # tf.keras 2's spelling: time_major, implementation, a stack's cells
    stack = {
        "class_name": "StackedRNNCells",
        "config": {
            "name": "stack",
            "cells": [
                _cell("LSTMCell", "lstm_cell", implementation=2, unit_forget_bias=True),
                _cell("GRUCell", "gru_cell", reset_after=False, seed=3),
                _cell("SimpleRNNCell", "simple_rnn_cell", kernel_constraint=None),
            ],
        },
    }
    flags = {"go_backwards": True, "stateful": True, "unroll": True, "time_major": True}
    spec = translate(_rnn(stack, return_state=True, **flags), "m.h5")
    assert spec["class_name"] == "RNN"
    assert spec["config"] == {
        "name": "rnn",
        "cell": spec["config"]["cell"],
        "return_state": True,
        **flags,
    }
    cells = spec["config"]["cell"]["config"]["cells"]
    assert [cell["class_name"] for cell in cells] == [
        "LSTMCell",
        "GRUCell",
        "SimpleRNNCell",
    ]
    assert "implementation" not in cells[0]["config"]
    assert cells[1]["config"]["reset_after"] is False
    layer = nnlib.layers.RNN.from_config(spec["config"])
    assert layer.time_major and layer.stateful and layer.go_backwards
    assert [type(c).__name__ for c in layer.cell.cells] == [
        "LSTMCell",
        "GRUCell",
        "SimpleRNNCell",
    ]


@pytest.mark.parametrize(
    "spec, words",
    [
        (
            _rnn(_cell("LSTMCell", "lstm_cell", dropout=0.5)),
            (
                r"layer 'rnn' \(RNN\), its cell 'lstm_cell' \(LSTMCell\): argument "
                r"dropout=0.5 is not supported: .*no dropout \(only 0.0 loads\)"
            ),
        ),
        (
            _rnn(
                {
                    "class_name": "StackedRNNCells",
                    "config": {
                        "name": "stack",
                        "cells": [
                            _cell("GRUCell", "g"),
                            _cell("SimpleRNNCell", "s", recurrent_dropout=0.1),
                        ],
                    },
                }
            ),
            (
                r"layer 'rnn' \(RNN\), its cell 'stack' \(StackedRNNCells\), its cell "
                r"'s' \(SimpleRNNCell\): argument recurrent_dropout=0.1 is not supported"
            ),
        ),
        (
            _rnn(
                _cell(
                    "GRUCell",
                    "g",
                    recurrent_constraint={"class_name": "NonNeg", "config": {}},
                )
            ),
            (
                r"its cell 'g' \(GRUCell\): argument recurrent_constraint=.*NonNeg.*"
                r"no weight constraints"
            ),
        ),
        (
            _rnn(_cell("GRUCell", "g", activation="mish")),
            r"its cell 'g' \(GRUCell\): activation='mish' is not supported",
        ),
        (
            _rnn(_cell("LSTMCell", "c"), num_constants=1),
            (
                r"layer 'rnn' \(RNN\): argument num_constants=1 is not supported: "
                r"nnlib's RNN takes no constants"
            ),
        ),
        (
            _rnn(_cell("PeepholeLSTMCell", "p")),
            (
                r"layer 'rnn' \(RNN\), its cell 'p' \(PeepholeLSTMCell\): nnlib has no "
                r"layer for Keras's PeepholeLSTMCell"
            ),
        ),
        (
            {
                "class_name": "Bidirectional",
                "config": {
                    "name": "bi",
                    "layer": _rnn(_cell("GRUCell", "g", dropout=1)),
                },
            },
            (
                r"layer 'bi' \(Bidirectional\), its layer 'rnn' \(RNN\), its cell 'g' "
                r"\(GRUCell\): argument dropout=1 is not supported"
            ),
        ),
        (
            {
                "class_name": "LSTM",
                "config": {"name": "lstm", "units": 2, "recurrent_dropout": 0.2},
            },
            r"layer 'lstm' \(LSTM\): argument recurrent_dropout=0.2 is not supported",
        ),
    ],
)
def test_an_rnn_or_cell_argument_nnlib_cannot_honour_is_an_error(spec, words):
    with pytest.raises(CheckpointConfigError, match=words) as caught:
        translate(spec, "m.keras")
    assert "'m.keras'" in str(caught.value)


def _layer_config(config, name):
    return next(e for e in config["config"]["layers"] if e["name"] == name)["config"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_load_model_names_the_rnn_and_the_cell_it_refuses(tmp_path, suffix):
    def drop(config):
        stack = _layer_config(config, "stacked")["cell"]["config"]
        stack["cells"][1]["config"]["recurrent_dropout"] = 0.25

    source = _file("functional_rnn_cells", suffix)
    path = _rewritten(source, str(tmp_path / f"c{suffix}"), drop)
    with pytest.raises(CheckpointConfigError) as caught:
        nnlib.load_model(path)
    message = str(caught.value)
    assert f"cannot load Keras model '{path}'" in message
    assert (
        "layer 'stacked' (RNN), its cell 'stacked_rnn_cells' (StackedRNNCells), its "
        "cell 'simple_rnn_cell' (SimpleRNNCell): argument recurrent_dropout=0.25 is "
        "not supported"
    ) in message
    assert "model.load_weights(" in message


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_stateful_keras_rnn_loads_stateful(tmp_path, suffix):
    def stateful(config):
        _layer_config(config, "steps")["batch_shape"] = [2, 5, 3]
        _layer_config(config, "lstm_cells")["stateful"] = True

    source = _file("functional_rnn_cells", suffix)
    model = nnlib.load_model(_rewritten(source, str(tmp_path / f"s{suffix}"), stateful))
    assert model.get_layer("lstm_cells").stateful
    with np.load(_file("functional_rnn_cells", ".npz")) as data:
        x, y = data["x"], data["y/0"]
    _close(model.predict(x)[0], y)  # from zero states, as Keras's
    assert not np.allclose(model.predict(x)[0], y)  # went on from the last
