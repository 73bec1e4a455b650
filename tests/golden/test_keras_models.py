"""``nnlib.load_model`` on whole-model files written by real Keras 3.

``make_keras_models.py`` wrote ``keras_models/`` (functional models: two
inputs, a shared layer, merges, dicts, masks, nested models, Lambda, RNN over
cells; a Sequential of layers Keras spells differently); ``make_keras_files.py``
wrote the Sequential models of ``keras/`` (``rnn_cells``: RNN over cells). Each ``.keras`` archive and legacy
``.h5`` must rebuild as nnlib objects and predict as Keras did.
"""

import os
import platform

import numpy as np
import pytest

import nnlib
from nnlib.checkpoint.errors import CheckpointConfigError

HERE = os.path.dirname(os.path.abspath(__file__))
SEQUENTIAL_DIR = os.path.join(HERE, "keras")
MODELS_DIR = os.path.join(HERE, "keras_models")
SEQUENTIAL = ("mlp", "cnn", "recurrent", "conv1d_layernorm_simplernn", "rnn_cells")
MODELS = (
    "functional_two_inputs",
    "functional_nested",
    "sequential_spelled",
    "functional_rnn_cells",
)
FORMATS = (".keras", ".h5")


def _file(case, suffix):
    folder = SEQUENTIAL_DIR if case in SEQUENTIAL else MODELS_DIR
    return os.path.join(folder, case + suffix)


def _data(case):
    """The inputs and Keras's predictions, in the structure the model takes."""
    with np.load(_file(case, ".npz")) as data:
        arrays = {key: data[key] for key in data.files}

    def structure(prefix):
        if prefix in arrays:
            return arrays[prefix]
        items = {
            k.split("/", 1)[1]: v
            for k, v in arrays.items()
            if k.startswith(prefix + "/")
        }
        if all(key.isdigit() for key in items):
            return [items[str(i)] for i in range(len(items))]
        return items

    return structure("x"), structure("y"), arrays


def _close(got, want):
    if isinstance(want, dict):
        assert sorted(got) == sorted(want)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-5)
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_every_case_has_its_files():
    names = sorted(n for n in os.listdir(MODELS_DIR) if not n.startswith("."))
    cases = (*MODELS, "functional_lambda")
    assert names == sorted(f"{c}{s}" for c in cases for s in (*FORMATS, ".npz"))


# Keras 3 drops the mask at Conv1D silently; nnlib says so.
@pytest.mark.filterwarnings("ignore:layer 'conv1d' .Conv1D. was given a masked input")
@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("case", SEQUENTIAL + MODELS)
def test_a_keras_model_file_predicts_as_keras_did(case, suffix):
    x, y, arrays = _data(case)
    assert str(arrays["keras_version"]).startswith("3.")
    model = nnlib.load_model(_file(case, suffix))
    _close(model.predict(x), y)


@pytest.mark.parametrize("suffix", FORMATS)
def test_sequential_models_rebuild_as_sequential_with_keras_names(suffix):
    model = nnlib.load_model(_file("cnn", suffix))
    assert type(model) is nnlib.Sequential
    assert model.name.startswith("sequential_1")  # nnlib uniquifies live names
    assert [layer.name for layer in model.layers] == [
        "conv2d",
        "batch_normalization",
        "re_lu",
        "max_pooling2d",
        "flatten",
        "dense_2",
    ]
    assert [type(layer).__name__ for layer in model.layers][2] == "Activation"
    assert model.optimizer is None  # saved uncompiled: compile_config {}


@pytest.mark.parametrize("suffix", FORMATS)
def test_functional_models_rebuild_as_models_with_their_inputs_and_outputs(suffix):
    pair = nnlib.load_model(_file("functional_two_inputs", suffix))
    assert type(pair) is nnlib.Model
    assert isinstance(pair.input, dict) and isinstance(pair.output, dict)
    assert pair.input_names == ["left", "right"]
    assert pair.output_names == ["prob", "score"]
    names = [layer.name for layer in pair.layers]
    assert {"shared", "joined", "mean", "add", "subtract", "prob"} <= set(names)
    shared = pair.get_layer("shared")  # one Dense called on both inputs
    assert len(pair._nnlib_graph.nodes_of(shared)) == 2
    assert len(shared.variables) == 2

    nested = nnlib.load_model(_file("functional_nested", suffix))
    assert nested.input_names == ["sequence", "extra", "tokens"]
    assert nested.output_names == ["head", "summary"]
    assert type(nested.get_layer("block")) is nnlib.Sequential
    assert type(nested.get_layer("head")) is nnlib.Model
    assert type(nested.get_layer("summary")).__name__ == "Bidirectional"
    # Keras's mask ops (NotEqual, Any) are left out: nnlib's layers pass masks.
    names = {layer.name for layer in nested.layers}
    assert not {"not_equal", "any", "not_equal_1"} & names


@pytest.mark.parametrize("suffix", FORMATS)
def test_rnn_layers_over_cells_rebuild_with_their_cells_and_arguments(suffix):
    model = nnlib.load_model(_file("functional_rnn_cells", suffix))
    layers = nnlib.layers
    lstm, stacked = model.get_layer("lstm_cells"), model.get_layer("stacked")
    assert type(lstm) is layers.RNN and type(lstm.cell) is layers.LSTMCell
    assert lstm.return_sequences and not lstm.go_backwards
    assert type(stacked.cell) is layers.StackedRNNCells
    assert [type(c) for c in stacked.cell.cells] == [
        layers.GRUCell,
        layers.SimpleRNNCell,
    ]
    assert stacked.return_state and stacked.go_backwards
    # under the model's (uniquified) name, as Keras's paths are
    assert [v.name.split("/", 1)[1] for v in stacked.variables][::3] == [
        "stacked/gru_cell/kernel",
        "stacked/simple_rnn_cell/kernel",
    ]
    both = model.get_layer("both_ways")
    assert type(both.forward_layer.cell) is layers.GRUCell
    assert not both.forward_layer.cell.reset_after
    assert type(model.get_layer("mask")) is layers.Masking

    cells = nnlib.load_model(_file("rnn_cells", suffix))
    assert [type(layer.cell).__name__ for layer in cells.layers[:3]] == [
        "LSTMCell",
        "StackedRNNCells",
        "GRUCell",
    ]


@pytest.mark.parametrize("suffix", FORMATS)
def test_compile_settings_map_to_nnlib(suffix):
    pair = nnlib.load_model(_file("functional_two_inputs", suffix))
    assert type(pair.optimizer).__name__ == "Adam"
    assert pair.optimizer.learning_rate == pytest.approx(0.01)
    assert pair._compile_args["loss"] == {"score": "mse", "prob": "binary_crossentropy"}
    assert pair._compile_args["metrics"] == {"prob": ["accuracy"]}

    nested = nnlib.load_model(_file("functional_nested", suffix))
    assert type(nested.optimizer).__name__ == "Momentum"
    assert nested.optimizer.learning_rate == pytest.approx(0.05)
    assert nested._compile_args["loss"] == ["sparse_categorical_crossentropy", "mae"]

    spelled = nnlib.load_model(_file("sequential_spelled", suffix))
    assert type(spelled.optimizer).__name__ == "RMSProp"
    assert spelled.optimizer.learning_rate == pytest.approx(1e-3)
    assert spelled._compile_args["loss"] == "categorical_crossentropy"

    assert (
        nnlib.load_model(_file("sequential_spelled", suffix), compile=False).optimizer
        is None
    )


def test_a_loaded_keras_model_trains():
    x, y, _ = _data("functional_two_inputs")
    model = nnlib.load_model(_file("functional_two_inputs", ".keras"))
    targets = {"score": y["score"], "prob": (y["prob"] > 0.5).astype("float32")}
    history = model.fit(x, targets, epochs=2, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert int(model.optimizer.iterations) == 4


# -- Lambda ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", FORMATS)
def test_safe_mode_refuses_a_lambda_layer(suffix):
    path = _file("functional_lambda", suffix)
    with pytest.raises(CheckpointConfigError) as caught:
        nnlib.load_model(path)
    message = str(caught.value)
    assert f"'{path}'" in message and "layer 'affine' (Lambda)" in message
    assert "safe mode refuses" in message and "safe_mode=False" in message
    assert "model.load_weights(" in message


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_lambda_loads_without_safe_mode_under_the_writers_python(suffix):
    x, y, arrays = _data("functional_lambda")
    writer = str(arrays["python_version"]).rsplit(".", 1)[0]
    if writer != platform.python_version().rsplit(".", 1)[0]:
        pytest.skip(f"the Lambda's bytecode is Python {writer}'s")
    model = nnlib.load_model(_file("functional_lambda", suffix), safe_mode=False)
    _close(model.predict(x), y)
