"""model.save / nnlib.load_model: architecture, weights, optimizer, compile settings."""

import json
import os
import tracemalloc

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.checkpoint import (
    CheckpointConfigError,
    CheckpointMismatchError,
    CheckpointUnsafeError,
    CheckpointWriteError,
    h5io,
)
from nnlib.layers import _registry


def _data(n=32, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    return x, rng.integers(0, classes, n)


def _classifier(input_shape=(4,)):
    first = (
        layers.Dense(8, activation="relu", input_shape=input_shape)
        if input_shape
        else layers.Dense(8, activation="relu")
    )
    return nnlib.Sequential(
        [first, layers.BatchNormalization(), layers.Dropout(0.2), layers.Dense(3)]
    )


def _trained(model, epochs=2):
    model.compile(
        optimizer=nnlib.optimizers.Adam(0.01),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy", nnlib.metrics.SparseTopKCategoricalAccuracy(k=2)],
    )
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=epochs, verbose=0, shuffle=False)
    return model


def test_a_compiled_sequential_round_trips_and_trains_on_identically(tmp_path, helpers):
    model = _trained(_classifier())
    path = model.save(str(tmp_path / "model.h5"))
    clone = nnlib.load_model(path)
    assert clone is not model
    assert clone.get_config()["layers"] == model.get_config()["layers"]
    assert helpers.same(helpers.values(clone), helpers.values(model))
    assert int(clone.optimizer.iterations) == int(model.optimizer.iterations) == 8
    assert clone.optimizer.get_config() == model.optimizer.get_config()
    assert clone.compiled_loss.names == model.compiled_loss.names
    x, y = _data(seed=1)
    assert np.array_equal(clone.predict(x), model.predict(x))
    # The optimizer's slots came back too: one more identical step each.
    for m in (model, clone):
        nnlib.random.set_seed(7)  # the same dropout masks for both
        m.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    assert helpers.same(helpers.values(clone), helpers.values(model))
    evaluated = clone.evaluate(x, y, verbose=0, return_dict=True)
    assert set(evaluated) == {"loss", "accuracy", "sparse_top_k_categorical_accuracy"}


def test_a_model_that_builds_on_its_first_call_restores_then(tmp_path, helpers):
    model = _trained(_classifier(input_shape=None))
    path = model.save(str(tmp_path / "lazy.h5"))
    clone = nnlib.load_model(path)
    assert not clone.built and clone.variables == []
    x, y = _data(seed=2)
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))
    for m in (model, clone):  # optimizer slots were deferred with their variables
        nnlib.random.set_seed(7)
        m.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    assert helpers.same(helpers.values(clone), helpers.values(model))


def test_include_optimizer_false_saves_an_uncompiled_model(tmp_path):
    model = _trained(_classifier())
    path = model.save(str(tmp_path / "bare.h5"), include_optimizer=False)
    assert not any(name.startswith("optimizer/") for name in h5io.read(path).arrays)
    clone = nnlib.load_model(path)
    assert clone.optimizer is None and clone.compiled_loss is None


def test_compile_false_skips_the_optimizer(tmp_path, helpers):
    model = _trained(_classifier())
    clone = nnlib.load_model(model.save(str(tmp_path / "m.h5")), compile=False)
    assert clone.compiled_loss is None
    assert helpers.same(helpers.values(clone), helpers.values(model))


def test_an_unsaveable_loss_warns_and_loads_uncompiled(tmp_path, helpers):
    model = _classifier()
    model.compile("sgd", loss=lambda y, p: nnlib.reduce_mean(p))
    model(np.zeros((1, 4), np.float32))
    with pytest.warns(UserWarning, match="compile settings .* cannot be saved") as w:
        path = model.save(str(tmp_path / "m.h5"))
    assert w[0].filename == __file__  # the user's line
    clone = nnlib.load_model(path)
    assert clone.compiled_loss is None
    assert type(clone.optimizer).__name__ == "GradientDescent"


class Tower(nnlib.Network):
    """A subclassed network without arguments: its class rebuilds it."""

    def __init__(self, name="tower", **kwargs):
        super().__init__(name=name, **kwargs)
        self.a = layers.Dense(4, activation="tanh")
        self.b = layers.Dense(2)

    def call(self, x, training=False):
        return self.b(self.a(x))


class Sized(nnlib.Network):
    """A subclassed network whose __init__ takes an argument, without get_config."""

    def __init__(self, units):
        super().__init__()
        self.out = layers.Dense(units)

    def call(self, x, training=False):
        return self.out(x)


class SizedWithConfig(Sized):
    def get_config(self):
        return {"units": self.out.units}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def test_a_subclassed_network_loads_with_its_class(tmp_path, helpers, monkeypatch):
    model = Tower()
    x = np.ones((2, 3), np.float32)
    expected = model(x).numpy()
    path = model.save(str(tmp_path / "tower.h5"))
    loaded = nnlib.load_model(path, custom_objects={"Tower": Tower})
    np.testing.assert_array_equal(loaded(x).numpy(), expected)
    # Without safe mode, the class defined in this process is found by name.
    loaded = nnlib.load_model(path, safe_mode=False)
    np.testing.assert_array_equal(loaded(x).numpy(), expected)
    # In a process that never defined the class, the message says what to pass.
    monkeypatch.delitem(_registry.USER_CLASSES, _registry.registered_name(Tower))
    with pytest.raises(CheckpointConfigError) as caught:
        nnlib.load_model(path, safe_mode=False)
    message = str(caught.value)
    assert "is not defined in this process" in message and path in message
    assert "custom_objects={'Tower': Tower}" in message and "load_weights" in message


def test_safe_mode_refuses_classes_from_outside_nnlib_unless_given(tmp_path):
    model = Tower()
    model(np.ones((1, 3), np.float32))
    path = model.save(str(tmp_path / "tower.h5"))
    with pytest.raises(CheckpointConfigError) as caught:
        nnlib.load_model(path)  # safe_mode=True by default, as in Keras
    message = str(caught.value)
    assert isinstance(caught.value, ValueError) and path in message
    assert "safe mode" in message and "custom_objects={'Tower': Tower}" in message
    assert "safe_mode=False" in message


class Doubler(layers.Layer):
    """A user layer inside a Sequential: found by name only when allowed."""

    def call(self, x):
        return x * 2


def test_safe_mode_covers_the_layers_inside_a_sequential(tmp_path):
    model = nnlib.Sequential([layers.Dense(2, input_shape=(3,)), Doubler()])
    path = model.save(str(tmp_path / "m.h5"))
    with pytest.raises(CheckpointConfigError, match=r"Doubler.*custom_objects="):
        nnlib.load_model(path)
    clone = nnlib.load_model(path, custom_objects={"Doubler": Doubler})
    assert type(clone.layers[1]) is Doubler
    assert type(nnlib.load_model(path, safe_mode=False).layers[1]) is Doubler


def _rewritten(path, **changes):
    """Rewrites root attributes of a model file (a crafted file)."""
    stored = h5io.read(path)
    attrs = {
        k: v
        for k, v in stored.attrs.items()
        if k not in ("format_version", "nnlib_version", "names")
    }
    attrs.update(changes)
    h5io.write(path, stored.arrays, attrs)
    return path


def test_a_config_nested_too_deep_is_a_clear_error(tmp_path):
    path = nnlib.Sequential([layers.Dense(2, input_shape=(3,))]).save(
        str(tmp_path / "m.h5")
    )
    _rewritten(path, model_config="[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointUnsafeError) as caught:
        nnlib.load_model(path)
    message = str(caught.value)
    assert path in message and "model_config" in message
    assert "nested 100000 deep, deeper than" in message


def test_a_config_asking_for_a_huge_variable_allocates_nothing(tmp_path):
    model = nnlib.Sequential([layers.Dense(2, input_shape=(3,), name="big")])
    path = model.save(str(tmp_path / "m.h5"))
    config = json.loads(h5io.read(path).attrs["model_config"])
    layer = config["config"]["layers"][0]["config"]
    layer["units"], layer["input_shape"] = 1 << 20, [1 << 20]  # a 4 TiB kernel
    _rewritten(path, model_config=json.dumps(config))
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointUnsafeError) as caught:
            nnlib.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert path in message and "layer 'big'" in message
    assert "(1048576, 1048576) float32 (4.0 TiB)" in message
    assert "larger than the file's stored weights" in message
    assert peak < 16 << 20


def test_other_kinds_of_file_are_refused_with_the_way_to_load_them(tmp_path, make_mlp):
    model = make_mlp()
    weights = model.save_weights(str(tmp_path / "w.h5"))
    with pytest.raises(CheckpointMismatchError, match="weights file.*load_weights"):
        nnlib.load_model(weights)
    ckpt = nnlib.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    with pytest.raises(CheckpointMismatchError, match="training checkpoint.*restore"):
        nnlib.load_model(ckpt)


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path):
    model = _classifier()
    path = model.save(str(tmp_path / "m.h5"))
    stored = h5io.read(path)
    arrays = dict(stored.arrays)
    arrays["model/dense/kernel"] = np.zeros((5, 8), np.float32)
    h5io.write(
        path,
        arrays,
        {
            k: v
            for k, v in stored.attrs.items()
            if k not in ("format_version", "nnlib_version", "names")
        },
    )
    with pytest.raises(CheckpointMismatchError, match="dense/kernel"):
        nnlib.load_model(path)


def test_overwrite_false_and_a_failed_save_keep_the_old_file(tmp_path, monkeypatch):
    model = _classifier()
    path = model.save(str(tmp_path / "m.h5"))
    before = (tmp_path / "m.h5").read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=False"):
        _classifier().save(path, overwrite=False)

    def failing(temp, entries, attrs):
        raise OSError(28, "No space left on device", temp)

    monkeypatch.setattr(h5io, "_write_file", failing)
    with pytest.raises(CheckpointWriteError, match="previous checkpoint is intact"):
        _classifier().save(path)
    assert (tmp_path / "m.h5").read_bytes() == before
    assert os.listdir(tmp_path) == ["m.h5"]


def test_load_weights_reads_the_weights_of_a_model_file(tmp_path, helpers):
    model = _trained(_classifier())
    path = model.save(str(tmp_path / "m.h5"))
    other = _classifier()
    other.load_weights(path)
    assert helpers.same(helpers.values(other), helpers.values(model))


def test_a_keras_file_says_to_build_the_model_and_load_its_weights(tmp_path):
    import h5py

    path = str(tmp_path / "keras.h5")
    with h5py.File(path, "w") as f:  # tf.keras save_weights' layout
        f.attrs["layer_names"] = [b"dense"]
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        group = f.create_group("dense")
        group.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        group["dense/kernel:0"] = np.ones((3, 2), np.float32)
        group["dense/bias:0"] = np.zeros(2, np.float32)
    with pytest.raises(CheckpointMismatchError, match="is a Keras file.*load_weights"):
        nnlib.load_model(path)


def test_safe_mode_must_be_a_boolean(tmp_path):
    # "False" is truthy: taken as is it would mean the opposite of what it says.
    path = nnlib.Sequential([layers.Dense(2, input_shape=(3,))]).save(
        str(tmp_path / "m.h5")
    )
    with pytest.raises(
        TypeError, match=r"safe_mode must be True or False, got 'False'"
    ):
        nnlib.load_model(path, safe_mode="False")
