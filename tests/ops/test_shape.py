"""Shape ops: values against numpy, gradients beyond the registry samples, errors."""

import numpy as np
import pytest

import nnlib
from nnlib.test_util import check_gradients


def _x(*shape):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)


def test_reshape_broadcast_transpose_still_work():
    x = _x(2, 3)
    np.testing.assert_array_equal(nnlib.reshape(x, (3, 2)), x.reshape(3, 2))
    np.testing.assert_array_equal(
        nnlib.broadcast_to(x[0], (4, 3)), np.broadcast_to(x[0], (4, 3))
    )
    np.testing.assert_array_equal(nnlib.transpose(x), x.T)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
def test_expand_dims_matches_numpy(axis):
    x = _x(2, 3)
    assert nnlib.expand_dims(x, axis).shape == np.expand_dims(x, axis).shape


def test_expand_dims_rejects_out_of_range_axis():
    with pytest.raises(ValueError, match=r"expand_dims: axis 3 .* shape \(2, 3\)"):
        nnlib.expand_dims(_x(2, 3), 3)


@pytest.mark.parametrize("axis", [None, 0, 2, -1, (0, 3), [2, 0]])
def test_squeeze_matches_numpy(axis):
    x = _x(1, 3, 1, 1)
    expected = np.squeeze(x, axis if not isinstance(axis, list) else tuple(axis))
    np.testing.assert_array_equal(nnlib.squeeze(x, axis), expected)


def test_squeeze_rejects_an_axis_longer_than_one():
    with pytest.raises(
        ValueError, match=r"squeeze: cannot squeeze axis 1 of size 3 .*\(1, 3\)"
    ):
        nnlib.squeeze(_x(1, 3), 1)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_concat_matches_numpy(axis):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for s, n in zip(shapes, (1, 2, 3)):
        s[axis] = n
    xs = [_x(*s) + i for i, s in enumerate(shapes)]
    np.testing.assert_array_equal(nnlib.concat(xs, axis), np.concatenate(xs, axis))


def test_concat_errors_name_every_shape():
    with pytest.raises(
        ValueError,
        match=r"concat: shapes \(2, 3\), \(2, 4\) and "
        r"\(3, 3\) differ on an axis other than 1",
    ):
        nnlib.concat([_x(2, 3), _x(2, 4), _x(3, 3)], axis=1)
    with pytest.raises(
        ValueError, match=r"concat: .* same rank, got shapes \(2, 3\) and \(3,\)"
    ):
        nnlib.concat([_x(2, 3), _x(3)], axis=0)
    with pytest.raises(ValueError, match=r"concat: axis 2 is out of range"):
        nnlib.concat([_x(2, 3), _x(2, 3)], axis=2)
    with pytest.raises(ValueError, match="concat: expects at least one tensor"):
        nnlib.concat([], axis=0)
    with pytest.raises(TypeError, match="concat: expects a list of tensors, got Tens"):
        nnlib.concat(nnlib.ones((2, 2)), axis=0)


def test_concat_gradient_returns_each_input_dtype_and_none_for_integers():
    a = nnlib.constant(np.ones((2, 2), np.float32))
    b = nnlib.constant(np.ones((1, 2), np.float64))
    ints = nnlib.constant(np.ones((1, 2), np.int64))
    with nnlib.GradientTape() as tape:
        tape.watch([a, b, ints])
        y = nnlib.concat([a, b, ints], axis=0)
        loss = nnlib.reduce_sum(y * nnlib.constant(np.arange(8.0).reshape(4, 2)))
    assert y.dtype == np.float64
    da, db = tape.gradient(loss, [a, b])
    assert da.dtype == np.float32 and db.dtype == np.float64
    np.testing.assert_array_equal(da, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(db, [[4, 5]])


def test_concat_and_split_are_second_order_differentiable():
    rng = np.random.default_rng(0)
    check_gradients(
        lambda a, b: nnlib.concat([a * a, nnlib.tanh(b)], axis=1),
        rng.normal(size=(2, 3)),
        rng.normal(size=(2, 1)),
        order=2,
    )
    check_gradients(
        lambda x: [p * p for p in nnlib.split(x, [1, 3], axis=1)],
        rng.normal(size=(2, 4)),
        order=2,
    )


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack_and_unstack_match_numpy(axis):
    xs = [_x(2, 3) + i for i in range(4)]
    y = nnlib.stack(xs, axis)
    np.testing.assert_array_equal(y, np.stack(xs, axis))
    parts = nnlib.unstack(y, axis)
    assert len(parts) == 4
    for part, x in zip(parts, xs):
        np.testing.assert_array_equal(part, x)


def test_stack_errors_name_every_shape():
    with pytest.raises(
        ValueError, match=r"stack: .* got shapes \(2,\), \(2,\) and \(3,\)"
    ):
        nnlib.stack([_x(2), _x(2), _x(3)])
    with pytest.raises(ValueError, match=r"stack: axis 3 is out of range"):
        nnlib.stack([_x(2, 3)], axis=3)


def test_unstack_rejects_scalars():
    with pytest.raises(ValueError, match=r"unstack: axis 0 .* shape \(\)"):
        nnlib.unstack(nnlib.constant(1.0))


def test_unstack_gradient_fills_unused_outputs_with_zeros():
    x = nnlib.constant(_x(3, 2))
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        rows = nnlib.unstack(x)
        y = rows[1] * 3.0
    np.testing.assert_array_equal(tape.gradient(y, x), [[0, 0], [3, 3], [0, 0]])


def test_stack_unstack_second_order():
    rng = np.random.default_rng(1)
    check_gradients(
        lambda a, b: nnlib.stack([a * b, nnlib.tanh(a)], axis=1),
        rng.normal(size=(2, 3)),
        rng.normal(size=(2, 3)),
        order=2,
    )
    check_gradients(
        lambda x: [t * t for t in nnlib.unstack(x, axis=-1)[::2]],
        rng.normal(size=(2, 3)),
        order=2,
    )


@pytest.mark.parametrize(
    "spec, axis",
    [
        (2, 0),
        (3, 1),
        ([1, 2], 1),
        ([1, -1], -1),
        ([0, 3, 0], 1),
        (nnlib.constant([1, 1, 1]), 1),
    ],
)
def test_split_matches_numpy(spec, axis):
    x = _x(4, 3)
    sizes = np.asarray(spec)
    if sizes.ndim == 0:
        expected = np.split(x, int(sizes), axis)
    else:
        sizes = np.where(sizes == -1, x.shape[axis] - (sizes.sum() + 1), sizes)
        expected = np.split(x, np.cumsum(sizes)[:-1], axis)
    parts = nnlib.split(x, spec, axis)
    assert len(parts) == len(expected)
    for part, e in zip(parts, expected):
        np.testing.assert_array_equal(part, e)


def test_split_errors_say_why():
    with pytest.raises(
        ValueError,
        match=r"split: cannot split axis 1 of size 5 "
        r"\(shape \(2, 5\)\) into 2 equal parts",
    ):
        nnlib.split(_x(2, 5), 2, axis=1)
    with pytest.raises(
        ValueError,
        match=r"split: sizes \[2, 2\] do not add up to "
        r"axis 0 of size 5",
    ):
        nnlib.split(_x(5), [2, 2])
    with pytest.raises(ValueError, match="split: sizes"):
        nnlib.split(_x(5), [-1, -1])
    with pytest.raises(ValueError, match="split: cannot split .* into 0 equal parts"):
        nnlib.split(_x(5), 0)
    with pytest.raises(TypeError, match="split: num_or_size_splits must be an int"):
        nnlib.split(_x(4), 2.0)


@pytest.mark.parametrize(
    "shape, multiples",
    [
        ((2, 3), (1, 1)),
        ((2, 3), (3, 2)),
        ((2, 1, 3), (2, 4, 1)),
        ((3,), (0,)),
        ((), ()),
    ],
)
def test_tile_matches_numpy(shape, multiples):
    x = _x(*shape)
    np.testing.assert_array_equal(nnlib.tile(x, multiples), np.tile(x, multiples))


def test_tile_gradient_sums_the_copies():
    rng = np.random.default_rng(2)
    check_gradients(
        lambda x: nnlib.tanh(nnlib.tile(x, (2, 1, 3))),
        rng.normal(size=(2, 2, 1)),
        order=2,
    )


def test_tile_needs_one_multiple_per_axis():
    with pytest.raises(
        ValueError, match=r"tile: multiples must be 2 .* shape \(2, 3\), got \[2\]"
    ):
        nnlib.tile(_x(2, 3), [2])


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric"])
@pytest.mark.parametrize(
    "paddings", [[[0, 0], [0, 0]], [[1, 2], [2, 0]], [[2, 2], [1, 1]]]
)
def test_pad_matches_numpy(mode, paddings):
    x = _x(3, 4)
    np.testing.assert_array_equal(
        nnlib.pad(x, paddings, mode=mode), np.pad(x, paddings, mode)
    )


def test_pad_constant_values_and_dtype():
    y = nnlib.pad(np.ones((1, 2), np.int32), [[1, 0], [0, 1]], constant_values=7)
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y, [[7, 7, 7], [1, 1, 7]])


@pytest.mark.parametrize("mode", ["constant", "REFLECT", "symmetric"])
def test_pad_gradients_second_order(mode):
    rng = np.random.default_rng(3)
    check_gradients(
        lambda x: nnlib.pad(x * x, [[2, 1], [0, 3]], mode=mode),
        rng.normal(size=(3, 4)),
        order=2,
    )


def test_pad_errors_say_why():
    with pytest.raises(
        ValueError,
        match=r"pad: paddings must be 2 \[before, after\] "
        r"pairs .*shape \(3, 4\), got \[\[1, 1\]\]",
    ):
        nnlib.pad(_x(3, 4), [[1, 1]])
    with pytest.raises(ValueError, match="pad: paddings must be"):
        nnlib.pad(_x(3), [[-1, 0]])
    with pytest.raises(
        ValueError,
        match=r"pad: reflect padding \[0, 3\] is too long "
        r"for axis 1 of size 3",
    ):
        nnlib.pad(_x(2, 3), [[0, 0], [0, 3]], mode="reflect")
    nnlib.pad(_x(2, 3), [[0, 0], [0, 3]], mode="symmetric")  # up to the length is fine
    with pytest.raises(ValueError, match="pad: mode must be 'constant', 'reflect' or"):
        nnlib.pad(_x(2), [[1, 1]], mode="wrap")


def test_cast_gradient_comes_back_in_the_source_dtype():
    x = nnlib.constant(np.array([1.5, -2.0, 3.25], np.float32))
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.cast(x, "float64")
        loss = nnlib.reduce_sum(y * y)
    assert y.dtype == np.float64
    dx = tape.gradient(loss, x)
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx, [3.0, -4.0, 6.5])


def test_cast_to_an_integer_has_no_gradient():
    x = nnlib.constant([1.7, -1.2])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.cast(nnlib.cast(x, "int32"), "float32")
    with pytest.warns(UserWarning, match="non-differentiable op 'cast'"):
        assert tape.gradient(y, x) is None
