"""One conformance test over every layer: the contract every Layer keeps.

Builds on the first call and only then; variables named "<layer>/<weight>";
a second call creates nothing; gradients through the layer (inputs and every
trainable variable) match finite differences in float64; the config
round-trips; every exported layer class appears here.
"""

import inspect

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.test_util import check_gradients

_RNG = np.random.default_rng(0)


def _x(*shape):
    return _RNG.normal(size=shape)


def _ids(*shape):
    return _RNG.integers(0, 5, size=shape)


# class name -> (constructor kwargs, input, differentiable w.r.t. the input)
CASES = {
    "Dense": ({"units": 3, "activation": "tanh"}, _x(2, 4), True),
    "Activation": ({"activation": "softplus"}, _x(2, 3), True),
    "Dropout": ({"rate": 0.5}, _x(2, 3), True),
    "Flatten": ({}, _x(2, 2, 3), True),
    "Reshape": ({"target_shape": (3, 2)}, _x(2, 6), True),
    "Permute": ({"dims": (2, 1)}, _x(2, 3, 4), True),
    "Conv1D": ({"filters": 2, "kernel_size": 2}, _x(2, 5, 3), True),
    "Conv2D": (
        {"filters": 2, "kernel_size": 2, "padding": "same"},
        _x(2, 4, 4, 2),
        True,
    ),
    "Conv2DTranspose": (
        {"filters": 2, "kernel_size": 2, "strides": 2},
        _x(1, 3, 3, 2),
        True,
    ),
    "DepthwiseConv2D": (
        {"kernel_size": 2, "depth_multiplier": 2},
        _x(1, 4, 4, 2),
        True,
    ),
    "MaxPooling1D": ({"pool_size": 2}, _x(2, 6, 2), True),
    "MaxPooling2D": ({"pool_size": 2}, _x(2, 4, 4, 2), True),
    "AveragePooling1D": ({"pool_size": 2}, _x(2, 6, 2), True),
    "AveragePooling2D": ({"pool_size": 2}, _x(2, 4, 4, 2), True),
    "GlobalAveragePooling1D": ({}, _x(2, 5, 3), True),
    "GlobalAveragePooling2D": ({}, _x(2, 3, 3, 2), True),
    "GlobalMaxPooling1D": ({}, _x(2, 5, 3), True),
    "GlobalMaxPooling2D": ({}, _x(2, 3, 3, 2), True),
    "BatchNormalization": ({}, _x(6, 3), True),
    "LayerNormalization": ({}, _x(2, 5), True),
    "Embedding": ({"input_dim": 5, "output_dim": 3}, _ids(2, 4), False),
    "Masking": ({"mask_value": 0.0}, _x(2, 4, 3), True),
    "SimpleRNN": ({"units": 3}, _x(2, 4, 3), True),
    "LSTM": ({"units": 3}, _x(2, 3, 2), True),
    "GRU": ({"units": 3}, _x(2, 3, 2), True),
    # A function of the dtype: each RNN gets cells of its own.
    "RNN": (
        lambda dtype: {
            "cell": [layers.LSTMCell(3, dtype=dtype), layers.GRUCell(2, dtype=dtype)],
            "return_sequences": True,
        },
        _x(2, 3, 2),
        True,
    ),
}
# Layers whose call takes more than one tensor, or that wrap another layer.
SPECIAL = {"Bidirectional", "MultiHeadAttention", "Lambda", "InputSpec", "Layer"}
# Cells take (inputs, states): tests/layers/test_rnn_cells.py.
SPECIAL |= {"SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"}
# Merging layers take a list of tensors (tests/layers/test_merging.py);
# InputLayer makes a functional model's KerasTensor (tests/network/).
SPECIAL |= {"Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply"}
SPECIAL |= {"Subtract", "InputLayer"}
# Layers that own no variables: no variable gradients to check (and
# test_weightless_layers_create_no_variables keeps this set true).
WEIGHTLESS = {
    "Activation",
    "AveragePooling1D",
    "AveragePooling2D",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Masking",
    "Permute",
    "Reshape",
}
# Layers differentiable with respect to their input (Embedding takes integer
# ids, which have no gradient; its table's gradient is checked with the others).
DIFFERENTIABLE = {
    name for name, (_, _, differentiable) in CASES.items() if differentiable
}


def _layer_classes():
    return {
        name
        for name, obj in vars(layers).items()
        if inspect.isclass(obj) and issubclass(obj, layers.Layer)
    }


def test_every_exported_layer_is_covered():
    missing = _layer_classes() - set(CASES) - SPECIAL
    assert missing == set()


def _make(name):
    kwargs, x, differentiable = CASES[name]
    if callable(kwargs):
        kwargs = kwargs("float64")
    return getattr(layers, name)(dtype="float64", **kwargs), x, differentiable


@pytest.mark.parametrize("name", sorted(CASES))
def test_builds_once_with_scoped_names(name):
    layer, x, _ = _make(name)
    assert not layer.built and layer.variables == []
    out = layer(x)
    assert layer.built
    variables = layer.variables
    assert all(v.name.startswith(layer.name + "/") for v in variables)
    assert len({v.name for v in variables}) == len(variables)
    again = layer(x)
    assert layer.variables == variables
    assert np.shape(again) == np.shape(out)


def test_every_case_is_an_exported_layer():
    assert set(CASES) - _layer_classes() == set()
    assert WEIGHTLESS <= set(CASES)


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_input_gradients_match_finite_differences(name):
    layer, x, _ = _make(name)
    layer(x)
    check_gradients(lambda inputs: layer(inputs, training=False), x, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(WEIGHTLESS))
def test_weightless_layers_create_no_variables(name):
    layer, x, _ = _make(name)
    layer(x, training=True)
    assert layer.variables == []


@pytest.mark.parametrize("name", sorted(set(CASES) - WEIGHTLESS))
def test_variable_gradients_match_finite_differences(name):
    layer, x, _ = _make(name)
    layer(x)
    variables = layer.trainable_variables
    assert variables, f"{name} has no trainable variables"
    dy = _RNG.normal(size=np.shape(layer(x)))
    with nnlib.GradientTape() as tape:
        out = layer(x, training=False)
    analytic = tape.gradient(out, variables, output_gradients=dy)

    def weighted():
        return float(np.sum(np.asarray(layer(x, training=False)) * dy))

    eps = 1e-6
    for variable, grad in zip(variables, analytic):
        base = variable.numpy().copy()
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            for sign in (1, -1):
                value = base.copy()
                value[index] += sign * eps
                variable.assign(value)
                numeric[index] += sign * weighted() / (2 * eps)
        variable.assign(base)
        np.testing.assert_allclose(
            np.asarray(grad),
            numeric,
            rtol=1e-4,
            atol=1e-6,
            err_msg=f"gradient of {variable.name}",
        )


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trips(name):
    layer, x, _ = _make(name)
    layer(x)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    cloned = clone.get_config()
    assert {k: v for k, v in cloned.items() if k != "name"} == {
        k: v for k, v in config.items() if k != "name"
    }
    clone(x)
    assert [v.shape for v in clone.variables] == [v.shape for v in layer.variables]


@pytest.mark.parametrize("name", sorted(CASES))
def test_set_weights_makes_a_clone_compute_the_same(name):
    layer, x, _ = _make(name)
    layer(x)
    clone = type(layer).from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(layer(x)), rtol=1e-12)
