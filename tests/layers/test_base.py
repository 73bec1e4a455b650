"""Layer base behaviour: names, building once, input checks, weights, losses."""

import gc

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense, Layer


@pytest.fixture(autouse=True)
def _fresh_names():
    gc.collect()
    nnlib.naming.reset_names()


def test_default_names_are_snake_case_and_unique_at_top_level():
    class MyCustomLayer(Layer):
        pass

    assert [MyCustomLayer().name, MyCustomLayer().name] == [
        "my_custom_layer",
        "my_custom_layer_1",
    ]
    assert [Dense(1).name, Dense(1).name] == ["dense", "dense_1"]


def test_build_runs_once_and_second_call_creates_nothing():
    calls = []

    class Counting(Layer):
        def build(self, input_shape):
            calls.append(input_shape)
            self.w = self.add_weight("w", shape=(input_shape[-1],))

        def call(self, x):
            return x * self.w

    layer = Counting()
    layer(np.ones((2, 3))), layer(np.ones((5, 3)))
    assert calls == [(2, 3)] and len(layer.variables) == 1


def test_input_with_another_last_dimension_raises_naming_the_layer():
    layer = Dense(4, name="dense_hidden")
    layer(np.ones((2, 784), np.float32))
    with pytest.raises(
        ValueError, match=r"'dense_hidden'.*last dimension 784.*\(2, 100\)"
    ):
        layer(np.ones((2, 100), np.float32))


def test_rank_one_input_hints_at_the_batch_axis():
    layer = Dense(4)
    layer(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"batch axis.*x\[None\]"):
        layer(np.ones(3, np.float32))


def test_float64_and_integer_inputs_are_cast_to_the_layer_dtype():
    layer = Dense(2)
    assert layer(np.ones((1, 3), np.float64)).dtype == np.float32
    assert layer(np.ones((1, 3), np.int64)).dtype == np.float32


def test_string_input_is_a_type_error():
    with pytest.raises(TypeError, match="numeric"):
        Dense(2)(np.array([["a", "b"]]))


def test_float64_layer_keeps_float64():
    layer = Dense(2, dtype="float64")
    out = layer(np.ones((1, 3), np.float32))
    assert out.dtype == np.float64 and layer.kernel.dtype == np.float64


def test_get_set_weights_and_count_params():
    layer = Dense(3)
    with pytest.raises(ValueError, match="not built"):
        layer.count_params()
    layer(np.ones((1, 2)))
    assert layer.count_params() == 9
    weights = [np.full((2, 3), 2.0), np.full((3,), 1.0)]
    layer.set_weights(weights)
    np.testing.assert_array_equal(layer(np.ones((1, 2))).numpy(), [[5.0, 5.0, 5.0]])
    with pytest.raises(ValueError, match="has 2 weights, got 1"):
        layer.set_weights(weights[:1])


def test_regularization_losses_are_listed_and_differentiable():
    layer = Dense(
        2, kernel_initializer="ones", kernel_regularizer=nnlib.regularizers.L2(0.1)
    )
    layer(np.ones((1, 3)))
    (loss,) = layer.losses
    assert float(loss) == pytest.approx(0.1 * 6)
    grads = nnlib.implicit_gradients(lambda: layer.losses[0])()
    np.testing.assert_allclose(grads[0][0].numpy(), np.full((3, 2), 0.2), rtol=1e-6)


def test_non_trainable_layer_creates_frozen_variables():
    layer = Dense(2, trainable=False)
    layer(np.ones((1, 3)))
    assert layer.trainable_variables == [] and len(layer.non_trainable_variables) == 2


def test_config_round_trip_for_dense():
    layer = Dense(
        5,
        activation="relu",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer="l2",
        name="cfg_dense",
    )
    clone = Dense.from_config(layer.get_config())
    assert clone.get_config() == {**layer.get_config(), "name": clone.name}
    assert clone.units == 5 and not clone.use_bias


def test_bad_hyperparameters_raise_at_construction():
    for units in (0, -3, 2.5):
        with pytest.raises(ValueError, match="Dense: units must be a positive integer"):
            Dense(units)
    with pytest.raises(ValueError, match="did you mean|Did you mean"):
        Dense(2, activation="rellu")


def test_layer_name_must_be_a_plain_string():
    with pytest.raises(ValueError, match="without '/'"):
        Dense(2, name="a/b")


def test_layers_in_a_variable_scope_take_its_prefix():
    with nnlib.variable_scope("outer_scope"):
        layer = Dense(1)
        layer(np.ones((1, 2)))
    assert layer.kernel.name == "outer_scope/dense/kernel"


def test_integer_inputs_reach_a_custom_layers_call_unchanged():
    seen = []

    class Lookup(Layer):
        def build(self, input_shape):
            self.table = self.add_weight("table", shape=(10, 4))

        def call(self, ids):
            seen.append(ids.dtype)
            return nnlib.embedding_lookup(self.table, ids)

    out = Lookup()(np.array([[1, 2, 3]], np.int64))
    assert seen == [np.int64] and out.shape == (1, 3, 4) and out.dtype == np.float32


def test_a_custom_layer_still_casts_floating_inputs_to_its_dtype():
    seen = []

    class Record(Layer):
        def call(self, x):
            seen.append(x.dtype)
            return x

    Record()(np.ones(2, np.float64))
    Record(dtype="float64")(np.ones(2, np.float32))
    assert seen == [np.float32, np.float64]


def test_integer_inputs_to_built_in_float_models_give_float32():
    ids = np.arange(12, dtype=np.int64).reshape(1, 2, 2, 3)
    conv = nnlib.Sequential(
        [nnlib.layers.Conv2D(2, 1), nnlib.layers.Flatten(), nnlib.layers.Dense(1)]
    )
    assert conv(ids).dtype == np.float32
    assert nnlib.Sequential([Dense(2)])(ids[0, 0]).dtype == np.float32
    assert nnlib.layers.Flatten()(ids).dtype == np.int64  # only moves values
