"""Bad arguments of the optimizers: a typed error naming the argument.

One row per bad input: (id, call, exception type, message regex naming the
argument and what it expected). ``amsgrad="no"`` is truthy and used to turn
AMSGrad on without a word; ``apply_gradients([v])`` and ``minimize(3.0)`` used to
fail with messages about something else.
"""

import numpy as np
import pytest

import nnlib
from nnlib import optimizers
from nnlib.optimizers import schedules

BOOL = r"must be True or False, got 'no' \(str\)"


def _w():
    return nnlib.Variable([1.0, 2.0], name="w")


def _tape_loss():
    w = _w()
    with nnlib.GradientTape():
        loss = nnlib.reduce_sum(w * w)
    return optimizers.GradientDescent(0.1).minimize(loss, [w])


BAD_ARGUMENTS = [
    (
        "Adam.amsgrad",
        lambda: optimizers.Adam(amsgrad="no"),
        TypeError,
        "Adam: amsgrad " + BOOL,
    ),
    (
        "AdamW.amsgrad",
        lambda: optimizers.AdamW(amsgrad="no"),
        TypeError,
        "AdamW: amsgrad " + BOOL,
    ),
    (
        "Momentum.nesterov",
        lambda: optimizers.Momentum(nesterov="no"),
        TypeError,
        "Momentum: nesterov " + BOOL,
    ),
    (
        "RMSProp.centered",
        lambda: optimizers.RMSProp(centered="no"),
        TypeError,
        "RMSProp: centered " + BOOL,
    ),
    (
        "ExponentialDecay.staircase",
        lambda: schedules.ExponentialDecay(0.1, 10, 0.5, staircase="no"),
        TypeError,
        "ExponentialDecay: staircase " + BOOL,
    ),
    (
        "InverseTimeDecay.staircase",
        lambda: schedules.InverseTimeDecay(0.1, 10, 0.5, staircase="no"),
        TypeError,
        "InverseTimeDecay: staircase " + BOOL,
    ),
    (
        "PolynomialDecay.cycle",
        lambda: schedules.PolynomialDecay(0.1, 10, cycle="no"),
        TypeError,
        "PolynomialDecay: cycle " + BOOL,
    ),
    (
        "apply_gradients([v])",
        lambda: optimizers.GradientDescent(0.1).apply_gradients([_w()]),
        TypeError,
        (
            r"GradientDescent.apply_gradients expects \(gradient, variable\) pairs, "
            r"got a Variable \('w'\)"
        ),
    ),
    (
        "apply_gradients(v)",
        lambda: optimizers.GradientDescent(0.1).apply_gradients(_w()),
        TypeError,
        (
            r"apply_gradients expects a list of \(gradient, variable\) pairs, "
            r"got a Variable \('w'\)"
        ),
    ),
    (
        "apply_gradients([(v, g)])",
        lambda: optimizers.GradientDescent(0.1).apply_gradients([(_w(), np.ones(2))]),
        TypeError,
        r"pair \(Variable 'w', ndarray\).*gradient first",
    ),
    (
        "minimize(3.0)",
        lambda: optimizers.GradientDescent(0.1).minimize(3.0, [_w()]),
        TypeError,
        (
            r"GradientDescent.minimize: loss must be a callable of no arguments "
            r"returning the loss, or a Tensor computed under a GradientTape passed "
            r"as tape=; got 3.0 \(float\)"
        ),
    ),
    (
        "minimize(Tensor) without tape",
        _tape_loss,
        TypeError,
        (
            r"minimize: loss is a Tensor: pass the GradientTape it was computed "
            r"under as tape="
        ),
    ),
    (
        "learning_rate=int Variable",
        lambda: optimizers.Adam(nnlib.Variable(1)),
        TypeError,
        r"Adam: learning_rate Variable '.*' has dtype int\d+; expected a floating",
    ),
    (
        "learning_rate=vector Variable",
        lambda: optimizers.Adam(nnlib.Variable([0.1, 0.2])),
        ValueError,
        r"Adam: learning_rate Variable '.*' has shape \(2,\); expected a scalar",
    ),
    (
        "learning_rate=negative Variable",
        lambda: optimizers.Adam(nnlib.Variable(-0.1)),
        ValueError,
        r"Adam: learning_rate must be a finite number >= 0.0, got -0.1",
    ),
    (
        "beta_1=Variable above 1",
        lambda: optimizers.Adam(beta_1=nnlib.Variable(1.5)),
        ValueError,
        r"Adam: beta_1 must be a finite number in \[0.0, 1.0\), got 1.5",
    ),
    (
        "Adagrad.initial_accumulator_value=Variable",
        lambda: optimizers.Adagrad(initial_accumulator_value=nnlib.Variable(0.1)),
        TypeError,
        r"Adagrad: initial_accumulator_value must be a number, got a Variable",
    ),
]


@pytest.mark.parametrize(
    "call, error, match",
    [pytest.param(*row[1:], id=row[0]) for row in BAD_ARGUMENTS],
)
def test_bad_argument_raises_naming_it(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_minimize_takes_a_tensor_loss_with_its_tape():
    w = nnlib.Variable([1.0, 2.0], name="w", dtype="float64")
    with nnlib.GradientTape() as tape:
        loss = nnlib.reduce_sum(w * w)
    opt = optimizers.GradientDescent(0.25)
    assert float(opt.minimize(loss, tape=tape)) == 5.0
    np.testing.assert_array_equal(w.numpy(), [0.5, 1.0])
