"""Loss functions against numpy references, torch, finite differences and bad input."""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib import losses
from nnlib.test_util import check_gradients

EPS = 1e-7


def _log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _probs(rng, shape):
    p = rng.uniform(0.05, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _grad(f, x):
    x = nnlib.constant(x)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.reduce_sum(f(x))
    return tape.gradient(y, x).numpy()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- values against numpy references ------------------------------------------


def test_sparse_categorical_crossentropy_matches_reference(rng):
    logits = rng.normal(size=(6, 5)) * 3
    labels = rng.integers(0, 5, 6)
    expected = -_log_softmax(logits)[np.arange(6), labels]
    got = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    p = _probs(rng, (6, 5))
    got = losses.sparse_categorical_crossentropy(labels[:, None], p)  # (6, 1) labels
    np.testing.assert_allclose(
        got.numpy(), -np.log(p[np.arange(6), labels]), rtol=1e-12
    )


def test_probabilities_are_normalized_then_clipped_as_keras():
    p = np.array([[2.0, 2.0, 0.0]])  # sums to 4: normalized to [0.5, 0.5, 0]
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy([0], p).numpy(), [np.log(2)]
    )
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy([2], p).numpy(), [-np.log(EPS)]
    )
    y = np.array([[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(
        losses.categorical_crossentropy(y, p).numpy(), [-np.log(EPS)]
    )
    np.testing.assert_allclose(
        losses.binary_crossentropy(np.eye(2)[:1], np.eye(2)[1:]).numpy(),
        [-np.log(EPS)],
        rtol=1e-6,
    )


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_sparse_categorical_crossentropy_on_any_axis(rng, axis):
    logits = rng.normal(size=(3, 4, 5))
    labels = rng.integers(0, logits.shape[axis], np.delete(logits.shape, axis))
    moved = np.moveaxis(logits, axis, -1)
    expected = -np.take_along_axis(_log_softmax(moved), labels[..., None], -1)[..., 0]
    got = losses.sparse_categorical_crossentropy(labels, logits, True, axis=axis)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("axis", [-1, 0])
def test_categorical_crossentropy_matches_reference(rng, axis):
    logits = rng.normal(size=(4, 3))
    y = _probs(rng, (4, 3))
    got = losses.categorical_crossentropy(y, logits, from_logits=True, axis=axis)
    expected = -np.sum(y * _log_softmax(logits, axis), axis=axis)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    p = np.exp(_log_softmax(logits, axis))
    got = losses.categorical_crossentropy(y, p, axis=axis)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5, 1.0])
def test_label_smoothing_follows_keras_formulas(rng, smoothing):
    logits = rng.normal(size=(4, 5))
    onehot = np.eye(5)[rng.integers(0, 5, 4)]
    smoothed = onehot * (1 - smoothing) + smoothing / 5
    got = losses.categorical_crossentropy(
        onehot, logits, from_logits=True, label_smoothing=smoothing
    )
    np.testing.assert_allclose(
        got.numpy(), -np.sum(smoothed * _log_softmax(logits), -1), rtol=1e-12
    )
    z = rng.integers(0, 2, (4, 5)).astype(float)
    zs = z * (1 - smoothing) + 0.5 * smoothing
    p = 1 / (1 + np.exp(-logits))
    expected = np.mean(-(zs * np.log(p) + (1 - zs) * np.log(1 - p)), -1)
    got = losses.binary_crossentropy(
        z, logits, from_logits=True, label_smoothing=smoothing
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    got = losses.binary_crossentropy(z, p, label_smoothing=smoothing)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-8)


def test_regression_losses_match_references(rng):
    t, p = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)) * 2
    e = p - t
    cases = {
        losses.mean_squared_error: np.mean(e**2, -1),
        losses.mean_absolute_error: np.mean(np.abs(e), -1),
        losses.log_cosh: np.mean(np.log(np.cosh(e)), -1),
    }
    for fn, expected in cases.items():
        np.testing.assert_allclose(fn(t, p).numpy(), expected, rtol=1e-12)
    for delta in (0.5, 1.0, 3.0):
        a = np.abs(e)
        expected = np.where(a <= delta, 0.5 * e**2, delta * (a - 0.5 * delta))
        got = losses.huber(t, p, delta=delta).numpy()
        np.testing.assert_allclose(got, expected.mean(-1), rtol=1e-12)
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.mae is losses.MAE is losses.mean_absolute_error


def test_hinge_maps_binary_labels_to_plus_minus_one():
    p = np.array([[0.3, -2.0, 0.8]])
    expected = np.mean(np.maximum(1 - np.array([1, -1, -1]) * p, 0), -1)
    np.testing.assert_allclose(losses.hinge([[1, 0, 0]], p).numpy(), expected)
    np.testing.assert_allclose(losses.hinge([[1, -1, -1]], p).numpy(), expected)


def test_kl_divergence_and_cosine_similarity(rng):
    y, q = _probs(rng, (4, 3)), _probs(rng, (4, 3))
    np.testing.assert_allclose(
        losses.kl_divergence(y, q).numpy(), np.sum(y * np.log(y / q), -1), rtol=1e-12
    )
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    cos = np.sum(a * b, 0) / np.linalg.norm(a, axis=0) / np.linalg.norm(b, axis=0)
    got = losses.cosine_similarity(a, b, axis=0).numpy()
    np.testing.assert_allclose(got, -cos, rtol=1e-12)
    assert losses.cosine_similarity([[0.0, 0.0]], [[1.0, 2.0]]).numpy() == 0.0


def test_float32_in_float32_out():
    p = np.float32([[0.2, 0.8]])
    for fn in (
        lambda: losses.sparse_categorical_crossentropy([1], p),
        lambda: losses.sparse_categorical_crossentropy([1], p, from_logits=True),
        lambda: losses.categorical_crossentropy(np.float64([[0, 1]]), p),
        lambda: losses.binary_crossentropy([[0, 1]], p),
        lambda: losses.mean_squared_error([[0, 1]], p),
        lambda: losses.huber([[0.0, 1.0]], p),
    ):
        assert fn().dtype == np.float32
    assert losses.mse([[1, 2]], [[1, 3]]).dtype == np.float32  # integers -> float32


def test_sparse_softmax_cross_entropy_is_the_mean(rng):
    logits, labels = rng.normal(size=(7, 4)), rng.integers(0, 4, 7)
    per_example = losses.sparse_categorical_crossentropy(labels, logits, True)
    got = losses.sparse_softmax_cross_entropy(labels, logits)
    assert got.shape == ()
    np.testing.assert_allclose(got.numpy(), per_example.numpy().mean(), rtol=1e-12)


def test_ignore_class_zeroes_loss_and_gradient(rng):
    logits, labels = rng.normal(size=(4, 3)), np.array([0, -1, 2, -1])
    got = losses.sparse_categorical_crossentropy(labels, logits, True, ignore_class=-1)
    expected = -_log_softmax(logits)[[0, 2], [0, 2]]
    np.testing.assert_allclose(got.numpy()[[0, 2]], expected, rtol=1e-12)
    assert (got.numpy()[[1, 3]] == 0).all()
    f = lambda x: losses.sparse_categorical_crossentropy(
        labels, x, from_logits=True, ignore_class=-1
    )
    assert (_grad(f, logits)[[1, 3]] == 0).all()


# -- agreement with torch -----------------------------------------------------


def test_crossentropies_agree_with_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    logits, labels = rng.normal(size=(8, 5)) * 3, rng.integers(0, 5, 8)
    tl, ty = torch.tensor(logits), torch.tensor(labels)

    def close(ours, theirs):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)

    close(
        losses.sparse_categorical_crossentropy(labels, logits, from_logits=True),
        F.cross_entropy(tl, ty, reduction="none"),
    )
    soft = _probs(rng, (8, 5))
    close(
        losses.categorical_crossentropy(
            soft, logits, from_logits=True, label_smoothing=0.2
        ),
        F.cross_entropy(tl, torch.tensor(soft), reduction="none", label_smoothing=0.2),
    )
    masked = np.where(rng.random(8) < 0.3, -1, labels)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    close(
        loss(masked, logits), F.cross_entropy(tl, torch.tensor(masked), ignore_index=-1)
    )
    z = rng.integers(0, 2, (8, 5)).astype(float)
    close(
        losses.binary_crossentropy(z, logits, from_logits=True),
        F.binary_cross_entropy_with_logits(tl, torch.tensor(z), reduction="none").mean(
            -1
        ),
    )
    p = 1 / (1 + np.exp(-logits / 3))
    close(
        losses.binary_crossentropy(z, p),
        F.binary_cross_entropy(torch.tensor(p), torch.tensor(z), reduction="none").mean(
            -1
        ),
    )


def test_regression_losses_agree_with_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    t, p = rng.normal(size=(6, 4)), rng.normal(size=(6, 4)) * 2
    tt, tp = torch.tensor(t), torch.tensor(p)

    def close(ours, theirs):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)

    close(losses.mse(t, p), F.mse_loss(tp, tt, reduction="none").mean(-1))
    close(losses.mae(t, p), F.l1_loss(tp, tt, reduction="none").mean(-1))
    for delta in (0.5, 1.0, 2.0):
        close(
            losses.huber(t, p, delta=delta),
            F.huber_loss(tp, tt, reduction="none", delta=delta).mean(-1),
        )
        close(
            losses.Huber(delta=delta)(t, p),
            F.huber_loss(tp, tt, reduction="mean", delta=delta),
        )
    close(losses.cosine_similarity(t, p), -F.cosine_similarity(tt, tp, dim=-1))


def test_kl_divergence_agrees_with_torch_conventions(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    y, q = _probs(rng, (6, 4)), _probs(rng, (6, 4))
    ours = losses.kl_divergence(y, q).numpy()
    # torch takes the log of the prediction as input; the target as
    # probabilities, or as log-probabilities with log_target=True.
    theirs = F.kl_div(torch.log(torch.tensor(q)), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(ours, theirs.sum(-1).numpy(), rtol=1e-6)
    theirs = F.kl_div(
        torch.log(torch.tensor(q)),
        torch.log(torch.tensor(y)),
        reduction="none",
        log_target=True,
    )
    np.testing.assert_allclose(ours, theirs.sum(-1).numpy(), rtol=1e-6)
    total = losses.KLDivergence(reduction="sum")(y, q).numpy()
    theirs = F.kl_div(torch.log(torch.tensor(q)), torch.tensor(y), reduction="sum")
    np.testing.assert_allclose(total, theirs.numpy(), rtol=1e-6)


# -- gradients ----------------------------------------------------------------


def test_crossentropy_gradients(rng):
    labels = rng.integers(0, 4, 3)
    logits = rng.normal(size=(3, 4))
    soft = _probs(rng, (3, 4))
    z = rng.uniform(0, 1, (3, 4))
    check_gradients(
        lambda x: losses.sparse_categorical_crossentropy(labels, x, True),
        logits,
        order=2,
    )
    check_gradients(
        lambda x: losses.sparse_categorical_crossentropy(labels, x), _probs(rng, (3, 4))
    )
    check_gradients(
        lambda x: losses.sparse_categorical_crossentropy(
            labels[:2], x, from_logits=True, axis=0
        ),
        rng.normal(size=(4, 2)),
    )
    check_gradients(
        lambda y, x: losses.categorical_crossentropy(
            y, x, from_logits=True, label_smoothing=0.1
        ),
        soft,
        logits,
        order=2,
    )
    check_gradients(
        lambda y, x: losses.categorical_crossentropy(y, x), soft, _probs(rng, (3, 4))
    )
    check_gradients(
        lambda y, x: losses.binary_crossentropy(y, x, from_logits=True), z, logits
    )
    check_gradients(
        lambda y, x: losses.binary_crossentropy(y, x, label_smoothing=0.2),
        z,
        rng.uniform(0.05, 0.95, (3, 4)),
    )
    check_gradients(losses.kl_divergence, soft, _probs(rng, (3, 4)))


def test_regression_gradients(rng):
    t = rng.normal(size=(3, 4))
    p = t + rng.choice([-1, 1], (3, 4)) * rng.uniform(0.1, 2.5, (3, 4))
    for fn in (losses.mean_squared_error, losses.log_cosh, losses.cosine_similarity):
        check_gradients(fn, t, p, order=2)
    check_gradients(losses.mean_absolute_error, t, p)
    # Kinks at |error| == delta are avoided: errors lie in 0.1 .. 2.5 away from 0.7.
    p = t + rng.choice([-1, 1], (3, 4)) * rng.choice([0.3, 1.5], (3, 4))
    check_gradients(lambda a, b: losses.huber(a, b, delta=0.7), t, p)
    scores = rng.choice([-1, 1], (3, 4)) * rng.uniform(0.2, 0.8, (3, 4))
    labels = rng.integers(0, 2, (3, 4))
    check_gradients(lambda x: losses.hinge(labels, x), scores)


def test_gradients_of_the_class_forms_with_sample_weight(rng):
    logits, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, 5)
    weights = rng.uniform(0, 2, 5)
    for reduction in ("sum_over_batch_size", "sum", "none"):
        loss = losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction=reduction
        )
        check_gradients(lambda x, f=loss: f(labels, x, sample_weight=weights), logits)
    loss = losses.MeanSquaredError()
    check_gradients(
        lambda y, x: loss(y, x, sample_weight=weights[:, None]),
        rng.normal(size=(5,)),
        rng.normal(size=(5, 1)),
    )


# -- stability ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_of_1e4_give_finite_values_and_gradients(dtype, no_warnings):
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], dtype)
    labels = np.array([2, 0])
    fns = [
        lambda x: losses.sparse_categorical_crossentropy(labels, x, from_logits=True),
        lambda x: losses.categorical_crossentropy(np.eye(3)[labels], x, True, 0.1),
        lambda x: losses.binary_crossentropy(np.eye(3)[labels], x, from_logits=True),
        lambda x: losses.SparseCategoricalCrossentropy(True)(labels, x),
        lambda x: losses.log_cosh(np.zeros_like(x), x),
    ]
    for f in fns:
        assert np.isfinite(f(logits).numpy()).all()
        assert np.isfinite(_grad(f, logits)).all()
    values = losses.sparse_categorical_crossentropy(labels, logits, True).numpy()
    np.testing.assert_array_equal(values, [2e4, 2e4])


def test_probabilities_of_zero_and_one_give_finite_values(no_warnings):
    p = np.array([[0.0, 1.0], [1.0, 0.0]])
    fns = [
        lambda x: losses.sparse_categorical_crossentropy([0, 1], x),
        lambda x: losses.categorical_crossentropy(np.eye(2), x),
        lambda x: losses.binary_crossentropy(np.eye(2), x),
        lambda x: losses.kl_divergence(np.eye(2), x),
    ]
    for f in fns:
        values = f(p).numpy()
        assert np.isfinite(values).all() and (values <= -np.log(EPS) + 1e-6).all()
        assert np.isfinite(_grad(f, p)).all()


# -- bad input ----------------------------------------------------------------


@pytest.mark.parametrize("label", [10, -1])
def test_label_out_of_range_raises_before_computing(label, monkeypatch):
    def never(*args):
        raise AssertionError("computed before checking the labels")

    from nnlib.losses import probabilistic

    monkeypatch.setattr(
        probabilistic, "sparse_softmax_cross_entropy_with_logits", never
    )
    monkeypatch.setattr(probabilistic, "one_hot", never)
    logits = np.zeros((3, 10), np.float32)
    for from_logits in (True, False):
        with pytest.raises(ValueError, match=rf"label {label} outside \[0, 10\)"):
            losses.sparse_categorical_crossentropy([1, label, 2], logits, from_logits)
    with pytest.raises(ValueError, match=rf"label {label} outside \[0, 10\)"):
        losses.SparseCategoricalCrossentropy()([[1], [label], [2]], logits)


def test_bad_sparse_labels():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"whole numbers, got 1.5"):
        losses.sparse_categorical_crossentropy([0.0, 1.5], p)
    np.testing.assert_allclose(  # float labels holding whole numbers are fine
        losses.sparse_categorical_crossentropy([0.0, 2.0], p).numpy(), [np.log(3)] * 2
    )
    with pytest.raises(
        ValueError, match=r"\(2, 3\).*\(2, 3\).*categorical_crossentropy"
    ):
        losses.sparse_categorical_crossentropy(np.eye(3)[:2], p)
    with pytest.raises(TypeError, match="integers"):
        losses.sparse_categorical_crossentropy(np.array([True, False]), p)
    # ignore_class may lie outside the classes; other labels still may not.
    losses.sparse_categorical_crossentropy([255, 1], p, ignore_class=255)
    with pytest.raises(ValueError, match=r"label 3 outside \[0, 3\)"):
        losses.sparse_categorical_crossentropy([255, 3], p, ignore_class=255)


def test_categorical_crossentropy_rejects_wrong_targets():
    p = np.full((4, 10), 0.1)
    with pytest.raises(ValueError) as err:
        losses.categorical_crossentropy(np.eye(5)[[0, 1, 2, 3]], p)
    message = str(err.value)
    assert "(4, 5)" in message and "(4, 10)" in message
    assert "use sparse_categorical_crossentropy" in message
    for labels in ([1, 2, 3, 4], [[1], [2], [3], [4]]):
        with pytest.raises(ValueError, match="use sparse_categorical_crossentropy"):
            losses.categorical_crossentropy(labels, p)
    with pytest.raises(ValueError, match="use sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(np.array([[3, 0], [1, 2]]), np.ones((2, 2)))
    with pytest.warns(UserWarning, match="binary_crossentropy"):
        losses.categorical_crossentropy([[1.0]], [[1.0]])


def test_shapes_follow_keras_trailing_one_rule_and_raise_otherwise():
    y = np.arange(32.0)
    assert losses.mse(y, y[:, None]).shape == (32,)
    assert losses.mse(y[:, None], y).shape == (32,)
    assert losses.mse(np.zeros((4, 3, 1)), np.zeros((4, 3))).shape == (4,)
    assert losses.binary_crossentropy(np.ones(4), np.full((4, 1), 0.5)).shape == (4,)
    for fn in (losses.mse, losses.mae, losses.huber, losses.binary_crossentropy):
        with pytest.raises(ValueError, match=r"y_true \(32,\) and y_pred \(32, 10\)"):
            fn(y, np.full((32, 10), 0.5))
        with pytest.raises(ValueError, match=r"\(4, 3\) and y_pred \(4, 1, 3\)"):
            fn(np.zeros((4, 3)), np.full((4, 1, 3), 0.5))


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]], label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.binary_crossentropy([1.0], [0.5], label_smoothing=-0.1)
    with pytest.raises(ValueError, match="delta"):
        losses.huber([1.0], [0.5], delta=0.0)
    with pytest.raises(TypeError, match="axis"):
        losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]], axis=True)
    with pytest.raises(ValueError, match="axis 2"):
        losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]], axis=2)
    with pytest.raises(ValueError, match="class axis"):
        losses.sparse_categorical_crossentropy(0, 1.0)
