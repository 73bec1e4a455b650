"""Indexing ops: getitem errors, gather and boolean_mask against numpy."""

import numpy as np
import pytest

import nnlib
from nnlib.test_util import check_gradients


def _x(*shape):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("indices", [[1, 0, 1], [[0, 1], [1, 1]], 1])
def test_gather_matches_numpy_take(axis, indices):
    x = _x(2, 3, 2)
    np.testing.assert_array_equal(
        nnlib.gather(x, indices, axis=axis), np.take(x, indices, axis=axis)
    )


def test_gather_accepts_index_tensors_of_any_integer_dtype():
    x = _x(4, 2)
    for indices in (nnlib.constant([3, 0]), np.array([3, 0], np.uint8)):
        np.testing.assert_array_equal(nnlib.gather(x, indices), x[[3, 0]])


@pytest.mark.parametrize("axis, batch_dims", [(1, 1), (2, 1), (3, 1), (2, 2), (-1, -1)])
def test_gather_batch_dims_pairs_leading_axes(axis, batch_dims):
    x = _x(2, 3, 4, 5)
    rng = np.random.default_rng(0)
    b = batch_dims % 3  # indices have rank 3 here
    idx = rng.integers(0, x.shape[axis], x.shape[:b] + (2, 3)[: 3 - b])
    got = nnlib.gather(x, idx, axis=axis, batch_dims=batch_dims)
    if b == 1:
        expected = np.stack(
            [np.take(x[i], idx[i], axis=axis % 4 - 1) for i in range(2)]
        )
    else:
        expected = np.stack(
            [
                np.stack(
                    [np.take(x[i, j], idx[i, j], axis=axis % 4 - 2) for j in range(3)]
                )
                for i in range(2)
            ]
        )
    np.testing.assert_array_equal(got, expected)


def test_gather_axis_defaults_to_batch_dims():
    x = _x(2, 3)
    np.testing.assert_array_equal(nnlib.gather(x, [[2], [0]], batch_dims=1), [[2], [3]])


def test_gather_gradient_adds_repeated_indices():
    x = nnlib.constant(_x(3, 2))
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.gather(x, [2, 0, 2], axis=0)
    np.testing.assert_array_equal(tape.gradient(y, x), [[1, 1], [0, 0], [2, 2]])


@pytest.mark.parametrize("kwargs", [{"axis": 1}, {"axis": 2, "batch_dims": 1}])
def test_gather_second_order(kwargs):
    rng = np.random.default_rng(1)
    idx = np.array([[2, 2, 0], [1, 0, 1]])
    check_gradients(
        lambda x: nnlib.tanh(nnlib.gather(x * x, idx, **kwargs)),
        rng.normal(size=(2, 3, 3)),
        order=2,
    )


def test_gather_errors_name_the_index_and_axis_size():
    with pytest.raises(
        IndexError,
        match=r"gather: index 5 is out of range for axis 1 "
        r"of size 3 \(params shape \(2, 3\)\)",
    ):
        nnlib.gather(_x(2, 3), [0, 5], axis=1)
    with pytest.raises(IndexError, match="gather: index -1 is out of range for axis 0"):
        nnlib.gather(_x(2, 3), [-1])
    with pytest.raises(TypeError, match="gather: indices must be integers, got float"):
        nnlib.gather(_x(2, 3), nnlib.constant([0.0]))
    with pytest.raises(
        ValueError,
        match=r"gather: the 1 batch axes differ: params "
        r"shape \(2, 3\), indices shape \(3, 1\)",
    ):
        nnlib.gather(_x(2, 3), np.zeros((3, 1), int), axis=1, batch_dims=1)
    with pytest.raises(
        ValueError, match=r"gather: need 0 <= batch_dims \(1\) <= axis \(0\)"
    ):
        nnlib.gather(_x(2, 3), np.zeros((2, 1), int), axis=0, batch_dims=1)
    with pytest.raises(ValueError, match=r"gather: .*axis \(2\) < rank of params"):
        nnlib.gather(_x(2, 3), [0], axis=2)


@pytest.mark.parametrize(
    "shape, mask_shape, axis",
    [
        ((4, 3), (4,), 0),
        ((4, 3), (4, 3), 0),
        ((2, 4, 3), (4,), 1),
        ((2, 4, 3), (4, 3), -2),
    ],
)
def test_boolean_mask_matches_numpy(shape, mask_shape, axis):
    x = _x(*shape)
    mask = np.random.default_rng(2).random(mask_shape) > 0.5
    key = (slice(None),) * (axis % len(shape)) + (mask,)
    np.testing.assert_array_equal(nnlib.boolean_mask(x, mask, axis=axis), x[key])


def test_boolean_mask_errors():
    with pytest.raises(
        ValueError,
        match=r"boolean_mask: mask of shape \(3,\) does not "
        r"match the axes from 0 of a tensor of shape "
        r"\(4, 3\)",
    ):
        nnlib.boolean_mask(_x(4, 3), np.ones(3, bool))
    with pytest.raises(TypeError, match="boolean_mask: mask must be boolean, got int"):
        nnlib.boolean_mask(_x(4), [1, 0, 1, 1])


def test_getitem_errors_name_the_index_and_shape():
    x = nnlib.constant(_x(3, 2))
    with pytest.raises(
        IndexError,
        match=r"getitem: index \[5\] is invalid for a "
        r"tensor of shape \(3, 2\): index 5 is out",
    ):
        x[5]
    with pytest.raises(
        IndexError, match=r"getitem: index \[1:, <int64 array of shape \(2,\)>\]"
    ):
        x[1:, np.array([0, 4])]
    with pytest.raises(IndexError, match=r"getitem: index \[\.\.\., 2\] is invalid"):
        x[..., 2]


def test_tensors_do_not_support_item_assignment():
    x = nnlib.constant([1.0, 2.0])
    with pytest.raises(TypeError, match="Tensors are immutable.*assign"):
        x[0] = 3.0
