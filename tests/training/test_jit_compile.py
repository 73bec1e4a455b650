"""``compile(jit_compile=True)``: fit, evaluate and predict through traced steps.

Each test runs the same model eagerly and traced, from the same seed, and
checks the traced run equals the eager one (losses, metrics, weights), and
that the step really was traced (its ``nnlib.function``'s traces).
"""

import copy
import pickle
import warnings

import numpy as np
import pytest

import nnlib
from nnlib.graph import TracingError

F32 = np.float32
RTOL = 1e-6


def _classes(n=100, features=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)).astype(F32), rng.integers(0, 3, n)


def _compiled(layers, jit_compile, metrics=("accuracy",), **compile_kwargs):
    nnlib.random.set_seed(0)
    model = nnlib.Sequential(layers())
    model.compile(
        optimizer=nnlib.optimizers.Momentum(0.1, momentum=0.9),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=list(metrics),
        jit_compile=jit_compile,
        **compile_kwargs,
    )
    return model


def _dense_dropout():
    return [
        nnlib.layers.Dense(16, activation="relu"),
        nnlib.layers.Dropout(0.3),
        nnlib.layers.Dense(3, kernel_regularizer=nnlib.regularizers.L2(1e-3)),
    ]


def _run_all(model, x, y, **fit_kwargs):
    """fit (with validation), evaluate and predict: everything to compare."""
    history = model.fit(
        x, y, batch_size=16, epochs=3, verbose=0, validation_split=0.2, **fit_kwargs
    )
    return {
        "history": history.history,
        "weights": [v.numpy() for v in model.variables],
        "iterations": int(model.optimizer.iterations),
        "evaluate": model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True),
        "predict": model.predict(x, batch_size=32),
    }


def _assert_same(traced, eager):
    assert traced["history"].keys() == eager["history"].keys()
    for key, values in eager["history"].items():
        np.testing.assert_allclose(traced["history"][key], values, rtol=RTOL)
    for a, b in zip(traced["weights"], eager["weights"], strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-7)
    assert traced["iterations"] == eager["iterations"]
    for key, value in eager["evaluate"].items():
        np.testing.assert_allclose(traced["evaluate"][key], value, rtol=RTOL)
    np.testing.assert_allclose(
        traced["predict"], eager["predict"], rtol=RTOL, atol=1e-7
    )


def _traces(model, kind):
    return model._step_functions[kind].trace_count


def test_a_dense_dropout_model_fits_evaluates_and_predicts_as_eagerly():
    x, y = _classes()
    eager = _run_all(_compiled(_dense_dropout, False), x, y)
    model = _compiled(_dense_dropout, True)
    traced = _run_all(model, x, y)
    _assert_same(traced, eager)
    # 80 training samples in batches of 16; validation 20 (16 + 4); evaluate
    # and predict 100 (32 + 4): one trace per batch shape, replayed after.
    assert (_traces(model, "train"), _traces(model, "test")) == (1, 3)
    assert _traces(model, "predict") == 2
    concrete = model._step_functions["train"].get_concrete_function(
        x[:16], y[:16], None, model.trainable_variables
    )
    assert "effect apply_gradients" in str(concrete)


def test_a_conv2d_model_fits_as_eagerly():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(20, 6, 6, 2)).astype(F32), rng.integers(0, 3, 20)

    def layers():
        return [
            nnlib.layers.Conv2D(4, 3, activation="relu"),
            nnlib.layers.Flatten(),
            nnlib.layers.Dense(3),
        ]

    eager = _run_all(_compiled(layers, False), x, y)
    model = _compiled(layers, True)
    _assert_same(_run_all(model, x, y), eager)
    assert model._step_functions["train"].get_concrete_function(
        x[:16], y[:16], None, model.trainable_variables
    )


def test_a_model_with_an_op_that_cannot_be_traced_falls_back_to_eager():
    # Whether or not pooling is traceable yet, the results are eager's.
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 6, 6, 1)).astype(F32), rng.integers(0, 3, 20)

    def layers():
        return [
            nnlib.layers.Conv2D(2, 3, activation="relu"),
            nnlib.layers.MaxPooling2D(),
            nnlib.layers.Flatten(),
            nnlib.layers.Dense(3),
        ]

    eager = _run_all(_compiled(layers, False), x, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "nnlib.function .* runs eagerly")
        traced = _run_all(_compiled(layers, True), x, y)
    _assert_same(traced, eager)


def test_a_batch_normalization_model_fits_as_eagerly():
    x, y = _classes()

    def layers():
        return [
            nnlib.layers.Dense(8),
            nnlib.layers.BatchNormalization(),
            nnlib.layers.Dense(3),
        ]

    _assert_same(
        _run_all(_compiled(layers, True), x, y),
        _run_all(_compiled(layers, False), x, y),
    )


def test_sample_and_class_weights_match_eager_and_key_their_own_traces():
    x, y = _classes()
    weights = np.linspace(0.5, 1.5, len(x)).astype(F32)
    results = []
    for jit_compile in (False, True):
        model = _compiled(_dense_dropout, jit_compile)
        model.fit(x, y, batch_size=20, verbose=0, sample_weight=weights)
        model.fit(x, y, batch_size=20, verbose=0, class_weight={0: 1.0, 1: 2.0, 2: 0.5})
        model.fit(x, y, batch_size=20, verbose=0)
        results.append([v.numpy() for v in model.variables])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-7)
    assert _traces(model, "train") == 2  # weights given (twice) or None


def test_the_last_partial_batch_traces_once_more_without_a_warning():
    x, y = _classes(n=70)
    model = _compiled(_dense_dropout, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, batch_size=16, epochs=4, verbose=0)
    assert _traces(model, "train") == 2


def test_metrics_of_masked_outputs_count_the_unmasked_steps_only():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(24, 5, 3)).astype(F32)
    x[:, 3:] = 0.0  # padding
    y = rng.normal(size=(24, 5, 2)).astype(F32)
    results = []
    for jit_compile in (False, True):
        nnlib.random.set_seed(0)
        model = nnlib.Sequential([nnlib.layers.Masking(0.0), nnlib.layers.Dense(2)])
        model.compile("sgd", "mse", metrics=["mae"], jit_compile=jit_compile)
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        results.append((history.history, model.evaluate(x, y, verbose=0)))
    (eager, eager_eval), (traced, traced_eval) = results
    np.testing.assert_allclose(traced["mae"], eager["mae"], rtol=RTOL)
    np.testing.assert_allclose(traced_eval, eager_eval, rtol=RTOL)
    assert _traces(model, "train") == 1


def test_train_test_and_predict_on_batch_are_traced_too():
    x, y = _classes(n=16)
    outputs = []
    for jit_compile in (False, True):
        model = _compiled(_dense_dropout, jit_compile)
        outputs.append(
            [
                model.train_on_batch(x, y),
                model.train_on_batch(x, y),
                model.test_on_batch(x, y),
                model.predict_on_batch(x),
            ]
        )
    for a, b in zip(*outputs, strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL)
    assert [_traces(model, k) for k in ("train", "test", "predict")] == [1, 1, 1]


def test_eager_is_the_default():
    model = _compiled(_dense_dropout, False)
    nnlib.Sequential.compile(model, "sgd", "sparse_categorical_crossentropy")
    assert (model.jit_compile, model.run_eagerly) == (False, False)
    model.fit(*_classes(), verbose=0)
    assert "train" not in model._step_functions


def test_run_eagerly_wins_over_jit_compile():
    x, y = _classes()
    with pytest.warns(UserWarning, match="jit_compile is turned off"):
        model = _compiled(_dense_dropout, True, run_eagerly=True)
    assert (model.jit_compile, model.run_eagerly) == (False, True)
    model = _compiled(_dense_dropout, True)
    model.run_eagerly = True
    model.fit(x, y, verbose=0)
    assert "train" not in model._step_functions
    model.run_eagerly = False
    model.fit(x, y, verbose=0)
    assert _traces(model, "train") == 2


def test_the_switches_take_keras_values_and_refuse_others():
    model = _compiled(_dense_dropout, "auto")
    assert model.jit_compile is True
    model.jit_compile = False
    assert model.jit_compile is False
    with pytest.raises(ValueError, match="jit_compile must be one of True, False"):
        _compiled(_dense_dropout, "xla")
    with pytest.raises(TypeError, match="run_eagerly must be True or False"):
        _compiled(_dense_dropout, True, run_eagerly="no")
    with pytest.raises(TypeError, match="run_eagerly must be True or False"):
        model.run_eagerly = 1


def test_a_failed_compile_keeps_the_previous_switches():
    model = _compiled(_dense_dropout, True)
    with pytest.raises(ValueError):
        model.compile("sgd", "no_such_loss", jit_compile=False)
    assert model.jit_compile is True


def test_freezing_a_layer_between_fits_traces_anew():
    x, y = _classes()
    results = []
    for jit_compile in (False, True):
        model = _compiled(_dense_dropout, jit_compile)
        model.fit(x, y, batch_size=20, verbose=0)
        model.layers[0].trainable = False
        frozen = model.layers[0].kernel.numpy()
        model.fit(x, y, batch_size=20, verbose=0)
        np.testing.assert_array_equal(model.layers[0].kernel.numpy(), frozen)
        results.append([v.numpy() for v in model.variables])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-7)
    assert _traces(model, "train") == 2


def test_a_model_with_nothing_to_train_warns_at_every_fit():
    x, y = _classes()
    model = _compiled(_dense_dropout, True)
    model.build((None, 4))
    model.trainable = False
    before = [v.numpy() for v in model.variables]
    for _ in range(2):
        with pytest.warns(UserWarning, match="has no trainable weights"):
            model.fit(x, y, batch_size=50, verbose=0)
    for a, b in zip(before, model.variables, strict=True):
        np.testing.assert_array_equal(a, b.numpy())
    assert _traces(model, "train") == 1


def test_an_overridden_train_step_runs_eagerly_with_one_warning():
    class Custom(nnlib.Network):
        def __init__(self):
            super().__init__()
            self.dense = nnlib.layers.Dense(3)

        def call(self, x, training=False):
            return self.dense(x)

        def train_step(self, data):
            x, y, _ = data
            with nnlib.GradientTape() as tape:
                loss = self.compute_loss(x, y, self(x, training=True))
            variables = tape.watched_variables()
            self.optimizer.apply_gradients(
                zip(tape.gradient(loss, variables), variables)
            )
            return {"loss": float(loss)}  # eager-only: a trace refuses this

    model = Custom()
    model.compile(
        "sgd",
        nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    x, y = _classes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            model.fit(x, y, epochs=2, verbose=0)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "overrides train_step" in messages[0], messages
    assert "train" not in model._step_functions
    model.evaluate(x, y, verbose=0)  # the built-in test_step: traced
    assert _traces(model, "test") == 2


def test_python_values_of_tensors_in_the_step_say_how_to_run_eagerly():
    class Peeking(nnlib.layers.Layer):
        def call(self, x):
            if float(nnlib.reduce_sum(x)) > 0.0:
                return x
            return -x

    x, y = _classes()
    model = _compiled(lambda: [Peeking(), nnlib.layers.Dense(3)], True)
    with pytest.raises(TracingError, match="model.run_eagerly = True"):
        model.fit(x, y, verbose=0)
    model.run_eagerly = True
    model.fit(x, y, verbose=0)


def test_copies_trace_their_own_steps():
    x, y = _classes()
    model = _compiled(_dense_dropout, True)
    model.fit(x, y, batch_size=20, verbose=0)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert twin.jit_compile and "train" not in twin._step_functions
        before = model.layers[0].kernel.numpy()
        twin.fit(x, y, batch_size=20, verbose=0)
        np.testing.assert_array_equal(model.layers[0].kernel.numpy(), before)
        assert not np.array_equal(twin.layers[0].kernel.numpy(), before)
        assert _traces(twin, "train") == 1
