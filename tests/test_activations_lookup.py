"""Activations by name: lookup, values, serialization round trips, errors."""

import math

import numpy as np
import pytest

import nnlib
from nnlib import activations

_X = np.array([[-3.5, -1.0, -0.25], [0.0, 0.5, 7.0]])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_ERF = np.vectorize(math.erf)
_EXPECTED = {
    "relu": np.maximum(_X, 0),
    "relu6": np.clip(_X, 0, 6),
    "leaky_relu": np.where(_X > 0, _X, 0.2 * _X),
    "elu": np.where(_X > 0, _X, np.expm1(_X)),
    "selu": _SELU_SCALE * np.where(_X > 0, _X, _SELU_ALPHA * np.expm1(_X)),
    "gelu": 0.5 * _X * (1 + _ERF(_X / math.sqrt(2))),
    "sigmoid": _sigmoid(_X),
    "hard_sigmoid": np.clip(_X / 6 + 0.5, 0, 1),
    "tanh": np.tanh(_X),
    "softmax": _softmax(_X),
    "log_softmax": np.log(_softmax(_X)),
    "softplus": np.log1p(np.exp(_X)),
    "softsign": _X / (1 + np.abs(_X)),
    "silu": _X * _sigmoid(_X),
    "swish": _X * _sigmoid(_X),
    "linear": _X,
}


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_get_by_name_gives_the_op_values(name):
    fn = activations.get(name)
    out = fn(_X)
    assert isinstance(out, nnlib.Tensor) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), _EXPECTED[name], rtol=1e-12, atol=1e-15)
    assert fn(_X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_serialize_round_trips(name):
    fn = activations.get(name)
    assert activations.get(activations.serialize(fn)) is fn


def test_names_map_to_the_ops():
    assert activations.get("relu") is nnlib.relu
    assert activations.get("softmax") is nnlib.softmax
    assert activations.get("swish") is activations.get("silu") is nnlib.silu
    assert activations.serialize(nnlib.swish) == "silu"
    assert activations.serialize(nnlib.tanh) == "tanh"


def test_softmax_acts_on_the_last_axis():
    out = activations.get("softmax")(np.zeros((2, 4))).numpy()
    np.testing.assert_allclose(out, np.full((2, 4), 0.25))


def test_none_is_linear_and_linear_is_differentiable():
    assert activations.get(None) is activations.linear
    assert activations.serialize(None) == "linear"
    t = nnlib.constant([1.0, 2.0])
    assert activations.linear(t) is t
    (grad,) = nnlib.gradients_function(
        lambda x: nnlib.reduce_sum(activations.linear(x))
    )(np.array([1.0, 2.0]))
    assert grad.numpy().tolist() == [1.0, 1.0]


def test_callables_pass_through_but_do_not_serialize():
    def custom(x):
        return x * 2.0

    assert activations.get(custom) is custom
    with pytest.raises(ValueError, match="custom callable"):
        activations.serialize(custom)
    with pytest.raises(ValueError, match="custom callable"):
        activations.serialize(lambda x: x)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'softmax'") as info:
        activations.get("sofmax")
    assert "log_softmax" in str(info.value) and "relu6" in str(info.value)
    with pytest.raises(ValueError, match="Did you mean 'relu'"):
        activations.get("ReLU")
    with pytest.raises(ValueError, match="unknown activation 'qwerty'"):
        activations.get("qwerty")


def test_get_rejects_other_identifiers():
    with pytest.raises(ValueError, match="could not interpret activation"):
        activations.get(3)
