"""The base class's behaviour beyond the shared contract: lookup, validation, slots."""

import numpy as np
import pytest

import nnlib
from nnlib import optimizers
from nnlib.optimizers import schedules


@pytest.mark.parametrize(
    "name, cls",
    [
        ("sgd", optimizers.GradientDescent),
        ("gradient_descent", optimizers.GradientDescent),
        ("momentum", optimizers.Momentum),
        ("adam", optimizers.Adam),
        ("Adam", optimizers.Adam),
        ("adamw", optimizers.AdamW),
        ("adamax", optimizers.Adamax),
        ("nadam", optimizers.Nadam),
        ("rmsprop", optimizers.RMSProp),
        ("RMSprop", optimizers.RMSProp),
        ("adagrad", optimizers.Adagrad),
        ("adadelta", optimizers.Adadelta),
        ("lion", optimizers.Lion),
        ("GradientDescent", optimizers.GradientDescent),
    ],
)
def test_get_by_name(name, cls):
    assert type(optimizers.get(name)) is cls


def test_get_passes_objects_and_dicts_and_suggests_names():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt
    assert isinstance(optimizers.get(optimizers.serialize(opt)), optimizers.Adam)
    with pytest.raises(ValueError, match="Did you mean 'rmsprop'"):
        optimizers.get("rmsprp")
    with pytest.raises(ValueError, match="could not interpret"):
        optimizers.get(3)
    with pytest.raises(ValueError, match="Did you mean 'Nadam'"):
        optimizers.deserialize({"class_name": "Nadm", "config": {}})


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: optimizers.Adam(beta_1=1.0), "Adam: beta_1"),
        (lambda: optimizers.Adam(epsilon=-1), "Adam: epsilon"),
        (lambda: optimizers.Momentum(momentum=1.5), "Momentum: momentum"),
        (lambda: optimizers.RMSProp(rho=-0.1), "RMSProp: rho"),
        (lambda: optimizers.AdamW(weight_decay=-1), "AdamW: weight_decay"),
        (lambda: optimizers.Adagrad(initial_accumulator_value=-1), "initial_acc"),
        (lambda: optimizers.Lion(beta_2=2), "Lion: beta_2"),
        (lambda: optimizers.Adam(float("inf")), "learning_rate"),
        (lambda: optimizers.Adam(float("nan")), "learning_rate"),
        (lambda: optimizers.Adam(clipnorm=0), "clipnorm must be > 0"),
        (lambda: optimizers.Adam(clipvalue=-1), "clipvalue"),
        (lambda: optimizers.Adam(clipnorm=1, global_clipnorm=1), "not both"),
    ],
)
def test_bad_hyperparameters_raise_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_learning_rate_types():
    with pytest.raises(TypeError, match="learning_rate must be a number"):
        optimizers.Adam("fast")
    opt = optimizers.GradientDescent(np.float32(0.5))
    assert opt.learning_rate == 0.5
    opt.learning_rate = nnlib.constant(0.25)
    assert opt.learning_rate == 0.25
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0
    opt.learning_rate = schedules.ExponentialDecay(1.0, 1, 0.5)
    assert opt.learning_rate == 1.0


def test_a_schedule_returning_a_negative_rate_raises_before_any_change():
    w = nnlib.Variable([1.0], name="w")
    opt = optimizers.GradientDescent(lambda step: -0.1)
    with pytest.raises(ValueError, match="returned -0.1 at step 0"):
        opt.apply_gradients([(np.ones(1), w)])
    assert float(w[0]) == 1.0 and int(opt.iterations) == 0


def test_get_config_serializes_a_schedule():
    opt = optimizers.Adam(schedules.CosineDecay(0.1, 100), clipvalue=1.0)
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    clone = optimizers.Adam.from_config(config)
    assert isinstance(clone._learning_rate, schedules.CosineDecay)
    assert clone.get_config() == config
    assert repr(opt).startswith("Adam(learning_rate={'class_name': 'CosineDecay'")


def test_gradients_as_tensors_arrays_and_lists():
    w = nnlib.Variable([1.0, 1.0], name="w")
    opt = optimizers.GradientDescent(1.0)
    opt.apply_gradients([(nnlib.constant([0.5, 0.5]), w)])
    opt.apply_gradients([(np.array([0.25, 0.25]), w)])
    opt.apply_gradients([([0.125, 0.125], w)])
    np.testing.assert_allclose(w.numpy(), [0.125, 0.125])


def test_integer_variables_and_malformed_pairs_are_rejected():
    with pytest.raises(TypeError, match="'n' has dtype int64"):
        optimizers.Adam().apply_gradients(
            [(np.ones(2), nnlib.Variable([1, 2], name="n"))]
        )
    with pytest.raises(TypeError, match="pairs"):
        optimizers.Adam().apply_gradients([nnlib.Variable([1.0])])
    with pytest.raises(ValueError, match="none given"):
        optimizers.Adam().apply_gradients([])


def test_minimize_var_list_restricts_the_update():
    a = nnlib.Variable(2.0, name="a")
    b = nnlib.Variable(3.0, name="b")
    opt = optimizers.GradientDescent(0.1)
    loss = opt.minimize(lambda: a * a + b * b, var_list=[a])
    assert float(loss) == 13.0
    assert float(a) == pytest.approx(1.6) and float(b) == 3.0
    unused = nnlib.Variable(1.0, name="unused")
    with pytest.raises(ValueError, match="'unused'"):
        opt.minimize(lambda: a * a, var_list=[unused])


def test_build_creates_slots_up_front_and_get_slot_explains_misses():
    w = nnlib.Variable(np.zeros((2, 2)), name="dense/kernel")
    opt = optimizers.RMSProp(momentum=0.9)
    with pytest.raises(KeyError, match="no slots for variable 'dense/kernel'"):
        opt.get_slot(w, "velocity")
    opt.build([w])
    opt.build([w])  # idempotent
    assert [v.name for v in opt.variables()] == [
        "RMSProp/iterations",
        "dense/kernel/RMSProp/velocity",
        "dense/kernel/RMSProp/momentum",
    ]
    with pytest.raises(KeyError, match="no slot 'm'"):
        opt.get_slot(w, "m")


def test_adagrad_accumulator_starts_at_its_initial_value():
    w = nnlib.Variable(np.zeros(3), name="w")
    opt = optimizers.Adagrad(initial_accumulator_value=0.3)
    opt.build([w])
    np.testing.assert_array_equal(opt.get_slot(w, "accumulator").numpy(), [0.3] * 3)


def test_two_variables_with_one_name_get_distinct_slot_names():
    first, second = nnlib.Variable(1.0), nnlib.Variable(2.0)
    opt = optimizers.Adam(name="opt")
    opt.apply_gradients([(1.0, first), (1.0, second)])
    names = [v.name for v in opt.variables()]
    assert names == [
        "opt/iterations",
        "Variable/opt/m",
        "Variable/opt/v",
        "Variable_1/opt/m",
        "Variable_1/opt/v",
    ]


def _address(var):
    return var._value.__array_interface__["data"][0]


def test_updates_write_in_place_when_nothing_else_holds_the_array():
    w = nnlib.Variable(np.ones((4, 4)), name="w")
    opt = optimizers.Adam()
    opt.apply_gradients([(np.ones((4, 4)), w)])
    address, m_address = _address(w), _address(opt.get_slot(w, "m"))
    opt.apply_gradients([(np.ones((4, 4)), w)])
    assert _address(w) == address  # the fast path: no new array
    assert _address(opt.get_slot(w, "m")) == m_address
    held = w.numpy()
    opt.apply_gradients([(np.ones((4, 4)), w)])
    assert _address(w) != address  # someone holds the old array: it is kept
    assert not np.array_equal(held, w.numpy())


def test_a_gradient_that_is_the_variables_own_array_is_safe():
    w = nnlib.Variable(np.array([1.0, 2.0]), name="w")
    grad = w.numpy()  # the same array
    optimizers.GradientDescent(0.5).apply_gradients([(grad, w)])
    np.testing.assert_array_equal(grad, [1.0, 2.0])
    np.testing.assert_array_equal(w.numpy(), [0.5, 1.0])


def test_training_a_dense_layer_with_implicit_gradients():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = x @ rng.standard_normal((4, 1)).astype(np.float32)
    layer = nnlib.layers.Dense(1)
    opt = optimizers.Adam(0.05)

    def loss_fn():
        return nnlib.reduce_mean(nnlib.square(layer(x) - y))

    step = nnlib.implicit_value_and_gradients(loss_fn)
    first = float(step()[0])
    for _ in range(100):
        loss, grads_and_vars = step()
        opt.apply_gradients(grads_and_vars)
    assert float(loss) < 0.05 * first
    assert [v.name for v in opt.variables()][1:3] == [
        f"{layer.kernel.name}/Adam/m",
        f"{layer.kernel.name}/Adam/v",
    ]
