"""Mixed dtypes in binary ops: numpy scalars are weak, wider arrays warn once."""

import warnings

import numpy as np
import pytest

import nnlib


def _caught(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [w for w in caught if "promotes" in str(w.message)]


@pytest.mark.parametrize(
    "scalar", [np.float64(2.5), np.float32(2.5), np.int64(2), np.array(2.5)]
)
def test_a_numpy_scalar_keeps_a_float32_tensor_float32(scalar):
    t = nnlib.constant([1.0, 2.0])
    for result in (t * scalar, scalar * t, nnlib.add(t, scalar), t - scalar):
        assert result.dtype == np.float32
    assert np.allclose((t * scalar).numpy(), [1.0 * scalar, 2.0 * scalar])


def test_a_list_of_python_ints_is_weak_beside_a_float_tensor():
    t = nnlib.constant([1.0, 2.0])
    result, caught = _caught(lambda: t * [2, 3])
    assert caught == [] and result.dtype == np.float32
    assert result.numpy().tolist() == [2.0, 6.0]
    assert (nnlib.constant([1, 2]) + [1, 2]).dtype == np.int64  # ints stay ints


def test_a_numpy_scalar_beside_a_float64_tensor_keeps_float64():
    t = nnlib.constant([1.0, 2.0], dtype="float64")
    assert (t * np.float32(0.5)).dtype == np.float64
    assert nnlib.where(t > 1, t, np.float32(0)).dtype == np.float64


def test_a_numpy_scalar_still_lets_the_gradient_reach_the_tensor():
    x = nnlib.constant([1.0, 3.0])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.reduce_sum(x * np.float64(3.0))
    assert tape.gradient(y, x).numpy().tolist() == [3.0, 3.0]


def test_a_float64_array_beside_a_float32_tensor_promotes_and_warns_once_per_line():
    t = nnlib.constant([1.0, 2.0])

    def loop():
        return [t * np.ones(2) for _ in range(3)]

    results, caught = _caught(loop)
    assert [r.dtype for r in results] == [np.float64] * 3  # numpy's promotion
    assert len(caught) == 1
    assert caught[0].filename == __file__
    message = str(caught[0].message)
    assert "float64" in message and "float32" in message
    assert "astype(np.float32)" in message and "nnlib.cast" in message
    _, again = _caught(lambda: np.ones(2) + t)  # another line: warned again
    assert len(again) == 1


def test_an_integer_array_that_widens_a_float32_tensor_warns_too():
    t = nnlib.constant([1.0, 2.0])
    result, caught = _caught(lambda: t * np.arange(2))
    assert result.dtype == np.float64 and len(caught) == 1


@pytest.mark.parametrize(
    "tensor, array",
    [
        (np.ones(2, np.float32), np.ones(2, np.float32)),
        (np.ones(2, np.float64), np.ones(2, np.float32)),
        (np.ones(2, np.int64), np.ones(2, np.float64)),
        (np.ones(2, np.float32), [1.0, 2.0]),
    ],
)
def test_no_warning_when_the_tensor_keeps_its_dtype_or_is_not_float(tensor, array):
    t = nnlib.constant(tensor)
    result, caught = _caught(lambda: t + array)
    assert caught == []
    assert result.dtype == np.result_type(tensor.dtype, np.asarray(array).dtype) or (
        isinstance(array, list) and result.dtype == np.float32
    )
