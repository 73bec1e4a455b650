"""Merging layers: values, gradients, configs, errors and masks."""

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.test_util import check_gradients

_RNG = np.random.default_rng(0)

# class name -> (kwargs, the numpy function of the list of inputs)
CASES = {
    "Add": ({}, lambda xs: xs[0] + xs[1] + xs[2]),
    "Subtract": ({}, lambda xs: xs[0] - xs[1]),
    "Multiply": ({}, lambda xs: xs[0] * xs[1] * xs[2]),
    "Average": ({}, lambda xs: (xs[0] + xs[1] + xs[2]) / 3),
    "Maximum": ({}, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    "Minimum": ({}, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2])),
    "Concatenate": ({"axis": 1}, lambda xs: np.concatenate(xs, axis=1)),
}


def _inputs(name):
    count = 2 if name == "Subtract" else 3
    return [_RNG.normal(size=(2, 3)) for _ in range(count)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_gradients_and_config(name):
    kwargs, expected = CASES[name]
    layer = getattr(layers, name)(dtype="float64", **kwargs)
    xs = _inputs(name)
    np.testing.assert_allclose(layer(xs).numpy(), expected(xs), rtol=1e-12)
    assert layer.variables == []
    check_gradients(lambda *ts: layer(list(ts)), *xs)
    clone = type(layer).from_config(layer.get_config())
    np.testing.assert_allclose(clone(xs).numpy(), expected(xs), rtol=1e-12)


def test_broadcasting_and_the_symbolic_shape():
    a, b = nnlib.Input(shape=(1, 3)), nnlib.Input(shape=(4, 1))
    assert layers.Add()([a, b]).shape == (None, 4, 3)
    assert layers.Concatenate(axis=1)([a, nnlib.Input(shape=(None, 3))]).shape == (
        None,
        None,
        3,
    )


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(
        ValueError, match=r"'sub' \(Subtract\) expects exactly 2.*got 3"
    ):
        layers.Subtract(name="sub")([np.ones((1, 2))] * 3)
    with pytest.raises(ValueError, match=r"'add_one' \(Add\) expects at least 2"):
        layers.Add(name="add_one")([np.ones((1, 2))])
    with pytest.raises(
        ValueError, match=r"'add_bad'.*\(1, 2\), \(1, 3\) do not broadcast"
    ):
        layers.Add(name="add_bad")([np.ones((1, 2)), np.ones((1, 3))])
    with pytest.raises(ValueError, match=r"expects a list of tensors"):
        layers.Add(name="add_single")(np.ones((1, 2)))


def test_masks_of_the_inputs_are_combined():
    ids = np.array([[1, 2, 0]])
    embedding = layers.Embedding(4, 2, mask_zero=True)
    other = layers.Embedding(4, 2, mask_zero=True)
    x, y = embedding(ids), other(np.array([[1, 0, 0]]))
    added = layers.Add()([x, y])
    assert added._keras_mask.numpy().tolist() == [[True, False, False]]
    joined = layers.Concatenate(axis=1)([x, y])
    assert joined._keras_mask.numpy().tolist() == [
        [True, True, False, True, False, False]
    ]
