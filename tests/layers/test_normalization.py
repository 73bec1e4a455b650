"""BatchNormalization and LayerNormalization against numpy (and torch where installed)."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import BatchNormalization, Dense, LayerNormalization
from nnlib.test_util import check_gradients


def _bn_reference(x, mean, var, gamma, beta, eps, axis):
    shape = [1] * x.ndim
    shape[axis] = -1
    mean, var, gamma, beta = (np.reshape(p, shape) for p in (mean, var, gamma, beta))
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _batch_stats(x, axis):
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    return x.mean(axis=axes), x.var(axis=axes)


def _variable_gradient(f, variable, dy, eps=1e-6):
    """Finite differences of ``sum(f() * dy)`` w.r.t. a variable, by assignment."""
    base = np.array(variable.numpy(), np.float64)
    grad = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        sums = []
        for step in (eps, -eps):
            value = base.copy()
            value[index] += step
            variable.assign(value)
            sums.append(float(np.sum(f().numpy() * dy)))
        grad[index] = (sums[0] - sums[1]) / (2 * eps)
    variable.assign(base)
    return grad


def _randomize(layer, rng):
    """Random gamma and beta (and positive moving variance), so none hides a bug."""
    weights = []
    for v in layer.weights:
        low = 0.5 if v.name.endswith(("gamma", "variance")) else -1.0
        weights.append(rng.uniform(low, 2.0, v.shape))
    layer.set_weights(weights)


# -- BatchNormalization -----------------------------------------------------------


@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 3, 2)])
def test_bn_training_output_is_normalized_per_channel(shape):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=shape) * 3 + 7).astype(np.float32)
    bn = BatchNormalization(epsilon=1e-5)
    out = bn(x, training=True).numpy()
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=axes), 1, atol=1e-4)
    mean, var = _batch_stats(x, -1)
    expected = _bn_reference(
        x, mean, var, np.ones(shape[-1]), np.zeros(shape[-1]), 1e-5, -1
    )
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_bn_scale_and_center_apply_gamma_and_beta():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 4)).astype(np.float32)
    bn = BatchNormalization()
    bn(x)
    _randomize(bn, rng)
    gamma, beta, _, _ = bn.get_weights()
    mean, var = _batch_stats(x, -1)
    np.testing.assert_allclose(
        bn(x, training=True).numpy(),
        _bn_reference(x, mean, var, gamma, beta, 1e-3, -1),
        rtol=1e-4,
        atol=1e-5,
    )


def test_bn_moving_statistics_after_k_steps_equal_the_closed_form():
    rng = np.random.default_rng(2)
    momentum, k = 0.8, 5
    batches = [
        (rng.normal(size=(10, 3)) * (i + 1) + i).astype(np.float32) for i in range(k)
    ]
    bn = BatchNormalization(momentum=momentum)
    for x in batches:
        bn(x, training=True)
    # moving_k = m^k * initial + (1 - m) * sum_j m^(k - j) * stat_j (j = 1..k)
    weights = [(1 - momentum) * momentum ** (k - 1 - j) for j in range(k)]
    means = [x.mean(axis=0) for x in batches]
    variances = [x.var(axis=0) for x in batches]  # biased, as Keras 3
    expected_mean = momentum**k * 0 + sum(w * m for w, m in zip(weights, means))
    expected_var = momentum**k * 1 + sum(w * v for w, v in zip(weights, variances))
    np.testing.assert_allclose(bn.moving_mean.numpy(), expected_mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), expected_var, rtol=1e-5)


def test_bn_inference_uses_the_moving_statistics_and_leaves_them_alone():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 4)).astype(np.float32) * 2 + 1
    bn = BatchNormalization()
    bn(x, training=True)
    _randomize(bn, rng)
    gamma, beta, mean, var = bn.get_weights()
    expected = _bn_reference(x, mean, var, gamma, beta, 1e-3, -1)
    for training in (None, False):
        np.testing.assert_allclose(
            bn(x, training=training).numpy(), expected, rtol=1e-5, atol=1e-6
        )
    np.testing.assert_array_equal(bn.get_weights()[2], mean)
    np.testing.assert_array_equal(bn.get_weights()[3], var)


def test_bn_weights_follow_keras_order_names_and_trainability():
    bn = BatchNormalization(name="bn_w")
    bn(np.zeros((2, 3), np.float32))
    assert [v.name for v in bn.weights] == [
        "bn_w/gamma",
        "bn_w/beta",
        "bn_w/moving_mean",
        "bn_w/moving_variance",
    ]
    assert [v.name for v in bn.trainable_weights] == ["bn_w/gamma", "bn_w/beta"]
    assert [w.tolist() for w in bn.get_weights()] == [
        [1] * 3,
        [0] * 3,
        [0] * 3,
        [1] * 3,
    ]
    bare = BatchNormalization(center=False, scale=False, name="bn_bare")
    bare(np.zeros((2, 3), np.float32))
    assert [v.name for v in bare.weights] == [
        "bn_bare/moving_mean",
        "bn_bare/moving_variance",
    ]
    assert bare.count_params() == 6


def test_bn_moving_statistics_get_no_gradient_and_are_not_recorded():
    bn = BatchNormalization(dtype="float64")
    x = np.random.default_rng(4).normal(size=(6, 3))
    w = np.random.default_rng(5).normal(size=(6, 3))
    _, grads = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_sum(bn(x, training=True) * w)
    )()
    assert [v.name for _, v in grads] == [bn.gamma.name, bn.beta.name]


def test_bn_gradients_in_training_mode_match_finite_differences():
    rng = np.random.default_rng(6)
    bn = BatchNormalization(dtype="float64")
    x = rng.normal(size=(5, 3)) * 2 + 1
    bn(x)
    _randomize(bn, rng)
    check_gradients(lambda x: bn(x, training=True), x, order=2)
    dy = rng.normal(size=x.shape)
    with nnlib.GradientTape() as tape:
        y = bn(x, training=True)
    dgamma, dbeta = tape.gradient(y, [bn.gamma, bn.beta], output_gradients=dy)
    mean, var = _batch_stats(x, -1)
    xhat = (x - mean) / np.sqrt(var + 1e-3)
    np.testing.assert_allclose(dgamma.numpy(), (dy * xhat).sum(0), rtol=1e-10)
    np.testing.assert_allclose(dbeta.numpy(), dy.sum(0), rtol=1e-10)
    for variable, grad in ((bn.gamma, dgamma), (bn.beta, dbeta)):
        numeric = _variable_gradient(lambda: bn(x, training=True), variable, dy)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_bn_gradients_in_inference_mode_match_finite_differences():
    rng = np.random.default_rng(7)
    bn = BatchNormalization(axis=1, dtype="float64")
    x = rng.normal(size=(2, 3, 2))
    bn(x)
    _randomize(bn, rng)
    check_gradients(lambda x: bn(x), x, order=2)
    dy = rng.normal(size=x.shape)
    with nnlib.GradientTape() as tape:
        y = bn(x)
    for variable, grad in zip(
        [bn.gamma, bn.beta], tape.gradient(y, [bn.gamma, bn.beta], dy)
    ):
        numeric = _variable_gradient(lambda: bn(x), variable, dy)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_bn_channels_first_normalizes_axis_1():
    rng = np.random.default_rng(8)
    x = (rng.normal(size=(4, 3, 5, 5)) * 2 - 1).astype(np.float32)
    bn = BatchNormalization(axis=1, momentum=0.5)
    bn(x)
    _randomize(bn, rng)
    gamma, beta, mean0, var0 = bn.get_weights()
    mean, var = _batch_stats(x, 1)
    np.testing.assert_allclose(
        bn(x, training=True).numpy(),
        _bn_reference(x, mean, var, gamma, beta, 1e-3, 1),
        rtol=1e-4,
        atol=1e-5,
    )
    assert bn.gamma.shape == (3,)
    moving_mean, moving_var = 0.5 * mean0 + 0.5 * mean, 0.5 * var0 + 0.5 * var
    np.testing.assert_allclose(bn.moving_mean.numpy(), moving_mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), moving_var, rtol=1e-5)
    np.testing.assert_allclose(
        bn(x).numpy(),
        _bn_reference(x, moving_mean, moving_var, gamma, beta, 1e-3, 1),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.parametrize("freeze", ["constructor", "attribute", "network"])
def test_bn_that_is_not_trainable_runs_in_inference_mode(freeze):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(8, 3)).astype(np.float32) * 3 + 2
    bn = BatchNormalization(trainable=freeze != "constructor")
    model = nnlib.Sequential([Dense(3, kernel_initializer="identity"), bn])
    model(x)
    _randomize(bn, rng)
    if freeze == "attribute":
        bn.trainable = False
    elif freeze == "network":
        model.trainable = False
    gamma, beta, mean, var = bn.get_weights()
    out = model(x, training=True).numpy()
    np.testing.assert_allclose(
        out, _bn_reference(x, mean, var, gamma, beta, 1e-3, -1), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mean)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), var)
    assert bn.trainable_variables == []


def test_training_flag_of_a_network_reaches_bn():
    x = np.random.default_rng(10).normal(size=(8, 2)).astype(np.float32) + 5
    bn = BatchNormalization(input_shape=(2,))
    model = nnlib.Sequential([bn])
    model(x, training=True)
    assert np.all(bn.moving_mean.numpy() > 0)


def test_bn_config_round_trip():
    bn = BatchNormalization(
        axis=1,
        momentum=0.9,
        epsilon=1e-5,
        center=False,
        gamma_initializer="he_normal",
        gamma_regularizer="l2",
        name="cfg_bn",
    )
    clone = BatchNormalization.from_config(bn.get_config())
    assert clone.get_config() == {**bn.get_config(), "name": clone.name}
    assert (clone.axis, clone.momentum, clone.epsilon, clone.center) == (
        1,
        0.9,
        1e-5,
        False,
    )
    clone(np.ones((2, 4, 3), np.float32))
    assert [v.name.split("/")[-1] for v in clone.weights] == [
        "gamma",
        "moving_mean",
        "moving_variance",
    ]
    assert len(clone.losses) == 1


def test_bn_bad_hyperparameters_and_inputs_raise_naming_the_layer():
    with pytest.raises(ValueError, match=r"BatchNormalization: momentum must be in"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match=r"BatchNormalization: epsilon"):
        BatchNormalization(epsilon=-1.0)
    with pytest.raises(TypeError, match=r"BatchNormalization: axis must be an integer"):
        BatchNormalization(axis=[1, 2])
    with pytest.raises(ValueError, match=r"'bn_axis'.*axis 3 is out of range.*rank 2"):
        BatchNormalization(axis=3, name="bn_axis")(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'bn_rank'.*rank at least 2"):
        BatchNormalization(name="bn_rank")(np.ones(3))
    bn = BatchNormalization(name="bn_chan")
    bn(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'bn_chan'.*dimension 1 3.*\(2, 4\)"):
        bn(np.ones((2, 4)))


def test_bn_matches_torch_batchnorm2d_in_train_and_eval_mode():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = (rng.normal(size=(4, 3, 5, 5)) * 2 + 1).astype(np.float32)
    momentum, eps = 0.9, 1e-3
    bn = BatchNormalization(axis=1, momentum=momentum, epsilon=eps)
    bn(x)
    _randomize(bn, rng)
    gamma, beta, mean0, var0 = bn.get_weights()
    ref = torch.nn.BatchNorm2d(3, eps=eps, momentum=1 - momentum)
    with torch.no_grad():
        for p, v in zip(
            (ref.weight, ref.bias, ref.running_mean, ref.running_var),
            (gamma, beta, mean0, var0),
        ):
            p.copy_(torch.from_numpy(v))
    ref.train()
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = ref(tx)
    dy = rng.normal(size=x.shape).astype(np.float32)
    ty.backward(torch.from_numpy(dy))
    with nnlib.GradientTape() as tape:
        xt = nnlib.constant(x)
        tape.watch(xt)
        y = bn(xt, training=True)
    dx, dgamma, dbeta = tape.gradient(y, [xt, bn.gamma, bn.beta], dy)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(
        dgamma.numpy(), ref.weight.grad.numpy(), rtol=1e-3, atol=1e-4
    )
    np.testing.assert_allclose(
        dbeta.numpy(), ref.bias.grad.numpy(), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        bn.moving_mean.numpy(), ref.running_mean.numpy(), rtol=1e-5, atol=1e-6
    )
    # torch's running_var averages the unbiased variance; ours (Keras 3) the biased.
    n = x.size // 3
    _, batch_var = _batch_stats(x, 1)
    torch_var = momentum * var0 + (1 - momentum) * batch_var * n / (n - 1)
    np.testing.assert_allclose(ref.running_var.numpy(), torch_var, rtol=1e-5)
    np.testing.assert_allclose(
        bn.moving_variance.numpy(),
        momentum * var0 + (1 - momentum) * batch_var,
        rtol=1e-5,
    )
    bn.moving_variance.assign(ref.running_var.detach().numpy())
    ref.eval()
    np.testing.assert_allclose(
        bn(x).numpy(), ref(tx).detach().numpy(), rtol=1e-4, atol=1e-5
    )


# -- LayerNormalization -----------------------------------------------------------


def _ln_reference(x, gamma, beta, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]
    return (x - mean) / np.sqrt(var + eps) * np.reshape(gamma, shape) + np.reshape(
        beta, shape
    )


@pytest.mark.parametrize("axis, axes", [(-1, (2,)), ([1, 2], (1, 2)), (1, (1,))])
def test_ln_matches_numpy(axis, axes):
    rng = np.random.default_rng(12)
    x = (rng.normal(size=(2, 3, 4)) * 3 + 1).astype(np.float32)
    ln = LayerNormalization(axis=axis)
    ln(x)
    assert ln.gamma.shape == tuple(x.shape[a] for a in axes)
    _randomize(ln, rng)
    gamma, beta = ln.get_weights()
    for training in (True, False):
        np.testing.assert_allclose(
            ln(x, training=training).numpy(),
            _ln_reference(x, gamma, beta, axes, 1e-3),
            rtol=1e-4,
            atol=1e-5,
        )


def test_ln_on_the_last_axis_accepts_inputs_of_another_rank():
    rng = np.random.default_rng(13)
    ln = LayerNormalization()
    ln(rng.normal(size=(2, 4)).astype(np.float32))
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ln(x).numpy(),
        _ln_reference(x, np.ones(4), np.zeros(4), (2,), 1e-3),
        rtol=1e-4,
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="last dimension 4"):
        ln(np.ones((2, 5), np.float32))
    fixed = LayerNormalization(axis=1, name="ln_fixed")
    fixed(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"'ln_fixed'.*rank 2"):
        fixed(np.ones((2, 4, 1), np.float32))


def test_ln_gradients_match_finite_differences():
    rng = np.random.default_rng(14)
    ln = LayerNormalization(axis=[1, 2], dtype="float64")
    x = rng.normal(size=(2, 3, 2))
    ln(x)
    _randomize(ln, rng)
    check_gradients(lambda x: ln(x), x, order=2)
    dy = rng.normal(size=x.shape)
    with nnlib.GradientTape() as tape:
        y = ln(x)
    grads = tape.gradient(y, [ln.gamma, ln.beta], output_gradients=dy)
    for variable, grad in zip([ln.gamma, ln.beta], grads):
        numeric = _variable_gradient(lambda: ln(x), variable, dy)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_ln_weights_config_and_errors():
    ln = LayerNormalization(axis=[1, 2], epsilon=1e-5, scale=False, name="cfg_ln")
    ln(np.ones((2, 3, 4), np.float32))
    assert [v.name for v in ln.weights] == ["cfg_ln/beta"]
    clone = LayerNormalization.from_config(ln.get_config())
    assert clone.get_config() == {**ln.get_config(), "name": clone.name}
    assert clone.axis == [1, 2] and not clone.scale
    with pytest.raises(TypeError, match="LayerNormalization: axis must be an integer"):
        LayerNormalization(axis=1.5)
    with pytest.raises(ValueError, match="LayerNormalization: axis must not be empty"):
        LayerNormalization(axis=[])
    with pytest.raises(ValueError, match="LayerNormalization: epsilon"):
        LayerNormalization(epsilon=-1e-3)
    with pytest.raises(ValueError, match=r"'ln_rep'.*out of range or repeated"):
        LayerNormalization(axis=[1, -1], name="ln_rep")(np.ones((2, 3)))


def test_ln_matches_torch_layer_norm():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(15)
    x = (rng.normal(size=(3, 4, 5)) * 2 + 1).astype(np.float32)
    ln = LayerNormalization(axis=[1, 2], epsilon=1e-5)
    ln(x)
    _randomize(ln, rng)
    gamma, beta = ln.get_weights()
    tx = torch.from_numpy(x).requires_grad_(True)
    tg = torch.from_numpy(gamma).requires_grad_(True)
    tb = torch.from_numpy(beta).requires_grad_(True)
    ty = torch.nn.functional.layer_norm(tx, (4, 5), tg, tb, eps=1e-5)
    dy = rng.normal(size=x.shape).astype(np.float32)
    ty.backward(torch.from_numpy(dy))
    with nnlib.GradientTape() as tape:
        xt = nnlib.constant(x)
        tape.watch(xt)
        y = ln(xt)
    grads = tape.gradient(y, [xt, ln.gamma, ln.beta], dy)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    for ours, theirs in zip(grads, (tx.grad, tg.grad, tb.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-3, atol=1e-4)
