"""Ops that tfe-era code calls: against numpy and TensorFlow's documented values.

Gradients are checked by the generic test (tests/ops/test_gradients.py) from
each op's registered samples; here, values, edge cases and errors.
"""

import numpy as np
import pytest

import nnlib
from nnlib.ops.registry import REGISTRY

_NEW_OPS = [
    "bias_add",
    "clip_by_global_norm",
    "gather_nd",
    "random_normal",
    "random_uniform",
    "scatter_nd",
    "sequence_mask",
    "top_k",
    "truncated_normal",
]


@pytest.mark.parametrize("name", _NEW_OPS)
def test_each_new_op_is_exported_registered_and_documented(name):
    fn = getattr(nnlib, name)
    assert fn is getattr(nnlib.ops, name) and REGISTRY[name].fn is fn
    assert ">>> " in fn.__doc__


# -- gather_nd / scatter_nd ------------------------------------------------------


def test_gather_nd_matches_numpy_for_full_and_partial_coordinates():
    x = np.arange(24.0).reshape(2, 3, 4)
    full = [[0, 1, 2], [1, 2, 3], [0, 0, 0]]
    np.testing.assert_array_equal(
        nnlib.gather_nd(x, full).numpy(), x[[0, 1, 0], [1, 2, 0], [2, 3, 0]]
    )
    rows = np.array([[[1, 0]], [[0, 2]]])  # shape (2, 1, 2): slices of x
    got = nnlib.gather_nd(x, rows)
    assert got.shape == (2, 1, 4)
    np.testing.assert_array_equal(got.numpy()[:, 0], x[[1, 0], [0, 2]])


def test_gather_nd_with_batch_dims_pairs_leading_axes():
    x = np.arange(24.0).reshape(2, 3, 4)
    idx = np.array([[[2, 1]], [[0, 3]]])
    got = nnlib.gather_nd(x, idx, batch_dims=1)
    assert got.numpy().tolist() == [[x[0, 2, 1]], [x[1, 0, 3]]]


def test_gather_nd_gradient_adds_at_repeated_coordinates():
    x = nnlib.constant(np.zeros((2, 2), np.float32))
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.reduce_sum(nnlib.gather_nd(x, [[1, 1], [1, 1], [0, 1]]))
    np.testing.assert_array_equal(np.asarray(tape.gradient(y, x)), [[0, 1], [0, 2]])


def test_scatter_nd_sums_duplicates_as_tensorflow_documents():
    # tf.scatter_nd's documented example.
    got = nnlib.scatter_nd([[4], [3], [1], [7]], [9, 10, 11, 12], [8])
    assert got.numpy().tolist() == [0, 11, 0, 10, 9, 0, 0, 12]
    assert got.dtype == np.int64
    twice = nnlib.scatter_nd([[0], [0]], [1.0, 2.0], (2,))
    assert twice.numpy().tolist() == [3.0, 0.0]
    slices = nnlib.scatter_nd([[1]], [[1.0, 2.0]], (2, 2))
    assert slices.numpy().tolist() == [[0, 0], [1, 2]]


def test_scatter_nd_is_the_adjoint_of_gather_nd():
    rng = np.random.default_rng(0)
    idx = np.array([[0, 1], [2, 0], [0, 1]])
    x, u = rng.normal(size=(3, 2)), rng.normal(size=3)
    lhs = np.sum(nnlib.gather_nd(x, idx).numpy() * u)
    rhs = np.sum(x * nnlib.scatter_nd(idx, u, x.shape).numpy())
    assert lhs == pytest.approx(rhs)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nnlib.gather_nd(np.ones((2, 3)), [[0, 3]]), IndexError,
         r"indices\[0, 1\] = 3 is out of range for axis 1 of size 3"),
        (lambda: nnlib.gather_nd(np.ones((2, 3)), [[-1, 0]]), IndexError,
         "out of range"),
        (lambda: nnlib.gather_nd(np.ones((2, 3)), [[0, 0, 0]]), ValueError,
         "index 3 axes after 0 batch axes; a tensor of shape"),
        (lambda: nnlib.gather_nd(np.ones(3), [[0.5]]), TypeError,
         "gather_nd: indices must be integers, got float"),
        (lambda: nnlib.gather_nd(np.ones(3), 1), ValueError, "rank >= 1"),
        (lambda: nnlib.scatter_nd([[0]], [1.0, 2.0], (3,)), ValueError,
         r"updates must have shape \(1,\)"),
        (lambda: nnlib.gather_nd(np.ones((2, 3)), [[[0]]], batch_dims=1),
         ValueError, "batch axes differ"),
    ],
)  # fmt: skip
def test_nd_indexing_errors_name_the_argument_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- clip_by_global_norm ------------------------------------------------------------


def test_clip_by_global_norm_matches_tensorflow_formula():
    rng = np.random.default_rng(1)
    ts = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    norm = np.sqrt(sum(np.sum(t**2) for t in ts))
    clipped, got_norm = nnlib.clip_by_global_norm(ts, 1.0)
    assert float(got_norm) == pytest.approx(norm)
    for c, t in zip(clipped, ts):
        np.testing.assert_allclose(c.numpy(), t / norm, rtol=1e-6)
    kept, _ = nnlib.clip_by_global_norm(ts, 100.0)
    np.testing.assert_allclose(kept[0].numpy(), ts[0])


def test_clip_by_global_norm_keeps_none_and_takes_use_norm():
    clipped, norm = nnlib.clip_by_global_norm([None, [3.0, 4.0]], 1.0, use_norm=10.0)
    assert clipped[0] is None and float(norm) == 10.0
    np.testing.assert_allclose(clipped[1].numpy(), [0.3, 0.4], rtol=1e-6)


def test_clip_by_global_norm_of_a_non_finite_norm_is_nan():
    clipped, norm = nnlib.clip_by_global_norm([[np.inf, 1.0]], 1.0)
    assert np.isinf(float(norm)) and np.isnan(clipped[0].numpy()).all()


@pytest.mark.skipif(not hasattr(nnlib, "IndexedSlices"), reason="no IndexedSlices")
def test_clip_by_global_norm_keeps_indexed_slices_sparse():
    sparse = nnlib.IndexedSlices(np.array([[3.0, 0.0]]), [1], (4, 2))
    clipped, norm = nnlib.clip_by_global_norm([sparse, np.array([0.0, 4.0])], 1.0)
    assert float(norm) == pytest.approx(5.0)
    assert isinstance(clipped[0], nnlib.IndexedSlices)
    assert clipped[0].indices.numpy().tolist() == [1]
    np.testing.assert_allclose(clipped[0].values.numpy(), [[0.6, 0.0]])


def test_clip_by_global_norm_errors():
    with pytest.raises(TypeError, match="t_list must be a list or tuple"):
        nnlib.clip_by_global_norm(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="clip_norm must be a number > 0, got 0"):
        nnlib.clip_by_global_norm([np.ones(3)], 0)


# -- random tensors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "op", [nnlib.random_normal, nnlib.truncated_normal, nnlib.random_uniform]
)
def test_random_ops_follow_nnlib_random_and_tf_seed(op):
    nnlib.random.set_seed(5)
    a = op((3, 4))
    nnlib.random.set_seed(5)
    b = op([3, 4])
    assert a.shape == (3, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(op((3, 4)).numpy(), a.numpy())
    np.testing.assert_array_equal(op(5, seed=7).numpy(), op(5, seed=7).numpy())
    assert op(2, dtype="float64").dtype == np.float64


def test_random_normal_and_truncated_normal_statistics():
    x = nnlib.random_normal((200_000,), mean=2.0, stddev=3.0, seed=0).numpy()
    assert x.mean() == pytest.approx(2.0, abs=0.03)
    assert x.std() == pytest.approx(3.0, abs=0.03)
    t = nnlib.truncated_normal((200_000,), mean=1.0, stddev=2.0, seed=0).numpy()
    assert np.abs(t - 1.0).max() <= 4.0
    assert t.std() == pytest.approx(2.0 * 0.8796, abs=0.02)  # truncated at 2 sigma


def test_random_uniform_bounds_and_integers():
    u = nnlib.random_uniform((10_000,), minval=-2.0, maxval=3.0, seed=0).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0 and u.mean() == pytest.approx(0.5, abs=0.1)
    ints = nnlib.random_uniform((1000,), minval=2, maxval=5, dtype="int32", seed=0)
    assert ints.dtype == np.int32 and set(ints.numpy().tolist()) == {2, 3, 4}
    with pytest.raises(ValueError, match="integer dtype needs maxval > minval"):
        nnlib.random_uniform((2,), dtype="int64")


def test_random_normal_reparameterized_gradient():
    mean, stddev = nnlib.constant([1.0, 2.0]), nnlib.constant(0.5)
    z = nnlib.random_normal((2,), seed=4).numpy()
    with nnlib.GradientTape() as tape:
        tape.watch([mean, stddev])
        y = nnlib.reduce_sum(nnlib.random_normal((2,), mean, stddev, seed=4))
    d_mean, d_std = tape.gradient(y, [mean, stddev])
    np.testing.assert_allclose(d_mean.numpy(), [1.0, 1.0])
    assert float(d_std) == pytest.approx(float(z.sum()), rel=1e-6)


def test_random_ops_errors():
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        nnlib.random_normal((2,), seed=-1)
    with pytest.raises(TypeError, match="dtype must be a floating-point dtype"):
        nnlib.random_normal((2,), dtype="int32")
    with pytest.raises(ValueError, match="shape must be an int or a list"):
        nnlib.truncated_normal((2, -1))


# -- top_k, sequence_mask, bias_add -----------------------------------------------


def test_top_k_matches_numpy_and_breaks_ties_by_lower_index():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4, 7)).astype(np.float32)
    values, indices = nnlib.top_k(x, k=3)
    order = np.argsort(-x, axis=-1, kind="stable")[..., :3]
    assert indices.dtype == np.int32 and values.shape == (3, 4, 3)
    np.testing.assert_array_equal(indices.numpy(), order)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, order, -1))
    v, i = nnlib.top_k(np.array([1, 3, 3, 2], np.uint8), 2)
    assert v.numpy().tolist() == [3, 3] and i.numpy().tolist() == [1, 2]
    assert nnlib.top_k(x, 0)[0].shape == (3, 4, 0)


def test_top_k_gradient_goes_to_the_winners():
    x = nnlib.constant([[1.0, 4.0, 2.0, 3.0]])
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        values, _ = nnlib.top_k(x, 2)
        y = nnlib.reduce_sum(values * nnlib.constant([10.0, 1.0]))
    assert np.asarray(tape.gradient(y, x)).tolist() == [[0.0, 10.0, 0.0, 1.0]]


def test_top_k_errors():
    with pytest.raises(ValueError, match=r"top_k: k must be in \[0, 3\].*got 4"):
        nnlib.top_k([1.0, 2.0, 3.0], 4)
    with pytest.raises(ValueError, match="top_k: k must be in"):
        nnlib.top_k(1.0)


def test_sequence_mask_matches_tensorflow_examples():
    # tf.sequence_mask's documented examples.
    assert nnlib.sequence_mask([1, 3, 2], 5).numpy().tolist() == [
        [True, False, False, False, False],
        [True, True, True, False, False],
        [True, True, False, False, False],
    ]
    got = nnlib.sequence_mask([[1, 3], [2, 0]])
    assert got.shape == (2, 2, 3)
    assert got.numpy()[0, 1].tolist() == [True, True, True]
    assert got.numpy()[1, 1].tolist() == [False, False, False]
    assert nnlib.sequence_mask(nnlib.constant([2]), 3, dtype="int32").dtype == np.int32


def test_sequence_mask_errors():
    with pytest.raises(TypeError, match="lengths must be integers"):
        nnlib.sequence_mask([1.5])
    with pytest.raises(ValueError, match="lengths must be non-negative, got -1"):
        nnlib.sequence_mask([-1, 2])
    with pytest.raises(ValueError, match="maxlen must be non-negative"):
        nnlib.sequence_mask([1], -2)


def test_bias_add_channels_last_and_first():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(
        nnlib.bias_add(x, [1.0, 2.0]).numpy(), x + np.array([1.0, 2.0], np.float32)
    )
    got = nnlib.bias_add(x, [1.0, 2.0, 3.0], data_format="NCHW").numpy()
    np.testing.assert_array_equal(got, x + np.array([1.0, 2, 3]).reshape(3, 1, 1))


def test_bias_add_refuses_what_plain_broadcasting_would_accept():
    with pytest.raises(ValueError, match=r"one entry per channel.*bias shape \(1,\)"):
        nnlib.bias_add(np.ones((2, 3)), [1.0])
    with pytest.raises(ValueError, match="data_format must be"):
        nnlib.bias_add(np.ones((2, 3)), np.ones(3), data_format="NWHC")
