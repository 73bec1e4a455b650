"""Hyperparameters given as a Variable are read at every step (TF 1.x, tfe).

Ported code anneals a learning rate (or momentum) by assigning a Variable
between steps; the optimizer used to copy the value once, so the assignment did
nothing. Every test checks two steps against updates computed by hand, with
values that are exact in float64.
"""

import json

import numpy as np
import pytest

import nnlib
from nnlib import callbacks, optimizers


def _var(value, name):
    return nnlib.Variable(value, name=name, dtype="float64")


def test_learning_rate_variable_is_read_at_every_step():
    lr = _var(0.5, "lr")
    w = _var([1.0, 2.0], "w")
    opt = optimizers.GradientDescent(lr)
    g = np.array([1.0, -1.0])
    opt.apply_gradients([(g, w)])
    np.testing.assert_array_equal(w.numpy(), [0.5, 2.5])  # 1 - 0.5, 2 + 0.5
    lr.assign(0.25)
    opt.apply_gradients([(g, w)])
    np.testing.assert_array_equal(w.numpy(), [0.25, 2.75])  # then 0.25 a step
    assert opt.learning_rate == 0.25


def test_momentum_and_learning_rate_variables():
    lr, momentum = _var(0.5, "lr"), _var(0.5, "momentum")
    w = _var([1.0], "w")
    opt = optimizers.Momentum(lr, momentum=momentum)
    opt.apply_gradients([(np.array([1.0]), w)])
    # v = 0.5 * 0 - 0.5 * 1 = -0.5; w = 1 - 0.5
    np.testing.assert_array_equal(w.numpy(), [0.5])
    lr.assign(0.25)
    momentum.assign(0.25)
    opt.apply_gradients([(np.array([1.0]), w)])
    # v = 0.25 * -0.5 - 0.25 * 1 = -0.375; w = 0.5 - 0.375
    np.testing.assert_array_equal(w.numpy(), [0.125])
    assert opt.momentum == 0.25


def test_adam_reads_beta_1_at_every_step():
    beta_1 = _var(0.5, "beta_1")
    w = _var([1.0, -1.0], "w")
    opt = optimizers.Adam(0.1, beta_1=beta_1, beta_2=0.75, epsilon=0.0)
    g1, g2 = np.array([2.0, 1.0]), np.array([-1.0, 4.0])
    opt.apply_gradients([(g1, w)])
    beta_1.assign(0.25)
    opt.apply_gradients([(g2, w)])
    # by hand, with the beta_1 in force at each step
    m = 0.5 * g1
    v = 0.25 * g1**2
    expected = np.array([1.0, -1.0]) - 0.1 * np.sqrt(1 - 0.75) / (
        1 - 0.5
    ) * m / np.sqrt(v)
    m = 0.25 * m + 0.75 * g2
    v = 0.75 * v + 0.25 * g2**2
    expected -= 0.1 * np.sqrt(1 - 0.75**2) / (1 - 0.25**2) * m / np.sqrt(v)
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-12)


def test_rmsprop_momentum_variable_starting_at_zero_gets_its_slot():
    momentum = _var(0.0, "momentum")
    w = _var([1.0], "w")
    opt = optimizers.RMSProp(0.25, rho=0.75, momentum=momentum, epsilon=0.0)
    assert "momentum" in opt.get_slot_names()
    opt.apply_gradients([(np.array([2.0]), w)])
    # velocity = 0.25 * 4 = 1; step = 0.25 * 2 / 1 = 0.5; moment = 0.5
    np.testing.assert_array_equal(w.numpy(), [0.5])
    momentum.assign(0.5)
    opt.apply_gradients([(np.array([0.0]), w)])
    # step 0; moment = 0.5 * 0.5 = 0.25
    np.testing.assert_array_equal(w.numpy(), [0.25])


def test_assigning_the_learning_rate_writes_into_the_variable():
    lr = _var(0.5, "lr")
    opt = optimizers.Adam(lr)
    opt.learning_rate = 0.125
    assert float(lr) == 0.125 and opt._learning_rate is lr
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0
    assert float(lr) == 0.125
    schedule = optimizers.schedules.ExponentialDecay(1.0, 10, 0.5)
    opt.learning_rate = schedule  # a schedule replaces the Variable
    assert opt._learning_rate is schedule


def test_a_bad_value_assigned_later_fails_before_any_update():
    lr = _var(0.5, "lr")
    w = _var([1.0], "w")
    opt = optimizers.Adam(lr)
    opt.apply_gradients([(np.array([1.0]), w)])
    before = w.numpy().copy(), opt.get_slot(w, "m").numpy().copy()
    lr.assign(float("nan"))
    with pytest.raises(
        ValueError,
        match=r"Adam: learning_rate must be a finite number >= 0.0, got nan "
        r"\(read from Variable 'lr'\)",
    ):
        opt.apply_gradients([(np.array([1.0]), w)])
    np.testing.assert_array_equal(w.numpy(), before[0])
    np.testing.assert_array_equal(opt.get_slot(w, "m").numpy(), before[1])
    assert int(opt.iterations) == 1


def test_get_config_holds_the_current_values_as_numbers():
    lr, beta_1 = _var(0.5, "lr"), _var(0.5, "beta_1")
    opt = optimizers.Adam(lr, beta_1=beta_1)
    lr.assign(0.25)
    beta_1.assign(0.75)
    config = opt.get_config()
    assert config["learning_rate"] == 0.25 and config["beta_1"] == 0.75
    json.dumps(config)
    again = optimizers.Adam.from_config(config)
    assert again.learning_rate == 0.25 and again.beta_1 == 0.75


def test_checkpoint_restores_the_value_into_the_variable(tmp_path):
    lr = _var(0.5, "lr")
    opt = optimizers.GradientDescent(lr)
    path = nnlib.Checkpoint(optimizer=opt).save(str(tmp_path / "run"))
    lr.assign(0.125)
    nnlib.Checkpoint(optimizer=opt).restore(path)
    assert float(lr) == 0.5 and opt._learning_rate is lr


def _model(lr):
    model = nnlib.Sequential([nnlib.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizers.GradientDescent(lr), loss="mse")
    return model


def test_lr_callbacks_assign_into_the_variable():
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    lr = _var(0.5, "lr")
    model = _model(lr)
    schedule = callbacks.LearningRateScheduler(lambda epoch, rate: 0.5 / 2**epoch)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[schedule])
    assert float(lr) == 0.125 and model.optimizer._learning_rate is lr
    assert history.history["learning_rate"] == [0.5, 0.25, 0.125]

    lr = _var(0.5, "lr")
    model = _model(lr)
    reduce = callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=0, min_delta=1e9
    )
    model.fit(x, y, epochs=3, verbose=0, callbacks=[reduce])  # 2 reductions
    assert float(lr) == 0.125 and model.optimizer._learning_rate is lr
