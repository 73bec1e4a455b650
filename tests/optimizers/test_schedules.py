"""Learning-rate schedules against their formulas (Keras 3 semantics)."""

import math

import numpy as np
import pytest

import nnlib
from nnlib import optimizers
from nnlib.optimizers import schedules

STEPS = [0, 1, 7, 10, 15, 20, 99, 100, 101, 250]


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(staircase):
    s = schedules.ExponentialDecay(
        0.1, decay_steps=10, decay_rate=0.6, staircase=staircase
    )
    for step in STEPS:
        p = step // 10 if staircase else step / 10
        assert s(step) == pytest.approx(0.1 * 0.6**p, rel=1e-12)


def test_piecewise_constant_decay():
    s = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    expected = {0: 1.0, 10: 1.0, 11: 0.5, 20: 0.5, 21: 0.1, 1000: 0.1}
    assert {step: s(step) for step in expected} == expected


@pytest.mark.parametrize("cycle", [False, True])
@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
def test_polynomial_decay(cycle, power):
    initial, end, decay_steps = 0.1, 0.001, 20
    s = schedules.PolynomialDecay(initial, decay_steps, end, power=power, cycle=cycle)
    for step in STEPS:
        if cycle:
            steps = decay_steps * max(math.ceil(step / decay_steps), 1)
        else:
            steps, step = decay_steps, min(step, decay_steps)
        expected = (initial - end) * (1 - step / steps) ** power + end
        assert s(step) == pytest.approx(expected, rel=1e-12)


def test_polynomial_decay_default_end_rate_is_keras():
    assert schedules.PolynomialDecay(0.1, 10)(50) == pytest.approx(0.0001)


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase):
    s = schedules.InverseTimeDecay(
        0.1, decay_steps=5, decay_rate=0.5, staircase=staircase
    )
    for step in STEPS:
        p = step // 5 if staircase else step / 5
        assert s(step) == pytest.approx(0.1 / (1 + 0.5 * p), rel=1e-12)


def test_cosine_decay_without_warmup():
    s = schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1)
    for step in STEPS:
        cosine = 0.5 * (1 + math.cos(math.pi * min(step, 100) / 100))
        assert s(step) == pytest.approx(0.1 * (0.9 * cosine + 0.1), rel=1e-12)


def test_cosine_decay_with_linear_warmup():
    s = schedules.CosineDecay(
        0.01, decay_steps=100, alpha=0.0, warmup_target=0.1, warmup_steps=10
    )
    for step in STEPS:
        if step < 10:
            expected = 0.01 + (0.1 - 0.01) * step / 10
        else:
            t = min(step, 110) - 10
            expected = 0.1 * 0.5 * (1 + math.cos(math.pi * t / 100))
        assert s(step) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_schedules_accept_tensor_and_numpy_steps():
    s = schedules.ExponentialDecay(1.0, 1, 0.5)
    assert s(np.int64(2)) == 0.25
    assert s(nnlib.Variable(np.int64(3), trainable=False)) == 0.125


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps must be"),
        (lambda: schedules.CosineDecay(-0.1, 10), "initial_learning_rate"),
        (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1]), "one more value"),
        (lambda: schedules.PiecewiseConstantDecay([2, 1], [1.0, 0.5, 0.1]), "increase"),
        (lambda: schedules.PolynomialDecay(0.1, 10, power=-1), "power"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
        schedules.PiecewiseConstantDecay([5], [0.1, 0.01]),
        schedules.PolynomialDecay(0.1, 10, cycle=True),
        schedules.InverseTimeDecay(0.1, 3, 0.2),
        schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=3),
    ],
    ids=lambda s: type(s).__name__,
)
def test_config_round_trip(schedule):
    clone = schedules.deserialize(schedules.serialize(schedule))
    assert type(clone) is type(schedule)
    assert clone.get_config() == schedule.get_config()
    assert [clone(t) for t in STEPS] == [schedule(t) for t in STEPS]


def test_base_class_requires_call_and_config():
    with pytest.raises(NotImplementedError, match="__call__"):
        schedules.LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError, match="get_config"):
        schedules.LearningRateSchedule().get_config()


def test_gradient_descent_follows_a_schedule_step_by_step():
    s = schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5, 0.25])
    w = nnlib.Variable(0.0, name="w")
    opt = optimizers.GradientDescent(s)
    seen = []
    for _ in range(4):
        seen.append(opt.learning_rate)
        before = float(w)
        opt.apply_gradients([(-1.0, w)])
        assert float(w) - before == pytest.approx(seen[-1])
    assert seen == [1.0, 1.0, 0.5, 0.25]
