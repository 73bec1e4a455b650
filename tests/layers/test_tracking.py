"""Attribute tracking: private and public layers and variables are owned; the
names nnlib keeps its bookkeeping under cannot be reached by a user's attribute."""

import gc
import weakref

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense, Layer


@pytest.fixture(autouse=True)
def _fresh_names():
    gc.collect()
    nnlib.naming.reset_names()


class PrivateModel(nnlib.Network):
    """Every kind of attribute a user may hide behind a leading underscore."""

    def __init__(self):
        super().__init__(name="private")
        self._dense = Dense(2)
        self._blocks = [Dense(3), Dense(2)]
        self._heads = {"out": Dense(1)}
        self._scale = nnlib.Variable(np.ones(1, np.float32), name="scale")
        self.shift = nnlib.Variable(np.zeros(1, np.float32), name="shift")

    def call(self, x):
        for block in [self._dense, *self._blocks, self._heads["out"]]:
            x = block(x)
        return x * self._scale + self.shift


def test_private_attribute_layers_lists_dicts_and_variables_are_owned():
    model = PrivateModel()
    model(np.ones((2, 4), np.float32))
    names = [v.name for v in model.variables]
    assert names == [
        "scale",
        "shift",
        "private/dense/kernel",
        "private/dense/bias",
        "private/dense_1/kernel",
        "private/dense_1/bias",
        "private/dense_2/kernel",
        "private/dense_2/bias",
        "private/dense_3/kernel",
        "private/dense_3/bias",
    ]
    assert len(model.trainable_variables) == 10
    assert [layer.name for layer in model.layers] == [
        "dense",
        "dense_1",
        "dense_2",
        "dense_3",
    ]


def test_private_attributes_are_saved_and_restored_by_weights_files(tmp_path):
    model = PrivateModel()
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    model(x)
    model._scale.assign([2.5])
    model.shift.assign([-1.0])
    path = model.save_weights(str(tmp_path / "private.h5"))
    names = sorted(nnlib.checkpoint.h5io.read(path).arrays)
    assert "scale" in names and "shift" in names and "dense_3/kernel" in names

    clone = PrivateModel()
    clone(x)
    clone.load_weights(path)
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)
    assert float(clone._scale.numpy()[0]) == 2.5


def test_private_attributes_are_saved_by_checkpoint(tmp_path):
    model = PrivateModel()
    model(np.ones((1, 4), np.float32))
    model._scale.assign([3.0])
    path = nnlib.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    clone = PrivateModel()
    clone(np.ones((1, 4), np.float32))
    nnlib.Checkpoint(model=clone).restore(path)
    assert float(clone._scale.numpy()[0]) == 3.0
    np.testing.assert_array_equal(
        clone._blocks[1].kernel.numpy(), model._blocks[1].kernel.numpy()
    )


def test_a_weight_assigned_to_an_attribute_is_listed_once():
    class Scale(Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", shape=(input_shape[-1],))
            self._alias = self.w

    layer = Scale()
    layer(np.ones((1, 3)))
    assert [v.name for v in layer.variables] == ["scale/w"]


def test_a_strong_back_reference_to_the_owner_is_refused_and_a_weakref_is_fine():
    class Child(Layer):
        pass

    class Parent(nnlib.Network):
        def __init__(self, weak):
            super().__init__()
            self.child = Child()
            self.dense = Dense(2)
            self.child._owner = weakref.ref(self) if weak else self

        def call(self, x):
            return self.dense(self.child(x))

    with pytest.raises(ValueError, match=r"'child'.*'parent'.*_owner.*weakref"):
        Parent(weak=False)
    model = Parent(weak=True)
    model(np.ones((1, 3)))
    assert model.child.variables == [] and len(model.variables) == 2


def test_tracking_a_layer_that_holds_the_tracker_is_refused():
    outer = nnlib.Sequential([Dense(1)])
    inner = nnlib.Sequential([outer])
    with pytest.raises(ValueError, match="each would own the other"):
        outer.track_layer(inner)


def test_a_users_output_shape_attribute_survives_calls():
    class ToShape(Layer):
        def __init__(self, shape, **kwargs):
            super().__init__(**kwargs)
            self._output_shape = shape

        def call(self, x):
            return nnlib.reshape(x, (-1, *self._output_shape))

    layer = ToShape((2, 3))
    assert layer(np.ones((4, 6))).shape == (4, 2, 3)
    assert layer(np.ones((4, 6))).shape == (4, 2, 3)


@pytest.mark.parametrize(
    "attribute",
    ["_output_shape", "_regularizers", "_given_name", "_scope_prefix"],
)
def test_formerly_colliding_private_names_are_the_users(attribute):
    class Keeps(Layer):
        def __init__(self):
            super().__init__(name="keeps")
            setattr(self, attribute, "mine")

        def build(self, input_shape):
            self.w = self.add_weight("w", shape=(input_shape[-1],))

        def call(self, x):
            return x * self.w

    layer = Keeps()
    layer(np.ones((1, 2)))
    layer(np.ones((1, 2)))
    assert getattr(layer, attribute) == "mine"
    assert layer.name == "keeps" and [v.name for v in layer.variables] == ["keeps/w"]


@pytest.mark.parametrize(
    ("attribute", "hint"),
    [
        ("_name", r"name=.*super\(\).__init__"),
        ("_dtype", r"dtype=.*super\(\).__init__"),
        ("_trainable", r"self\.trainable"),
        ("_sublayers", "rename"),
        ("_own_variables", "rename"),
        ("_parent", "rename"),
        ("_frozen", "rename"),
        ("_build_input_shape", "rename"),
        ("_batch_input_shape", r"input_shape=.*super\(\).__init__"),
        ("_nnlib", "rename"),
    ],
)
def test_reserved_names_are_refused_naming_attribute_class_and_fix(attribute, hint):
    class KerasPort(Layer):
        def __init__(self):
            super().__init__()
            setattr(self, attribute, "value")

    with pytest.raises(AttributeError, match=rf"'{attribute}'.*KerasPort") as info:
        KerasPort()
    assert pytest.importorskip("re").search(hint, str(info.value)), str(info.value)


def test_keras_style_reads_of_private_names_still_answer():
    layer = Dense(2, name="reads", dtype="float64")
    assert (layer._name, layer._dtype, layer._trainable) == (
        "reads",
        np.float64,
        True,
    )


def test_overriding_a_private_hook_of_layer_is_refused_at_class_definition():
    with pytest.raises(TypeError, match=r"Helper.*'_convert'.*nnlib.*rename"):

        class Helper(Layer):
            def _convert(self, x):
                return x * 2


def test_network_reserves_its_own_bookkeeping_too():
    with pytest.raises(TypeError, match=r"Mine.*'_zeros_dtype'"):

        class Mine(nnlib.Network):
            def _zeros_dtype(self):
                return np.float64

    class Seq(nnlib.Sequential):
        def __init__(self):
            super().__init__()
            self._input_shape = (None, 3)

    with pytest.raises(AttributeError, match=r"'_input_shape'.*Seq"):
        Seq()
