"""``pickle`` and ``copy.deepcopy`` of layers and models, as Keras allows both.

A copy is independent: new variables with equal values (training the copy
leaves the original alone), the optimizer's state copied with it, sublayers
keeping their names. Variable names are unique in a process, so a copy made
while the original lives gets a new top-level name (``mnist`` -> ``mnist_1``,
as a second instance would) and its variables follow; unpickled in a fresh
process, a model keeps its name. Expected values come from the original.
"""

import copy
import gc
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import nnlib
from nnlib.layers import BatchNormalization, Dense, Dropout, Layer
from nnlib.variable_scope import scope_in_use

X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
Y = np.random.default_rng(1).normal(size=(6, 2)).astype(np.float32)


@pytest.fixture(autouse=True)
def _fresh_names():
    gc.collect()
    nnlib.naming.reset_names()


def pickled(obj):
    return pickle.loads(pickle.dumps(obj))


COPIES = {"deepcopy": copy.deepcopy, "pickle": pickled}


class Scale(Layer):
    """A user layer with a weight and a plain attribute."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.w * self.factor


class Tower(nnlib.Network):
    """Sublayers in an attribute, a list and a dict; the second one tracked
    first but built last (creation order differs from tracking order)."""

    def __init__(self):
        super().__init__(name="tower")
        self.late = Dense(2)
        self.blocks = [Dense(4, activation="tanh"), Scale(0.5)]
        self.heads = {"norm": BatchNormalization()}

    def call(self, x, training=None):
        for block in self.blocks:
            x = block(x)
        x = self.heads["norm"](x, training=training)
        return self.late(x)


def _sequential():
    return nnlib.Sequential(
        [Dense(4, activation="relu", input_shape=(3,)), Dropout(0.0), Dense(2)],
        name="mnist",
    )


def _trained(model, optimizer="adam"):
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    model.fit(X, Y, batch_size=3, epochs=2, verbose=0, shuffle=False)
    return model


def _assert_independent(original, clone):
    assert clone is not original
    ours, theirs = original.variables, clone.variables
    assert len(ours) == len(theirs) > 0
    for a, b in zip(ours, theirs):
        assert a is not b and a._id != b._id
        assert a.shape == b.shape and a.dtype == b.dtype
        assert a.trainable == b.trainable
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("compiled", [False, True], ids=["plain", "trained"])
def test_a_sequential_copy_predicts_the_same_and_trains_on_its_own(how, compiled):
    model = _trained(_sequential()) if compiled else _sequential()
    before = model.predict(X)
    weights = model.get_weights()
    clone = COPIES[how](model)
    _assert_independent(model, clone)
    np.testing.assert_array_equal(clone.predict(X), before)
    assert [layer.name for layer in clone.layers] == [l.name for l in model.layers]
    assert clone.name == "mnist_1"
    assert [v.name for v in clone.variables] == [
        v.name.replace("mnist/", "mnist_1/", 1) for v in model.variables
    ]
    if not compiled:
        clone.compile(optimizer="sgd", loss="mse")
    clone.fit(X, Y, epochs=1, verbose=0)
    assert not np.array_equal(clone.predict(X), before)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("how", COPIES)
def test_the_copy_of_a_trained_model_keeps_the_optimizer_state(how):
    model = _trained(_sequential())
    clone = COPIES[how](model)
    opt, copied = model.optimizer, clone.optimizer
    assert copied is not opt and type(copied) is type(opt)
    assert int(copied.iterations.numpy()) == int(opt.iterations.numpy()) == 4
    for var, twin in zip(model.trainable_variables, clone.trainable_variables):
        for slot in opt.get_slot_names():
            mine, theirs = opt.get_slot(var, slot), copied.get_slot(twin, slot)
            assert mine is not theirs
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    # the same next step on both gives the same weights: the state is all there
    model.fit(X, Y, batch_size=6, epochs=1, verbose=0)
    clone.fit(X, Y, batch_size=6, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert clone.compiled_metrics.metrics[0] is not model.compiled_metrics.metrics[0]


@pytest.mark.parametrize("how", COPIES)
def test_a_subclassed_network_copy_keeps_its_layers_and_creation_order(how):
    model = Tower()
    model(X, training=True)
    model.compile(optimizer="sgd", loss="mse")
    clone = COPIES[how](model)
    _assert_independent(model, clone)
    assert isinstance(clone.blocks, list) and isinstance(clone.heads, dict)
    assert clone.blocks[1].factor == 0.5
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    np.testing.assert_allclose(clone.predict(X), model.predict(X), rtol=1e-6)
    clone.set_weights(model.get_weights())  # the same order of weights
    assert clone.blocks[0]._nnlib.parent() is clone
    assert clone.blocks[0].scope_name == f"{clone.name}/dense_1"


@pytest.mark.parametrize("how", COPIES)
def test_an_unbuilt_copy_and_its_original_both_build(how):
    model = Tower()
    clone = COPIES[how](model)
    model(X)
    clone(X)  # no "variable ... already exists"
    assert {v.name.split("/")[0] for v in model.variables} == {model.name}
    assert {v.name.split("/")[0] for v in clone.variables} == {clone.name}
    assert clone.name != model.name


@pytest.mark.parametrize("how", COPIES)
def test_a_layer_copy_is_a_new_top_level_layer(how):
    dense = Dense(2, name="proj")
    dense(X)
    clone = COPIES[how](dense)
    _assert_independent(dense, clone)
    assert clone.name == "proj_1"
    assert [v.name for v in clone.variables] == ["proj_1/kernel", "proj_1/bias"]
    np.testing.assert_array_equal(np.asarray(clone(X)), np.asarray(dense(X)))


def test_a_deepcopy_of_a_sublayer_copies_it_alone():
    model = _trained(_sequential())
    first = model.layers[0]
    clone = copy.deepcopy(first)
    assert clone._nnlib.parent is None
    assert clone.name == "dense"  # free at the top level
    assert [v.name for v in clone.variables] == ["dense/kernel", "dense/bias"]
    np.testing.assert_array_equal(clone.get_weights()[0], first.get_weights()[0])


@pytest.mark.parametrize("how", COPIES)
def test_copied_variables_are_registered_so_new_models_take_other_names(how):
    model = _sequential()
    clone = COPIES[how](model)
    assert scope_in_use(clone.name)
    fresh = _sequential()
    assert fresh.name not in (model.name, clone.name)


@pytest.mark.parametrize("how", COPIES)
def test_a_frozen_layer_stays_frozen_and_thaws(how):
    model = _sequential()
    model.layers[0].trainable = False
    clone = COPIES[how](model)
    assert not clone.layers[0].trainable
    assert [v.trainable for v in clone.variables] == [
        v.trainable for v in model.variables
    ]
    clone.layers[0].trainable = True
    assert all(v.trainable for v in clone.layers[0].variables)
    assert not any(v.trainable for v in model.layers[0].variables)


def test_a_copy_has_no_build_lock_and_copies_during_use_work():
    model = _sequential()
    assert model._nnlib.build_lock is None
    clone = copy.deepcopy(model)
    assert clone._nnlib.build_lock is None
    assert copy.copy(X) is not X  # (numpy only: shallow copies are not ours)


def test_a_pending_deferred_restore_is_reported_on_copy(tmp_path):
    source = _sequential()
    path = source.save_weights(str(tmp_path / "w.h5"))
    fresh = nnlib.Sequential([Dense(4, activation="relu"), Dropout(0.0), Dense(2)])
    fresh.load_weights(path)  # not built yet: kept until the variables exist
    with pytest.warns(UserWarning, match="load_weights.*not created yet"):
        copy.deepcopy(fresh)


def test_a_pickled_model_keeps_its_name_in_a_fresh_process(tmp_path):
    model = _trained(_sequential())
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    np.save(tmp_path / "x.npy", X)
    code = (
        "import pickle, sys, numpy as np, nnlib\n"
        "model = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "print(model.name, [v.name for v in model.variables][0])\n"
        "np.save(sys.argv[2], model.predict(np.load(sys.argv[3])))\n"
        "print(nnlib.Sequential(name='mnist').name)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(path),
            str(tmp_path / "y.npy"),
            str(tmp_path / "x.npy"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.split("\n")
    assert out[0] == "mnist mnist/dense/kernel"
    assert out[1] == "mnist_1"
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), model.predict(X))


def test_copying_warns_about_nothing_in_the_common_case():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        copy.deepcopy(_trained(_sequential()))
        pickled(_trained(_sequential(), optimizer="rmsprop"))


_R = np.random.default_rng(2)
BUILT_IN = {
    "Conv2D": (lambda: nnlib.layers.Conv2D(2, 2), _R.normal(size=(2, 4, 4, 2))),
    "BatchNormalization": (BatchNormalization, _R.normal(size=(6, 3))),
    "LayerNormalization": (nnlib.layers.LayerNormalization, _R.normal(size=(2, 5))),
    "Embedding": (lambda: nnlib.layers.Embedding(5, 3), _R.integers(0, 5, (2, 4))),
    "SimpleRNN": (lambda: nnlib.layers.SimpleRNN(3), _R.normal(size=(2, 4, 3))),
    "LSTM": (
        lambda: nnlib.layers.LSTM(3, return_sequences=True),
        _R.normal(size=(2, 3, 2)),
    ),
    "GRU": (lambda: nnlib.layers.GRU(3), _R.normal(size=(2, 3, 2))),
    "Bidirectional": (
        lambda: nnlib.layers.Bidirectional(nnlib.layers.LSTM(2)),
        _R.normal(size=(2, 3, 2)),
    ),
}


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_layers_copy_with_equal_outputs(how, name):
    make, x = BUILT_IN[name]
    layer = make()
    out = np.asarray(layer(x))
    clone = COPIES[how](layer)
    _assert_independent(layer, clone)
    np.testing.assert_allclose(np.asarray(clone(x)), out, rtol=1e-6)
    assert [v.name.split("/", 1)[1] for v in clone.variables] == [
        v.name.split("/", 1)[1] for v in layer.variables
    ]


@pytest.mark.parametrize("how", COPIES)
def test_multi_head_attention_copies(how):
    layer = nnlib.layers.MultiHeadAttention(num_heads=2, key_dim=2)
    q, v = _R.normal(size=(2, 3, 4)), _R.normal(size=(2, 5, 4))
    out = np.asarray(layer(q, v))
    clone = COPIES[how](layer)
    _assert_independent(layer, clone)
    np.testing.assert_allclose(np.asarray(clone(q, v)), out, rtol=1e-6)


def test_a_shallow_copy_shares_the_variables_and_renames_nothing():
    model = _trained(_sequential())
    names = [v.name for v in model.variables]
    twin = copy.copy(model)
    assert twin.name == model.name
    assert [v is w for v, w in zip(twin.variables, model.variables)] == [True] * 4
    assert [v.name for v in model.variables] == names
    np.testing.assert_array_equal(twin.predict(X), model.predict(X))


def test_a_copy_saves_weights_the_original_loads(tmp_path):
    model = _trained(_sequential())
    clone = copy.deepcopy(model)
    clone.fit(X, Y, epochs=1, verbose=0)
    path = clone.save_weights(str(tmp_path / "clone.h5"))
    model.load_weights(path)  # names relative to the model: mnist_1's fit mnist
    np.testing.assert_array_equal(model.predict(X), clone.predict(X))
    saved = clone.save(str(tmp_path / "clone_model.h5"))
    np.testing.assert_allclose(
        nnlib.load_model(saved).predict(X), clone.predict(X), rtol=1e-6
    )


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_pickle_protocol(protocol):
    model = _trained(_sequential())
    clone = pickle.loads(pickle.dumps(model, protocol=protocol))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    tensor = nnlib.constant([[1.0, 2.0]])
    copied = pickle.loads(pickle.dumps(tensor, protocol=protocol))
    assert copied._id != tensor._id
    np.testing.assert_array_equal(copied.numpy(), tensor.numpy())
