"""Creation ops: values and dtypes against numpy, no gradients, clear errors."""

import builtins

import numpy as np
import pytest

import nnlib
from nnlib.ops.registry import REGISTRY

_CREATION = ["fill", "one_hot", "ones", "ones_like", "range", "zeros", "zeros_like"]


def test_creation_ops_are_registered_as_non_differentiable():
    for name in _CREATION:
        assert not REGISTRY[name].differentiable
        assert getattr(nnlib, name) is REGISTRY[name].fn


@pytest.mark.parametrize(
    "shape", [3, (2, 3), [], (0, 2), np.array([2, 1]), nnlib.constant([1, 2])]
)
def test_zeros_and_ones_take_any_shape_spelling(shape):
    expected = tuple(np.asarray(shape, int).reshape(-1).tolist())
    for op, value in ((nnlib.zeros, 0), (nnlib.ones, 1)):
        y = op(shape)
        assert y.shape == expected and y.dtype == np.float32
        assert np.all(y.numpy() == value)


def test_zeros_and_ones_dtype_and_errors():
    assert nnlib.zeros(2, dtype="int32").dtype == np.int32
    assert nnlib.ones((2,), dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match=r"zeros: shape must be .* got \[2, -1\]"):
        nnlib.zeros((2, -1))
    with pytest.raises(ValueError, match="ones: shape must be"):
        nnlib.ones((2.5,))


def test_like_ops_keep_shape_and_dtype_unless_told():
    x = nnlib.constant(np.ones((2, 3), np.float64))
    assert nnlib.zeros_like(x).dtype == np.float64
    assert nnlib.ones_like([[1, 2]]).dtype == np.int64
    np.testing.assert_array_equal(
        nnlib.ones_like(x, dtype="int8"), np.ones((2, 3), np.int8)
    )
    np.testing.assert_array_equal(nnlib.zeros_like(x), np.zeros((2, 3)))


def test_like_ops_pass_no_gradient():
    x = nnlib.constant([1.0, 2.0])
    with nnlib.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = nnlib.zeros_like(x) + nnlib.ones_like(x)
    with pytest.warns(UserWarning, match="non-differentiable op 'zeros_like'"):
        assert tape.gradient(y, x) is None
    zero = tape.gradient(y, x, unconnected_gradients="zero")
    np.testing.assert_array_equal(zero, [0, 0])


def test_fill():
    assert nnlib.fill((2, 2), 3).dtype == np.int64
    y = nnlib.fill([3], 0.5, dtype="float64")
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [0.5] * 3)
    np.testing.assert_array_equal(nnlib.fill(2, nnlib.constant(4.0)), [4.0, 4.0])
    with pytest.raises(ValueError, match=r"fill: value must be a scalar, got shape"):
        nnlib.fill((2,), [1.0, 2.0])


@pytest.mark.parametrize(
    "args", [(5,), (2, 7), (7, 2, -2), (0,), (3, 3), (-3,), (1, 10, 3)]
)
def test_range_matches_numpy_for_ints(args):
    y = nnlib.range(*args)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, np.arange(*args))


@pytest.mark.parametrize(
    "args", [(0.0, 1.0, 0.1), (1, 2.0, 0.25), (3.0,), (1.0, -1.0, -0.3)]
)
def test_range_matches_numpy_for_floats(args):
    y = nnlib.range(*args)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, np.arange(*args).astype(np.float32))


def test_range_dtype_and_errors():
    assert nnlib.range(3, dtype="float64").dtype == np.float64
    assert nnlib.range(np.float64(2.0)).dtype == np.float64
    assert nnlib.range(np.int32(3)).dtype == np.int32
    with pytest.raises(ValueError, match="range: delta must not be zero"):
        nnlib.range(0, 3, 0)
    with pytest.raises(ValueError, match="range: start, limit and delta must be sca"):
        nnlib.range([1, 2])


def test_range_does_not_shadow_the_builtin():
    assert builtins.range is range
    assert nnlib.range.__module__ == "nnlib.ops.creation"
    assert list(range(3)) == [0, 1, 2]


def _one_hot_reference(indices, depth, on=1.0, off=0.0):
    indices = np.asarray(indices)
    out = np.full(indices.shape + (depth,), off, np.float32)
    for pos in np.ndindex(indices.shape):
        if 0 <= indices[pos] < depth:
            out[pos + (indices[pos],)] = on
    return out


@pytest.mark.parametrize("axis", [-1, 0, 1, 2])
def test_one_hot_matches_reference(axis):
    indices = np.array([[0, 3, 1], [2, 2, 0]])
    y = nnlib.one_hot(indices, 4, on_value=5.0, off_value=-1.0, axis=axis)
    expected = np.moveaxis(_one_hot_reference(indices, 4, 5.0, -1.0), -1, axis)
    np.testing.assert_array_equal(y, expected)
    assert y.dtype == np.float32


def test_one_hot_out_of_range_rows_are_all_off():
    y = nnlib.one_hot(nnlib.constant([1, -1, 3, 7]), 3)
    np.testing.assert_array_equal(y, [[0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_one_hot_dtype_scalar_and_empty_depth():
    assert nnlib.one_hot(1, 3, dtype="int32").numpy().tolist() == [0, 1, 0]
    assert nnlib.one_hot([1, 2], 0).shape == (2, 0)


def test_one_hot_errors():
    with pytest.raises(ValueError, match="one_hot: depth must be non-negative, got -2"):
        nnlib.one_hot([0], -2)
    with pytest.raises(TypeError, match="one_hot: indices must be integers, got float"):
        nnlib.one_hot([0.0], 2)
    with pytest.raises(ValueError, match=r"one_hot: axis must be -1 or in \[0, 1\]"):
        nnlib.one_hot([0], 2, axis=2)
