"""Building: exactly once across threads, and nothing left behind by a failed build."""

import gc
import sys
import threading
import time

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense, Layer


@pytest.fixture(autouse=True)
def _fresh_names():
    gc.collect()
    nnlib.naming.reset_names()


@pytest.fixture
def _fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


class SlowBuild(Layer):
    """Counts its builds; sleeps between its two weights to invite a race."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.builds = 0

    def build(self, input_shape):
        self.builds += 1
        self.w = self.add_weight("w", shape=(input_shape[-1], 2))
        time.sleep(0.01)
        self.b = self.add_weight("b", shape=(2,))

    def call(self, x):
        return nnlib.matmul(x, self.w) + self.b


def _call_together(fn, n=4):
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def work(i):
        try:
            barrier.wait()
            results[i] = fn().numpy()
        except Exception as err:  # noqa: BLE001 - the test reports every thread's
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.usefixtures("_fast_switching")
def test_concurrent_first_calls_build_a_layer_exactly_once():
    layer = SlowBuild()
    x = np.ones((1, 3), np.float32)
    results, errors = _call_together(lambda: layer(x))
    assert errors == [] and layer.builds == 1
    assert [v.name for v in layer.variables] == ["slow_build/w", "slow_build/b"]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


@pytest.mark.usefixtures("_fast_switching")
def test_concurrent_first_calls_of_a_network_build_it_once_without_deadlock():
    class Net(nnlib.Network):
        def __init__(self):
            super().__init__()
            self.slow = SlowBuild()
            self.head = Dense(1)

        def call(self, x):
            return self.head(self.slow(x))

    model = Net()
    x = np.ones((2, 3), np.float32)
    results, errors = _call_together(lambda: model(x))
    assert errors == [] and model.slow.builds == 1 and model.built
    assert len(model.variables) == 4
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("call", r"'dense_out'.*\(5,\).*batch axis.*x\[None\]"),
        ("predict", r"\(5,\).*x\[None\]"),  # fit/predict may catch it first
    ],
)
def test_rank_one_input_fails_before_building_and_a_retry_works(entry, message):
    model = nnlib.Sequential([Dense(1, name="dense_out")])
    run = model if entry == "call" else model.predict
    with pytest.raises(ValueError, match=message):
        run(np.ones(5, np.float32))
    assert not model.built and not model.layers[0].built
    assert model.variables == []
    assert run(np.ones((2, 5), np.float32)).shape == (2, 1)
    assert model.count_params() == 6


def test_standalone_dense_rank_one_input_creates_no_variables():
    layer = Dense(3)
    with pytest.raises(ValueError, match=r"'dense'.*shape \(4,\).*x\[None\]"):
        layer(np.ones(4))
    assert not layer.built and layer.variables == []
    assert layer(np.ones((1, 4))).shape == (1, 3) and layer.count_params() == 15


class FailsAfterAWeight(Layer):
    """Creates a weight, then rejects inputs of 3 features: a half-done build."""

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(input_shape[-1],))
        if input_shape[-1] == 3:
            raise ValueError("three features are not supported")
        self.b = self.add_weight("b", shape=(1,))

    def call(self, x):
        return x * self.w + self.b


def test_a_failed_build_leaves_no_variable_and_no_attribute_behind():
    layer = FailsAfterAWeight()
    with pytest.raises(ValueError, match="three features"):
        layer(np.ones((1, 3)))
    assert not layer.built and layer.variables == [] and not hasattr(layer, "w")
    # the name 'fails_after_a_weight/w' is free again: no "already exists"
    assert layer(np.ones((1, 2))).shape == (1, 2)
    assert [v.name for v in layer.variables] == [
        "fails_after_a_weight/w",
        "fails_after_a_weight/b",
    ]


def test_a_failed_outer_build_unbuilds_the_sublayers_it_built():
    class Outer(Layer):
        def __init__(self):
            super().__init__()
            self.inner = Dense(2)

        def build(self, input_shape):
            self.inner(np.zeros((1, input_shape[-1]), np.float32))
            if input_shape[-1] == 3:
                raise ValueError("three features are not supported")

        def call(self, x):
            return self.inner(x)

    layer = Outer()
    with pytest.raises(ValueError, match="three features"):
        layer(np.ones((1, 3)))
    assert not layer.built and not layer.inner.built and layer.variables == []
    assert layer(np.ones((1, 4))).shape == (1, 2)
    assert layer.count_params() == 10


def test_values_loaded_before_a_failed_build_still_reach_the_retry(tmp_path):
    good = FailsAfterAWeight(name="keeper")
    good(np.ones((1, 2)))
    good.w.assign([5.0, 6.0])
    path = good.save_weights(str(tmp_path / "keeper.h5"))
    del good
    gc.collect()
    nnlib.naming.reset_names()

    fresh = FailsAfterAWeight(name="keeper")
    fresh.load_weights(path)  # deferred: applied as each variable is created
    with pytest.raises(ValueError, match="three features"):
        fresh(np.ones((1, 3)))
    fresh(np.ones((1, 2)))
    np.testing.assert_array_equal(fresh.w.numpy(), [5.0, 6.0])


@pytest.mark.parametrize("dtype", ["string", "int32", "bool", "flaot32", 3])
def test_a_layer_with_a_non_floating_or_unknown_dtype_fails_at_construction(dtype):
    with pytest.raises(TypeError, match=rf"Dense.*dtype.*{dtype}.*float"):
        Dense(3, dtype=dtype)


def test_floating_dtypes_are_accepted():
    assert Dense(3, dtype="float64").dtype == np.float64
    assert Dense(3, dtype=np.float16).dtype == np.float16


def test_a_layer_that_cannot_be_added_leaves_the_sequential_as_it_was():
    model = nnlib.Sequential([Dense(2, input_shape=(3,))])
    before = [v.name for v in model.variables]
    conv = nnlib.layers.Conv2D(4, 3)
    with pytest.raises(ValueError, match="conv2d"):
        model.add(conv)  # a 2-D output cannot feed a convolution
    assert model.layers == [model.layers[0]] and model.built
    assert [v.name for v in model.variables] == before
    assert model(np.ones((1, 3))).shape == (1, 2)
    other = nnlib.Sequential([nnlib.layers.Reshape((3, 3, 1)), conv], name="other")
    other(np.ones((1, 9)))
    assert conv.scope_name == "other/conv2d"


def test_a_failed_sequential_build_forgets_the_shape_it_was_given():
    model = nnlib.Sequential([nnlib.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="conv2d"):
        model.build((None, 5, 5))  # the channel axis is missing
    assert not model.built and model._batch_input_shape is None
    assert model(np.ones((1, 5, 5, 1))).shape == (1, 3, 3, 2)


def test_a_network_first_called_inside_a_failed_build_is_unbuilt_with_it():
    class Outer(Layer):
        def __init__(self):
            super().__init__()
            self.inner = nnlib.Sequential([Dense(2)])

        def build(self, input_shape):
            self.inner(np.zeros((1, input_shape[-1]), np.float32))
            if input_shape[-1] == 3:
                raise ValueError("three features are not supported")

        def call(self, x):
            return self.inner(x)

    layer = Outer()
    with pytest.raises(ValueError, match="three features"):
        layer(np.ones((1, 3)))
    assert not layer.inner.built and not layer.inner.layers[0].built
    assert layer(np.ones((1, 4))).shape == (1, 2) and layer.count_params() == 10
