"""fit of a model with nothing to train: warns once and runs, as Keras does.

A frozen feature extractor evaluated through ``fit`` (for its logs and
callbacks) is common; Keras warns "The model does not have any trainable
weights." and goes on. nnlib warns once per ``fit``, naming the model, and
runs every step: the loss and metrics are computed and logged, the callbacks
run, no weight changes and the optimizer takes no step.
"""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib.layers import Activation, Dense

KERNEL = np.array([[0.5, -1.0], [0.25, 2.0], [-0.75, 0.5]], np.float32)
BIAS = np.array([0.1, -0.2], np.float32)


def _data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(10, 3)).astype(np.float32)
    y = rng.normal(size=(10, 2)).astype(np.float32)
    return x, y


def _frozen(name):
    model = nnlib.Sequential([Dense(2)], name=name)
    model.build((None, 3))
    model.set_weights([KERNEL, BIAS])
    model.trainable = False
    model.compile(
        optimizer=nnlib.optimizers.GradientDescent(0.5), loss="mse", metrics=["mae"]
    )
    return model


def _untrained(caught):
    return [str(w.message) for w in caught if "no trainable weights" in str(w.message)]


def test_fit_of_a_frozen_model_warns_once_logs_the_loss_and_trains_nothing():
    model = _frozen("frozen_extractor")
    x, y = _data()
    batches = []
    callback = nnlib.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batches.append(batch)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(
            x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[callback]
        )
    messages = _untrained(caught)
    assert len(messages) == 1
    assert "'frozen_extractor'" in messages[0]
    assert "nothing" in messages[0]
    # the weights and the optimizer are untouched
    kernel, bias = model.get_weights()
    np.testing.assert_array_equal(kernel, KERNEL)
    np.testing.assert_array_equal(bias, BIAS)
    assert int(model.optimizer.iterations.numpy()) == 0
    # the logs: Keras's MSE and MAE of the fixed weights, each epoch alike
    residual = x.astype(np.float64) @ KERNEL + BIAS - y
    mse, mae = (residual**2).mean(), np.abs(residual).mean()
    assert history.history["loss"] == pytest.approx([mse, mse], rel=1e-5)
    assert history.history["mae"] == pytest.approx([mae, mae], rel=1e-5)
    assert batches == [0, 1, 2] * 2


def test_each_fit_warns_again():
    model = _frozen("frozen_twice")
    x, y = _data()
    for _ in range(2):
        with pytest.warns(UserWarning, match="'frozen_twice' has no trainable weights"):
            model.fit(x, y, epochs=1, verbose=0)


def test_a_model_without_any_weights_fits_and_train_on_batch_runs():
    model = nnlib.Sequential([Activation("relu")], name="weightless")
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([[-1.0, 2.0], [3.0, -4.0]], np.float32)
    y = np.zeros((2, 2), np.float32)
    with pytest.warns(UserWarning, match="'weightless' has no trainable weights"):
        history = model.fit(x, y, epochs=1, verbose=0)
    expected = (np.maximum(x, 0) ** 2).mean()
    assert history.history["loss"] == pytest.approx([expected])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert model.train_on_batch(x, y) == pytest.approx(expected)
    assert len(_untrained(caught)) <= 1


def test_a_trainable_model_whose_loss_ignores_its_weights_still_says_so():
    """Trainable weights that the loss does not use stay an error (a bug)."""

    class Ignores(nnlib.Network):
        def __init__(self):
            super().__init__(name="ignores")
            self.dense = Dense(2)

        def call(self, x, training=None):
            self.dense(x)
            return x * 1.0

    model = Ignores()
    model.compile(optimizer="sgd", loss="mse")
    with (
        pytest.raises(ValueError, match="no gradient for any variable"),
        pytest.warns(UserWarning, match="every gradient is None"),
    ):
        model.fit(np.ones((2, 2), np.float32), np.ones((2, 2)), verbose=0)
