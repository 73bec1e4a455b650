"""LearningRateScheduler and ReduceLROnPlateau: against a stand-in optimizer, and
against a real model with a real optimizer (float, Variable and schedule rates)."""

import json
import math

import numpy as np
import pytest

import nnlib
from nnlib import callbacks


def plateau_rates(reduce, model, values, monitor="loss"):
    """The learning rate logged for each epoch."""
    reduce.set_model(model)
    reduce.on_train_begin()
    rates = []
    for epoch, value in enumerate(values):
        logs = {monitor: value}
        reduce.on_epoch_end(epoch, logs)
        rates.append(logs["learning_rate"])
    return rates


def test_scheduler_sets_the_rate_each_epoch(model):
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return 0.1 * 0.5**epoch

    scheduler = callbacks.LearningRateScheduler(schedule)
    scheduler.set_model(model)
    for epoch in range(3):
        scheduler.on_epoch_begin(epoch)
        logs = {"loss": 1.0}
        scheduler.on_epoch_end(epoch, logs)
        assert logs["learning_rate"] == pytest.approx(0.1 * 0.5**epoch)
    assert seen == [(0, 0.1), (1, 0.1), (2, 0.05)]
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_scheduler_accepts_one_argument_schedules(model):
    scheduler = callbacks.LearningRateScheduler(lambda epoch: 1.0 / (epoch + 1))
    scheduler.set_model(model)
    scheduler.on_epoch_begin(3)
    assert model.optimizer.learning_rate == 0.25


def test_scheduler_accepts_numpy_rates(make_model):
    model = make_model(learning_rate=np.float32(0.5))
    scheduler = callbacks.LearningRateScheduler(lambda e, lr: np.float64(lr * 2))
    scheduler.set_model(model)
    scheduler.on_epoch_begin(0)
    assert type(model.optimizer.learning_rate) is float
    assert model.optimizer.learning_rate == 1.0


def test_scheduler_rejects_a_non_number(model):
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    scheduler.set_model(model)
    with pytest.raises(TypeError, match="must return a float, got 'fast'"):
        scheduler.on_epoch_begin(0)


def test_scheduler_rejects_nan(model):
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: math.nan)
    scheduler.set_model(model)
    with pytest.raises(ValueError, match="returned nan at epoch 0"):
        scheduler.on_epoch_begin(0)


def test_scheduler_needs_a_callable():
    with pytest.raises(TypeError, match="callable"):
        callbacks.LearningRateScheduler(0.1)


def test_scheduler_verbose(model, capsys):
    scheduler = callbacks.LearningRateScheduler(lambda e, lr: 0.5, verbose=1)
    scheduler.set_model(model)
    scheduler.on_epoch_begin(4)
    assert "Epoch 5: LearningRateScheduler setting learning rate to 0.5." in (
        capsys.readouterr().out
    )


def test_schedule_object_as_learning_rate_is_a_clear_error(make_model):
    model = make_model(learning_rate=lambda step: 0.1)
    for callback in (
        callbacks.LearningRateScheduler(lambda e, lr: lr),
        callbacks.ReduceLROnPlateau(monitor="loss"),
    ):
        callback.set_model(model)
        with pytest.raises(TypeError, match="needs a float learning rate"):
            callback.on_epoch_begin(0)
            callback.on_epoch_end(0, {"loss": 1.0})


def test_missing_optimizer_is_a_clear_error():
    scheduler = callbacks.LearningRateScheduler(lambda e, lr: lr)
    scheduler.set_model(object())
    with pytest.raises(ValueError, match="compile the model"):
        scheduler.on_epoch_begin(0)


def test_plateau_reduces_after_patience_down_to_min_lr(make_model):
    model = make_model(learning_rate=1.0)
    reduce = callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=2, min_lr=0.2
    )
    rates = plateau_rates(reduce, model, [1.0] * 9)
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]
    assert model.optimizer.learning_rate == 0.2


def test_plateau_cooldown_skips_epochs_after_a_reduction(make_model):
    model = make_model(learning_rate=1.0)
    reduce = callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=1, cooldown=2
    )
    assert plateau_rates(reduce, model, [1.0] * 6) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    no_cooldown = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    model = make_model(learning_rate=1.0)
    assert plateau_rates(no_cooldown, model, [1.0] * 4) == [1.0, 1.0, 0.5, 0.25]


def test_plateau_improvement_resets_the_wait(make_model):
    model = make_model(learning_rate=1.0)
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2)
    rates = plateau_rates(reduce, model, [1.0, 1.0, 0.5, 0.5, 0.4, 0.4, 0.4])
    assert rates == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert model.optimizer.learning_rate == 0.5


def test_plateau_min_delta(make_model):
    model = make_model(learning_rate=1.0)
    reduce = callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=1, min_delta=0.1
    )
    assert plateau_rates(reduce, model, [1.0, 0.95, 0.8]) == [1.0, 1.0, 0.5]


def test_plateau_maximizes_accuracy(make_model):
    model = make_model(learning_rate=1.0)
    reduce = callbacks.ReduceLROnPlateau(monitor="val_acc", factor=0.5, patience=1)
    rates = plateau_rates(reduce, model, [0.5, 0.6, 0.6, 0.7], "val_acc")
    assert rates == [1.0, 1.0, 1.0, 0.5]


def test_plateau_rejects_bad_factor_and_mode():
    for factor in (1.0, 2.0, 0.0, -0.5):
        with pytest.raises(ValueError, match="factor must be in"):
            callbacks.ReduceLROnPlateau(factor=factor)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: mode"):
        callbacks.ReduceLROnPlateau(mode="lowest")


def test_plateau_missing_metric_warns_and_still_logs_the_rate(model):
    reduce = callbacks.ReduceLROnPlateau()
    reduce.set_model(model)
    logs = {"loss": 1.0}
    with pytest.warns(UserWarning, match="'val_loss'.*Available.*loss"):
        reduce.on_epoch_end(0, logs)
    assert logs["learning_rate"] == 0.1


def test_plateau_verbose(make_model, capsys):
    model = make_model(learning_rate=1.0)
    reduce = callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=1, verbose=1
    )
    plateau_rates(reduce, model, [1.0, 1.0])
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.5." in (
        capsys.readouterr().out
    )


def test_plateau_state_round_trip_and_resume(make_model):
    values = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9]
    whole = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=3)
    expected = plateau_rates(whole, make_model(learning_rate=1.0), values)

    first = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=3)
    model = make_model(learning_rate=1.0)
    rates = plateau_rates(first, model, values[:3])
    state = json.loads(json.dumps(first.get_state()))
    assert state == {"monitor": "loss", "wait": 1, "best": 0.9, "cooldown_counter": 0}

    resumed = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=3)
    resumed.set_state(state)
    resumed.set_model(model)
    resumed.on_train_begin()
    for epoch in range(3, len(values)):
        logs = {"loss": values[epoch]}
        resumed.on_epoch_end(epoch, logs)
        rates.append(logs["learning_rate"])
    assert rates == expected
    assert resumed.get_state()["best"] == 0.9


def test_plateau_fresh_state_has_no_best():
    state = callbacks.ReduceLROnPlateau(mode="max").get_state()
    assert state["best"] is None
    restored = callbacks.ReduceLROnPlateau(mode="max")
    restored.set_state(state)
    assert restored.best == -math.inf


# -- a real model, a real optimizer ------------------------------------------

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -1.5], [2.0, 1.0]], np.float32)
Y = np.array([[1.0], [0.0], [-1.0], [2.0]], np.float32)
K0 = np.array([[0.5], [-0.25]], np.float32)
B0 = np.array([0.1], np.float32)


def _real_model(learning_rate):
    model = nnlib.Sequential([nnlib.layers.Dense(1)])
    model(X[:1])
    model.set_weights([K0, B0])
    model.compile(optimizer=nnlib.optimizers.GradientDescent(learning_rate), loss="mse")
    return model


def _sgd_weights(rates):
    """Kernel and bias after one full-batch MSE step at each rate (numpy, float64)."""
    x, y = X.astype(np.float64), Y.astype(np.float64)
    kernel, bias = K0.astype(np.float64), B0.astype(np.float64)
    for rate in rates:
        dpred = 2 * (x @ kernel + bias - y) / len(x)
        kernel, bias = kernel - rate * x.T @ dpred, bias - rate * dpred.sum(0)
    return kernel, bias


def _fit(model, callback, epochs):
    history = model.fit(
        X,
        Y,
        batch_size=4,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=[callback],
    )
    return history.history


def _assert_trained_with(model, rates):
    kernel, bias = _sgd_weights(rates)
    np.testing.assert_allclose(model.get_weights()[0], kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], bias, rtol=1e-5, atol=1e-6)


def _halving():
    return callbacks.LearningRateScheduler(lambda epoch, lr: 0.4 * 0.5**epoch)


def _plateau():
    """min_delta=1e3: only the first epoch counts as an improvement."""
    return callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=1, min_delta=1e3
    )


def test_scheduler_on_a_real_model_sets_the_rate_the_steps_use():
    model = _real_model(0.1)
    history = _fit(model, _halving(), epochs=3)
    assert history["learning_rate"] == [0.4, 0.2, 0.1]
    assert model.optimizer.learning_rate == 0.1
    _assert_trained_with(model, [0.4, 0.2, 0.1])


def test_plateau_on_a_real_model_halves_the_rate_the_steps_use():
    model = _real_model(0.4)
    history = _fit(model, _plateau(), epochs=4)
    assert history["learning_rate"] == [0.4, 0.4, 0.2, 0.1]
    assert model.optimizer.learning_rate == 0.05
    _assert_trained_with(model, [0.4, 0.4, 0.2, 0.1])


@pytest.mark.parametrize(
    "make_callback, epochs, rates",
    [(_halving, 3, [0.4, 0.2, 0.1]), (_plateau, 4, [0.4, 0.4, 0.2, 0.1])],
    ids=["LearningRateScheduler", "ReduceLROnPlateau"],
)
def test_callbacks_assign_into_a_variable_learning_rate(make_callback, epochs, rates):
    rate = nnlib.Variable(0.4, name="lr")
    model = _real_model(rate)
    history = _fit(model, make_callback(), epochs)
    assert history["learning_rate"] == pytest.approx(rates)
    final = rates[-1] if make_callback is _halving else rates[-1] / 2
    assert rate.numpy() == np.float32(final)
    _assert_trained_with(model, rates)
    rate.assign(0.3)  # the optimizer still reads the same Variable
    assert model.optimizer.learning_rate == pytest.approx(0.3)


@pytest.mark.parametrize(
    "make_callback",
    [_halving, _plateau],
    ids=["LearningRateScheduler", "ReduceLROnPlateau"],
)
@pytest.mark.parametrize(
    "make_schedule",
    [
        lambda: nnlib.optimizers.schedules.ExponentialDecay(
            0.4, decay_steps=1, decay_rate=0.5
        ),
        lambda: lambda step: 0.4 * 0.5**step,
    ],
    ids=["LearningRateSchedule", "callable"],
)
def test_callbacks_refuse_a_schedule_on_a_real_optimizer(make_callback, make_schedule):
    """The documented TypeError; the schedule stays the optimizer's rate."""
    schedule = make_schedule()
    model = _real_model(schedule)
    with pytest.raises(TypeError, match="needs a float learning rate"):
        _fit(model, make_callback(), epochs=3)
    steps = int(model.optimizer.iterations.numpy())
    assert steps == (0 if make_callback is _halving else 1)
    config = model.optimizer.get_config()["learning_rate"]
    assert config is schedule or config["class_name"] == "ExponentialDecay"
    assert model.optimizer.learning_rate == pytest.approx(0.4 * 0.5**steps)
    _assert_trained_with(model, [0.4] * steps)
