"""seterr/geterr: catch the first op that makes NaN or infinity from finite inputs."""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib.engine.tape import ACTIVE


@pytest.fixture(autouse=True)
def _restore_mode():
    nnlib.seterr(inf_or_nan="ignore")
    # numpy's own "divide by zero" warnings are not what these tests are about.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*encountered in", category=RuntimeWarning
        )
        yield
    nnlib.seterr(inf_or_nan="ignore")


def test_off_by_default_and_then_nothing_observes_ops():
    assert nnlib.geterr() == {"inf_or_nan": "ignore"}
    assert ACTIVE == []
    y = nnlib.log(nnlib.constant([0.0, 1.0]))
    assert np.isneginf(y.numpy()[0])


def test_raise_names_the_op_and_its_input_shapes():
    expected = r"op 'log'.*\(2, 3\)"
    with (
        nnlib.seterr(inf_or_nan="raise"),
        pytest.raises(FloatingPointError, match=expected),
    ):
        nnlib.log(nnlib.constant(np.zeros((2, 3), np.float32)))


def test_raise_names_both_shapes_of_a_binary_op():
    a = nnlib.constant(np.ones((2, 3), np.float32))
    b = nnlib.constant([1.0, 0.0, 2.0])
    expected = r"op 'divide'.*\(2, 3\), \(3,\)"
    with (
        nnlib.seterr(inf_or_nan="raise"),
        pytest.raises(FloatingPointError, match=expected),
    ):
        a / b


def test_nan_from_a_nan_input_does_not_blame_the_later_op():
    bad = nnlib.constant([np.nan, 1.0])
    with nnlib.seterr(inf_or_nan="raise"):
        y = nnlib.tanh(bad * 2.0) + nnlib.constant([np.inf, 0.0])
    assert np.isnan(y.numpy()[0])


def test_finite_results_pass_silently():
    with nnlib.seterr(inf_or_nan="raise"):
        y = nnlib.exp(nnlib.constant([0.0, 1.0])) / 2.0
    np.testing.assert_allclose(y.numpy(), [0.5, np.e / 2], rtol=1e-6)


def test_overflow_to_infinity_is_caught():
    with (
        nnlib.seterr(inf_or_nan="raise"),
        pytest.raises(FloatingPointError, match="op 'exp'"),
    ):
        nnlib.exp(nnlib.constant([100.0]))  # float32 overflows


def test_the_backward_pass_is_checked_too():
    x = nnlib.constant([0.0, 4.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.sqrt(x)  # finite, but its gradient at 0 is infinite
    with nnlib.seterr(inf_or_nan="raise"), pytest.raises(FloatingPointError):
        tape.gradient(y, x)


def test_warn_mode_warns_and_returns_the_result():
    expected = r"op 'log'.*\(1,\)"
    with nnlib.seterr(inf_or_nan="warn"), pytest.warns(RuntimeWarning, match=expected):
        y = nnlib.log(nnlib.constant([0.0]))
    assert np.isneginf(y.numpy()[0])


def test_ignore_mode_neither_raises_nor_warns():
    nnlib.seterr(inf_or_nan="raise")
    with nnlib.seterr(inf_or_nan="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(divide="ignore"):  # numpy's own warning is not nnlib's
            y = nnlib.log(nnlib.constant([0.0]))
    assert np.isneginf(y.numpy()[0])
    assert nnlib.geterr() == {"inf_or_nan": "raise"}  # restored by the context


def test_seterr_returns_the_previous_mode_and_geterr_reports_the_current_one():
    nnlib.seterr(inf_or_nan="warn")
    assert nnlib.geterr() == {"inf_or_nan": "warn"}
    state = nnlib.seterr(inf_or_nan="raise")
    assert state.previous == "warn"
    assert nnlib.geterr() == {"inf_or_nan": "raise"}
    assert nnlib.seterr().previous == "raise"  # no argument: unchanged
    assert nnlib.geterr() == {"inf_or_nan": "raise"}


def test_the_context_manager_restores_the_previous_mode_even_nested():
    with nnlib.seterr(inf_or_nan="raise"):
        with nnlib.seterr(inf_or_nan="warn"):
            assert nnlib.geterr() == {"inf_or_nan": "warn"}
        assert nnlib.geterr() == {"inf_or_nan": "raise"}
    assert nnlib.geterr() == {"inf_or_nan": "ignore"}


def test_the_context_manager_restores_after_an_exception():
    with pytest.raises(FloatingPointError), nnlib.seterr(inf_or_nan="raise"):
        nnlib.log(nnlib.constant([-1.0]))
    assert nnlib.geterr() == {"inf_or_nan": "ignore"}
    assert ACTIVE == []


def test_leaving_the_context_removes_the_checker():
    with nnlib.seterr(inf_or_nan="raise"):
        assert ACTIVE != []
    assert ACTIVE == []


def test_an_unknown_mode_raises_value_error_and_changes_nothing():
    with pytest.raises(ValueError, match="'loud'"):
        nnlib.seterr(inf_or_nan="loud")
    assert nnlib.geterr() == {"inf_or_nan": "ignore"}
    assert ACTIVE == []
