"""Core layers against numpy: Dense, Activation, Dropout, Flatten, Reshape, Permute, Lambda."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import Activation, Dense, Dropout, Flatten, Lambda, Permute, Reshape
from nnlib.test_util import check_gradients


def test_dense_matches_numpy_on_rank_2_and_3():
    rng = np.random.default_rng(0)
    layer = Dense(4, activation="tanh")
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    out = layer(x).numpy()
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out, np.tanh(x @ kernel + bias), rtol=1e-5, atol=1e-6)


def test_dense_gradients_match_finite_differences():
    layer = Dense(3, activation="sigmoid", dtype="float64")
    x = np.random.default_rng(1).normal(size=(2, 4))
    layer(x)
    check_gradients(
        lambda x, k, b: nnlib.sigmoid(x @ k + b),
        x,
        layer.kernel.numpy(),
        layer.bias.numpy(),
    )
    _loss, grads = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_sum(layer(x))
    )()
    assert [v.name for _, v in grads] == [layer.kernel.name, layer.bias.name]


@pytest.mark.parametrize("name", ["relu", "tanh", "softmax", "linear", None])
def test_activation_layer_applies_the_named_function(name):
    x = np.array([[-1.0, 0.5, 2.0]], np.float32)
    expected = {
        "relu": np.maximum(x, 0),
        "tanh": np.tanh(x),
        "softmax": np.exp(x) / np.exp(x).sum(-1, keepdims=True),
        "linear": x,
        None: x,
    }[name]
    np.testing.assert_allclose(Activation(name)(x).numpy(), expected, rtol=1e-6)


def test_dropout_trains_with_inverted_scaling_and_is_identity_otherwise():
    nnlib.random.set_seed(3)
    drop = Dropout(0.25)
    x = np.ones((200, 500), np.float32)
    np.testing.assert_array_equal(drop(x).numpy(), x)
    np.testing.assert_array_equal(drop(x, training=False).numpy(), x)
    out = drop(x, training=True).numpy()
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.01 and abs(out.mean() - 1.0) < 0.02


def test_dropout_is_reproducible_with_set_seed_and_seeded_layers():
    x = np.ones((4, 8), np.float32)
    nnlib.random.set_seed(5)
    a = Dropout(0.5)(x, training=True).numpy()
    nnlib.random.set_seed(5)
    b = Dropout(0.5)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    c, d = Dropout(0.5, seed=1), Dropout(0.5, seed=1)
    np.testing.assert_array_equal(
        c(x, training=True).numpy(), d(x, training=True).numpy()
    )


@pytest.mark.parametrize(
    "noise_shape, shared",
    [((None, 1, 6), (1,)), ((1, None, None), (0,)), ((None, 1, 1), (1, 2))],
)
@pytest.mark.parametrize("rate", [0.5, 0.3])
def test_dropout_noise_shape_shares_the_mask(noise_shape, shared, rate):
    # Values that are never 0 and all different, so a dropped element (0) and a
    # kept one (x / (1 - rate)) cannot be mistaken, nor an input passed through.
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, (8, 5, 6)) * rng.choice([-1.0, 1.0], (8, 5, 6))
    x = x.astype(np.float32)
    out = Dropout(rate, noise_shape=noise_shape, seed=0)(x, training=True).numpy()
    assert out.shape == x.shape
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - rate), rtol=1e-6)
    assert kept.any() and not kept.all()  # some dropped, some kept
    # One draw per position of the noise shape, shared along its size-1 axes ...
    first = kept[tuple(slice(0, 1) if a in shared else slice(None) for a in range(3))]
    np.testing.assert_array_equal(kept, np.broadcast_to(first, kept.shape))
    # ... and independent draws along the others.
    for axis in set(range(3)) - set(shared):
        assert not (kept == kept.take([0], axis=axis)).all(), axis


def test_dropout_rejects_a_bad_rate():
    with pytest.raises(ValueError, match=r"Dropout: rate must be in \[0, 1\)"):
        Dropout(1.0)


def test_shape_layers():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Flatten()(x).numpy(), x.reshape(2, 12))
    np.testing.assert_array_equal(Reshape((4, 3))(x).numpy(), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(Permute((2, 1))(x).numpy(), x.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="permutation"):
        Permute((1, 3))


def test_lambda_layer_and_its_config_error():
    layer = Lambda(lambda t: t + 1.0)
    np.testing.assert_array_equal(layer(np.zeros(2)).numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match="cannot be written to a config"):
        layer.get_config()
    with pytest.raises(TypeError, match="callable"):
        Lambda(3)


@pytest.mark.parametrize(
    "layer",
    [
        Activation("relu"),
        Dropout(0.3, seed=2),
        Flatten(),
        Reshape((6,)),
        Permute((2, 1)),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trips(layer):
    clone = type(layer).from_config(layer.get_config())
    config = clone.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in layer.get_config().items() if k != "name"
    }


def test_dense_agrees_with_torch_linear():
    torch = pytest.importorskip("torch")
    layer = Dense(3)
    x = np.random.default_rng(2).normal(size=(4, 5)).astype(np.float32)
    out = layer(x).numpy()
    linear = torch.nn.Linear(5, 3)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer.kernel.numpy().T))
        linear.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    np.testing.assert_allclose(
        out, linear(torch.from_numpy(x)).detach().numpy(), atol=1e-5
    )
