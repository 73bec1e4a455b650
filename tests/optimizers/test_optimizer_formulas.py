"""Each algorithm against its update written out in numpy, step by step."""

import math

import numpy as np
import pytest

import nnlib
from nnlib import optimizers

STEPS = 4


def _run(opt, reference, shape=(3, 2), lr_schedule=None):
    """Applies STEPS random gradients with ``opt`` and ``reference(w, g, t, s)``."""
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(shape)
    var = nnlib.Variable(w0, name="w")
    w, state = w0.copy(), {}
    for t in range(1, STEPS + 1):
        g = rng.standard_normal(shape)
        opt.apply_gradients([(nnlib.constant(g), var)])
        w = reference(w, g, t, state)
        np.testing.assert_allclose(var.numpy(), w, rtol=1e-12, atol=1e-14)
    assert int(opt.iterations) == STEPS
    return state


def test_gradient_descent():
    def ref(w, g, t, s):
        return w - 0.1 * g

    _run(optimizers.GradientDescent(0.1), ref)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_keras_convention(nesterov):
    lr, mom = 0.1, 0.8

    def ref(w, g, t, s):
        v = mom * s.get("v", 0.0) - lr * g
        s["v"] = v
        return w + (mom * v - lr * g if nesterov else v)

    opt = optimizers.Momentum(lr, momentum=mom, nesterov=nesterov)
    state = _run(opt, ref)
    assert opt.get_slot_names() == ["velocity"]
    assert opt.variables()[1].name == "w/Momentum/velocity"
    np.testing.assert_allclose(opt.variables()[1].numpy(), state["v"], rtol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_keras_epsilon(amsgrad):
    lr, b1, b2, eps = 0.01, 0.8, 0.9, 1e-3  # a large eps: its placement shows

    def ref(w, g, t, s):
        m = b1 * s.get("m", 0.0) + (1 - b1) * g
        v = b2 * s.get("v", 0.0) + (1 - b2) * g**2
        s["m"], s["v"] = m, v
        if amsgrad:
            v = s["vhat"] = np.maximum(s.get("vhat", 0.0), v)
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        return w - alpha * m / (np.sqrt(v) + eps)

    opt = optimizers.Adam(lr, beta_1=b1, beta_2=b2, epsilon=eps, amsgrad=amsgrad)
    _run(opt, ref)
    assert opt.get_slot_names() == (["m", "v", "vhat"] if amsgrad else ["m", "v"])


def test_adamw_decays_before_the_adam_step():
    lr, wd, b1, b2, eps = 0.01, 0.3, 0.9, 0.999, 1e-7

    def ref(w, g, t, s):
        w = w - lr * wd * w
        m = b1 * s.get("m", 0.0) + (1 - b1) * g
        v = b2 * s.get("v", 0.0) + (1 - b2) * g**2
        s["m"], s["v"] = m, v
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        return w - alpha * m / (np.sqrt(v) + eps)

    _run(optimizers.AdamW(lr, weight_decay=wd), ref)


def test_adamw_default_weight_decay_is_keras():
    assert optimizers.AdamW().weight_decay == 0.004


def test_adamax():
    lr, b1, b2, eps = 0.02, 0.9, 0.99, 1e-7

    def ref(w, g, t, s):
        m = b1 * s.get("m", 0.0) + (1 - b1) * g
        u = np.maximum(b2 * s.get("u", 0.0), np.abs(g))
        s["m"], s["u"] = m, u
        return w - lr * m / ((1 - b1**t) * (u + eps))

    _run(optimizers.Adamax(lr, beta_1=b1, beta_2=b2), ref)


def test_nadam():
    lr, b1, b2, eps = 0.02, 0.9, 0.999, 1e-7

    def ref(w, g, t, s):
        mu_t = b1 * (1 - 0.5 * 0.96**t)
        mu_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        s["prod"] = prod = s.get("prod", 1.0) * mu_t
        m = b1 * s.get("m", 0.0) + (1 - b1) * g
        v = b2 * s.get("v", 0.0) + (1 - b2) * g**2
        s["m"], s["v"] = m, v
        m_hat = mu_next * m / (1 - prod * mu_next) + (1 - mu_t) * g / (1 - prod)
        v_hat = v / (1 - b2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)

    _run(optimizers.Nadam(lr), ref)


def test_nadam_momentum_product_survives_a_restored_step_count():
    opt = optimizers.Nadam()
    expected = 1.0
    for t in range(1, 1201):
        expected *= 0.9 * (1 - 0.5 * 0.96**t)
    assert opt._mu_product(1200) == pytest.approx(expected, rel=1e-12)
    assert opt._mu_product(1201) == pytest.approx(expected * opt._mu(1201), rel=1e-12)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.7])
def test_rmsprop(centered, momentum):
    lr, rho, eps = 0.01, 0.8, 1e-3

    def ref(w, g, t, s):
        s["vel"] = vel = rho * s.get("vel", 0.0) + (1 - rho) * g**2
        denominator = vel + eps
        if centered:
            s["avg"] = avg = rho * s.get("avg", 0.0) + (1 - rho) * g
            denominator = vel - avg**2 + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum:
            s["mom"] = increment = momentum * s.get("mom", 0.0) + increment
        return w - increment

    opt = optimizers.RMSProp(
        lr, rho=rho, momentum=momentum, epsilon=eps, centered=centered
    )
    _run(opt, ref)
    names = (
        ["velocity"] + ["average_gradient"] * centered + ["momentum"] * (momentum > 0)
    )
    assert opt.get_slot_names() == names


def test_adagrad():
    lr, init, eps = 0.1, 0.2, 1e-3

    def ref(w, g, t, s):
        s["acc"] = acc = s.get("acc", init) + g**2
        return w - lr * g / np.sqrt(acc + eps)

    _run(optimizers.Adagrad(lr, initial_accumulator_value=init, epsilon=eps), ref)


def test_adadelta():
    lr, rho, eps = 1.0, 0.9, 1e-3

    def ref(w, g, t, s):
        s["ag"] = ag = rho * s.get("ag", 0.0) + (1 - rho) * g**2
        delta = np.sqrt(s.get("ad", 0.0) + eps) / np.sqrt(ag + eps) * g
        s["ad"] = rho * s.get("ad", 0.0) + (1 - rho) * delta**2
        return w - lr * delta

    _run(optimizers.Adadelta(lr, rho=rho, epsilon=eps), ref)


def test_lion():
    lr, b1, b2 = 0.01, 0.9, 0.99

    def ref(w, g, t, s):
        m = s.get("m", 0.0)
        w = w - lr * np.sign(b1 * m + (1 - b1) * g)
        s["m"] = b2 * m + (1 - b2) * g
        return w

    _run(optimizers.Lion(lr, beta_1=b1, beta_2=b2), ref)


def test_float32_variables_stay_float32_and_match_float64_closely():
    rng = np.random.default_rng(0)
    w0, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    v32 = nnlib.Variable(w0.astype(np.float32))
    v64 = nnlib.Variable(w0)
    a, b = optimizers.Adam(0.01), optimizers.Adam(0.01)
    for _ in range(3):
        a.apply_gradients([(g, v32)])  # a float64 gradient is cast to float32
        b.apply_gradients([(g, v64)])
    assert v32.dtype == np.float32 and a.get_slot(v32, "m").dtype == np.float32
    np.testing.assert_allclose(v32.numpy(), v64.numpy(), rtol=1e-5)
