"""nnlib.test_util: the gradient checker must pass right rules and catch wrong ones."""

import numpy as np
import pytest

import nnlib
from nnlib.test_util import check_gradients, numerical_gradient


def _layer(x, w, b):
    return nnlib.reduce_sum(nnlib.tanh(x @ w + b))


def _layer_args():
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((4, 3)),
        rng.standard_normal((3, 2)),
        rng.standard_normal(2),
    )


def test_numerical_gradient_of_a_cube_is_known():
    grad = numerical_gradient(
        lambda x: x**3, [np.array([2.0, -1.0])], 0, [np.array([1.0, 0.5])]
    )
    np.testing.assert_allclose(grad, [12.0, 1.5], rtol=1e-8)


def test_numerical_gradient_weights_outputs_and_leaves_other_arguments_alone():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    grad = numerical_gradient(lambda a, b: a * b, [x, y], 1, [np.array([2.0, -1.0])])
    np.testing.assert_allclose(grad, [2.0, -2.0], rtol=1e-8)
    np.testing.assert_array_equal(y, [3.0, 5.0])  # restored after perturbation


def test_check_gradients_passes_on_a_composite_function():
    check_gradients(_layer, *_layer_args())
    check_gradients(lambda x, w, b: nnlib.tanh(x @ w + b), *_layer_args(), order=2)


def test_check_gradients_passes_on_float32_and_tensor_inputs():
    # Converted to float64 first, so the tight default tolerance still holds.
    x = np.linspace(-1, 1, 5).astype(np.float32)
    check_gradients(lambda t: nnlib.tanh(t) * t, x)
    check_gradients(lambda t: nnlib.exp(t) * t, nnlib.constant(x))


def test_check_gradients_passes_integer_arguments_through():
    check_gradients(
        lambda x, index: x[index] * x[index], np.arange(1.0, 5.0), np.array([0, 0, 3])
    )


def _wrong_tanh():
    @nnlib.custom_gradient
    def wrong_tanh(x):
        y = nnlib.tanh(x)
        return y, lambda dy: dy * (1.0 - x * x)  # should be 1 - y^2

    return wrong_tanh


def test_check_gradients_fails_on_a_wrong_rule():
    with pytest.raises(AssertionError, match=r"argument 0 .*order 1"):
        check_gradients(_wrong_tanh(), np.linspace(-1, 1, 5))


def test_check_gradients_names_the_wrong_argument():
    @nnlib.custom_gradient
    def product(a, b):
        return a * b, lambda dy: (dy * b, dy * b)  # db should be dy * a

    args = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    with pytest.raises(AssertionError, match="argument 1"):
        check_gradients(product, *args)
    check_gradients(product, *args, wrt=[0])  # only the right one checked


def test_order_two_catches_a_wrong_second_derivative():
    @nnlib.custom_gradient
    def tanh_constant_slope(x):
        y = nnlib.tanh(x)
        slope = nnlib.constant(1.0 - np.tanh(x.numpy()) ** 2)  # right value, no graph
        return y, lambda dy: dy * slope

    x = np.linspace(-1, 1, 5)
    check_gradients(tanh_constant_slope, x)
    with pytest.raises(AssertionError, match="order 2"):
        check_gradients(tanh_constant_slope, x, order=2)


def test_a_random_upstream_gradient_catches_a_transposed_rule():
    # A cyclic permutation: its rows and columns have the same sums, so an all-ones
    # upstream gradient cannot tell dy @ A from the right dy @ A^T.
    a = np.roll(np.eye(3), 1, axis=1)

    @nnlib.custom_gradient
    def times_a(x):
        return x @ nnlib.constant(a), lambda dy: dy @ nnlib.constant(a)  # needs a.T

    x = np.arange(6.0).reshape(2, 3)
    ones = [np.ones((2, 3))]
    hidden = np.asarray(nnlib.gradients_function(times_a)(x, dy=np.ones((2, 3)))[0])
    np.testing.assert_allclose(
        hidden, numerical_gradient(times_a, [x], 0, ones), atol=1e-6
    )
    with pytest.raises(AssertionError, match="argument 0"):
        check_gradients(times_a, x)
