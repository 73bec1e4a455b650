"""GradientTape: what it records, gradient() and its options, jacobian, nesting."""

import contextlib
import threading
import warnings
from collections import namedtuple

import numpy as np
import pytest

import nnlib


@contextlib.contextmanager
def _no_warnings():
    """A context in which any warning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_gradient_of_a_square_is_known():
    x = nnlib.constant(3.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    grad = tape.gradient(y, x)
    assert isinstance(grad, nnlib.Tensor)
    assert (float(grad), grad.dtype) == (6.0, np.float32)


def test_gradient_of_a_composite_function_is_known():
    x = nnlib.constant([0.5, -1.0], dtype="float64")
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.exp(x) * x**3 + nnlib.log(x * x) - nnlib.sqrt(x * x + 1.0)
    xv = np.array([0.5, -1.0])
    expected = np.exp(xv) * (xv**3 + 3 * xv**2) + 2 / xv - xv / np.sqrt(xv**2 + 1)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected, rtol=1e-12)


def test_only_ops_reading_watched_tensors_are_recorded():
    x, c = nnlib.constant(2.0), nnlib.constant(5.0)
    with nnlib.GradientTape() as tape:
        unrelated = c * c + 1.0
        tape.watch(x)
        y = x * c
    assert float(unrelated) == 26.0
    assert len(tape._entries) == 1
    assert float(tape.gradient(y, x)) == 5.0


def test_ops_after_the_tape_exits_are_not_recorded():
    x = nnlib.constant(2.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    z = y * x  # not recorded
    with pytest.warns(UserWarning, match="target was not computed from watched"):
        assert tape.gradient(z, x) is None


def test_trainable_variables_are_watched_when_read():
    v = nnlib.Variable(3.0, name="v")
    with nnlib.GradientTape() as tape:
        assert tape.watched_variables() == []
        y = v * v
        assert tape.watched_variables() == [v]
    assert float(tape.gradient(y, v)) == 6.0


def test_watch_accessed_variables_false_watches_only_what_is_asked():
    v, w = nnlib.Variable(3.0, name="v"), nnlib.Variable(4.0, name="w")
    with nnlib.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(w)
        y = v * w
    assert tape.watched_variables() == [w]
    with pytest.warns(UserWarning):
        assert tape.gradient(y, v) is None
    with nnlib.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(w)
        y = v * w
    assert float(tape.gradient(y, w)) == 3.0


def test_non_trainable_variables_need_an_explicit_watch():
    v = nnlib.Variable(3.0, trainable=False)
    with nnlib.GradientTape(persistent=True) as tape:
        y = v * v
        tape.watch(v)
        z = v * v
    with pytest.warns(UserWarning):
        assert tape.gradient(y, v) is None
    assert float(tape.gradient(z, v)) == 6.0


def test_integer_variables_are_not_watched():
    step, w = nnlib.Variable(2, name="step"), nnlib.Variable(1.5, name="w")
    assert step.trainable
    with nnlib.GradientTape() as tape:
        y = w * nnlib.cast(step + 1, "float32")
    assert tape.watched_variables() == [w]
    assert float(tape.gradient(y, w)) == 3.0


def test_watch_accepts_structures_and_rejects_numbers():
    a, b = nnlib.constant(1.0), nnlib.constant(2.0)
    with nnlib.GradientTape() as tape:
        tape.watch({"a": a, "rest": [b]})
        y = a * b
    assert [float(g) for g in tape.gradient(y, [a, b])] == [2.0, 1.0]
    with nnlib.GradientTape() as tape, pytest.raises(TypeError, match="constant"):
        tape.watch(3.0)


def test_a_recording_tape_cannot_be_entered_again():
    tape = nnlib.GradientTape()
    with tape, pytest.raises(RuntimeError, match="already recording"), tape:
        pass
    assert nnlib.engine.tape.ACTIVE == []


def test_ops_in_another_thread_are_not_recorded():
    x = nnlib.constant(2.0)
    results = []
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        worker = threading.Thread(target=lambda: results.append(x * x))
        worker.start()
        worker.join()
    assert float(results[0]) == 4.0
    assert tape._entries == []


# --- sources, targets and output gradients --------------------------------------------


def _tape_with_three_sources():
    a, b, v = nnlib.constant(1.0), nnlib.constant(2.0), nnlib.Variable(3.0, name="v")
    with nnlib.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        y = a * b * v  # gradients: a -> 6, b -> 3, v -> 2
    return tape, y, a, b, v


def test_sources_come_back_in_the_same_structure():
    tape, y, a, b, v = _tape_with_three_sources()
    assert float(tape.gradient(y, a)) == 6.0
    assert float(tape.gradient(y, v)) == 2.0
    as_list = tape.gradient(y, [a, b, v])
    assert isinstance(as_list, list) and [float(g) for g in as_list] == [6.0, 3.0, 2.0]
    as_tuple = tape.gradient(y, (v, a))
    assert isinstance(as_tuple, tuple) and [float(g) for g in as_tuple] == [2.0, 6.0]
    as_dict = tape.gradient(y, {"z_v": v, "a": a, "nested": [b, (a,)]})
    assert list(as_dict) == ["z_v", "a", "nested"]
    assert float(as_dict["z_v"]) == 2.0 and float(as_dict["a"]) == 6.0
    assert float(as_dict["nested"][0]) == 3.0 and float(as_dict["nested"][1][0]) == 6.0
    Pair = namedtuple("Pair", "first second")
    pair = tape.gradient(y, Pair(b, a))
    assert isinstance(pair, Pair) and float(pair.second) == 6.0


def test_non_scalar_target_gives_the_gradient_of_its_sum():
    x = nnlib.constant([1.0, 2.0, 3.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])


def test_output_gradients_weight_the_target():
    x = nnlib.constant([1.0, 2.0, 3.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    grad = tape.gradient(y, x, output_gradients=nnlib.constant([1.0, -2.0, 0.5]))
    np.testing.assert_array_equal(grad.numpy(), [2.0, -8.0, 3.0])


def test_output_gradients_of_the_wrong_shape_raise():
    x = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        tape.gradient(y, x, output_gradients=nnlib.constant([1.0, 2.0, 3.0]))


def test_gradient_has_the_sources_dtype_whatever_the_output_gradients_dtype():
    x = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.tanh(x)
    assert tape.gradient(y, x, output_gradients=np.ones(2)).dtype == np.float32


def test_several_targets_add_their_gradients():
    x = nnlib.constant(2.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y, z = x * x, x * 3.0
    assert float(tape.gradient([y, z], x)) == 7.0


def test_gradient_with_respect_to_an_intermediate_tensor():
    x = nnlib.constant(2.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        h = x * 3.0
        y = h * h
    grad_h, grad_x = tape.gradient(y, [h, x])
    assert (float(grad_h), float(grad_x)) == (12.0, 36.0)


def test_gradient_of_a_watched_tensor_with_respect_to_itself_is_one():
    x = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
    np.testing.assert_array_equal(tape.gradient(x, x).numpy(), [1.0, 1.0])


def test_gradient_keeps_float64():
    x = nnlib.constant([1.0, 2.0], dtype="float64")
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.tanh(x) * 2.5
    assert tape.gradient(y, x).dtype == np.float64


# --- unconnected sources --------------------------------------------------------------


def test_an_unrelated_source_gets_none_and_no_warning_when_another_is_connected():
    x, unrelated = nnlib.constant(2.0), nnlib.constant(5.0)
    with nnlib.GradientTape() as tape:
        tape.watch([x, unrelated])
        y = x * x
    with _no_warnings():
        grad_x, grad_unrelated = tape.gradient(y, [x, unrelated])
    assert float(grad_x) == 4.0 and grad_unrelated is None


def _never_read():
    v = nnlib.Variable(1.0, name="lonely")
    with nnlib.GradientTape() as tape:
        y = nnlib.Variable(2.0) * 3.0
    return tape, y, v


def _stop_gradient():
    v = nnlib.Variable(1.0, name="frozen")
    with nnlib.GradientTape() as tape:
        y = nnlib.stop_gradient(v) * 3.0
    return tape, y, v


def _comparison():
    v = nnlib.Variable(1.0, name="compared")
    with nnlib.GradientTape() as tape:
        y = nnlib.where(v > 0.0, 1.0, 2.0)
    return tape, y, v


def _not_watched():
    x = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape() as tape:
        y = x * 3.0
    return tape, y, x


@pytest.mark.parametrize(
    "setup, reason",
    [
        (_never_read, r"'lonely' was never read"),
        (
            _stop_gradient,
            r"'frozen' was read only through the non-differentiable op 'stop_gradient'",
        ),
        (
            _comparison,
            r"'compared' was read only through the non-differentiable op 'greater'",
        ),
        (_not_watched, r"shape \(2,\) was not watched.*tape.watch"),
    ],
    ids=["never-read", "stop-gradient", "comparison", "not-watched"],
)
def test_all_none_gradients_warn_and_explain_why(setup, reason):
    tape, y, source = setup()
    with pytest.warns(UserWarning, match=reason):
        assert tape.gradient(y, [source]) == [None]


def test_explanation_does_not_blame_a_comparison_for_an_unrelated_target():
    x = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        mask = x > 1.0  # x is also read by a non-differentiable op...
        nnlib.where(mask, x * 2.0, 0.0)  # ...and differentiably
    z = x * 3.0  # computed after the tape stopped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tape.gradient(z, x)
    message = str(caught[0].message)
    assert "non-differentiable" not in message
    assert "not computed from watched" in message


def test_unconnected_gradients_zero_gives_zeros_of_the_sources_shape():
    x, v = nnlib.constant([1.0, 2.0]), nnlib.Variable(np.ones((2, 3)), name="v")
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    with _no_warnings():
        grad_x, grad_v = tape.gradient(y, [x, v], unconnected_gradients="zero")
    np.testing.assert_array_equal(grad_x.numpy(), [2.0, 2.0])
    assert grad_v.shape == (2, 3) and grad_v.dtype == np.float64
    assert not np.any(grad_v.numpy())


def test_unknown_unconnected_gradients_value_raises():
    x = nnlib.constant(1.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, x, unconnected_gradients="zeros")


@pytest.mark.parametrize(
    "source",
    [nnlib.constant([1, 2]), nnlib.constant([True]), nnlib.Variable(3, name="count")],
    ids=["int", "bool", "int-variable"],
)
def test_gradient_with_respect_to_an_integer_or_boolean_source_raises(source):
    x = nnlib.constant(1.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
    with pytest.raises(TypeError, match="floating-point"):
        tape.gradient(y, [x, source])


def test_gradient_of_a_boolean_target_raises():
    x = nnlib.constant(1.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x > 0.0
    with pytest.raises(TypeError):
        tape.gradient(y, x)


# --- persistence, stop_recording, watched_variables -----------------------------------


def test_a_second_gradient_call_on_a_non_persistent_tape_raises():
    x = nnlib.constant(3.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.gradient(y, x)


def test_a_persistent_tape_allows_many_gradient_calls():
    x = nnlib.constant(3.0)
    with nnlib.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * x
    assert float(tape.gradient(y, x)) == 6.0
    assert float(tape.gradient(z, x)) == 27.0
    assert float(tape.gradient(y, x)) == 6.0
    assert float(tape.gradient(z, y)) == 3.0


def test_watched_variables_come_in_creation_order():
    first, second, third = (nnlib.Variable(float(i), name=f"v{i}") for i in range(3))
    with nnlib.GradientTape() as tape:
        third * second + first * third
    assert tape.watched_variables() == [first, second, third]


def test_stop_recording_pauses_the_tape():
    x = nnlib.constant(2.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        with tape.stop_recording():
            z = y * x  # a constant as far as the tape knows
        w = z * 3.0 + y
    assert float(tape.gradient(w, x)) == 4.0  # only d(y)/dx


def test_stop_recording_restores_recording_after_an_exception():
    x = nnlib.constant(2.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(KeyError), tape.stop_recording():
            raise KeyError("boom")
        y = x * x
    assert float(tape.gradient(y, x)) == 4.0


# --- accumulation and broadcasting ----------------------------------------------------


def test_gradients_add_up_where_a_value_is_used_several_times():
    x = nnlib.constant(2.0)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        h = x * 3.0
        y = h * h + h + x * x  # 9x^2 + 3x + x^2
    assert float(tape.gradient(y, x)) == 43.0  # 20x + 3


def test_broadcast_gradients_are_reduced_to_the_inputs_shape():
    x = nnlib.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
    bias = nnlib.Variable([1.0, 2.0, 3.0], name="bias")
    scale = nnlib.Variable([[2.0], [1.0], [0.5], [1.0]], name="scale")
    dy = np.arange(12, dtype=np.float32).reshape(4, 3) - 5.0
    with nnlib.GradientTape() as tape:
        y = (x + bias) * scale
    grad_bias, grad_scale = tape.gradient(y, [bias, scale], output_gradients=dy)
    assert grad_bias.shape == (3,) and grad_scale.shape == (4, 1)
    np.testing.assert_allclose(grad_bias.numpy(), (dy * scale.numpy()).sum(axis=0))
    np.testing.assert_allclose(
        grad_scale.numpy(), (dy * (x.numpy() + bias.numpy())).sum(axis=1, keepdims=True)
    )


def test_scalar_broadcast_against_a_matrix_sums_to_a_scalar():
    s = nnlib.Variable(2.0, name="s")
    with nnlib.GradientTape() as tape:
        y = s * nnlib.constant(np.ones((3, 4), np.float32))
    grad = tape.gradient(y, s)
    assert grad.shape == () and float(grad) == 12.0


# --- jacobian and higher order --------------------------------------------------------


def test_jacobian_has_known_values_and_shape():
    x = nnlib.constant([1.0, 2.0, 3.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x[:2] * x[1:]
    np.testing.assert_array_equal(
        tape.jacobian(y, x).numpy(), [[2.0, 1.0, 0.0], [0.0, 3.0, 2.0]]
    )


def test_jacobian_of_a_matrix_function_of_a_variable():
    v = nnlib.Variable([[1.0, 2.0], [3.0, 4.0]], name="v")
    with nnlib.GradientTape() as tape:
        y = nnlib.reduce_sum(v * v, axis=0)
    jac = tape.jacobian(y, v).numpy()
    assert jac.shape == (2, 2, 2)
    expected = np.zeros((2, 2, 2), np.float32)
    for j in range(2):
        expected[j, :, j] = 2 * v.numpy()[:, j]
    np.testing.assert_array_equal(jac, expected)


def test_jacobian_after_gradient_needs_a_persistent_tape():
    x = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.jacobian(y, x)


def test_nested_tapes_give_second_derivatives():
    x = nnlib.constant(2.0)
    with nnlib.GradientTape() as outer:
        outer.watch(x)
        with nnlib.GradientTape() as inner:
            inner.watch(x)
            y = x**3
        dy_dx = inner.gradient(y, x)
    assert float(dy_dx) == 12.0  # 3x^2
    assert float(outer.gradient(dy_dx, x)) == 12.0  # 6x


def test_nested_tapes_on_a_variable_through_matmul_and_tanh():
    w = nnlib.Variable([[0.5], [-0.3]], name="w", dtype="float64")
    x = nnlib.constant([[1.0, 2.0]], dtype="float64")
    with nnlib.GradientTape() as outer:
        with nnlib.GradientTape() as inner:
            y = nnlib.reduce_sum(nnlib.tanh(x @ w))
        g = inner.gradient(y, w)  # x^T (1 - t^2)
        penalty = nnlib.reduce_sum(g * g)
    t = np.tanh(x.numpy() @ w.numpy())
    # d/dw sum((x_i (1 - t^2))^2) = sum_i 2 x_i^2 (1 - t^2) (-2 t) x
    s = 1 - t**2
    expected = (2 * (x.numpy() ** 2).sum() * s * (-2 * t) * s) * x.numpy().T
    np.testing.assert_allclose(outer.gradient(penalty, w).numpy(), expected, rtol=1e-12)


def test_output_gradients_stay_connected_for_outer_tapes():
    x = nnlib.constant([1.0, 2.0])
    dy = nnlib.constant([3.0, 5.0])
    with nnlib.GradientTape() as outer:
        outer.watch(dy)
        with nnlib.GradientTape() as inner:
            inner.watch(x)
            y = x * x
        g = inner.gradient(y, x, output_gradients=dy)  # 2 x dy
        total = nnlib.reduce_sum(g)
    np.testing.assert_allclose(outer.gradient(total, dy).numpy(), [2.0, 4.0])
