"""Softmax family, cross-entropies, l2_loss and dropout against numpy references."""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib.test_util import check_gradients


def _ref_log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _ref_sigmoid_xent(z, x):
    p = 1 / (1 + np.exp(-x))
    return -(z * np.log(p) + (1 - z) * np.log(1 - p))


def _grad(f, *args, wrt=-1):
    tensors = [nnlib.constant(a) for a in args]
    with nnlib.GradientTape() as tape:
        tape.watch(tensors[wrt])
        y = f(*tensors)
    return tape.gradient(y, tensors[wrt]).numpy()


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_match_reference(axis):
    x = np.random.default_rng(0).normal(size=(3, 4, 5)) * 3
    np.testing.assert_allclose(
        nnlib.log_softmax(x, axis=axis).numpy(), _ref_log_softmax(x, axis), rtol=1e-12
    )
    np.testing.assert_allclose(
        nnlib.softmax(x, axis=axis).numpy(),
        np.exp(_ref_log_softmax(x, axis)),
        rtol=1e-12,
    )


def test_softmax_keeps_float32():
    x = np.float32([[1, 2, 3]])
    assert nnlib.softmax(x).dtype == np.float32
    assert nnlib.log_softmax(x).dtype == np.float32
    assert nnlib.sparse_softmax_cross_entropy_with_logits([0], x).dtype == np.float32


def test_log_softmax_is_exact_at_extreme_logits(no_warnings):
    np.testing.assert_array_equal(nnlib.log_softmax([1e4, 0.0]).numpy(), [0.0, -1e4])
    np.testing.assert_array_equal(nnlib.log_softmax([-1e4, 0.0]).numpy(), [-1e4, 0.0])
    np.testing.assert_array_equal(nnlib.softmax([1e4, -1e4]).numpy(), [1.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_values_and_gradients(dtype, no_warnings):
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], dtype)
    labels = np.array([2, 0])
    fns = [
        nnlib.softmax,
        nnlib.log_softmax,
        lambda x: nnlib.sparse_softmax_cross_entropy_with_logits(labels, x),
        lambda x: nnlib.softmax_cross_entropy_with_logits(np.eye(3)[labels], x),
        lambda x: nnlib.sigmoid_cross_entropy_with_logits(np.ones_like(x), x),
    ]
    for f in fns:
        assert np.isfinite(f(logits).numpy()).all()
        assert np.isfinite(_grad(f, logits)).all()
    loss = nnlib.sparse_softmax_cross_entropy_with_logits(labels, logits).numpy()
    np.testing.assert_array_equal(loss, [2e4, 2e4])


def test_sparse_xent_matches_reference_and_gradient_is_softmax_minus_one_hot():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(2, 3, 5)), rng.integers(0, 5, (2, 3))
    picked = np.take_along_axis(_ref_log_softmax(logits), labels[..., None], -1)
    expected = -picked[..., 0]
    loss = nnlib.sparse_softmax_cross_entropy_with_logits(labels, logits)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)
    grad = _grad(
        lambda x: nnlib.sparse_softmax_cross_entropy_with_logits(labels, x), logits
    )
    np.testing.assert_allclose(
        grad,
        np.exp(_ref_log_softmax(logits)) - np.eye(5)[labels],
        rtol=1e-12,
        atol=1e-15,
    )


@pytest.mark.parametrize("bad", [10, -1])
def test_sparse_xent_rejects_labels_out_of_range(bad):
    with pytest.raises(ValueError, match=rf"label {bad} outside \[0, 10\)"):
        nnlib.sparse_softmax_cross_entropy_with_logits([3, bad], np.zeros((2, 10)))


def test_sparse_xent_rejects_float_labels_and_wrong_shapes():
    with pytest.raises(TypeError, match="integer"):
        nnlib.sparse_softmax_cross_entropy_with_logits([0.0, 1.0], np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        nnlib.sparse_softmax_cross_entropy_with_logits([0, 1, 2], np.zeros((2, 3)))


def test_softmax_xent_matches_reference_and_label_gradient():
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(size=(4, 3)), rng.dirichlet(np.ones(4), size=3).T
    loss = nnlib.softmax_cross_entropy_with_logits(labels, logits, axis=0)
    np.testing.assert_allclose(
        loss.numpy(), -np.sum(labels * _ref_log_softmax(logits, 0), 0), rtol=1e-12
    )
    grad_labels = _grad(
        lambda z, x: nnlib.softmax_cross_entropy_with_logits(z, x, axis=0),
        labels,
        logits,
        wrt=0,
    )
    np.testing.assert_allclose(grad_labels, -_ref_log_softmax(logits, 0), rtol=1e-12)
    grad_logits = _grad(
        lambda z, x: nnlib.softmax_cross_entropy_with_logits(z, x, axis=0),
        labels,
        logits,
    )
    np.testing.assert_allclose(
        grad_logits,
        np.exp(_ref_log_softmax(logits, 0)) - labels,
        rtol=1e-10,
        atol=1e-14,
    )


def test_softmax_xent_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        nnlib.softmax_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros((2, 4)))


def test_sigmoid_xent_matches_reference_and_gradients():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(3, 4)) * 3, rng.uniform(size=(3, 4))
    loss = nnlib.sigmoid_cross_entropy_with_logits(labels, logits)
    np.testing.assert_allclose(
        loss.numpy(), _ref_sigmoid_xent(labels, logits), rtol=1e-10
    )
    f = nnlib.sigmoid_cross_entropy_with_logits
    np.testing.assert_allclose(
        _grad(f, labels, logits), 1 / (1 + np.exp(-logits)) - labels, rtol=1e-12
    )
    np.testing.assert_allclose(_grad(f, labels, logits, wrt=0), -logits, rtol=1e-12)


def test_sigmoid_xent_is_stable_and_checks_shapes(no_warnings):
    loss = nnlib.sigmoid_cross_entropy_with_logits(
        [0.0, 1.0, 0.0, 1.0], [1e4, -1e4, -1e4, 1e4]
    )
    np.testing.assert_array_equal(loss.numpy(), [1e4, 1e4, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        nnlib.sigmoid_cross_entropy_with_logits(np.zeros(3), np.zeros((3, 1)))


def test_integer_labels_are_cast_to_the_logits_dtype():
    loss = nnlib.sigmoid_cross_entropy_with_logits(
        np.array([1, 0]), np.float32([0.0, 0.0])
    )
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), [np.log(2)] * 2, rtol=1e-6)


def test_l2_loss_is_half_the_sum_of_squares():
    t = np.arange(6.0).reshape(2, 3)
    assert float(nnlib.l2_loss(t)) == np.sum(t**2) / 2
    np.testing.assert_allclose(_grad(nnlib.l2_loss, t), t)


@pytest.mark.parametrize(
    "f", [nnlib.softmax, nnlib.log_softmax, lambda x: nnlib.softmax(x, axis=0)]
)
def test_softmax_family_second_derivatives(f):
    x = np.random.default_rng(4).normal(size=(3, 4))
    check_gradients(f, x, order=2)


def test_cross_entropy_second_derivatives():
    rng = np.random.default_rng(5)
    logits, labels = rng.normal(size=(3, 4)), rng.integers(0, 4, (3,))
    check_gradients(
        nnlib.sparse_softmax_cross_entropy_with_logits, labels, logits, order=2
    )
    soft = rng.dirichlet(np.ones(4), size=3)
    check_gradients(nnlib.softmax_cross_entropy_with_logits, soft, logits, order=2)
    check_gradients(
        nnlib.sigmoid_cross_entropy_with_logits,
        rng.uniform(size=(3, 4)),
        logits,
        order=2,
    )


def test_dropout_statistics():
    x = np.full(100_000, 2.0)
    y = nnlib.dropout(x, rate=0.3).numpy()
    assert abs(np.mean(y == 0) - 0.3) < 0.01
    assert abs(y.mean() - 2.0) < 0.03
    np.testing.assert_allclose(np.unique(y), [0.0, 2.0 / 0.7])


def test_dropout_is_reproducible():
    x = np.ones((20, 20), np.float32)
    nnlib.random.set_seed(7)
    a = nnlib.dropout(x, 0.5).numpy()
    nnlib.random.set_seed(7)
    b = nnlib.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nnlib.dropout(x, 0.5).numpy())
    np.testing.assert_array_equal(
        nnlib.dropout(x, 0.5, seed=3).numpy(), nnlib.dropout(x, 0.5, seed=3).numpy()
    )


def test_dropout_is_identity_when_not_training_or_rate_zero():
    x = nnlib.constant([1.0, 2.0, 3.0])
    assert nnlib.dropout(x, 0.5, training=False) is x
    assert nnlib.dropout(x, 0.0) is x


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match="rate"):
        nnlib.dropout(np.ones(3), rate)


def test_dropout_noise_shape_shares_the_mask():
    # Distinct nonzero inputs: a pass-through or a mask drawn per element shows.
    x = np.random.default_rng(1).uniform(0.5, 1.5, (16, 50))
    y = nnlib.dropout(x, 0.5, noise_shape=(16, 1), seed=0).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.5, rtol=1e-12)
    np.testing.assert_array_equal(kept, np.broadcast_to(kept[:, :1], kept.shape))
    assert 0 < kept[:, 0].sum() < 16  # one draw per row: some rows kept, some not
    with pytest.raises(ValueError, match="noise_shape"):
        nnlib.dropout(np.ones((4, 50)), 0.5, noise_shape=(2, 1))


def test_dropout_gradient_is_the_mask():
    x = np.random.default_rng(6).normal(size=(5, 6))
    y = nnlib.dropout(x, 0.4, seed=11).numpy()
    mask = y / x
    grad = _grad(lambda t: nnlib.dropout(t, 0.4, seed=11), x)
    np.testing.assert_allclose(grad, mask, rtol=1e-12)
