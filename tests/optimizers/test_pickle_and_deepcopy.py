"""Optimizers survive ``pickle`` and ``copy.deepcopy`` with their state.

Slots are keyed by variable identity; a copy of an optimizer together with its
variables keeps each slot with the copy of its variable, so the next step of
the copy equals the next step of the original (checked against the original,
not against a formula).
"""

import copy
import pickle

import numpy as np
import pytest

import nnlib
from nnlib import optimizers

GRADS = [np.array([0.5, -1.0, 2.0], np.float32), np.array([[1.5], [-0.25]], np.float32)]


def pickled(obj):
    return pickle.loads(pickle.dumps(obj))


COPIES = {"deepcopy": copy.deepcopy, "pickle": pickled}
MAKERS = {
    "Adam": lambda: optimizers.Adam(0.01, clipnorm=1.0),
    "Momentum": lambda: optimizers.Momentum(0.1, momentum=0.9),
    "RMSProp": lambda: optimizers.RMSProp(0.01),
    "Adagrad": lambda: optimizers.Adagrad(0.1),
    "GradientDescent": lambda: optimizers.GradientDescent(
        optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    ),
    "Lion": lambda: optimizers.Lion(0.01),
}


def _variables():
    return [
        nnlib.Variable([1.0, 2.0, 3.0], name="opt_copy/a"),
        nnlib.Variable([[0.5], [-0.5]], name="opt_copy/b"),
    ]


def _step(opt, variables, scale=1.0):
    opt.apply_gradients([(g * scale, v) for g, v in zip(GRADS, variables)])


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS)
def test_a_copy_with_its_variables_steps_exactly_as_the_original(how, make):
    opt, variables = make(), _variables()
    _step(opt, variables)
    _step(opt, variables, 0.5)
    opt2, variables2 = COPIES[how]((opt, variables))
    assert opt2 is not opt and type(opt2) is type(opt)
    assert opt2.get_config() == opt.get_config()
    assert int(opt2.iterations.numpy()) == 2
    for v, v2 in zip(variables, variables2):
        assert v2 is not v and v2._id != v._id
        for slot in opt.get_slot_names():
            np.testing.assert_array_equal(
                opt2.get_slot(v2, slot).numpy(), opt.get_slot(v, slot).numpy()
            )
            assert opt2.get_slot(v2, slot) is not opt.get_slot(v, slot)
    _step(opt, variables, -1.0)
    _step(opt2, variables2, -1.0)
    for v, v2 in zip(variables, variables2):
        np.testing.assert_array_equal(v2.numpy(), v.numpy())
    assert [s.name for s in opt2.variables()] == [s.name for s in opt.variables()]


@pytest.mark.parametrize("how", COPIES)
def test_stepping_the_copy_leaves_the_original_alone(how):
    opt, variables = optimizers.Adam(0.1), _variables()
    _step(opt, variables)
    before = [v.numpy().copy() for v in variables]
    slots = [s.numpy().copy() for s in opt.variables()]
    opt2, variables2 = COPIES[how]((opt, variables))
    _step(opt2, variables2)
    for v, b in zip(variables, before):
        np.testing.assert_array_equal(v.numpy(), b)
    for s, b in zip(opt.variables(), slots):
        np.testing.assert_array_equal(s.numpy(), b)


@pytest.mark.parametrize("how", COPIES)
def test_a_fresh_optimizer_and_one_with_variable_hyperparameters_copy(how):
    assert int(COPIES[how](optimizers.Adam()).iterations.numpy()) == 0
    lr = nnlib.Variable(0.5, name="opt_copy/lr")
    opt = optimizers.Momentum(lr, momentum=nnlib.Variable(0.9, name="opt_copy/m"))
    opt2, lr2 = COPIES[how]((opt, lr))
    lr2.assign(0.25)
    assert opt2.learning_rate == 0.25 and opt.learning_rate == 0.5
    assert opt2.momentum == pytest.approx(0.9)


def test_an_optimizer_copied_alone_keeps_slots_of_variables_that_died():
    opt = optimizers.Adam(0.1)
    variables = _variables()
    _step(opt, variables)
    del variables
    clone = copy.deepcopy(opt)
    assert len(clone.variables()) == len(opt.variables()) == 5
    fresh = nnlib.Variable([0.0, 0.0, 0.0], name="opt_copy/fresh")
    clone.apply_gradients([(GRADS[0], fresh)])  # new variables get new slots
    assert len(clone.variables()) == 7
