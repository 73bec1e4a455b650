"""Activations and clip_by_value: known values, stability, dtypes, subgradients."""

import math
import warnings

import numpy as np
import pytest

import nnlib
from nnlib.ops import activations
from nnlib.ops.registry import REGISTRY
from nnlib.test_util import check_gradients

_UNARY = [
    "sigmoid",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "softplus",
    "softsign",
    "silu",
    "hard_sigmoid",
]
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _grad(f, *args):
    args = [nnlib.constant(a) for a in args]
    with nnlib.GradientTape() as tape:
        for a in args:
            tape.watch(a)
        y = f(*args)
    grads = tape.gradient(y, args)
    return [None if g is None else g.numpy() for g in grads]


def _values(op, x, **kwargs):
    return op(np.asarray(x, dtype=np.float64), **kwargs).numpy()


def test_known_values():
    assert float(nnlib.sigmoid(0.0)) == 0.5
    np.testing.assert_allclose(_values(nnlib.sigmoid, [2.0]), [1 / (1 + math.exp(-2))])
    assert _values(nnlib.relu, [-1.0, 0.0, 2.5]).tolist() == [0.0, 0.0, 2.5]
    assert _values(nnlib.relu6, [-1.0, 3.0, 7.0]).tolist() == [0.0, 3.0, 6.0]
    assert _values(nnlib.leaky_relu, [-1.0, 2.0]).tolist() == [-0.2, 2.0]
    assert _values(nnlib.leaky_relu, [-1.0, 2.0], alpha=0.5).tolist() == [-0.5, 2.0]
    np.testing.assert_allclose(_values(nnlib.elu, [-1.0, 2.0]), [math.exp(-1) - 1, 2.0])
    np.testing.assert_allclose(
        _values(nnlib.elu, [-1.0], alpha=2.0), [2 * (math.exp(-1) - 1)]
    )
    np.testing.assert_allclose(_values(nnlib.softplus, [0.0]), [math.log(2.0)])
    assert _values(nnlib.softsign, [-1.0, 3.0]).tolist() == [-0.5, 0.75]
    np.testing.assert_allclose(_values(nnlib.silu, [1.0]), [1 / (1 + math.exp(-1))])
    assert _values(nnlib.hard_sigmoid, [-4.0, -3.0, 0.0, 1.5, 3.0, 5.0]).tolist() == [
        0.0,
        0.0,
        0.5,
        0.75,
        1.0,
        1.0,
    ]


def test_selu_constants():
    np.testing.assert_allclose(_values(nnlib.selu, [1.0]), [_SELU_SCALE])
    np.testing.assert_allclose(
        _values(nnlib.selu, [-50.0]), [-_SELU_SCALE * _SELU_ALPHA]
    )
    np.testing.assert_allclose(
        _values(nnlib.selu, [-1.0]), [_SELU_SCALE * _SELU_ALPHA * (math.exp(-1) - 1)]
    )


def test_gelu_known_values():
    assert _values(nnlib.gelu, [1.0])[0] == pytest.approx(0.8413447460685429, rel=1e-14)
    assert _values(nnlib.gelu, [1.0], approximate=True)[0] == pytest.approx(
        0.8411919906082768, rel=1e-12
    )
    assert float(nnlib.gelu(0.0)) == 0.0


def test_gelu_is_accurate_including_the_negative_tail():
    x = [-30.0, -10.0, -5.0, -1.0, 0.5, 1.0, 2.0, 10.0]
    exact = [0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x]
    # erfc(z) amplifies the rounding of z = x / sqrt(2) by about 2 z^2 (900 at -30).
    np.testing.assert_allclose(_values(nnlib.gelu, x), exact, rtol=1e-12)
    np.testing.assert_allclose(_values(nnlib.gelu, x[2:]), exact[2:], rtol=1e-14)
    c = math.sqrt(2 / math.pi)
    # 0.5 * (1 + tanh(z)) written as 1 / (1 + exp(-2 z)) to get a reference tail.
    approx = [v / (1 + math.exp(-2 * c * (v + 0.044715 * v**3))) for v in x[1:]]
    np.testing.assert_allclose(
        _values(nnlib.gelu, x[1:], approximate=True), approx, rtol=1e-13
    )
    assert _values(nnlib.gelu, [-30.0], approximate=True)[0] == 0.0


def test_sigmoid_is_accurate_in_both_tails():
    x = np.array([-700.0, -40.0, -5.0, 5.0, 40.0])
    expected = [
        math.exp(v) / (1 + math.exp(v)) if v < 0 else 1 / (1 + math.exp(-v)) for v in x
    ]
    np.testing.assert_allclose(_values(nnlib.sigmoid, x), expected, rtol=1e-15)


@pytest.mark.parametrize("name", _UNARY + ["swish"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_are_finite_without_warnings(name, dtype):
    op = getattr(nnlib, name)
    big = np.finfo(dtype).max / 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(op(np.array([-big, big], dtype=dtype)).numpy()))
        x = nnlib.constant(np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype))
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            y = op(x)
        assert np.all(np.isfinite(y.numpy()))
        assert np.all(np.isfinite(tape.gradient(y, x).numpy()))


def test_gelu_tanh_approximation_is_finite_for_huge_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = nnlib.gelu(np.array([-3e38, 3e38], np.float32), approximate=True)
    assert y.numpy().tolist() == [0.0, np.float32(3e38)]


def test_sigmoid_and_softplus_saturate_exactly():
    assert _values(nnlib.sigmoid, [-1e4, 1e4]).tolist() == [0.0, 1.0]
    assert _values(nnlib.softplus, [-1e4, 1e4]).tolist() == [0.0, 1e4]


@pytest.mark.parametrize("name", _UNARY)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(name, dtype):
    x = np.array([-1.5, 0.5, 2.0], dtype=dtype)
    assert getattr(nnlib, name)(x).dtype == dtype
    assert _grad(getattr(nnlib, name), x)[0].dtype == dtype


@pytest.mark.parametrize("name", _UNARY)
def test_numpy_arrays_and_python_numbers_are_accepted(name):
    op = getattr(nnlib, name)
    assert op(np.ones(3)).dtype == np.float64
    assert op(0.5).dtype == np.float32 and op(0.5).shape == ()


def test_relu_keeps_integer_dtype():
    assert nnlib.relu(np.array([-2, 3])).numpy().tolist() == [0, 3]


def test_subgradients_at_the_kinks():
    x = np.array([-1.0, 0.0, 1.0, 6.0, 7.0])
    assert _grad(nnlib.relu, x)[0].tolist() == [0, 0, 1, 1, 1]
    assert _grad(nnlib.relu6, x)[0].tolist() == [0, 0, 1, 0, 0]
    assert _grad(nnlib.leaky_relu, x)[0].tolist() == [0.2, 0.2, 1, 1, 1]
    np.testing.assert_allclose(_grad(nnlib.elu, x)[0], [math.exp(-1), 1, 1, 1, 1])


@pytest.mark.parametrize("alpha", [0.0, 1.5, -0.5])
def test_unusual_slopes(alpha):
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    assert _values(nnlib.leaky_relu, x, alpha=alpha).tolist() == [
        v if v > 0 else alpha * v for v in x
    ]
    check_gradients(lambda t: nnlib.leaky_relu(t, alpha), x, order=2)
    check_gradients(lambda t: nnlib.elu(t, alpha), x, order=2)


@pytest.mark.parametrize("op", [nnlib.leaky_relu, nnlib.elu])
def test_alpha_must_be_a_number(op):
    with pytest.raises(ValueError, match="alpha must be a number"):
        op([1.0, 2.0], alpha=np.array([0.1, 0.2]))


def test_parameters_keep_float32():
    x = np.ones(2, np.float32)
    assert nnlib.leaky_relu(x, alpha=np.float64(0.1)).dtype == np.float32
    assert nnlib.elu(x, alpha=np.float64(0.5)).dtype == np.float32


def test_swish_is_silu_and_every_activation_is_registered():
    assert activations.swish is activations.silu
    for name in _UNARY + ["clip_by_value"]:
        assert REGISTRY[name].fn is getattr(nnlib, name)
        assert REGISTRY[name].second_order


def test_clip_by_value_values_and_gradients():
    x = np.array([[-2.0, -0.5, 0.5, 2.0], [-1.0, 0.0, 1.0, 3.0]])
    lo = np.array([-1.0, -1.0, -1.0, -1.0])
    hi = np.array([[1.0], [2.0]])
    y = nnlib.clip_by_value(x, lo, hi).numpy()
    assert y.tolist() == [[-1.0, -0.5, 0.5, 1.0], [-1.0, 0.0, 1.0, 2.0]]
    dx, dlo, dhi = _grad(nnlib.clip_by_value, x, lo, hi)
    # Ties (x == bound) send the gradient to x, as in TensorFlow.
    assert dx.tolist() == [[0, 1, 1, 0], [1, 1, 1, 0]]
    assert dlo.tolist() == [1, 0, 0, 0]
    assert dhi.tolist() == [[1], [1]]


def test_clip_by_value_with_python_bounds_keeps_dtype():
    y = nnlib.clip_by_value(np.array([-3.0, 3.0], np.float32), -1.0, 1.0)
    assert y.dtype == np.float32 and y.numpy().tolist() == [-1.0, 1.0]
    lo = np.array([-1.0, -2.0])  # float64 array bounds are converted to x's dtype
    assert nnlib.clip_by_value(np.zeros(2, np.float32), lo, 5.0).dtype == np.float32


def test_clip_by_value_rejects_bad_bounds():
    with pytest.raises(
        ValueError,
        match=r"clip_value_min of shape \(3,\) does not "
        r"broadcast to x's shape \(2, 4\)",
    ):
        nnlib.clip_by_value(np.zeros((2, 4)), np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="clip_value_max"):
        nnlib.clip_by_value(np.zeros(4), -1.0, np.ones((2, 4)))
    with pytest.raises(TypeError, match="cast it with nnlib.cast"):
        nnlib.clip_by_value(
            np.zeros(4, np.float32), nnlib.constant(0.0, "float64"), 1.0
        )
    with pytest.raises(TypeError, match="cannot convert clip_value_min"):
        nnlib.clip_by_value(np.arange(4), np.array([0.5]), 2)
