"""Unary math ops: values, erf's accuracy, dtypes, and the non-differentiable sign."""

import math
import warnings

import numpy as np
import pytest

import nnlib
from nnlib.ops import math as nmath
from nnlib.ops.registry import REGISTRY
from nnlib.test_util import check_gradients

_NEW_OPS = ["rsqrt", "expm1", "log1p", "abs", "sign", "sin", "cos", "erf", "erfc"]


def _grad(f, x):
    x = nnlib.constant(x)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


def test_erf_matches_math_erf_to_1e_13_in_float64():
    grid = np.linspace(-7.0, 7.0, 28001)
    special = [
        0.0,
        -0.0,
        0.46875,
        -0.46875,
        np.nextafter(0.46875, 1.0),
        4.0,
        -4.0,
        np.nextafter(4.0, 5.0),
        5.9,
        6.0,
        10.0,
        -27.0,
        1e-300,
        5e-324,
        1e300,
        -1e300,
    ]
    x = np.concatenate([grid, special])
    expected = np.array([math.erf(v) for v in x])
    got = nnlib.erf(x).numpy()
    assert got.dtype == np.float64
    assert np.max(np.abs(got - expected)) < 1e-13
    small = np.abs(x) < 0.5  # relative accuracy where erf is tiny
    assert np.allclose(got[small], expected[small], rtol=1e-14, atol=0)


def test_erfc_keeps_relative_accuracy_in_the_tail():
    x = np.concatenate([np.linspace(-6.0, 26.0, 32001), [27.5, 28.0, 1e300, -1e300]])
    expected = np.array([math.erfc(v) for v in x])
    got = nnlib.erfc(x).numpy()
    assert np.max(np.abs(got - expected)) < 1e-13
    normal = expected > 1e-300  # below that, subnormals carry fewer digits
    assert np.allclose(got[normal], expected[normal], rtol=1e-14, atol=0)
    assert got[-4:].tolist() == [0.0, 0.0, 0.0, 2.0]


def test_erf_at_zero_infinities_and_nan():
    got = nnlib.erf(np.array([0.0, -0.0, np.inf, -np.inf, np.nan])).numpy()
    assert got[0] == 0.0 and np.signbit(got[1])
    assert got[2] == 1.0 and got[3] == -1.0 and np.isnan(got[4])


def test_erf_keeps_float32_and_promotes_integers():
    x = np.linspace(-3, 3, 13, dtype=np.float32)
    y = nnlib.erf(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(
        y.numpy(), [math.erf(v) for v in x], rtol=1e-6, atol=1e-7
    )
    assert nnlib.erf(np.arange(3)).dtype == np.float64
    assert nnlib.erf(1.0).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_erf_and_erfc_keep_float_dtypes_and_leave_inputs_alone(dtype):
    x = np.linspace(-5, 5, 11).astype(dtype)
    before = x.copy()
    info = np.finfo(dtype)
    for op, reference in ((nnlib.erf, math.erf), (nnlib.erfc, math.erfc)):
        y = op(x)
        assert y.dtype == dtype
        np.testing.assert_allclose(
            y.numpy(),
            [reference(v) for v in x.astype(float)],
            rtol=info.eps * 8,
            atol=info.tiny,
        )
    np.testing.assert_array_equal(x, before)


def test_erf_rejects_complex_input():
    with pytest.raises(TypeError, match="erf: complex"):
        nnlib.erf(np.array([1j]))
    with pytest.raises(TypeError, match="erfc: complex"):
        nnlib.erfc(np.array([1j]))


def test_erf_gradient_is_the_gaussian_density():
    x = np.array([-1.5, 0.0, 0.5, 2.0])
    density = 2 / np.sqrt(np.pi) * np.exp(-x * x)
    np.testing.assert_allclose(_grad(nnlib.erf, x).numpy(), density, rtol=1e-12)
    np.testing.assert_allclose(_grad(nnlib.erfc, x).numpy(), -density, rtol=1e-12)


def test_known_values():
    np.testing.assert_allclose(nnlib.rsqrt(np.array([4.0, 0.01])).numpy(), [0.5, 10.0])
    assert float(nnlib.expm1(np.float64(1e-12))) == pytest.approx(1e-12, rel=1e-15)
    assert float(nnlib.log1p(np.float64(-1e-12))) == pytest.approx(-1e-12, rel=1e-15)
    np.testing.assert_allclose(
        nnlib.sin(np.array([0.0, np.pi / 6])).numpy(), [0.0, 0.5], atol=1e-15
    )
    np.testing.assert_allclose(
        nnlib.cos(np.array([0.0, np.pi / 3])).numpy(), [1.0, 0.5]
    )
    assert nnlib.abs([-2.0, 3.0]).numpy().tolist() == [2.0, 3.0]
    assert nnlib.sign([-2.0, 0.0, 3.0]).numpy().tolist() == [-1.0, 0.0, 1.0]


@pytest.mark.parametrize("name", _NEW_OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(name, dtype):
    x = np.array([0.25, 0.5, 2.0], dtype=dtype)
    assert getattr(nnlib, name)(x).dtype == dtype


@pytest.mark.parametrize("name", _NEW_OPS)
def test_numpy_arrays_and_python_numbers_are_accepted(name):
    op = getattr(nnlib, name)
    assert op(np.ones(3)).shape == (3,)
    assert op(0.5).shape == () and op(0.5).dtype == np.float32


def test_abs_has_numpy_and_python_spellings():
    t = nnlib.constant([-1.0, 2.0])
    assert abs(t).numpy().tolist() == [1.0, 2.0]
    assert np.abs(t).numpy().tolist() == [1.0, 2.0]  # via __array_ufunc__
    assert nmath.absolute is nmath.abs
    assert "absolute" not in nmath.__all__


def test_abs_gradient_at_zero_is_zero():
    assert _grad(nnlib.abs, np.array([-2.0, 0.0, 3.0])).numpy().tolist() == [-1, 0, 1]


def test_numpy_ufuncs_on_tensors_route_to_the_ops():
    t = nnlib.constant([0.5])
    for ufunc in (np.sin, np.cos, np.expm1, np.log1p, np.sign):
        assert isinstance(ufunc(t), nnlib.Tensor)


def test_sign_stops_gradients_and_says_why():
    assert not REGISTRY["sign"].differentiable
    x = nnlib.constant([1.0, -2.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.sign(x)
    with pytest.warns(UserWarning, match="non-differentiable op 'sign'"):
        assert tape.gradient(y, x) is None


def test_second_derivatives_of_sin_and_erf():
    check_gradients(nnlib.sin, np.linspace(-2, 2, 5), order=3)
    check_gradients(nnlib.erf, np.linspace(-2, 2, 5), order=2)


def test_large_inputs_raise_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.abs(nnlib.erf(np.array([-1e308, 1e308])).numpy()) == 1.0)
        assert nnlib.erf(np.float32([3e38])).numpy()[0] == 1.0
