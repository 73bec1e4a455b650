"""The gradient functions: gradients_function, value_and_gradients_function and
the implicit (variable) versions."""

import functools

import numpy as np
import pytest

import nnlib


def _f(x, y):
    return x**2 + y**2


def _floats(tensors):
    return [float(t) for t in tensors]


# --- gradients_function ---------------------------------------------------------------


def test_gradients_function_design_example():
    grads = nnlib.gradients_function(_f)(2.0, 3.0)
    assert isinstance(grads, list) and all(isinstance(g, nnlib.Tensor) for g in grads)
    assert _floats(grads) == [4.0, 6.0]


def test_value_and_gradients_function_design_example():
    value, grads = nnlib.value_and_gradients_function(_f)(2.0, 3.0)
    assert float(value) == 13.0 and _floats(grads) == [4.0, 6.0]


def test_python_numbers_become_float32_and_float64_arrays_stay_float64():
    assert nnlib.gradients_function(_f)(2.0, 3)[1].dtype == np.float32
    grads = nnlib.gradients_function(_f)(np.array([1.0, 2.0]), np.array([0.5, 0.5]))
    assert grads[0].dtype == np.float64
    np.testing.assert_array_equal(grads[0].numpy(), [2.0, 4.0])


@pytest.mark.parametrize(
    "params, expected",
    [
        ([0], [12.0]),
        ([1], [9.0]),
        ([-1], [9.0]),
        ([1, 0], [9.0, 12.0]),
        (["y"], [9.0]),
        (["y", "x"], [9.0, 12.0]),
    ],
)
def test_params_select_arguments_by_position_or_name(params, expected):
    def f(x, y):
        return x * x * y  # d/dx = 2xy = 12, d/dy = x^2 = 9 at (3, 2)

    assert _floats(nnlib.gradients_function(f, params=params)(3.0, 2.0)) == expected


def test_params_by_name_find_keyword_arguments():
    def f(x, y):
        return x * x * y

    grads = nnlib.gradients_function(f, params=["y"])(3.0, y=2.0)
    assert _floats(grads) == [9.0]


def test_params_mixing_positions_and_names_raise_value_error():
    with pytest.raises(ValueError, match="positions.*names"):
        nnlib.gradients_function(_f, params=[0, "y"])


def test_params_naming_an_unknown_or_missing_argument_raise_value_error():
    with pytest.raises(ValueError, match="'z'"):
        nnlib.gradients_function(_f, params=["z"])(1.0, 2.0)
    with pytest.raises(ValueError, match="out of range"):
        nnlib.gradients_function(_f, params=[2])(1.0, 2.0)


def test_gradients_function_as_decorators():
    @nnlib.gradients_function
    def grad_cube(x):
        return x**3

    @functools.partial(nnlib.value_and_gradients_function, params=[1])
    def value_and_grad_y(x, y):
        return x * y * y

    assert _floats(grad_cube(2.0)) == [12.0]
    assert grad_cube.__name__ == "grad_cube"
    value, grads = value_and_grad_y(2.0, 3.0)
    assert float(value) == 18.0 and _floats(grads) == [12.0]


def test_a_function_returning_none_raises_a_clear_error():
    def forgot_return(x):
        x * x

    with pytest.raises(ValueError, match="forgot_return.*returned None"):
        nnlib.gradients_function(forgot_return)(1.0)


def test_the_same_tensor_passed_twice_gets_a_gradient_per_position():
    t = nnlib.constant(3.0)
    grads = nnlib.gradients_function(lambda x, y: x * y * y)(t, t)
    assert _floats(grads) == [9.0, 18.0]  # y^2 and 2xy, not their sum


def test_dy_gives_a_vector_jacobian_product():
    x = nnlib.constant([1.0, 2.0, 3.0])
    grads = nnlib.gradients_function(lambda x: x * x)(
        x, dy=nnlib.constant([3.0, 5.0, -1.0])
    )
    np.testing.assert_array_equal(grads[0].numpy(), [6.0, 20.0, -6.0])
    value, grads = nnlib.value_and_gradients_function(lambda x: x * x)(
        x, dy=nnlib.constant([1.0, 0.0, 2.0])
    )
    np.testing.assert_array_equal(value.numpy(), [1.0, 4.0, 9.0])
    np.testing.assert_array_equal(grads[0].numpy(), [2.0, 0.0, 12.0])


def test_integer_tensor_arguments_raise_type_error():
    with pytest.raises(TypeError, match="floating-point"):
        nnlib.gradients_function(_f)(nnlib.constant(2), 3.0)


def test_gradients_function_differentiates_arguments_only():
    v = nnlib.Variable(5.0, name="v")
    grads = nnlib.gradients_function(lambda x: x * v)(2.0)
    assert _floats(grads) == [5.0]


# --- higher order ---------------------------------------------------------------------


def test_higher_order_gradients_of_a_cube():
    def cube(x):
        return x**3

    d1 = nnlib.gradients_function(cube)
    d2 = nnlib.gradients_function(d1)
    d3 = nnlib.gradients_function(d2)
    assert float(d1(2.0)[0]) == 12.0  # 3x^2
    assert float(d2(2.0)[0]) == 12.0  # 6x
    assert float(d2(-1.5)[0]) == -9.0
    assert float(d3(2.0)[0]) == 6.0


def test_second_derivative_of_tanh():
    x = np.array([-1.2, 0.0, 0.5, 2.0])
    d2 = nnlib.gradients_function(nnlib.gradients_function(nnlib.tanh))(x)[0]
    t = np.tanh(x)
    np.testing.assert_allclose(d2.numpy(), -2 * t * (1 - t**2), rtol=1e-12, atol=1e-15)


def test_mixed_second_derivative():
    def f(x, y):
        return x * x * y * y * y

    d_dx = nnlib.gradients_function(f, params=[0])  # 2 x y^3

    def d_dx_value(x, y):
        return d_dx(x, y)[0]

    d2 = nnlib.gradients_function(d_dx_value)(2.0, 3.0)  # (2 y^3, 6 x y^2)
    assert _floats(d2) == [54.0, 108.0]


def test_gradients_function_inside_implicit_gradients_reaches_the_variable():
    v = nnlib.Variable(3.0, name="v")
    grads = nnlib.implicit_gradients(
        lambda: nnlib.gradients_function(lambda x: x**3)(v)[0]
    )()  # d/dv 3v^2
    assert len(grads) == 1 and grads[0][1] is v and float(grads[0][0]) == 18.0


# --- implicit gradients ---------------------------------------------------------------


def test_implicit_gradients_design_example():
    vx = nnlib.Variable(1.0, name="vx")
    vy = nnlib.Variable(1.0, name="vy")

    def h(x):
        return 2 * vx * x

    grads = nnlib.implicit_gradients(h)(2.0)
    assert len(grads) == 1
    grad, var = grads[0]
    assert var is vx and float(grad) == 4.0
    assert all(v is not vy for _, v in grads)


def test_implicit_gradients_come_in_creation_order_on_every_call():
    a = nnlib.Variable(1.0, name="a")
    b = nnlib.Variable(2.0, name="b")
    c = nnlib.Variable(3.0, name="c")

    def f():
        return c * 5.0 + b * b + a * 7.0  # read in reverse creation order

    step = nnlib.implicit_gradients(f)
    for _ in range(3):
        grads = step()
        assert [v.name for _, v in grads] == ["a", "b", "c"]
        assert _floats(g for g, _ in grads) == [7.0, 4.0, 5.0]


def test_implicit_gradients_exclude_non_trainable_and_integer_variables():
    w = nnlib.Variable(2.0, name="w")
    frozen = nnlib.Variable(10.0, name="frozen", trainable=False)
    step_count = nnlib.Variable(3, name="step")
    grads = nnlib.implicit_gradients(
        lambda: w * frozen * nnlib.cast(step_count, "float32")
    )()
    assert [(float(g), v.name) for g, v in grads] == [(30.0, "w")]


def test_a_function_reading_no_trainable_variable_raises_value_error():
    frozen = nnlib.Variable(1.0, trainable=False)
    with pytest.raises(ValueError, match="no trainable variable"):
        nnlib.implicit_gradients(lambda x: x * frozen)(2.0)
    with pytest.raises(ValueError, match="no trainable variable"):
        nnlib.implicit_value_and_gradients(lambda: nnlib.constant(1.0) * 2.0)()


def test_implicit_function_returning_none_raises():
    v = nnlib.Variable(1.0)

    def nothing():
        v * 2.0

    with pytest.raises(ValueError, match="returned None"):
        nnlib.implicit_gradients(nothing)()


def test_implicit_value_and_gradients_returns_the_value():
    w = nnlib.Variable(3.0, name="w")
    loss, grads_and_vars = nnlib.implicit_value_and_gradients(lambda x: w * w * x)(2.0)
    assert float(loss) == 18.0
    assert [(float(g), v) for g, v in grads_and_vars] == [(12.0, w)]


def test_implicit_gradients_of_a_variable_read_only_through_stop_gradient_is_none():
    w = nnlib.Variable(3.0, name="w")
    u = nnlib.Variable(1.0, name="u")
    grads = nnlib.implicit_gradients(lambda: u * nnlib.stop_gradient(w) + u)()
    assert [v.name for _, v in grads] == ["w", "u"]
    assert grads[0][0] is None and float(grads[1][0]) == 4.0


def test_implicit_gradients_with_dy():
    w = nnlib.Variable([1.0, 2.0], name="w")
    grads = nnlib.implicit_gradients(lambda: w * w)(dy=nnlib.constant([1.0, -1.0]))
    np.testing.assert_array_equal(grads[0][0].numpy(), [2.0, -4.0])


def test_applying_gradients_by_hand_minimizes_a_quadratic():
    w = nnlib.Variable(0.0, name="w")
    step = nnlib.implicit_value_and_gradients(lambda: (w - 3.0) ** 2)
    loss, grads_and_vars = step()
    assert float(loss) == 9.0
    for grad, var in grads_and_vars:
        var.assign_sub(0.1 * grad)
    assert float(w) == pytest.approx(0.6)  # 0 - 0.1 * (-6)
    for _ in range(100):
        loss, grads_and_vars = step()
        for grad, var in grads_and_vars:
            var.assign_sub(0.1 * grad)
    assert float(w) == pytest.approx(3.0, abs=1e-5)


def test_no_tape_is_left_active_after_the_gradient_functions():
    v = nnlib.Variable(1.0)
    nnlib.implicit_value_and_gradients(lambda: v * v)()
    nnlib.gradients_function(_f)(1.0, 2.0)
    with pytest.raises(ValueError):
        nnlib.gradients_function(lambda x: None)(1.0)
    assert nnlib.engine.tape.ACTIVE == []
