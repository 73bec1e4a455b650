"""compile/fit/evaluate/predict: behaviour, callbacks, bad input, and real MNIST."""

import os

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense, Dropout

MNIST = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data", "mnist.npz"
)


def _blobs(n=256, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]], np.float32)
    x = centers[y] + rng.normal(0, 0.6, (n, 2)).astype(np.float32)
    return x, y


def _model(**compile_args):
    model = nnlib.Sequential([Dense(16, activation="relu"), Dense(3)])
    model.compile(
        optimizer=compile_args.pop("optimizer", nnlib.optimizers.Adam(0.05)),
        loss=compile_args.pop(
            "loss", nnlib.losses.SparseCategoricalCrossentropy(from_logits=True)
        ),
        metrics=compile_args.pop("metrics", ["accuracy"]),
        **compile_args,
    )
    return model


def test_fit_learns_and_returns_a_history_with_val_names():
    x, y = _blobs()
    model = _model()
    history = model.fit(x, y, batch_size=32, epochs=5, verbose=0, validation_split=0.25)
    h = history.history
    assert set(h) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(h["loss"]) == 5 and h["loss"][-1] < h["loss"][0]
    assert h["val_accuracy"][-1] > 0.9


def test_fit_is_the_hand_written_loop():
    """Same seed, same data order: fit's step equals a tape + apply_gradients step."""
    x, y = _blobs(64)
    nnlib.random.set_seed(1)
    a = _model(optimizer=nnlib.optimizers.GradientDescent(0.1))
    nnlib.random.set_seed(1)
    b = _model(optimizer=nnlib.optimizers.GradientDescent(0.1))
    a(x), b(x)
    b.set_weights(a.get_weights())
    a.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    loss_fn = nnlib.losses.SparseCategoricalCrossentropy(from_logits=True)
    step = nnlib.implicit_value_and_gradients(lambda: loss_fn(y, b(x, training=True)))
    _, grads_and_vars = step()
    b.optimizer.apply_gradients(grads_and_vars)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_evaluate_predict_and_batch_methods():
    x, y = _blobs(100)
    model = _model()
    model.fit(x, y, epochs=3, verbose=0)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert 0 <= acc <= 1 and loss > 0
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {
        "loss",
        "accuracy",
    }
    probs = model.predict(x, batch_size=7)
    assert probs.shape == (100, 3)
    np.testing.assert_allclose(probs, model(x).numpy(), rtol=1e-5, atol=1e-6)
    assert model.predict(x[:0]).shape == (0, 3)
    assert isinstance(model.train_on_batch(x[:8], y[:8])[0], float)
    assert len(model.test_on_batch(x[:8], y[:8])) == 2
    assert model.predict_on_batch(x[:4]).shape == (4, 3)


def test_fit_on_a_dataset_with_sample_weights():
    """Weights from a Dataset scale each sample's loss: the steps equal those of
    fit on arrays with the same sample_weight, and differ from unweighted ones."""
    x, y = _blobs(64)
    w = np.linspace(0.0, 3.0, 64).astype(np.float32)
    data = nnlib.data.Dataset.from_tensor_slices((x, y, w)).batch(16)
    runs = {}
    for name, kwargs in (
        ("dataset", {"x": data}),
        ("arrays", {"x": x, "y": y, "sample_weight": w, "shuffle": False}),
        ("unweighted", {"x": x, "y": y, "shuffle": False}),
    ):
        nnlib.random.set_seed(3)
        model = _model(optimizer=nnlib.optimizers.GradientDescent(0.1))
        history = model.fit(batch_size=16, epochs=2, verbose=0, **kwargs)
        runs[name] = (history.history, model.get_weights())
    (h_data, w_data), (h_arrays, w_arrays), (h_plain, w_plain) = runs.values()
    assert h_data["loss"] == pytest.approx(h_arrays["loss"], rel=1e-6)
    assert h_data["accuracy"] == pytest.approx(h_arrays["accuracy"], rel=1e-6)
    for a, b in zip(w_data, w_arrays):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(w_data[0], w_plain[0], rtol=1e-3, atol=1e-4)
    assert h_data["loss"][0] != pytest.approx(h_plain["loss"][0], rel=1e-3)


def test_predict_runs_in_inference_mode():
    model = nnlib.Sequential([Dropout(0.9), Dense(1, kernel_initializer="ones")])
    x = np.ones((4, 10), np.float32)
    np.testing.assert_allclose(model.predict(x), np.full((4, 1), 10.0))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": np.zeros((8, 2)), "y": np.zeros(5)}, "x has 8 samples, y has 5"),
        ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, "0 samples"),
        (
            {"x": np.zeros((8, 2)), "y": np.zeros(8), "batch_size": 0},
            r"fit: batch_size must be an integer >= 1, got 0",
        ),
    ],
)
def test_bad_input_raises_before_the_first_step(kwargs, match):
    model = _model()
    model(np.zeros((1, 2), np.float32))
    before = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model.fit(verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_labels_out_of_range_raise_before_any_update():
    model = _model()
    x, _y = _blobs(16)
    model(x)
    before = model.get_weights()
    with pytest.raises(ValueError, match="label 7 outside"):
        model.fit(x, np.full(16, 7), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_wrong_feature_shape_for_a_built_model():
    model = _model()
    model(np.zeros((1, 2), np.float32))
    with pytest.raises(ValueError, match="last dimension 2"):
        model.fit(np.zeros((4, 5), np.float32), np.zeros(4, np.int64), verbose=0)


def test_fit_before_compile_and_epochs_zero():
    model = nnlib.Sequential([Dense(1)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 1)), np.zeros(2), verbose=0)
    model = _model()
    assert model.fit(*_blobs(8), epochs=0, verbose=0).history == {}


def test_unknown_names_in_compile_suggest_the_right_one():
    model = nnlib.Sequential([Dense(1)])
    with pytest.raises(ValueError, match="(?i)did you mean"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="(?i)did you mean"):
        model.compile(optimizer="adam", loss="mean_sqared_error")


def test_nan_loss_is_reported_and_terminate_on_nan_stops():
    model = _model(optimizer=nnlib.optimizers.GradientDescent(1e30))
    x, y = _blobs(64)
    with pytest.warns(RuntimeWarning, match=r"loss became .* at epoch \d+, step \d+"):
        history = model.fit(
            x * 1e20,
            y,
            batch_size=8,
            epochs=3,
            verbose=0,
            callbacks=[nnlib.callbacks.TerminateOnNaN()],
        )
    assert len(history.history["loss"]) == 1


def test_check_finite_names_the_row_and_column():
    x, y = _blobs(32)
    x[20, 1] = np.nan
    with pytest.raises(FloatingPointError, match="x has .*nan.* at row 20, column 1"):
        _model().fit(x, y, batch_size=8, shuffle=False, verbose=0, check_finite=True)


def test_early_stopping_and_class_weight():
    """class_weight is sample_weight = class_weight[label]: same steps, same logs."""
    x, y = _blobs(96)
    class_weight = {0: 1.0, 1: 2.0, 2: 0.5}
    runs = []
    for kwargs in (
        {"class_weight": class_weight},
        {"sample_weight": np.array([class_weight[k] for k in y], np.float32)},
        {},
    ):
        nnlib.random.set_seed(4)
        model = _model()
        stop = nnlib.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
        history = model.fit(
            x, y, epochs=10, verbose=0, shuffle=False, callbacks=[stop], **kwargs
        )
        assert len(history.history["loss"]) == 2  # no epoch improves by 10
        runs.append((history.history, model.get_weights()))
    (h_class, w_class), (h_sample, w_sample), (h_plain, w_plain) = runs
    assert h_class.keys() == h_sample.keys()
    for key in h_class:  # pytest 9.2's approx takes no dict of lists
        assert h_class[key] == pytest.approx(h_sample[key], rel=1e-6)
    for a, b in zip(w_class, w_sample):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(w_class[0], w_plain[0], rtol=1e-3, atol=1e-4)
    assert h_class["loss"][0] != pytest.approx(h_plain["loss"][0], rel=1e-3)


class _GANLikeStep(nnlib.Network):
    def __init__(self):
        super().__init__()
        self.dense = Dense(1)
        self.calls = 0

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        self.calls += 1
        return {"custom": float(self.calls)}


def test_custom_train_step_keeps_the_loop():
    model = _GANLikeStep()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(
        np.zeros((10, 2), np.float32), np.zeros(10), batch_size=5, epochs=2, verbose=0
    )
    assert history.history["custom"] == [2.0, 4.0]


def test_progress_display_on_a_pipe_has_no_carriage_returns(capsys):
    x, y = _blobs(64)
    _model().fit(x, y, batch_size=16, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "\r" not in out
    assert "loss" in out


@pytest.mark.skipif(
    not os.path.exists(MNIST), reason="../shared/data/mnist.npz is absent"
)
def test_mlp_reaches_95_percent_on_real_mnist_in_one_epoch():
    with np.load(MNIST) as data:
        x_train = data["x_train"].reshape(-1, 784).astype(np.float32) / 255
        x_test = data["x_test"].reshape(-1, 784).astype(np.float32) / 255
        y_train, y_test = data["y_train"], data["y_test"]
    nnlib.random.set_seed(0)
    model = nnlib.Sequential([Dense(128, activation="relu"), Dense(10)])
    model.compile(
        optimizer=nnlib.optimizers.Adam(1e-3),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=32, epochs=1, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.95
