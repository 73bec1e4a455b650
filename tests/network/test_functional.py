"""The functional API: building, running and nesting models of KerasTensors.

Functional models are checked against the same models written as
subclassed Networks: with the same weights they give the same outputs and
the same gradients.
"""

import sys

import numpy as np
import pytest

import nnlib
from nnlib import layers

_RNG = np.random.default_rng(0)


def _x(*shape):
    return _RNG.normal(size=shape).astype(np.float32)


def _grads(model, x):
    with nnlib.GradientTape() as tape:
        loss = nnlib.reduce_sum(nnlib.tanh(model(x)))
    return [np.asarray(g) for g in tape.gradient(loss, model.trainable_variables)]


def _same(a, b):
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-5, atol=1e-6)


class _Mlp(nnlib.Network):
    def __init__(self):
        super().__init__(name="mlp_net")
        self.hidden = layers.Dense(4, activation="relu")
        self.drop = layers.Dropout(0.5)
        self.out = layers.Dense(2)

    def call(self, x, training=None):
        return self.out(self.drop(self.hidden(x)))


def _functional_mlp():
    x = nnlib.Input(shape=(3,))
    y = layers.Dense(2)(layers.Dropout(0.5)(layers.Dense(4, activation="relu")(x)))
    return nnlib.Model(x, y, name="mlp_fn")


def test_a_functional_model_computes_as_the_subclassed_network():
    net, model = _Mlp(), _functional_mlp()
    x = _x(5, 3)
    net(x)
    model.set_weights(net.get_weights())
    _same([model(x)], [net(x)])
    _same(_grads(model, x), _grads(net, x))


def test_layers_are_named_in_the_model_and_built_in_its_scope():
    model = _functional_mlp()
    assert [layer.name for layer in model.layers] == [
        "input_layer",
        "dense",
        "dropout",
        "dense_1",
    ]
    assert [v.name.removeprefix(model.name) for v in model.variables] == [
        "/dense/kernel",
        "/dense/bias",
        "/dense_1/kernel",
        "/dense_1/bias",
    ]
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2


def test_a_symbolic_call_builds_nothing_until_the_model_needs_it():
    x = nnlib.Input(shape=(3,))
    dense = layers.Dense(2)
    y = dense(x)
    assert not dense.built and dense.variables == []
    model = nnlib.Model(x, y)
    assert not model.built
    model(np.ones((1, 3), np.float32))
    assert dense.built and model.built


def test_training_reaches_layers_inside():
    model = _functional_mlp()
    x = np.ones((64, 3), np.float32)
    assert np.array_equal(model(x).numpy(), model(x).numpy())
    assert not np.array_equal(model(x, training=True).numpy(), model(x).numpy())


def test_lists_and_dicts_of_inputs_and_outputs():
    a, b = nnlib.Input(shape=(3,), name="a"), nnlib.Input(shape=(2,), name="b")
    joined = layers.Concatenate()([a, b])
    outputs = {"sum": layers.Dense(1)(joined), "pair": [a * 2, layers.Dense(2)(b)]}
    model = nnlib.Model({"a": a, "b": b}, outputs)
    xa, xb = _x(4, 3), _x(4, 2)
    out = model({"a": xa, "b": xb})
    assert set(out) == {"sum", "pair"} and out["sum"].shape == (4, 1)
    np.testing.assert_allclose(out["pair"][0].numpy(), xa * 2)
    listed = nnlib.Model([a, b], [outputs["sum"], outputs["pair"][1]])
    by_name = listed({"b": xb, "a": xa})  # a list model takes a dict by input name
    _same(by_name, listed([xa, xb]))
    assert listed.input_names == ["a", "b"]
    assert [t.shape for t in listed.outputs] == [(None, 1), (None, 2)]


def test_a_shared_layer_has_one_set_of_variables_and_summed_gradients():
    class Twice(nnlib.Network):
        def __init__(self):
            super().__init__()
            self.shared = layers.Dense(3)

        def call(self, inputs, training=None):
            a, b = inputs
            return self.shared(a) + self.shared(b)

    a, b = nnlib.Input(shape=(2,)), nnlib.Input(shape=(2,))
    shared = layers.Dense(3)
    model = nnlib.Model([a, b], shared(a) + shared(b))
    assert len(model.variables) == 2
    net, x = Twice(), [_x(4, 2), _x(4, 2)]
    net(x)
    model.set_weights(net.get_weights())
    _same([model(x)], [net(x)])
    _same(_grads(model, x), _grads(net, x))


def test_models_nest_as_layers():
    class Doubler(nnlib.Network):
        def __init__(self):
            super().__init__(name="doubler")
            self.dense = layers.Dense(3)

        def call(self, x, training=None):
            return self.dense(x) * 2.0

    x = nnlib.Input(shape=(3,))
    inner = nnlib.Model(x, layers.Dense(3)(x), name="inner")
    seq = nnlib.Sequential([layers.Dense(3), layers.Activation("tanh")], name="seq")
    z = nnlib.Input(shape=(3,))
    out = Doubler()(seq(inner(inner(z))))
    model = nnlib.Model(z, out, name="outer")
    assert [layer.name for layer in model.layers] == [
        "input_layer",
        "inner",
        "seq",
        "doubler",
    ]
    assert [v.name for v in model.variables] == [
        "outer/inner/dense/kernel",
        "outer/inner/dense/bias",
        "outer/seq/dense/kernel",
        "outer/seq/dense/bias",
        "outer/doubler/dense/kernel",
        "outer/doubler/dense/bias",
    ]
    data = _x(2, 3)
    expected = (seq(inner(inner(data))).numpy() @ model.variables[4].numpy()) * 2
    expected += model.variables[5].numpy() * 2
    np.testing.assert_allclose(model(data).numpy(), expected, rtol=1e-5)


def test_a_chain_of_two_thousand_layers_needs_no_recursion():
    limit = sys.getrecursionlimit()
    x = nnlib.Input(shape=(2,))
    y = x
    for _ in range(2000):
        y = layers.Dense(2, kernel_initializer="zeros")(y)
    try:
        sys.setrecursionlimit(250)  # far below the graph's depth
        model = nnlib.Model(x, y)
        out = model(np.ones((1, 2), np.float32))
        with nnlib.GradientTape() as tape:
            loss = nnlib.reduce_sum(model(np.ones((1, 2), np.float32)))
        grads = tape.gradient(loss, model.trainable_variables)
        clone = nnlib.Model.from_config(model.get_config())
    finally:
        sys.setrecursionlimit(limit)
    assert out.shape == (1, 2) and len(clone.layers) == 2001
    assert len(grads) == len(model.trainable_variables)


def test_operators_on_keras_tensors_become_layers():
    x = nnlib.Input(shape=(4,))
    y = (x[:, 1:3] * 2 + 1) ** 2 - abs(-x[:, :2]) / 2
    model = nnlib.Model(x, [y, x @ np.ones((4, 3), np.float32), x > 0])
    data = _x(3, 4)
    out, product, positive = model(data)
    expected = (data[:, 1:3] * 2 + 1) ** 2 - np.abs(data[:, :2]) / 2
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    assert product.shape == (3, 3) and positive.dtype == np.bool_
    assert y.shape == (None, 2) and y.dtype == np.float32
    clone = nnlib.Model.from_config(model.get_config())
    _same(clone(data), model(data))


def test_nnlib_functions_on_keras_tensors_say_to_use_a_layer():
    x = nnlib.Input(shape=(3,))
    with pytest.raises(TypeError, match="symbolic.*Lambda.*Concatenate"):
        nnlib.concat([x, x], axis=-1)
    with pytest.raises(TypeError, match="no truth value"):
        bool(x > 0)
    y = layers.Lambda(lambda t: nnlib.concat([t, t], axis=-1))(x)
    assert y.shape == (None, 6)


def test_sequential_takes_an_input_first():
    model = nnlib.Sequential([nnlib.Input(shape=(4,)), layers.Dense(2)])
    assert model.built and model.count_params() == 10
    clone = nnlib.Sequential.from_config(model.get_config())
    assert clone.built and clone.count_params() == 10
    with pytest.raises(ValueError, match="Input can only come first"):
        nnlib.Sequential([layers.Dense(2), nnlib.Input(shape=(4,))])


def test_masks_pass_through_a_functional_model():
    ids = np.array([[3, 1, 0, 0], [2, 4, 1, 0]])
    x = nnlib.Input(shape=(None,), dtype="int64")
    y = layers.LSTM(3)(layers.Embedding(5, 2, mask_zero=True)(x))
    model = nnlib.Model(x, y)
    seq = nnlib.Sequential([layers.Embedding(5, 2, mask_zero=True), layers.LSTM(3)])
    seq(ids)
    model.set_weights(seq.get_weights())
    _same([model(ids)], [seq(ids)])
    short = model(ids[:1, :2])  # the masked steps change nothing
    _same([short], [model(ids[:1])])


def test_subclassing_model_without_a_graph_is_a_network():
    class Keras2Style(nnlib.Model):
        def __init__(self):
            super().__init__(name="keras_style")
            self.dense = layers.Dense(2)

        def call(self, x, training=None):
            return self.dense(x)

    model = Keras2Style()
    assert model(np.ones((1, 3), np.float32)).shape == (1, 2)
    assert [v.name for v in model.variables] == [
        "keras_style/dense/kernel",
        "keras_style/dense/bias",
    ]


def test_a_subclass_may_build_its_graph_in_init():
    class Head(nnlib.Model):
        def __init__(self, units):
            inputs = nnlib.Input(shape=(3,), name="features")
            super().__init__(inputs, layers.Dense(units, name="logits")(inputs))

    model = Head(4)
    assert model(np.ones((2, 3), np.float32)).shape == (2, 4)
    assert model.get_layer("logits") is model.layers[1] is model.output.node.layer
    assert model.input.name == "features" and model.output_names == ["logits"]
    with pytest.raises(ValueError, match=r"no layer 'nope'.*\['features', 'logits'\]"):
        model.get_layer("nope")


def test_compute_output_shape_of_models():
    x = nnlib.Input(shape=(None, 3))
    model = nnlib.Model(x, [layers.Dense(2)(x), layers.GlobalMaxPooling1D()(x)])
    assert model.compute_output_shape((None, 7, 3)) == [(None, None, 2), (None, 3)]
    with pytest.raises(
        ValueError, match=r"expects inputs of shapes \[\(None, None, 3\)\]"
    ):
        model.compute_output_shape((None, 7, 4))


# -- errors --------------------------------------------------------------------------


def test_an_output_needing_an_input_not_given_names_both():
    a, b = (
        nnlib.Input(shape=(3,), name="given"),
        nnlib.Input(shape=(4,), name="missing"),
    )
    y = layers.Dense(2, name="head")(layers.Concatenate()([a, b]))
    with pytest.raises(
        ValueError, match=r"output 0 .*\(from layer 'head'\).*name=missing"
    ):
        nnlib.Model(a, y)


def test_data_where_keras_tensors_belong_is_refused():
    x = nnlib.Input(shape=(3,))
    with pytest.raises(TypeError, match=r"inputs must be KerasTensors.*ndarray"):
        nnlib.Model(np.ones((1, 3)), layers.Dense(1)(x))
    with pytest.raises(TypeError, match=r"outputs must be KerasTensors.*Tensor"):
        nnlib.Model(x, nnlib.constant([1.0]))
    with pytest.raises(ValueError, match=r"comes from layer 'mid'"):
        mid = layers.Dense(2, name="mid")(x)
        nnlib.Model(mid, layers.Dense(1)(mid))
    with pytest.raises(TypeError, match="needs the inputs"):
        nnlib.Model()


def test_calls_with_the_wrong_inputs_say_what_was_expected():
    a, b = nnlib.Input(shape=(3,), name="a"), nnlib.Input(shape=(4,), name="b")
    model = nnlib.Model([a, b], layers.Concatenate()([a, b]))
    with pytest.raises(
        ValueError,
        match=r"expects 2 input\(s\), 'a' \(None, 3\), 'b' \(None, 4\); got 1 of shapes \(2, 3\)",
    ):
        model(np.ones((2, 3), np.float32))
    with pytest.raises(
        ValueError, match=r"input 'b' expected shape \(None, 4\).*got \(2, 5\)"
    ):
        model([np.ones((2, 3), np.float32), np.ones((2, 5), np.float32)])
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        model({"a": np.ones((2, 3), np.float32)})


def test_a_built_layer_checks_keras_tensors_against_its_input_spec():
    dense = layers.Dense(2, name="built_dense")
    dense(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"built_dense.*last dimension 3.*\(None, 4\)"):
        dense(nnlib.Input(shape=(4,)))


def test_input_needs_a_shape():
    with pytest.raises(ValueError, match="needs the shape"):
        nnlib.Input()
    with pytest.raises(ValueError, match="non-negative integers"):
        nnlib.Input(shape=(-1, 3))
    assert nnlib.Input(batch_shape=(8, None)).shape == (8, None)
