"""Regularizers: values by hand, gradients, dtypes, lookup and serialization."""

import numpy as np
import pytest

import nnlib
from nnlib import regularizers

_W = np.array([[0.5, -1.5], [2.0, -0.25], [0.0, 3.0]])


def test_values_match_hand_computation():
    l1 = 0.3 * np.abs(_W).sum()
    l2 = 0.2 * (_W**2).sum()
    assert float(regularizers.L1(0.3)(_W)) == pytest.approx(l1, rel=1e-14)
    assert float(regularizers.L2(0.2)(_W)) == pytest.approx(l2, rel=1e-14)
    assert float(regularizers.L1L2(0.3, 0.2)(_W)) == pytest.approx(l1 + l2, rel=1e-14)
    assert float(regularizers.L1L2(l2=0.2)(_W)) == pytest.approx(l2, rel=1e-14)


def test_defaults_are_keras():
    assert regularizers.L1().l1 == 0.01
    assert regularizers.L2().l2 == 0.01
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.L2(None).l2 == 0.01


def test_result_is_a_scalar_of_the_weight_dtype():
    for dtype in (np.float32, np.float64):
        for reg in (regularizers.L1(), regularizers.L2(), regularizers.L1L2(0.1, 0.1)):
            penalty = reg(_W.astype(dtype))
            assert isinstance(penalty, nnlib.Tensor)
            assert penalty.shape == () and penalty.dtype == dtype


def test_zero_factors_give_a_constant_zero():
    penalty = regularizers.L1L2()(_W.astype(np.float32))
    assert float(penalty) == 0.0 and penalty.dtype == np.float32
    v = nnlib.Variable(_W)
    with nnlib.GradientTape() as tape:
        penalty = regularizers.L1L2()(v)
    with pytest.warns(UserWarning, match="every gradient is None"):
        assert tape.gradient(penalty, [v]) == [None]


@pytest.mark.parametrize(
    ("reg", "expected"),
    [
        (regularizers.L1(0.3), 0.3 * np.sign(_W)),
        (regularizers.L2(0.2), 0.4 * _W),
        (regularizers.L1L2(0.3, 0.2), 0.3 * np.sign(_W) + 0.4 * _W),
    ],
)
def test_gradients(reg, expected):
    (grad,) = nnlib.gradients_function(reg)(_W)
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-14)


def test_gradient_matches_finite_differences_away_from_zero():
    w = np.array([0.7, -1.2, 2.5])
    reg = regularizers.L1L2(0.3, 0.2)
    (grad,) = nnlib.gradients_function(reg)(w)
    eps = 1e-6
    numeric = [
        (float(reg(w + eps * e)) - float(reg(w - eps * e))) / (2 * eps)
        for e in np.eye(3)
    ]
    np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-7)


def test_tape_records_the_penalty_on_a_variable():
    v = nnlib.Variable(_W, name="kernel")
    reg = regularizers.L2(0.5)
    [(grad, var)] = nnlib.implicit_gradients(lambda: reg(v))()
    assert var is v
    np.testing.assert_allclose(grad.numpy(), _W)


def test_second_derivative_of_l2():
    def first(w):
        return nnlib.reduce_sum(nnlib.gradients_function(regularizers.L2(0.5))(w)[0])

    (second,) = nnlib.gradients_function(first)(np.array([1.0, -2.0]))
    np.testing.assert_allclose(second.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("name", ["l1", "l2", "-l1", "L1", "L2", "L1L2"])
def test_bad_factors_raise_value_error_naming_them(name):
    cls = {"l1": regularizers.L1, "l2": regularizers.L2}.get(name.lstrip("-"))
    if cls is None:
        cls = getattr(regularizers, name)
        arg = "l1" if name != "L2" else "l2"
    else:
        arg = name.lstrip("-")
    with pytest.raises(ValueError, match=f"{cls.__name__}: {arg} must be"):
        cls(**{arg: -0.1})
    with pytest.raises(ValueError, match=f"{cls.__name__}: {arg} must be"):
        cls(**{arg: float("nan")})
    with pytest.raises(TypeError, match=f"{cls.__name__}: {arg} must be a number"):
        cls(**{arg: "0.1"})


@pytest.mark.parametrize(
    ("name", "cls", "config"),
    [
        ("l1", regularizers.L1, {"l1": 0.01}),
        ("l2", regularizers.L2, {"l2": 0.01}),
        ("l1_l2", regularizers.L1L2, {"l1": 0.01, "l2": 0.01}),
        ("L1", regularizers.L1, {"l1": 0.01}),
        ("L2", regularizers.L2, {"l2": 0.01}),
        ("L1L2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
    ],
)
def test_get_by_name_and_round_trip(name, cls, config):
    reg = regularizers.get(name)
    assert type(reg) is cls and reg.get_config() == config
    again = regularizers.get(regularizers.serialize(reg))
    assert type(again) is cls and again.get_config() == config


def test_round_trip_keeps_factors():
    reg = regularizers.L1L2(0.25, 0.5)
    data = regularizers.serialize(reg)
    assert data == {"class_name": "L1L2", "config": {"l1": 0.25, "l2": 0.5}}
    assert float(regularizers.get(data)(_W)) == float(reg(_W))
    assert regularizers.get({"class_name": "l1_l2", "config": {"l2": 0.5}}).l2 == 0.5


def test_get_passes_instances_functions_and_none_and_builds_classes():
    reg = regularizers.L2()
    assert regularizers.get(reg) is reg
    assert regularizers.get(None) is None
    assert regularizers.get(nnlib.l2_loss) is nnlib.l2_loss
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)


def test_unknown_names_and_identifiers():
    with pytest.raises(ValueError, match="Did you mean 'l1_l2'") as info:
        regularizers.get("l1_2")
    assert "Valid names: L1, L1L2, L2, l1, l1_l2, l2." in str(info.value)
    with pytest.raises(ValueError, match="unknown regularizer 'l3'"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="could not interpret regularizer"):
        regularizers.get(0.01)
    with pytest.raises(ValueError, match="'class_name'"):
        regularizers.get({"config": {"l1": 0.1}})


def test_serialize_rejects_plain_functions():
    with pytest.raises(ValueError, match="only Regularizer instances"):
        regularizers.serialize(nnlib.l2_loss)


def test_base_class_must_be_implemented():
    with pytest.raises(NotImplementedError, match="Regularizer must implement"):
        regularizers.Regularizer()(_W)


def test_none_serializes_to_none():
    assert regularizers.serialize(None) is None
    assert regularizers.get(regularizers.serialize(None)) is None
