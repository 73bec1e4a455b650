"""Layer classes by name: nnlib's own cannot be replaced by a user's namesake.

Classes defined in these tests live in this module, outside nnlib: they are
what a user's classes are to the registry.
"""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.layers import _registry, get_layer_class


def _shadowing_dense():
    """A user's ``class Dense(Layer)``, defined without its warning escaping."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        class Dense(layers.Layer):  # the user's own, not nnlib.layers.Dense
            def __init__(self, units=1, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def call(self, x):
                return x * 0 + 42

            def get_config(self):
                return {**super().get_config(), "units": self.units}

    return Dense


def test_a_user_class_named_like_a_builtin_does_not_replace_it():
    with pytest.warns(UserWarning, match="nnlib's built-in layer 'Dense'") as caught:

        class Dense(layers.Layer):
            pass

    assert caught[0].filename == __file__  # points at the class statement
    assert get_layer_class("Dense") is layers.Dense
    config = nnlib.Sequential([layers.Dense(2, input_shape=(3,))]).get_config()
    clone = nnlib.Sequential.from_config(config)
    assert type(clone.layers[0]) is layers.Dense
    assert _registry.registered_name(Dense) == f"{__name__}.{Dense.__qualname__}"


def test_a_saved_user_class_with_a_builtin_name_comes_back_as_itself():
    Dense = _shadowing_dense()
    model = nnlib.Sequential([Dense(3, input_shape=(2,)), layers.Dense(1)])
    config = model.get_config()
    assert config["layers"][0]["registered_name"] == _registry.registered_name(Dense)
    assert "registered_name" not in config["layers"][1]  # nnlib's: the bare name
    clone = nnlib.Sequential.from_config(config)
    assert type(clone.layers[0]) is Dense and type(clone.layers[1]) is layers.Dense


def test_custom_objects_win_over_every_registry():
    class Mine(layers.Dense):
        pass

    config = nnlib.Sequential([layers.Dense(2, input_shape=(3,))]).get_config()
    clone = nnlib.Sequential.from_config(config, custom_objects={"Dense": Mine})
    assert type(clone.layers[0]) is Mine


def test_a_user_class_with_a_name_of_its_own_is_found_by_it():
    class OnlyHereLayer(layers.Layer):
        pass

    assert get_layer_class("OnlyHereLayer") is OnlyHereLayer
    assert get_layer_class(_registry.registered_name(OnlyHereLayer)) is OnlyHereLayer


def test_two_user_classes_of_one_name_are_ambiguous_by_that_name():
    def define():
        class Twin(layers.Layer):
            pass

        return Twin

    first = define()
    second = type("Twin", (layers.Layer,), {"__module__": "other_project.layers"})
    with pytest.raises(ValueError, match="ambiguous") as caught:
        get_layer_class("Twin")
    assert _registry.registered_name(first) in str(caught.value)
    assert "other_project.layers.Twin" in str(caught.value)
    assert get_layer_class("other_project.layers.Twin") is second


def test_nnlibs_own_classes_register_by_bare_name():
    assert _registry.registered_name(layers.Dense) == "Dense"
    assert _registry.LAYER_CLASSES["Dense"] is layers.Dense
    assert _registry.class_spec(layers.LSTM) == {"class_name": "LSTM"}


def test_unknown_names_suggest_close_ones():
    with pytest.raises(ValueError, match="did you mean Dense"):
        get_layer_class("Dens")


def test_a_bidirectional_of_a_user_layer_keeps_its_class():
    class MyLSTM(layers.LSTM):
        pass

    wrapper = layers.Bidirectional(MyLSTM(2), input_shape=(3, 4))
    clone = layers.Bidirectional.from_config(wrapper.get_config())
    assert type(clone.forward_layer) is MyLSTM
    clone(np.ones((1, 3, 4), np.float32))
