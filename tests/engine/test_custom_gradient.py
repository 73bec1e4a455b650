"""custom_gradient and stop_gradient."""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib.test_util import check_gradients


@nnlib.custom_gradient
def log1pexp(x):
    """The DESIGN.md example: a stable gradient for log(1 + e^x)."""
    e = nnlib.exp(x)

    def grad(dy):
        return dy * (1 - 1 / (1 + e))

    return nnlib.log(1 + e), grad


def test_log1pexp_has_a_finite_gradient_where_the_naive_formula_gives_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exp(100) overflows float32
        naive = nnlib.gradients_function(lambda x: nnlib.log(1 + nnlib.exp(x)))(100.0)[
            0
        ]
        custom = nnlib.gradients_function(log1pexp)(100.0)[0]
    assert np.isnan(float(naive))  # inf / inf: why the custom gradient exists
    assert float(custom) == 1.0


@pytest.mark.parametrize("x", [-3.0, 0.0, 0.5, 4.0])
def test_log1pexp_value_and_gradient_match_the_formula(x):
    value, grads = nnlib.value_and_gradients_function(log1pexp)(x)
    assert float(value) == pytest.approx(np.log1p(np.exp(x)), rel=1e-6)
    assert float(grads[0]) == pytest.approx(1 / (1 + np.exp(-x)), rel=1e-6)


def test_the_grad_fn_replaces_the_bodys_own_gradient():
    @nnlib.custom_gradient
    def doubled_gradient(x):
        return x * x, lambda dy: dy * 4.0 * x

    assert float(nnlib.gradients_function(doubled_gradient)(3.0)[0]) == 12.0  # not 6


def test_without_a_tape_the_function_just_returns_its_value():
    @nnlib.custom_gradient
    def f(x):
        return x * 3.0, lambda dy: pytest.fail("grad_fn must not run without a tape")

    assert float(f(2.0)) == 6.0
    assert float(f(nnlib.constant(1.0))) == 3.0


def test_multiple_inputs_get_their_own_gradients():
    @nnlib.custom_gradient
    def scaled_product(a, b):
        return a * b, lambda dy: (dy * b * 7.0, dy * a)

    assert [float(g) for g in nnlib.gradients_function(scaled_product)(2.0, 3.0)] == [
        21.0,
        2.0,
    ]


def test_multiple_outputs_receive_one_upstream_gradient_each():
    @nnlib.custom_gradient
    def two(x):
        return (x * 2.0, x * 3.0), lambda d1, d2: d1 * 2.0 + d2 * 3.0

    x = nnlib.constant(1.0)
    with nnlib.GradientTape(persistent=True) as tape:
        tape.watch(x)
        a, b = two(x)
        c = a * b  # 6x^2
    assert float(tape.gradient(a, x)) == 2.0  # the unused output gets a zero upstream
    assert float(tape.gradient(b, x)) == 3.0
    assert float(tape.gradient([a, b], x)) == 5.0
    assert float(tape.gradient(c, x)) == 12.0


def test_a_grad_fn_returning_the_wrong_number_of_gradients_raises():
    @nnlib.custom_gradient
    def f(a, b):
        return a * b, lambda dy: dy

    with pytest.raises(ValueError, match="1 gradients for 2 inputs"):
        nnlib.gradients_function(f)(1.0, 2.0)


def test_grad_fn_with_variables_gives_the_variables_their_gradients():
    v = nnlib.Variable(2.0, name="v")
    seen = []

    @nnlib.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            seen.append(variables)
            return dy * v * 10.0, [dy * x * 100.0]

        return x * v, grad

    x = nnlib.constant(3.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = scale(x)
    grad_x, grad_v = tape.gradient(y, [x, v])
    assert (float(grad_x), float(grad_v)) == (20.0, 300.0)
    assert seen == [[v]]
    grads = nnlib.implicit_gradients(scale)(3.0)
    assert [(float(g), var) for g, var in grads] == [(300.0, v)]


def test_grad_fn_without_variables_keyword_raises_when_variables_are_read():
    v = nnlib.Variable(2.0, name="the_scale")

    @nnlib.custom_gradient
    def scale(x):
        return x * v, lambda dy: dy * v

    with pytest.raises(TypeError, match="the_scale.*'variables' keyword"):
        nnlib.gradients_function(scale)(3.0)
    assert nnlib.engine.tape.ACTIVE == []


def test_non_trainable_variables_need_no_variables_keyword():
    frozen = nnlib.Variable(2.0, trainable=False)

    @nnlib.custom_gradient
    def scale(x):
        return x * frozen, lambda dy: dy * frozen

    assert float(nnlib.gradients_function(scale)(3.0)[0]) == 2.0


def test_an_integer_variable_needs_no_variables_keyword():
    step = nnlib.Variable(2, name="step")

    @nnlib.custom_gradient
    def scale(x):
        return x * nnlib.cast(step, "float32"), lambda dy: dy * 2.0

    assert float(nnlib.gradients_function(scale)(3.0)[0]) == 2.0


def test_a_grad_fn_written_with_ops_is_differentiable_again():
    @nnlib.custom_gradient
    def square(x):
        return x * x, lambda dy: 2.0 * x * dy

    d1 = nnlib.gradients_function(square)
    d2 = nnlib.gradients_function(d1)
    assert float(d1(3.0)[0]) == 6.0
    assert float(d2(3.0)[0]) == 2.0
    assert float(d2(-7.0)[0]) == 2.0


def test_a_grad_fn_built_from_constants_has_zero_second_derivative():
    @nnlib.custom_gradient
    def square(x):
        slope = nnlib.constant(2.0 * x.numpy())  # not connected to x
        return x * x, lambda dy: slope * dy

    d2 = nnlib.gradients_function(nnlib.gradients_function(square))
    with pytest.warns(UserWarning):
        assert d2(3.0)[0] is None


def test_the_body_is_not_recorded_only_the_custom_op_is():
    @nnlib.custom_gradient
    def f(x):
        return nnlib.tanh(x * 2.0) + x, lambda dy: dy

    x = nnlib.constant(1.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        f(x)
    assert tape.recorded_ops() == ["custom_gradient(f)"]


# --- stop_gradient --------------------------------------------------------------------


def test_stop_gradient_keeps_the_value_and_blocks_the_gradient():
    x = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        s = nnlib.stop_gradient(x)
        y = x * s  # the gradient sees s as a constant
    np.testing.assert_array_equal(s.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 2.0])


def test_stop_gradient_design_doctest_value():
    assert (
        float(nnlib.gradients_function(lambda x: x * nnlib.stop_gradient(x))(3.0)[0])
        == 3.0
    )


def test_stop_gradient_blocks_second_order_too():
    d2 = nnlib.gradients_function(
        nnlib.gradients_function(lambda x: x * x * nnlib.stop_gradient(x))
    )
    assert float(d2(3.0)[0]) == 6.0  # d2/dx2 (c x^2) = 2c with c = 3


def test_stop_gradient_accepts_numbers_and_arrays():
    assert float(nnlib.stop_gradient(2.5)) == 2.5
    assert nnlib.stop_gradient(np.zeros(3)).dtype == np.float64


# --- outputs that are inputs, variables or tensors already on the tape ----------------


def test_an_identity_with_a_custom_rule_gets_only_the_custom_gradient():
    @nnlib.custom_gradient
    def identity_doubling_gradient(x):
        return x, lambda dy: 2.0 * dy

    assert float(nnlib.gradients_function(identity_doubling_gradient)(3.0)[0]) == 2.0
    x = nnlib.constant(3.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = identity_doubling_gradient(x)
        z = y * y + x  # dz/dx = 2y * 2 + 1
    assert y is not x and float(y) == 3.0
    assert float(tape.gradient(z, x)) == 13.0


def test_a_returned_variable_gets_only_the_custom_gradient():
    v = nnlib.Variable(3.0, name="v")

    @nnlib.custom_gradient
    def read_and_return():
        def grad(dy, variables=None):
            assert variables == [v]
            return [], [2.0 * dy]

        _ = v * 1.0
        return v, grad

    @nnlib.custom_gradient
    def return_unread():  # returning a variable counts as reading it
        return v, lambda dy, variables=None: ([], [2.0 * dy])

    for f in (read_and_return, return_unread):
        grads = nnlib.implicit_gradients(f)()
        assert [(float(g), var) for g, var in grads] == [(2.0, v)]
        with nnlib.GradientTape() as tape:
            y = f() * 5.0
        assert float(tape.gradient(y, v)) == 10.0
        assert float(f()) == 3.0


def test_an_output_already_on_the_tape_gets_its_own_identity():
    x = nnlib.constant(1.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0

        @nnlib.custom_gradient
        def returns_y(a):
            return y, lambda dy: 5.0 * dy

        z = returns_y(x) + y  # 5 through the custom rule, 2 through y
    assert float(tape.gradient(z, x)) == 7.0


def test_an_output_returned_twice_gets_one_upstream_gradient_per_position():
    @nnlib.custom_gradient
    def twice(x):
        t = x * 2.0
        return (t, t), lambda d1, d2: d1 * 2.0 + d2 * 3.0

    x = nnlib.constant(1.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        a, b = twice(x)
        z = a + 10.0 * b
    assert float(tape.gradient(z, x)) == 32.0
    assert a is not b


def test_nested_outputs_that_include_the_input_keep_their_structure():
    @nnlib.custom_gradient
    def nested(x):
        return {"b": [x * 2.0], "a": x}, lambda da, db: 7.0 * da + 11.0 * db

    x = nnlib.constant(1.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        out = nested(x)
        z = out["a"] + 100.0 * out["b"][0]
    assert float(tape.gradient(z, x)) == 1107.0
    assert list(out) == ["b", "a"] and out["a"] is not x
    assert (float(out["a"]), float(out["b"][0])) == (1.0, 2.0)


def test_a_custom_identity_with_the_true_rule_matches_finite_differences():
    @nnlib.custom_gradient
    def identity(x):
        return x, lambda dy: dy

    @nnlib.custom_gradient
    def pair(x):
        return (x, x * 2.0), lambda d1, d2: d1 + 2.0 * d2

    x = np.array([0.5, -1.25, 2.0])
    check_gradients(lambda t: identity(t) * t, x)
    check_gradients(lambda t: pair(t)[0] * pair(t)[1], x)
