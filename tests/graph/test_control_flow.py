"""``nnlib.cond`` and ``nnlib.while_loop``: eager, traced, differentiable."""

import numpy as np
import pytest

import nnlib
from nnlib.graph import TracingError

F32 = np.float32


def _piecewise(x):
    return nnlib.cond(
        nnlib.reduce_sum(x) > 0, lambda: x * x * 3.0, lambda: nnlib.sin(x)
    )


@pytest.mark.parametrize("values", [[1.0, 2.0], [-1.0, -2.0]])
def test_cond_picks_a_branch_eagerly_and_when_replayed(values):
    x = np.array(values, F32)
    expected = x * x * 3.0 if x.sum() > 0 else np.sin(x)
    eager = _piecewise(nnlib.constant(x))
    np.testing.assert_allclose(eager.numpy(), expected, rtol=1e-6)
    traced = nnlib.function(_piecewise)
    traced(np.array([0.5, 0.5], F32))  # traced with the true branch taken
    np.testing.assert_allclose(traced(x).numpy(), expected, rtol=1e-6)
    assert traced.trace_count == 1


def test_cond_gradients_traced_equal_eager_and_finite_differences():
    def gradient(x):
        x = nnlib.convert_to_tensor(x)
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            y = nnlib.reduce_sum(_piecewise(x))
        return tape.gradient(y, x)

    traced = nnlib.function(gradient)
    traced(np.array([0.3, 0.4]))
    for values in ([0.5, 1.5], [-0.5, -1.5]):
        x = np.array(values)
        expected = 6.0 * x if x.sum() > 0 else np.cos(x)
        np.testing.assert_allclose(gradient(x).numpy(), expected, rtol=1e-12)
        np.testing.assert_allclose(traced(x).numpy(), expected, rtol=1e-12)
        nnlib.test_util.check_gradients(_piecewise, x, order=2)


def test_a_python_predicate_stays_static_in_a_trace():
    traced = nnlib.function(
        lambda x, flag: nnlib.cond(flag, lambda: x + 1.0, lambda: x)
    )
    assert float(traced(np.float32(1.0), True)) == 2.0
    assert float(traced(np.float32(1.0), False)) == 1.0
    assert "where" not in str(traced.get_concrete_function(np.float32(1.0), True))


def test_traced_cond_refuses_writes_and_mismatched_branches():
    v = nnlib.Variable(0.0, name="cond_written")

    @nnlib.function
    def writes(x):
        return nnlib.cond(x > 0, lambda: v.assign_add(1.0) * 1.0, lambda: x)

    with pytest.raises(TracingError, match="writes a variable"):
        writes(np.float32(1.0))

    @nnlib.function
    def shapes(x):
        return nnlib.cond(nnlib.reduce_sum(x) > 0, lambda: x, lambda: x[:1])

    with pytest.raises(ValueError, match=r"shapes \(2,\) and \(1,\)"):
        shapes(np.ones(2, F32))
    with pytest.raises(ValueError, match="must be a scalar"):
        nnlib.cond(nnlib.constant([True, False]), lambda: 1, lambda: 2)


def _countdown(x):
    # Halves x until its sum is at most 1: how many halvings depends on x.
    return nnlib.while_loop(
        lambda i, y: nnlib.reduce_sum(y) > 1.0,
        lambda i, y: (i + 1, y * 0.5),
        (0, x),
        maximum_iterations=10,
    )


@pytest.mark.parametrize("scale", [3.0, 40.0, 0.5])
def test_while_loop_traced_unrolls_and_stops_where_eager_stops(scale):
    x = np.full(2, scale, F32)
    steps, y = _countdown(nnlib.constant(x))
    traced = nnlib.function(_countdown)
    traced(np.full(2, 7.0, F32))
    t_steps, t_y = traced(x)
    assert int(t_steps) == steps and traced.trace_count == 1
    np.testing.assert_allclose(t_y.numpy(), y.numpy(), rtol=1e-6)


def test_while_loop_gradient_and_its_errors():
    def loss(x):
        _, y = nnlib.while_loop(
            lambda i, y: i < 3,
            lambda i, y: (i + 1, y * y),
            (0, x),
            maximum_iterations=5,
        )
        return nnlib.reduce_sum(y)

    nnlib.test_util.check_gradients(loss, np.array([0.9, 1.1]))  # x ** 8
    with pytest.raises(TracingError, match="give maximum_iterations"):
        nnlib.function(
            lambda x: nnlib.while_loop(
                lambda y: nnlib.reduce_sum(y) > 1, lambda y: (y / 2,), (x,)
            )
        )(np.ones(2, F32) * 4)
    with pytest.raises(ValueError, match="maximum_iterations must be"):
        nnlib.while_loop(
            lambda i: i < 1, lambda i: (i + 1,), (0,), maximum_iterations=-1
        )
