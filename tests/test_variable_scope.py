"""variable_scope, get_variable, name_scope: names, reuse, errors."""

import gc

import numpy as np
import pytest

import nnlib
from nnlib.variable_scope import scope_in_use


def test_names_are_full_scope_paths():
    with nnlib.variable_scope("vs_outer"), nnlib.variable_scope("inner"):
        v = nnlib.get_variable("w", shape=(2,))
    assert v.name == "vs_outer/inner/w"


def test_creating_an_existing_name_without_reuse_raises_naming_it():
    with nnlib.variable_scope("vs_dup"):
        w = nnlib.get_variable("w", shape=(2,))
        with pytest.raises(ValueError, match="'vs_dup/w' already exists"):
            nnlib.get_variable("w", shape=(2,))
    assert w.shape == (2,)


def test_reuse_true_returns_the_same_variable_and_propagates_to_subscopes():
    with nnlib.variable_scope("vs_reuse"), nnlib.variable_scope("sub"):
        w = nnlib.get_variable("w", shape=(3, 4))
    with nnlib.variable_scope("vs_reuse", reuse=True), nnlib.variable_scope("sub"):
        assert nnlib.get_variable("w") is w
        assert nnlib.get_variable_scope().reuse is True


def test_reusing_a_missing_variable_raises():
    with (
        nnlib.variable_scope("vs_missing", reuse=True),
        pytest.raises(ValueError, match="'vs_missing/nope' does not exist"),
    ):
        nnlib.get_variable("nope", shape=(1,))


def test_reuse_with_another_shape_or_dtype_raises_with_both():
    with nnlib.variable_scope("vs_shape"):
        nnlib.get_variable("w", shape=(2, 3))
    with nnlib.variable_scope("vs_shape", reuse=True):
        with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
            nnlib.get_variable("w", shape=(3, 2))
        with pytest.raises(ValueError, match="float32.*float64"):
            nnlib.get_variable("w", shape=(2, 3), dtype="float64")


def test_auto_reuse_creates_then_reuses():
    def make():
        with nnlib.variable_scope("vs_auto", reuse=nnlib.AUTO_REUSE):
            return nnlib.get_variable("w", shape=(2,), initializer="ones")

    first, second = make(), make()
    assert first is second
    np.testing.assert_array_equal(first.numpy(), [1.0, 1.0])


def test_scope_initializer_is_the_default():
    with nnlib.variable_scope("vs_init", initializer=nnlib.initializers.Constant(7.0)):
        v = nnlib.get_variable("w", shape=(2,))
    np.testing.assert_array_equal(v.numpy(), [7.0, 7.0])


def test_default_initializer_is_glorot_uniform_for_floats():
    nnlib.random.set_seed(0)
    with nnlib.variable_scope("vs_glorot"):
        v = nnlib.get_variable("w", shape=(200, 300))
    limit = np.sqrt(6 / 500)
    assert np.abs(v.numpy()).max() <= limit
    assert np.abs(v.numpy()).max() > 0.9 * limit


def test_array_initializer_gives_value_and_shape():
    with nnlib.variable_scope("vs_array"):
        v = nnlib.get_variable("w", initializer=np.arange(3.0))
    assert v.shape == (3,) and v.dtype == np.float32
    np.testing.assert_array_equal(v.numpy(), [0.0, 1.0, 2.0])


def test_missing_shape_raises():
    with (
        nnlib.variable_scope("vs_noshape"),
        pytest.raises(ValueError, match="shape is needed"),
    ):
        nnlib.get_variable("w")


def test_bad_names_raise():
    with pytest.raises(ValueError, match="without '/'"):
        nnlib.get_variable("a/b", shape=(1,))
    with pytest.raises(ValueError, match="non-empty"), nnlib.variable_scope(""):
        pass


def test_free_variables_persist_for_auto_reuse_until_clear_session():
    def layer(x):
        with nnlib.variable_scope("vs_persist", reuse=nnlib.AUTO_REUSE):
            return x * nnlib.get_variable("w", shape=(2,))

    first = layer(np.ones(2)).numpy()
    gc.collect()
    np.testing.assert_array_equal(layer(np.ones(2)).numpy(), first)
    nnlib.clear_session()
    with nnlib.variable_scope("vs_persist"):
        assert nnlib.get_variable("w", shape=(3,)).shape == (3,)


def test_a_layers_variables_die_with_the_layer():
    layer = nnlib.layers.Dense(2, name="vs_dies")
    layer(np.ones((1, 3)))
    del layer
    gc.collect()
    assert not scope_in_use("vs_dies")


def test_name_scope_prefixes_and_inherits_reuse():
    with nnlib.name_scope("vs_ns"):
        v = nnlib.get_variable("w", shape=(1,))
    assert v.name == "vs_ns/w"
    with nnlib.variable_scope("vs_ns", reuse=True):
        assert nnlib.get_variable("w") is v


def test_reentering_a_scope_object_ignores_the_current_scope():
    with nnlib.variable_scope("vs_obj") as scope:
        pass
    with nnlib.variable_scope("elsewhere"), nnlib.variable_scope(scope):
        assert nnlib.get_variable("w", shape=(1,)).name == "vs_obj/w"


def test_regularization_losses_are_computed_and_differentiable():
    with nnlib.variable_scope("vs_reg"):
        v = nnlib.get_variable(
            "w",
            initializer=np.array([1.0, -2.0], np.float32),
            regularizer=nnlib.regularizers.L2(0.5),
        )
    losses = nnlib.regularization_losses("vs_reg")
    assert [float(t) for t in losses] == [2.5]
    grads = nnlib.implicit_gradients(lambda: nnlib.regularization_losses("vs_reg")[0])()
    np.testing.assert_allclose(grads[0][0].numpy(), [1.0, -2.0])
    assert grads[0][1] is v


def test_non_trainable_variables_are_not_watched():
    with nnlib.variable_scope("vs_frozen"):
        v = nnlib.get_variable("w", shape=(1,), trainable=False)
        u = nnlib.get_variable("u", shape=(1,))
    grads = nnlib.implicit_gradients(lambda: nnlib.reduce_sum(v * u))()
    assert [var is u for _, var in grads] == [True]
