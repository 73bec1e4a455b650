"""Variable: a named, mutable tensor; assignment in place, shape fixed, not recorded."""

import numpy as np
import pytest

import nnlib


def test_variable_holds_its_value_name_and_trainable_flag():
    v = nnlib.Variable([1.0, 2.0], name="w")
    assert isinstance(v, nnlib.Tensor)
    assert (v.name, v.trainable, v.shape, v.dtype) == ("w", True, (2,), np.float32)
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])
    assert nnlib.Variable(1.0, trainable=False).trainable is False


def test_variable_without_a_name_gets_a_default():
    assert isinstance(nnlib.Variable(0.0).name, str) and nnlib.Variable(0.0).name


def test_variable_from_a_callable_and_with_a_dtype():
    v = nnlib.Variable(lambda: np.ones((2, 3)), name="init")
    assert v.shape == (2, 3) and v.dtype == np.float64
    assert nnlib.Variable(1, dtype="float32").dtype == np.float32
    assert nnlib.Variable(nnlib.constant([1.0, 2.0])).shape == (2,)


def test_variable_copies_its_initial_value():
    array = np.array([1.0, 2.0])
    v = nnlib.Variable(array)
    v.assign([5.0, 6.0])
    np.testing.assert_array_equal(array, [1.0, 2.0])


def test_variable_is_used_in_ops_like_a_tensor():
    v = nnlib.Variable([[1.0, 2.0], [3.0, 4.0]], name="m")
    np.testing.assert_array_equal((v + 1.0).numpy(), [[2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_array_equal((v @ v).numpy(), [[7.0, 10.0], [15.0, 22.0]])
    np.testing.assert_array_equal((2.0 * v).numpy(), [[2.0, 4.0], [6.0, 8.0]])
    np.testing.assert_allclose(
        nnlib.tanh(v).numpy(), np.tanh([[1.0, 2.0], [3.0, 4.0]]), rtol=1e-6
    )
    np.testing.assert_array_equal(np.asarray(v), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(v[1].numpy(), [3.0, 4.0])
    assert float(nnlib.reduce_sum(v)) == 10.0


def test_assign_assign_add_assign_sub_work_in_place_and_return_the_variable():
    v = nnlib.Variable([1.0, 2.0], name="v")
    assert v.assign([3.0, 4.0]) is v
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])
    assert v.assign_add(nnlib.constant([1.0, 1.0])) is v
    np.testing.assert_array_equal(v.numpy(), [4.0, 5.0])
    assert v.assign_sub(np.array([0.5, 2.0], np.float32)) is v
    np.testing.assert_array_equal(v.numpy(), [3.5, 3.0])


def test_assign_keeps_the_variables_dtype():
    v = nnlib.Variable([1.0, 2.0])
    v.assign(np.array([0.1, 0.2], np.float64))
    assert v.dtype == np.float32
    v.assign_add(np.array([1.0, 1.0]))
    assert v.dtype == np.float32
    np.testing.assert_allclose(v.numpy(), [1.1, 1.2], rtol=1e-6)


def test_assigning_a_scalar_fills_the_variable():
    v = nnlib.Variable(np.zeros((2, 2), np.float32))
    v.assign(3.0)
    np.testing.assert_array_equal(v.numpy(), np.full((2, 2), 3.0))
    v.assign_sub(1.0)
    np.testing.assert_array_equal(v.numpy(), np.full((2, 2), 2.0))


def test_assign_handles_values_that_overlap_the_variable():
    v = nnlib.Variable([1.0, 2.0, 3.0])
    v.assign(v[::-1])
    np.testing.assert_array_equal(v.numpy(), [3.0, 2.0, 1.0])
    m = nnlib.Variable([[1.0, 2.0], [3.0, 4.0]])
    m.assign_add(nnlib.transpose(m))
    np.testing.assert_array_equal(m.numpy(), [[2.0, 5.0], [5.0, 8.0]])


@pytest.mark.parametrize("method", ["assign", "assign_add", "assign_sub"])
@pytest.mark.parametrize("value_shape", [(3, 2), (3,), (1, 2, 3)])
def test_assigning_another_shape_names_the_variable_and_both_shapes(
    method, value_shape
):
    v = nnlib.Variable(np.zeros((2, 3), np.float32), name="dense/kernel")
    with pytest.raises(ValueError) as info:
        getattr(v, method)(np.ones(value_shape, np.float32))
    message = str(info.value)
    assert "dense/kernel" in message
    assert "(2, 3)" in message and str(value_shape) in message
    np.testing.assert_array_equal(v.numpy(), np.zeros((2, 3)))  # unchanged


def test_numpy_returns_a_snapshot():
    v = nnlib.Variable([1.0, 2.0])
    snapshot = v.numpy()
    v.assign([9.0, 9.0])
    np.testing.assert_array_equal(snapshot, [1.0, 2.0])


def test_trainable_can_be_switched():
    v = nnlib.Variable(1.0)
    v.trainable = False
    with nnlib.GradientTape() as tape:
        y = v * 2.0
    assert tape.watched_variables() == []
    v.trainable = True
    with nnlib.GradientTape() as tape:
        y = v * 2.0
    assert tape.watched_variables() == [v]
    assert float(tape.gradient(y, v)) == 2.0


def test_assignment_is_not_recorded_by_a_tape():
    v = nnlib.Variable(1.0, name="v")
    with nnlib.GradientTape() as tape:
        v.assign_add(1.0)
        v.assign(3.0)
        v.assign_sub(0.5)
    assert tape._entries == []
    assert tape.watched_variables() == []
    assert float(v) == 2.5


def test_values_derived_by_arithmetic_do_not_follow_later_assignments():
    v = nnlib.Variable([1.0, 2.0])
    derived = v * 1.0
    v.assign([5.0, 5.0])
    np.testing.assert_array_equal(derived.numpy(), [1.0, 2.0])


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(
            nnlib.stop_gradient,
            id="stop_gradient",
        ),
        pytest.param(
            lambda v: nnlib.reshape(v, (4,)),
            id="reshape",
        ),
        pytest.param(
            nnlib.transpose,
            id="transpose",
        ),
        pytest.param(
            lambda v: v[0],
            id="row",
        ),
        pytest.param(
            lambda v: v[:, 1],
            id="column",
        ),
        pytest.param(
            lambda v: nnlib.cast(v, "float32"),
            id="cast-same-dtype",
        ),
        pytest.param(lambda v: nnlib.cast(v, "float64"), id="cast-other-dtype"),
        pytest.param(lambda v: v + 0.0, id="add"),
    ],
)
def test_tensors_read_from_a_variable_do_not_change_when_it_is_assigned(read):
    v = nnlib.Variable([[1.0, 2.0], [3.0, 4.0]])
    before = read(v)
    expected = before.numpy().copy()
    v.assign([[10.0, 20.0], [30.0, 40.0]])
    np.testing.assert_array_equal(before.numpy(), expected)


def test_repr_shows_name_shape_and_value():
    text = repr(nnlib.Variable([1.5, 2.0], name="bias"))
    assert "bias" in text and "(2,)" in text and "1.5" in text and "float32" in text
