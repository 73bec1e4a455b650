"""Normalization ops against numpy formulas, each other, finite differences and torch."""

import numpy as np
import pytest

import nnlib
from nnlib.test_util import check_gradients

_RNG = np.random.default_rng(7)


def _rand(*shape, low=-2.0, high=2.0, dtype=np.float64):
    return _RNG.uniform(low, high, shape).astype(dtype)


def _ref_normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps), mean, var


def _gradients(f, args, dys, tensor_mode=False):
    tensors = [None if a is None else nnlib.constant(a) for a in args]
    sources = [t for t in tensors if t is not None]

    def run():
        with nnlib.GradientTape() as tape:
            for t in sources:
                tape.watch(t)
            out = f(*tensors)
        outs = list(out) if isinstance(out, tuple) else [out]
        return tape.gradient(
            outs[: len(dys)],
            sources,
            output_gradients=[nnlib.constant(d) for d in dys],
            unconnected_gradients="zero",
        )

    if tensor_mode:
        with nnlib.GradientTape():  # an outer tape makes the rules run on Tensors
            grads = run()
    else:
        grads = run()
    return [g.numpy() for g in grads]


def _composed_bn(axes, eps):
    def f(x, scale, offset):
        mean, var = nnlib.moments(x, axes, keepdims=True)
        if scale is not None:
            scale = nnlib.reshape(scale, mean.shape)
        if offset is not None:
            offset = nnlib.reshape(offset, mean.shape)
        y = nnlib.batch_normalization(x, mean, var, offset, scale, eps)
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        return y, nnlib.reshape(mean, shape), nnlib.reshape(var, shape)

    return f


def _fused_bn(axes, eps):
    return lambda x, scale, offset: nnlib.fused_batch_norm(x, scale, offset, axes, eps)


# ---------------------------------------------------------------- batch_normalization


@pytest.mark.parametrize(
    "x_shape, stat_shape, param_shape",
    [((2, 3, 4), (4,), (4,)), ((2, 3, 4), (1, 3, 1), (3, 1)), ((5, 2), (5, 1), None)],
)
def test_batch_normalization_matches_formula(x_shape, stat_shape, param_shape):
    x, mean = _rand(*x_shape), _rand(*stat_shape)
    var = _rand(*stat_shape, low=0.1, high=2.0)
    offset = None if param_shape is None else _rand(*param_shape)
    scale = None if param_shape is None else _rand(*param_shape)
    y = nnlib.batch_normalization(x, mean, var, offset, scale, 1e-3).numpy()
    expected = (x - mean) / np.sqrt(var + 1e-3)
    if scale is not None:
        expected = expected * scale + offset
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_batch_normalization_keeps_float32_and_converts_arrays():
    x = np.ones((2, 3), np.float32)
    y = nnlib.batch_normalization(x, np.zeros(3), np.ones(3), None, [2.0] * 3, 0.0)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), 2 * x)


def test_batch_normalization_gradients_reach_all_five_arguments():
    args = [_rand(2, 3), _rand(3), _rand(3, low=0.5), _rand(3), _rand(3)]
    check_gradients(
        lambda x, m, v, b, g: nnlib.batch_normalization(x, m, v, b, g, 1e-2), *args
    )


def test_batch_normalization_rejects_shapes_that_change_x():
    with pytest.raises(ValueError, match=r"scale of shape \(2, 3\).*shape \(3,\)"):
        nnlib.batch_normalization(np.ones(3), 0.0, 1.0, None, np.ones((2, 3)), 1e-3)
    with pytest.raises(ValueError, match=r"mean of shape \(4,\).*\(2, 3\)"):
        nnlib.batch_normalization(np.ones((2, 3)), np.ones(4), 1.0, None, None)


def test_batch_normalization_rejects_other_dtypes():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="variance has dtype float64 but x has float32"):
        nnlib.batch_normalization(x, 0.0, nnlib.constant(np.ones(3)), None, None)
    with pytest.raises(TypeError, match="floating point"):
        nnlib.batch_normalization(np.ones(3, int), 0.0, 1.0, None, None)


# ---------------------------------------------------------------- moments


@pytest.mark.parametrize("axes, keepdims", [(0, False), ((0, 2), True), (-1, False)])
def test_moments_match_numpy(axes, keepdims):
    x = _rand(3, 4, 5)
    mean, var = nnlib.moments(x, axes, keepdims=keepdims)
    np.testing.assert_allclose(mean.numpy(), x.mean(axes, keepdims=keepdims))
    np.testing.assert_allclose(var.numpy(), x.var(axes, keepdims=keepdims))


def test_moments_second_derivative_sees_the_mean():
    # With a stop_gradient on the mean (tf.nn.moments' trick) the first
    # derivative is right and the second is not; ours composes exactly.
    check_gradients(lambda x: nnlib.moments(x, 0)[1], _rand(5, 2), order=3)


# ---------------------------------------------------------------- fused_batch_norm

_LAYOUTS = [
    ((4, 3, 3, 2), (0, 1, 2), (2,)),  # channels last: the tiled fast path
    ((3, 2, 4, 2), (0, 2, 3), (2,)),  # channels first
    ((3, 2, 4, 2), (0, 2, 3), (1, 2, 1, 1)),  # kept-shape parameters
    ((6, 5), (0, 1), ()),  # statistics over everything
    ((2, 3, 2), (1,), (2, 2)),  # axes in the middle
]


@pytest.mark.parametrize("shape, axes, pshape", _LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_batch_norm_matches_formula(shape, axes, pshape, dtype):
    x = _rand(*shape, dtype=dtype) * 3 + 1
    scale, offset = _rand(*pshape, dtype=dtype), _rand(*pshape, dtype=dtype)
    y, mean, var = nnlib.fused_batch_norm(x, scale, offset, axes, 1e-3)
    xhat, ref_mean, ref_var = _ref_normalize(x.astype(np.float64), axes, 1e-3)
    kept = ref_mean.shape
    expected = xhat * scale.reshape(kept if pshape else ()) + offset.reshape(
        kept if pshape else ()
    )
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert y.dtype == mean.dtype == var.dtype == dtype
    stats_shape = tuple(d for i, d in enumerate(shape) if i not in axes)
    assert y.shape == shape and mean.shape == var.shape == stats_shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(mean.numpy().ravel(), ref_mean.ravel(), rtol=tol)
    np.testing.assert_allclose(var.numpy().ravel(), ref_var.ravel(), rtol=tol)


@pytest.mark.parametrize("shape, axes, pshape", _LAYOUTS)
def test_fused_batch_norm_first_order_on_arrays_matches_finite_differences(
    shape, axes, pshape
):
    # check_gradients' first-order pass runs the rules on plain arrays.
    args = [_rand(*shape), _rand(*pshape, low=0.5), _rand(*pshape)]
    check_gradients(_fused_bn(axes, 1e-3), *args)


@pytest.mark.parametrize(
    "shape, axes",
    [
        ((64, 13, 13, 8), (0, 1, 2)),  # tiled rows of 1024 channel vectors
        ((4, 4096), (0,)),  # 2 tiles per row, 2 rows
        ((5, 7, 3), (0, 1)),  # 35 rows: one row of 35 tiles
        ((8, 3, 5, 5), (0, 2, 3)),
    ],
)
@pytest.mark.parametrize("outputs", [1, 3])
def test_fused_batch_norm_gradients_equal_the_composition(shape, axes, outputs):
    x = _rand(*shape) * 2 + 0.5
    pshape = tuple(d for i, d in enumerate(shape) if i not in axes)
    scale, offset = _rand(*pshape, low=0.5), _rand(*pshape)
    y_shape = [shape, pshape, pshape][:outputs]
    dys = [_rand(*s) for s in y_shape]
    composed = _gradients(_composed_bn(axes, 1e-3), [x, scale, offset], dys)
    for tensor_mode in (False, True):
        fused = _gradients(_fused_bn(axes, 1e-3), [x, scale, offset], dys, tensor_mode)
        for got, want in zip(fused, composed):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def test_fused_batch_norm_with_a_broadcast_upstream_gradient():
    # reduce_sum's gradient reaches the op as a read-only zero-stride view.
    x, w = nnlib.constant(_rand(6, 2, 3)), nnlib.constant(_rand(6, 2, 3))

    def grad(f):
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            y = f(x, np.ones(3), None)[0]
            loss = nnlib.reduce_sum(y * w) + nnlib.reduce_sum(y)
        return tape.gradient(loss, x).numpy()

    np.testing.assert_allclose(
        grad(_fused_bn((0, 1), 1e-3)), grad(_composed_bn((0, 1), 1e-3)), atol=1e-12
    )


def test_fused_batch_norm_second_and_third_derivatives():
    x, scale, offset = _rand(4, 3), _rand(3, low=0.5), _rand(3)
    check_gradients(_fused_bn((0,), 1e-2), x, scale, offset, order=2)
    check_gradients(lambda x: _fused_bn((0,), 1e-2)(x, scale, None), x, order=3)


def test_fused_batch_norm_hessian_vector_product_equals_the_composition():
    x, scale, offset = _rand(5, 2, 3), _rand(3, low=0.5), _rand(3)
    dy, v = _rand(5, 2, 3), _rand(5, 2, 3)

    def hvp(f):
        xt = nnlib.constant(x)
        with nnlib.GradientTape() as outer:
            outer.watch(xt)
            with nnlib.GradientTape() as inner:
                inner.watch(xt)
                y = f(xt, scale, offset)[0]
            g = inner.gradient(y, xt, output_gradients=dy)
            gv = nnlib.reduce_sum(g * v)
        return outer.gradient(gv, xt).numpy()

    np.testing.assert_allclose(
        hvp(_fused_bn((0, 1), 1e-3)), hvp(_composed_bn((0, 1), 1e-3)), rtol=1e-9
    )


def test_fused_batch_norm_trains_variables_and_allows_none():
    x = _rand(4, 3).astype(np.float32)
    gamma = nnlib.Variable(np.ones(3, np.float32), name="gamma")

    def loss(x):
        y, _, _ = nnlib.fused_batch_norm(x, gamma, None, axes=0)
        return nnlib.reduce_sum(y * y)

    ((grad, var),) = nnlib.implicit_gradients(loss)(x)
    assert var is gamma and grad.dtype == np.float32
    xhat = _ref_normalize(x.astype(np.float64), (0,), 1e-3)[0]
    np.testing.assert_allclose(grad.numpy(), 2 * (xhat**2).sum(0), rtol=1e-5)
    y, _, _ = nnlib.fused_batch_norm(x, None, None, axes=0, epsilon=0.0)
    np.testing.assert_allclose(y.numpy().std(0), 1.0, rtol=1e-5)


def test_fused_batch_norm_rejects_bad_parameters():
    x = np.ones((4, 5, 3), np.float32)
    with pytest.raises(
        ValueError, match=r"scale must have shape \(3,\).*\(4, 5, 3\).*got \(5,\)"
    ):
        nnlib.fused_batch_norm(x, np.ones(5), None, axes=(0, 1))
    with pytest.raises(
        ValueError, match=r"offset must have shape \(5,\) \(or \(1, 5, 1\)\)"
    ):
        nnlib.fused_batch_norm(x, None, np.ones(3), axes=(0, 2))
    with pytest.raises(TypeError, match="scale has dtype float64 but x has float32"):
        nnlib.fused_batch_norm(x, nnlib.constant(np.ones(3)), None, axes=(0, 1))
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        nnlib.fused_batch_norm(x, None, None, axes=(0, 3))
    with pytest.raises(TypeError, match="floating point"):
        nnlib.fused_batch_norm(np.ones((2, 3), int), None, None, axes=0)


# ---------------------------------------------------------------- layer_normalization


@pytest.mark.parametrize(
    "shape, axis, pshape",
    [((3, 4), -1, (4,)), ((2, 3, 4), (1, 2), (3, 4)), ((2, 3, 4), 1, (1, 3, 1))],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_normalization_matches_formula(shape, axis, pshape, dtype):
    x = _rand(*shape, dtype=dtype) * 3 - 1
    scale, offset = _rand(*pshape, dtype=dtype), _rand(*pshape, dtype=dtype)
    y = nnlib.layer_normalization(x, scale, offset, axis)
    axes = tuple(np.atleast_1d(axis) % len(shape))
    xhat = _ref_normalize(x.astype(np.float64), axes, 1e-3)[0]
    pkept = tuple(d if i in axes else 1 for i, d in enumerate(shape))
    expected = xhat * scale.reshape(pkept) + offset.reshape(pkept)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("tensor_mode", [False, True])
def test_layer_normalization_gradients_equal_the_composition(tensor_mode):
    x, scale, offset, dy = _rand(3, 5, 4), _rand(5, 4), _rand(5, 4), _rand(3, 5, 4)

    def composed(x, scale, offset):
        mean, var = nnlib.moments(x, (1, 2), keepdims=True)
        return nnlib.batch_normalization(x, mean, var, offset, scale, 1e-3)

    def fused(x, scale, offset):
        return nnlib.layer_normalization(x, scale, offset, axis=(-2, -1))

    want = _gradients(composed, [x, scale, offset], [dy])
    got = _gradients(fused, [x, scale, offset], [dy], tensor_mode)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


def test_layer_normalization_derivatives_without_parameters():
    check_gradients(lambda x: nnlib.layer_normalization(x, None, None), _rand(2, 5))
    check_gradients(
        lambda x: nnlib.layer_normalization(x, None, None, epsilon=1e-2),
        _rand(2, 4),
        order=3,
    )


def test_layer_normalization_rejects_bad_parameters():
    x = np.ones((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"scale must have shape \(4,\).*got \(3,\)"):
        nnlib.layer_normalization(x, np.ones(3), None)
    with pytest.raises(
        ValueError, match=r"offset must have shape \(3, 4\).*got \(4,\)"
    ):
        nnlib.layer_normalization(x, None, np.ones(4), axis=(1, 2))


# ---------------------------------------------------------------- against torch


def test_fused_batch_norm_matches_torch_training_mode():
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    x, w, b, dy = _rand(4, 3, 5, 2), _rand(3), _rand(3), _rand(4, 3, 5, 2)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    running_mean, running_var = (
        torch.zeros(3, dtype=torch.float64),
        torch.ones(3, dtype=torch.float64),
    )
    ty = f.batch_norm(tx, running_mean, running_var, tw, tb, True, 1.0, 1e-3)
    want = torch.autograd.grad(ty, [tx, tw, tb], torch.tensor(dy))
    y, mean, var = nnlib.fused_batch_norm(x, w, b, axes=(0, 2, 3), epsilon=1e-3)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    n = x.size / 3  # torch's running variance is the unbiased one
    np.testing.assert_allclose(mean.numpy(), running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        var.numpy() * n / (n - 1), running_var.numpy(), rtol=1e-5
    )
    got = _gradients(_fused_bn((0, 2, 3), 1e-3), [x, w, b], [dy])
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t.numpy(), rtol=1e-5, atol=1e-5)
    # The same data channels-last goes through the tiled fast path.
    perm = (0, 2, 3, 1)
    got = _gradients(
        _fused_bn((0, 1, 2), 1e-3), [x.transpose(perm), w, b], [dy.transpose(perm)]
    )
    np.testing.assert_allclose(got[0], want[0].numpy().transpose(perm), atol=1e-5)
    np.testing.assert_allclose(got[1], want[1].numpy(), rtol=1e-5, atol=1e-5)


def test_layer_normalization_matches_torch():
    torch = pytest.importorskip("torch")
    x, w, b, dy = _rand(3, 4, 6), _rand(4, 6), _rand(4, 6), _rand(3, 4, 6)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.layer_norm(tx, (4, 6), tw, tb, 1e-3)
    want = torch.autograd.grad(ty, [tx, tw, tb], torch.tensor(dy))
    y = nnlib.layer_normalization(x, w, b, axis=(1, 2))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    fn = lambda x, w, b: nnlib.layer_normalization(x, w, b, axis=(1, 2))
    for g, t in zip(_gradients(fn, [x, w, b], [dy]), want):
        np.testing.assert_allclose(g, t.numpy(), rtol=1e-5, atol=1e-5)
