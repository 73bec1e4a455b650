"""``layer.build(input_shape)`` called by hand, as Keras code does.

Keras wraps every ``build``: calling it creates the variables, sets ``built``
and records the shape, so ``build`` then ``set_weights`` then a call uses the
weights that were set. A second ``build`` does nothing. nnlib wraps ``build``
of every Layer subclass (user classes too) at class creation, keeping the
build-once lock and the undo of a failed build.
"""

import gc
import threading

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense, Layer

KERNEL = np.array([[0.5, -1.0], [0.25, 2.0], [-0.75, 0.5]], np.float32)
BIAS = np.array([0.1, -0.2], np.float32)
X = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], np.float32)
EXPECTED = X.astype(np.float64) @ KERNEL + BIAS


@pytest.fixture(autouse=True)
def _fresh_names():
    gc.collect()
    nnlib.naming.reset_names()


class Affine(Layer):
    """A user layer: ``x @ w + b``, counting its builds."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.builds = 0

    def build(self, input_shape):
        self.builds += 1
        self.w = self.add_weight("w", shape=(input_shape[-1], self.units))
        self.b = self.add_weight("b", shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return nnlib.matmul(inputs, self.w) + self.b


class Stack(Layer):
    """A user layer that builds its sublayer by hand in its own build (Keras style)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = Affine(2)

    def build(self, input_shape):
        self.inner.build(input_shape)
        self.scale = self.add_weight("scale", shape=(), initializer="ones")
        super().build(input_shape)

    def call(self, inputs):
        return self.inner(inputs) * self.scale


class TwoDense(nnlib.Network):
    def __init__(self):
        super().__init__(name="two_dense")
        self.first = Dense(2)

    def call(self, x, training=None):
        return self.first(x)


def _build_set_call(layer, weights):
    assert layer.build((None, 3)) is None
    assert layer.built
    layer.set_weights(weights)
    return np.asarray(layer(X))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Dense(2),
        lambda: Affine(2),
        lambda: nnlib.Sequential([Dense(2)]),
        TwoDense,
    ],
    ids=["Dense", "user layer", "Sequential", "Network subclass"],
)
def test_build_then_set_weights_then_call_uses_those_weights(make):
    layer = make()
    out = _build_set_call(layer, [KERNEL, BIAS])
    np.testing.assert_allclose(out, EXPECTED, rtol=1e-6)
    assert len(layer.variables) == 2
    assert layer._build_input_shape == (None, 3)


def test_build_records_the_shape_and_a_second_build_does_nothing():
    layer = Affine(2, name="affine")
    layer.build((None, 3))
    variables = list(layer.variables)
    layer.build((None, 3))
    layer.build(input_shape=(None, 3))
    assert layer.builds == 1
    assert [v is w for v, w in zip(layer.variables, variables)] == [True, True]
    assert [v.name for v in layer.variables] == ["affine/w", "affine/b"]
    layer(X)  # the first call does not build again
    assert layer.builds == 1


def test_a_sublayer_built_by_hand_inside_build_is_built_once():
    layer = Stack(name="stack")
    layer.build((None, 3))
    assert layer.built and layer.inner.built and layer.inner.builds == 1
    layer.set_weights([KERNEL, BIAS, np.float32(2.0)])
    np.testing.assert_allclose(np.asarray(layer(X)), 2 * EXPECTED, rtol=1e-6)
    assert [v.name for v in layer.variables] == [
        "stack/affine/w",
        "stack/affine/b",
        "stack/scale",
    ]


def test_a_failed_explicit_build_is_undone_and_can_be_retried():
    class Picky(Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", shape=(input_shape[-1], 2))
            if input_shape[-1] != 3:
                raise ValueError("Picky wants 3 features")

    layer = Picky(name="picky")
    with pytest.raises(ValueError, match="wants 3"):
        layer.build((None, 4))
    assert not layer.built and layer.variables == [] and "w" not in vars(layer)
    layer.build((None, 3))
    assert layer.built and [v.shape for v in layer.variables] == [(3, 2)]


def test_the_base_layer_build_marks_it_built():
    layer = Layer(name="plain")
    layer.build((None, 3))
    assert layer.built and layer._build_input_shape == (None, 3)


def test_subclass_build_calling_super_build_runs_each_level_once():
    class Child(Affine):
        def build(self, input_shape):
            super().build(input_shape)
            self.extra = self.add_weight("extra", shape=(1,), initializer="ones")

    layer = Child(2, name="child")
    layer.build((None, 3))
    assert layer.builds == 1 and layer.built
    assert [v.name for v in layer.variables] == ["child/w", "child/b", "child/extra"]


def test_build_with_several_shape_arguments_passes_them_through():
    class Pair(Layer):
        def build(self, query_shape, value_shape):
            self.w = self.add_weight("w", shape=(query_shape[-1], value_shape[-1]))

        def call(self, inputs):
            return inputs

    layer = Pair(name="pair")
    layer.build((None, 3), (None, 5))
    assert layer.built and layer.w.shape == (3, 5)


def test_explicit_builds_from_two_threads_build_once():
    layer = Affine(2)
    barrier = threading.Barrier(2)
    errors = []

    def build():
        barrier.wait()
        try:
            layer.build((None, 3))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and layer.builds == 1 and len(layer.variables) == 2


def test_sequential_built_by_hand_then_summary_and_fit():
    model = nnlib.Sequential([Dense(2), Dense(1)])
    model.build((None, 3))
    assert model.built and model.count_params() == 3 * 2 + 2 + 2 * 1 + 1
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, np.zeros((2, 1)), verbose=0)
