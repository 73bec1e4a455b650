"""Reductions: values against numpy, axis handling, and the delicate gradients."""

import numpy as np
import pytest

import nnlib
from nnlib.ops.registry import REGISTRY
from nnlib.test_util import check_gradients

_X = np.random.default_rng(0).uniform(-2, 2, (2, 3, 4))
_AXES = [None, 0, -1, (0, 2), (-1, 0), (0, 1, 2), ()]


def _logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


_FLOAT_OPS = {
    "reduce_sum": np.sum,
    "reduce_mean": np.mean,
    "reduce_max": np.max,
    "reduce_min": np.min,
    "reduce_prod": np.prod,
    "reduce_logsumexp": _logsumexp,
    "reduce_variance": np.var,
    "reduce_std": np.std,
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", _AXES)
@pytest.mark.parametrize("name", sorted(_FLOAT_OPS))
def test_reduction_matches_numpy(name, axis, keepdims):
    got = getattr(nnlib, name)(_X, axis=axis, keepdims=keepdims)
    want = _FLOAT_OPS[name](_X, axis=axis, keepdims=keepdims)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(_FLOAT_OPS))
def test_reduction_keeps_float32(name):
    x = _X.astype(np.float32)
    got = getattr(nnlib, name)(x, axis=1)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), _FLOAT_OPS[name](x, axis=1), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(_FLOAT_OPS) + ["reduce_any", "reduce_all"])
@pytest.mark.parametrize("axis", [2, -3, (0, 0), (1, -1)])
def test_bad_axis_raises_value_error_naming_the_op(name, axis):
    with pytest.raises(ValueError, match=name):
        getattr(nnlib, name)(np.ones((2, 3)), axis=axis)


def test_non_integer_axis_raises_type_error():
    with pytest.raises(TypeError, match="reduce_sum: axis must be an int"):
        nnlib.reduce_sum(np.ones((2, 3)), axis=1.0)


@pytest.mark.parametrize("axis", [None, 0, -1, ()])
def test_scalar_input_reduces_to_itself(axis):
    assert float(nnlib.reduce_sum(np.float32(3.0), axis=axis)) == 3.0
    assert float(nnlib.reduce_max(nnlib.constant(3.0), axis=axis, keepdims=True)) == 3.0


def test_sum_of_small_integers_and_bools_is_int64_like_numpy():
    assert nnlib.reduce_sum(np.arange(4, dtype=np.int32)).dtype == np.int64
    assert int(nnlib.reduce_sum(np.array([True, True, False]))) == 2
    assert nnlib.reduce_mean(np.arange(4)).dtype == np.float64


def test_empty_max_names_the_op():
    with pytest.raises(ValueError, match="reduce_max: .* empty"):
        nnlib.reduce_max(np.zeros((0, 3)), axis=0)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 1, (0, -1)])
@pytest.mark.parametrize("name", sorted(_FLOAT_OPS))
def test_reduction_gradients_over_axes(name, axis, keepdims):
    op = getattr(nnlib, name)
    x = np.random.default_rng(1).uniform(0.5, 1.5, (2, 3, 2))
    check_gradients(lambda t: op(t, axis=axis, keepdims=keepdims), x, order=2)


def _gradient(fn, x, dy=None):
    x = nnlib.constant(np.asarray(x, np.float64))
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x, output_gradients=dy).numpy()


def test_reduce_max_splits_the_gradient_among_ties():
    np.testing.assert_array_equal(
        _gradient(nnlib.reduce_max, [1.0, 3.0, 3.0, 2.0]), [0.0, 0.5, 0.5, 0.0]
    )
    grad = _gradient(
        lambda x: nnlib.reduce_max(x, axis=1),
        [[3.0, 3.0, 3.0], [1.0, 2.0, 0.0]],
        dy=nnlib.constant([3.0, 5.0]),
    )
    np.testing.assert_array_equal(grad, [[1.0, 1.0, 1.0], [0.0, 5.0, 0.0]])


def test_reduce_min_splits_the_gradient_among_ties():
    np.testing.assert_array_equal(
        _gradient(
            lambda x: nnlib.reduce_min(x, axis=0, keepdims=True),
            [[1.0, 2.0], [1.0, 0.0]],
        ),
        [[0.5, 0.0], [0.5, 1.0]],
    )


def test_reduce_prod_gradient_is_exact_with_zeros():
    x = [[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]]
    grad = _gradient(lambda t: nnlib.reduce_prod(t, axis=1), x)
    # product of the others: one zero leaves only its own slot, two zeros none
    np.testing.assert_array_equal(
        grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]]
    )
    assert np.all(np.isfinite(grad))


def test_reduce_prod_second_derivative_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0]])
    check_gradients(lambda t: nnlib.reduce_prod(t, axis=-1), x, order=2)
    check_gradients(
        lambda t: nnlib.reduce_prod(t), np.array([0.5, 0.0, -1.5, 2.0]), order=2
    )
    # d2/dx0 dx1 of x0*x1*x2 at x2=3 is 3, whatever x0 and x1 are
    x = nnlib.constant([0.0, 0.0, 3.0], dtype="float64")
    with nnlib.GradientTape() as outer:
        outer.watch(x)
        with nnlib.GradientTape() as inner:
            inner.watch(x)
            y = nnlib.reduce_prod(x)
        g = inner.gradient(y, x)
        g0 = g[0]
    np.testing.assert_array_equal(outer.gradient(g0, x).numpy(), [0.0, 3.0, 0.0])


def test_reduce_logsumexp_is_stable_for_large_inputs():
    with np.errstate(all="raise"):
        y = nnlib.reduce_logsumexp(nnlib.constant([1e4, 1e4], dtype="float64"))
        grad = _gradient(nnlib.reduce_logsumexp, [1e4, 1e4 - np.log(3.0)])
    np.testing.assert_allclose(float(y), 1e4 + np.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(grad, [0.75, 0.25])
    np.testing.assert_allclose(
        nnlib.reduce_logsumexp([[-1e4, -1e4 + np.log(3.0)]], axis=1).numpy(),
        [-1e4 + np.log(4.0)],
        rtol=1e-6,
    )


def test_reduce_logsumexp_handles_infinities():
    assert float(nnlib.reduce_logsumexp([-np.inf, 0.0])) == 0.0
    assert float(nnlib.reduce_logsumexp([np.inf, 1.0])) == np.inf


def test_reduce_logsumexp_gradient_is_the_softmax():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    softmax = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        _gradient(lambda t: nnlib.reduce_logsumexp(t, axis=1), x), softmax
    )


def test_variance_is_the_population_variance():
    x = [[1.0, 2.0, 3.0, 4.0]]
    assert float(nnlib.reduce_variance(x)) == pytest.approx(1.25)
    assert float(nnlib.reduce_std(x)) == pytest.approx(np.sqrt(1.25))


_SCANS = [
    (0, False, False),
    (1, False, False),
    (-1, True, False),
    (0, False, True),
    (1, True, True),
    (-2, True, True),
]


@pytest.mark.parametrize("axis, exclusive, reverse", _SCANS)
def test_cumsum_matches_numpy(axis, exclusive, reverse):
    x = _X[0]
    v = np.flip(x, axis) if reverse else x
    want = np.cumsum(v, axis) - (v if exclusive else 0)
    want = np.flip(want, axis) if reverse else want
    got = nnlib.cumsum(x, axis=axis, exclusive=exclusive, reverse=reverse)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
    check_gradients(lambda t: nnlib.cumsum(t, axis, exclusive, reverse), x, order=2)


def test_cumsum_exclusive_starts_at_zero_and_handles_empty_axes():
    np.testing.assert_array_equal(
        nnlib.cumsum([1.0, 2.0, 3.0], exclusive=True).numpy(), [0.0, 1.0, 3.0]
    )
    assert nnlib.cumsum(np.zeros((0, 2)), exclusive=True).shape == (0, 2)


def test_cumsum_errors():
    with pytest.raises(ValueError, match="cumsum: axis 2 is out of range"):
        nnlib.cumsum(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="cumsum: needs a tensor of rank >= 1"):
        nnlib.cumsum(3.0)
    with pytest.raises(TypeError, match="cumsum"):
        nnlib.cumsum(np.ones((2, 3)), axis=(0, 1))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_match_numpy(name, axis, keepdims):
    x = np.array([[1.0, 5.0, 5.0], [3.0, 2.0, 3.0]])  # ties: the first index wins
    got = getattr(nnlib, name)(x, axis=axis, keepdims=keepdims)
    want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), want)


def test_arg_extrema_errors_and_registration():
    with pytest.raises(ValueError, match="argmax: axis must be an int or None"):
        nnlib.argmax(np.ones((2, 3)), axis=(0, 1))
    with pytest.raises(ValueError, match="argmin: axis 2 is out of range"):
        nnlib.argmin(np.ones((2, 3)), axis=2)
    for name in ("argmax", "argmin", "reduce_any", "reduce_all"):
        assert not REGISTRY[name].differentiable


def test_no_gradient_flows_through_argmax():
    x = nnlib.constant([1.0, 3.0, 2.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.cast(nnlib.argmax(x), "float32") * nnlib.reduce_sum(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
def test_reduce_any_and_all_match_numpy(axis, keepdims):
    x = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    for name, ref in (("reduce_any", np.any), ("reduce_all", np.all)):
        for value in (x, x != 0, x == 0):
            got = getattr(nnlib, name)(value, axis=axis, keepdims=keepdims)
            assert got.dtype == np.bool_
            np.testing.assert_array_equal(
                got.numpy(), ref(value, axis=axis, keepdims=keepdims)
            )
    assert not bool(nnlib.reduce_any(np.zeros(0)))
    assert bool(nnlib.reduce_all(np.zeros(0)))


def test_sum_to_shape_undoes_broadcasting():
    x = nnlib.constant(np.ones((2, 3, 4)))
    np.testing.assert_array_equal(
        nnlib.sum_to_shape(x, (3, 1)).numpy(), np.full((3, 1), 8.0)
    )
    assert nnlib.sum_to_shape(x, (2, 3, 4)) is x
