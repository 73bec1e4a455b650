"""The contract every optimizer keeps, checked for each one."""

import numpy as np
import pytest

import nnlib
from nnlib import optimizers
from nnlib.optimizers import schedules

FACTORIES = {
    "GradientDescent": lambda **kw: optimizers.GradientDescent(0.1, **kw),
    "Momentum": lambda **kw: optimizers.Momentum(0.1, **kw),
    "Nesterov": lambda **kw: optimizers.Momentum(0.1, nesterov=True, **kw),
    "Adam": lambda **kw: optimizers.Adam(0.1, **kw),
    "AMSGrad": lambda **kw: optimizers.Adam(0.1, amsgrad=True, **kw),
    "AdamW": lambda **kw: optimizers.AdamW(0.1, **kw),
    "Adamax": lambda **kw: optimizers.Adamax(0.1, **kw),
    "Nadam": lambda **kw: optimizers.Nadam(0.1, **kw),
    "RMSProp": lambda **kw: optimizers.RMSProp(0.1, **kw),
    "RMSPropCentered": lambda **kw: optimizers.RMSProp(
        0.1, momentum=0.5, centered=True, **kw
    ),
    "Adagrad": lambda **kw: optimizers.Adagrad(0.1, **kw),
    "Adadelta": lambda **kw: optimizers.Adadelta(1.0, **kw),
    "Lion": lambda **kw: optimizers.Lion(0.1, **kw),
}
every_optimizer = pytest.mark.parametrize(
    "make", FACTORIES.values(), ids=list(FACTORIES)
)


def _variables(dtype=np.float32):
    rng = np.random.default_rng(0)
    a = nnlib.Variable(rng.standard_normal((3, 2)).astype(dtype), name="net/a")
    b = nnlib.Variable(rng.standard_normal(2).astype(dtype), name="net/b")
    return a, b


def _grads(seed, variables):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(v.shape).astype(v.dtype) * 3 for v in variables]


def _run(opt, variables, steps=3, transform=lambda g: g):
    for seed in range(steps):
        grads = [transform(g) for g in _grads(seed, variables)]
        opt.apply_gradients(zip(grads, variables))
    return [v.numpy().copy() for v in variables]


@every_optimizer
def test_none_gradients_are_skipped_with_a_warning(make):
    a, b = _variables()
    before = b.numpy().copy()
    with pytest.warns(UserWarning, match="net/b"):
        make().apply_gradients([(np.ones((3, 2)), a), (None, b)])
    np.testing.assert_array_equal(b.numpy(), before)
    assert not np.array_equal(a.numpy(), _variables()[0].numpy())


@every_optimizer
def test_all_none_gradients_raise_naming_the_variables(make):
    a, b = _variables()
    with pytest.raises(ValueError, match="'net/a', 'net/b'"):
        make().apply_gradients([(None, a), (None, b)])


@every_optimizer
def test_a_shape_mismatch_raises_before_anything_changes(make):
    a, b = _variables()
    opt = make()
    opt.apply_gradients(zip(_grads(0, (a, b)), (a, b)))
    state = [v.numpy().copy() for v in [a, b, *opt.variables()]]
    with pytest.raises(ValueError, match=r"'net/b'.*\(3,\).*\(2,\)"):
        opt.apply_gradients([(np.ones((3, 2)), a), (np.ones(3), b)])
    for v, old in zip([a, b, *opt.variables()], state):
        np.testing.assert_array_equal(v.numpy(), old)


@every_optimizer
def test_iterations_count_steps(make):
    a, b = _variables()
    opt = make()
    assert int(opt.iterations) == 0
    _run(opt, (a, b), steps=3)
    assert opt.iterations.dtype == np.int64 and not opt.iterations.trainable
    assert int(opt.iterations) == 3


@every_optimizer
def test_slots_are_named_created_lazily_and_listed(make):
    a, b = _variables()
    opt = make()
    assert [v.name for v in opt.variables()] == [f"{opt.name}/iterations"]
    opt.apply_gradients([(np.ones((3, 2)), a)])
    opt.apply_gradients([(np.ones((3, 2)), a), (np.ones(2), b)])  # b arrives late
    expected = [f"{opt.name}/iterations"] + [
        f"{v.name}/{opt.name}/{slot}" for v in (a, b) for slot in opt.get_slot_names()
    ]
    assert [v.name for v in opt.variables()] == expected
    for slot in opt.variables()[1:]:
        assert not slot.trainable
    for slot_name in opt.get_slot_names():
        assert opt.get_slot(b, slot_name).shape == b.shape


@every_optimizer
def test_config_round_trip_gives_the_same_updates(make):
    opt = make(clipnorm=2.0)
    clone = type(opt).from_config(opt.get_config())
    assert clone.get_config() == opt.get_config()
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert again.get_config() == opt.get_config()
    first, second = _run(opt, _variables()), _run(clone, _variables())
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)


@every_optimizer
def test_minimize_decreases_a_quadratic(make):
    w = nnlib.Variable([3.0, -2.0], name="w")
    opt = make()
    start = float(nnlib.reduce_sum(w * w))
    for _ in range(5):
        opt.minimize(lambda: nnlib.reduce_sum(w * w))
    assert float(nnlib.reduce_sum(w * w)) < start


@every_optimizer
def test_float64_variables(make):
    a, b = _variables(np.float64)
    opt = make()
    _run(opt, (a, b))
    assert a.dtype == np.float64
    assert all(s.dtype == np.float64 for s in opt.variables()[1:])


def _clip_norm(g, limit):
    norm = np.sqrt(np.sum(g.astype(np.float64) ** 2))
    return g * (limit / norm) if norm > limit else g


@every_optimizer
def test_clipnorm_equals_feeding_clipped_gradients(make):
    clipped = _run(make(clipnorm=1.0), _variables())
    by_hand = _run(make(), _variables(), transform=lambda g: _clip_norm(g, 1.0))
    for x, y in zip(clipped, by_hand):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


@every_optimizer
def test_clipvalue_equals_feeding_clipped_gradients(make):
    clipped = _run(make(clipvalue=0.5), _variables())
    by_hand = _run(make(), _variables(), transform=lambda g: np.clip(g, -0.5, 0.5))
    for x, y in zip(clipped, by_hand):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


@every_optimizer
def test_global_clipnorm_scales_all_gradients_together(make):
    variables = _variables()
    opt = make(global_clipnorm=1.0)
    by_hand = make()
    ref_vars = _variables()
    for seed in range(3):
        grads = _grads(seed, variables)
        norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
        opt.apply_gradients(zip(grads, variables))
        by_hand.apply_gradients(zip([g / norm for g in grads], ref_vars))
    for x, y in zip(variables, ref_vars):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-5, atol=1e-6)


@every_optimizer
def test_a_learning_rate_change_between_steps_takes_effect(make):
    changed = make()
    changed_vars = _variables()
    schedule = schedules.PiecewiseConstantDecay([0], [changed.learning_rate, 0.02])
    scheduled, scheduled_vars = make(), _variables()
    scheduled.learning_rate = schedule
    constant_vars = _variables()
    constant = make()
    for seed in range(2):
        grads = _grads(seed, changed_vars)
        changed.apply_gradients(zip(grads, changed_vars))
        scheduled.apply_gradients(zip(grads, scheduled_vars))
        constant.apply_gradients(zip(grads, constant_vars))
        changed.learning_rate = 0.02
    np.testing.assert_array_equal(changed_vars[0].numpy(), scheduled_vars[0].numpy())
    assert not np.allclose(changed_vars[0].numpy(), constant_vars[0].numpy())


@every_optimizer
def test_a_schedule_is_called_with_the_current_iteration(make):
    steps = []

    def schedule(step):
        steps.append(step)
        return 0.01

    opt = make()
    opt.learning_rate = schedule
    _run(opt, _variables(), steps=3)
    assert steps == [0, 1, 2]


@every_optimizer
def test_values_read_before_a_step_keep_their_value(make):
    a, b = _variables()
    opt = make()
    _run(opt, (a, b), steps=1)
    held = a.numpy()
    snapshot = held.copy()
    view = nnlib.reshape(a, (6,))
    slot = opt.variables()[-1].numpy()
    slot_snapshot = slot.copy()
    _run(opt, (a, b), steps=1)
    np.testing.assert_array_equal(held, snapshot)
    np.testing.assert_array_equal(view.numpy(), snapshot.reshape(6))
    np.testing.assert_array_equal(slot, slot_snapshot)
    assert not np.array_equal(a.numpy(), snapshot)


@pytest.mark.parametrize("name", list(FACTORIES))
def test_negative_learning_rate_is_rejected(name):
    with pytest.raises(ValueError, match="learning_rate"):
        FACTORIES[name]().__class__(-0.1)


@every_optimizer
def test_non_variables_and_duplicates_are_rejected(make):
    a, _ = _variables()
    with pytest.raises(TypeError, match="nnlib.Variable"):
        make().apply_gradients([(np.ones(2), np.zeros(2))])
    with pytest.raises(ValueError, match="net/a.*twice"):
        make().apply_gradients([(np.ones((3, 2)), a), (np.ones((3, 2)), a)])
