"""Network and Sequential: naming, nesting, tracking, freezing, sharing, summary."""

import gc

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense, Dropout


class MNISTModel(nnlib.Network):
    def __init__(self):
        super().__init__(name="mnist")
        self.hidden = self.track_layer(Dense(16, activation="relu"))
        self.logits = self.track_layer(Dense(10))

    def call(self, x, training=False):
        return self.logits(self.hidden(x))


@pytest.fixture(autouse=True)
def _fresh_names():
    gc.collect()  # models of earlier tests release their names
    nnlib.naming.reset_names()


def test_design_example_names_every_variable_by_its_path():
    model = MNISTModel()
    model(np.zeros((1, 784), np.float32))
    assert [v.name for v in model.variables] == [
        "mnist/dense/kernel",
        "mnist/dense/bias",
        "mnist/dense_1/kernel",
        "mnist/dense_1/bias",
    ]


def test_two_instances_get_unique_names():
    a, b = MNISTModel(), MNISTModel()
    a(np.zeros((1, 3))), b(np.zeros((1, 3)))
    assert (a.name, b.name) == ("mnist", "mnist_1")
    assert b.variables[0].name == "mnist_1/dense/kernel"


class Generator(nnlib.Network):
    def __init__(self):
        super().__init__()
        self.dense = Dense(4)

    def call(self, z):
        return self.dense(z)


class GAN(nnlib.Network):
    def __init__(self):
        super().__init__(name="gan")
        self.generator = Generator()
        self.discriminators = [Dense(1), Dense(1)]

    def call(self, z):
        x = self.generator(z)
        return [d(x) for d in self.discriminators]


def test_nested_networks_and_lists_carry_the_whole_path():
    gan = GAN()
    gan(np.zeros((2, 3), np.float32))
    names = [v.name for v in gan.variables]
    assert names == [
        "gan/generator/dense/kernel",
        "gan/generator/dense/bias",
        "gan/dense/kernel",
        "gan/dense/bias",
        "gan/dense_1/kernel",
        "gan/dense_1/bias",
    ]
    assert [type(l).__name__ for l in gan.layers] == ["Generator", "Dense", "Dense"]


def test_tracking_the_same_layer_twice_keeps_one_entry():
    net = nnlib.Network(name="net_twice")
    layer = Dense(2)
    assert net.track_layer(layer) is layer
    net.track_layer(layer)
    net.again = layer
    assert net.layers == [layer]


def test_a_layer_shared_by_two_networks_is_owned_once():
    shared = Dense(3)

    class Tower(nnlib.Network):
        def __init__(self, name):
            super().__init__(name=name)
            self.shared = shared
            self.head = Dense(1)

        def call(self, x):
            return self.head(self.shared(x))

    left, right = Tower("left"), Tower("right")
    x = np.ones((2, 4), np.float32)
    left(x), right(x)
    assert shared.scope_name == "left/dense"
    assert shared.kernel in right.variables and shared.kernel in left.variables
    assert len([v for v in right.variables if v is shared.kernel]) == 1


def test_training_flag_reaches_layers_inside():
    class WithDropout(nnlib.Network):
        def __init__(self):
            super().__init__()
            self.drop = Dropout(0.5)

        def call(self, x, training=False):
            return self.drop(x)  # training not passed on explicitly

    model = WithDropout()
    x = np.ones((4, 100), np.float32)
    np.testing.assert_array_equal(model(x).numpy(), x)
    assert (model(x, training=True).numpy() == 0).any()


def test_freezing_a_network_freezes_every_variable():
    model = MNISTModel()
    model(np.zeros((1, 3), np.float32))
    model.trainable = False
    assert model.trainable_variables == [] and len(model.non_trainable_variables) == 4
    assert all(not v.trainable for v in model.variables)
    model.trainable = True
    assert len(model.trainable_variables) == 4


def test_frozen_layer_gets_no_implicit_gradient():
    model = MNISTModel()
    x = np.ones((2, 3), np.float32)
    model(x)
    model.hidden.trainable = False
    grads = nnlib.implicit_gradients(lambda: nnlib.reduce_sum(model(x)))()
    assert [v.name for _, v in grads] == ["mnist/dense_1/kernel", "mnist/dense_1/bias"]


def test_get_and_set_weights_round_trip_and_check_shapes():
    a, b = MNISTModel(), MNISTModel()
    x = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    a(x), b(x)
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    bad = a.get_weights()
    bad[0] = np.zeros((4, 16))
    with pytest.raises(ValueError, match=r"mnist_1/dense/kernel.*\(3, 16\).*\(4, 16\)"):
        b.set_weights(bad)


def test_count_params_and_summary():
    model = nnlib.Sequential([Dense(8, input_shape=(4,)), Dense(2)], name="summ")
    assert model.count_params() == 4 * 8 + 8 + 8 * 2 + 2
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert (
        "dense (Dense)" in text and "(None, 8)" in text and "Total params: 58" in text
    )
    assert "Non-trainable params: 0" in text


def test_summary_before_build_raises():
    with pytest.raises(ValueError, match="not built"):
        MNISTModel().summary()


def test_sequential_builds_lazily_without_input_shape():
    model = nnlib.Sequential([Dense(3), Dense(1)])
    assert not model.built and model.variables == []
    model(np.ones((2, 5), np.float32))
    assert [v.shape for v in model.variables] == [(5, 3), (3,), (3, 1), (1,)]


def test_sequential_add_and_config_round_trip():
    model = nnlib.Sequential(name="cfg")
    model.add(Dense(4, activation="tanh", input_shape=(3,)))
    model.add(Dense(2, use_bias=False))
    clone = nnlib.Sequential.from_config(model.get_config())
    assert [l.get_config()["units"] for l in clone.layers] == [4, 2]
    assert clone.layers[0].activation is model.layers[0].activation
    assert clone.count_params() == model.count_params()


def test_duplicate_explicit_layer_names_raise():
    with pytest.raises(ValueError, match="'same' is used twice"):
        nnlib.Sequential([Dense(2, name="same"), Dense(2, name="same")])


def test_setting_attributes_before_super_init_is_a_clear_error():
    class Broken(nnlib.Network):
        def __init__(self):
            self.dense = Dense(2)
            super().__init__()

    with pytest.raises(RuntimeError, match="super\\(\\).__init__"):
        Broken()


def test_subclassed_network_without_call_says_so():
    with pytest.raises(NotImplementedError, match="must define call"):
        nnlib.Network()(np.zeros((1, 2)))


def test_sequential_with_unknown_spatial_sizes_builds_on_the_first_call():
    model = nnlib.Sequential(
        [
            nnlib.layers.Conv2D(2, 3, input_shape=(None, None, 1)),
            nnlib.layers.GlobalAveragePooling2D(),
        ]
    )
    assert not model.built
    assert model(np.zeros((1, 5, 7, 1), np.float32)).shape == (1, 2)
