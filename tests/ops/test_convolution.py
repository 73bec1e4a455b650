"""Convolutions against direct loops and PyTorch; gradients; errors."""

import numpy as np
import pytest

import nnlib
from nnlib.ops import _conv_primitives
from nnlib.test_util import check_gradients, numerical_gradient


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


def _same_pads(size, k, stride, dilation):
    """TensorFlow's SAME padding of one axis: output ceil(size / stride), the odd
    element after."""
    extent = (k - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def _pads(padding, x_hw, k_hw, strides, dilation):
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        return tuple(map(_same_pads, x_hw, k_hw, strides, dilation))
    return padding


def _loop_conv(x, k, strides, pads, dilation, depthwise=False):
    """The definition, with one loop per output element (NHWC, HWIO kernel)."""
    n, h, w, c = x.shape
    kh, kw = k.shape[:2]
    (top, bottom), (left, right) = pads
    xp = np.zeros((n, h + top + bottom, w + left + right, c))
    xp[:, top : top + h, left : left + w] = x
    oh = (xp.shape[1] - (kh - 1) * dilation[0] - 1) // strides[0] + 1
    ow = (xp.shape[2] - (kw - 1) * dilation[1] - 1) // strides[1] + 1
    out_c = c * k.shape[3] if depthwise else k.shape[3]
    y = np.zeros((n, oh, ow, out_c))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for o in range(out_c):
                    for p in range(kh):
                        for q in range(kw):
                            pixel = xp[
                                b,
                                i * strides[0] + p * dilation[0],
                                j * strides[1] + q * dilation[1],
                            ]
                            if depthwise:
                                ci, m = divmod(o, k.shape[3])
                                y[b, i, j, o] += pixel[ci] * k[p, q, ci, m]
                            else:
                                y[b, i, j, o] += pixel @ k[p, q, :, o]
    return y


def _loop_conv_transpose(x, k, out_hw, strides, pads):
    """Scatters each input pixel times the (KH, KW, C_out, C_in) kernel."""
    n, h, w, _ = x.shape
    kh, kw, c_out, _ = k.shape
    (top, bottom), (left, right) = pads
    yp = np.zeros((n, out_hw[0] + top + bottom, out_hw[1] + left + right, c_out))
    for b in range(n):
        for i in range(h):
            for j in range(w):
                for p in range(kh):
                    for q in range(kw):
                        yp[b, i * strides[0] + p, j * strides[1] + q] += (
                            k[p, q] @ x[b, i, j]
                        )
    return yp[:, top : top + out_hw[0], left : left + out_hw[1]]


_CONV2D = [
    ((2, 5, 6, 3), (3, 3, 3, 4), 1, "valid", 1),
    ((2, 7, 8, 2), (3, 3, 2, 3), 2, "same", 1),
    ((1, 6, 6, 2), (2, 3, 2, 2), (2, 1), "same", 1),
    ((1, 7, 7, 1), (3, 3, 1, 2), 1, "valid", 2),
    ((1, 7, 6, 2), (2, 2, 2, 3), 1, "same", (2, 1)),
    ((2, 4, 5, 3), (3, 2, 3, 2), 1, ((1, 2), (0, 1)), 1),
    ((1, 9, 9, 8), (3, 3, 8, 2), 2, "valid", 1),  # channel-minor im2col
]


@pytest.mark.parametrize("x_shape, k_shape, strides, padding, dilation", _CONV2D)
def test_conv2d_matches_loops(x_shape, k_shape, strides, padding, dilation):
    x, k = _rand(*x_shape), _rand(*k_shape, seed=1)
    s = (strides,) * 2 if isinstance(strides, int) else strides
    d = (dilation,) * 2 if isinstance(dilation, int) else dilation
    pads = _pads(padding, x_shape[1:3], k_shape[:2], s, d)
    y = nnlib.conv2d(x, k, strides=strides, padding=padding, dilation=dilation)
    np.testing.assert_allclose(y.numpy(), _loop_conv(x, k, s, pads, d), atol=1e-12)


def test_conv2d_channels_first_is_a_transposed_channels_last():
    x, k = _rand(2, 3, 6, 5), _rand(3, 3, 3, 4, seed=1)
    y = nnlib.conv2d(x, k, strides=2, padding="same", data_format="channels_first")
    pads = _pads("same", (6, 5), (3, 3), (2, 2), (1, 1))
    expected = _loop_conv(x.transpose(0, 2, 3, 1), k, (2, 2), pads, (1, 1))
    np.testing.assert_allclose(y.numpy(), expected.transpose(0, 3, 1, 2), atol=1e-12)


@pytest.mark.parametrize(
    "strides, padding, dilation, data_format",
    [
        (1, "valid", 1, "channels_last"),
        (2, "same", 1, "channels_last"),
        (1, "same", 2, "channels_first"),
        (1, (2, 1), 1, "channels_last"),
    ],
)
def test_conv1d_matches_loops(strides, padding, dilation, data_format):
    x, k = _rand(2, 9, 3), _rand(3, 3, 2, seed=1)
    pad = padding if isinstance(padding, tuple) else _same_pads(9, 3, strides, dilation)
    pad = (0, 0) if padding == "valid" else pad
    expected = _loop_conv(
        x[:, None], k[None], (1, strides), ((0, 0), pad), (1, dilation)
    )
    if data_format == "channels_first":
        x = x.transpose(0, 2, 1)
    y = nnlib.conv1d(x, k, strides, padding, dilation, data_format).numpy()
    if data_format == "channels_first":
        y = y.transpose(0, 2, 1)
    np.testing.assert_allclose(y, expected[:, 0], atol=1e-12)


@pytest.mark.parametrize(
    "strides, padding, dilation", [(1, "valid", 1), (2, "same", 1), (1, "same", 2)]
)
def test_depthwise_conv2d_matches_loops(strides, padding, dilation):
    x, k = _rand(2, 6, 7, 3), _rand(3, 3, 3, 2, seed=1)
    s, d = (strides,) * 2, (dilation,) * 2
    pads = _pads(padding, (6, 7), (3, 3), s, d)
    y = nnlib.depthwise_conv2d(x, k, strides, padding, dilation)
    expected = _loop_conv(x, k, s, pads, d, depthwise=True)
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize(
    "x_shape, k_shape, strides, padding, out_hw",
    [
        ((2, 3, 4, 2), (3, 3, 5, 2), 1, "valid", (5, 6)),
        ((1, 3, 3, 2), (3, 3, 2, 2), 2, "valid", (7, 7)),
        ((1, 3, 3, 2), (2, 2, 2, 2), 3, "valid", (9, 9)),  # kernel < stride: Keras
        ((1, 3, 4, 1), (3, 3, 2, 1), 2, "same", (6, 8)),
        ((1, 3, 4, 1), (3, 2, 2, 1), (2, 1), ((1, 1), (0, 1)), (5, 4)),
    ],
)
def test_conv2d_transpose_matches_loops(x_shape, k_shape, strides, padding, out_hw):
    x, k = _rand(*x_shape), _rand(*k_shape, seed=1)
    s = (strides,) * 2 if isinstance(strides, int) else strides
    y = nnlib.conv2d_transpose(x, k, strides=strides, padding=padding)
    assert y.shape == (x_shape[0], *out_hw, k_shape[2])
    pads = _pads(padding, out_hw, k_shape[:2], s, (1, 1))
    np.testing.assert_allclose(
        y.numpy(), _loop_conv_transpose(x, k, out_hw, s, pads), atol=1e-12
    )


def test_conv2d_transpose_is_the_input_gradient_of_conv2d():
    x, k, dy = _rand(2, 7, 6, 3), _rand(3, 3, 3, 4, seed=1), _rand(2, 4, 3, 4, seed=2)
    xt = nnlib.constant(x)
    with nnlib.GradientTape() as tape:
        tape.watch(xt)
        y = nnlib.conv2d(xt, k, strides=2, padding="same")
    dx = tape.gradient(y, xt, output_gradients=nnlib.constant(dy))
    t = nnlib.conv2d_transpose(
        dy, k, output_shape=(2, 7, 6, 3), strides=2, padding="same"
    )
    np.testing.assert_allclose(t.numpy(), dx.numpy(), atol=1e-12)


_GRADIENT_CASES = [
    (nnlib.conv2d, (2, 5, 4, 3), (3, 2, 3, 2), {"strides": 2, "padding": "same"}),
    (nnlib.conv2d, (1, 5, 5, 9), (2, 2, 9, 2), {"dilation": 2}),
    (nnlib.conv1d, (2, 6, 2), (3, 2, 2), {"padding": (1, 0), "strides": 2}),
    (nnlib.depthwise_conv2d, (1, 4, 5, 2), (2, 3, 2, 2), {"padding": "same"}),
    (nnlib.conv2d_transpose, (1, 3, 2, 2), (3, 3, 2, 2), {"strides": 2}),
]


@pytest.mark.parametrize("op, x_shape, k_shape, kwargs", _GRADIENT_CASES)
def test_gradients_match_finite_differences(op, x_shape, k_shape, kwargs):
    x, k = _rand(*x_shape), _rand(*k_shape, seed=1)
    check_gradients(lambda a, b: op(a, b, **kwargs), x, k, order=2)


@pytest.mark.parametrize("op, x_shape, k_shape, kwargs", _GRADIENT_CASES)
def test_array_mode_gradient_matches_float64_finite_differences(
    op, x_shape, k_shape, kwargs
):
    """First order with no outer tape: the rules run on plain numpy arrays."""
    x, k = nnlib.constant(_rand(*x_shape)), nnlib.constant(_rand(*k_shape, seed=1))
    with nnlib.GradientTape() as tape:
        tape.watch([x, k])
        y = op(x, k, **kwargs)
    dy = _rand(*y.shape, seed=2)
    dx, dk = tape.gradient(y, [x, k], output_gradients=nnlib.constant(dy))
    f = lambda a, b: op(a, b, **kwargs)
    args = [x.numpy(), k.numpy()]
    for grad, position in ((dx, 0), (dk, 1)):
        numeric = numerical_gradient(f, args, position, [dy])
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_kernel_gradient_without_the_kept_im2col(monkeypatch):
    x, k = _rand(2, 6, 6, 3), nnlib.constant(_rand(3, 3, 3, 2, seed=1))
    with nnlib.GradientTape() as tape:
        tape.watch(k)
        y = nnlib.conv2d(x, k, padding="same")
    kept = tape.gradient(y, k)
    monkeypatch.setattr(_conv_primitives, "KEEP_COLS_BYTES", 0)
    with nnlib.GradientTape() as tape:
        tape.watch(k)
        y = nnlib.conv2d(x, k, padding="same")
    np.testing.assert_allclose(tape.gradient(y, k).numpy(), kept.numpy(), atol=1e-12)


def test_float32_result_and_mixed_dtypes():
    x32 = _rand(1, 4, 4, 2).astype(np.float32)
    assert nnlib.conv2d(x32, _rand(2, 2, 2, 3).astype(np.float32)).dtype == np.float32
    x = nnlib.constant(x32)
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.conv2d(x, _rand(2, 2, 2, 3))  # a float64 kernel: computed in float64
    assert y.dtype == np.float64
    assert tape.gradient(y, x).dtype == np.float32


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: nnlib.conv2d(np.ones((4, 4, 3)), np.ones((3, 3, 3, 2))),
            r"conv2d: x must have rank 4 .*got shape \(4, 4, 3\)",
        ),
        (
            lambda: nnlib.conv2d(np.ones((1, 4, 4, 3)), np.ones((3, 3, 3))),
            r"conv2d: kernel must have rank 4 \(KH, KW, C_in, C_out\)",
        ),
        (
            lambda: nnlib.conv2d(np.ones((1, 4, 4, 3)), np.ones((3, 3, 4, 2))),
            (
                r"conv2d: x has 3 input channels but the kernel expects 4 "
                r"\(x shape \(1, 4, 4, 3\), kernel shape \(3, 3, 4, 2\)"
            ),
        ),
        (
            lambda: nnlib.conv2d(np.ones((1, 4, 4, 3)), np.ones((5, 3, 3, 2))),
            (
                r"conv2d: the window 5x3 .* larger than the padded input 4x4 "
                r"\(x shape \(1, 4, 4, 3\), kernel shape \(5, 3, 3, 2\)\)"
            ),
        ),
        (
            lambda: nnlib.conv2d(
                np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), dilation=4
            ),
            r"conv2d: the window 5x5",
        ),
        (
            lambda: nnlib.conv2d(
                np.ones((1, 4, 4, 3)), np.ones((3, 3, 3, 2)), padding="full"
            ),
            (
                r"conv2d: padding must be 'valid', 'same' or "
                r"\(\(top, bottom\), \(left, right\)\) non-negative ints, got 'full'"
            ),
        ),
        (
            lambda: nnlib.conv2d(
                np.ones((1, 4, 4, 3)), np.ones((3, 3, 3, 2)), strides=0
            ),
            r"conv2d: strides must be a positive int or 2 of them, got 0",
        ),
        (
            lambda: nnlib.conv2d(
                np.ones((1, 4, 4, 3)), np.ones((3, 3, 3, 2)), strides=(1, -1)
            ),
            r"conv2d: strides must be",
        ),
        (
            lambda: nnlib.conv1d(
                np.ones((1, 4, 3)), np.ones((2, 3, 2)), padding=(1, -1)
            ),
            r"conv1d: padding must be 'valid', 'same' or \(left, right\)",
        ),
        (
            lambda: nnlib.conv1d(np.ones((1, 4, 3)), np.ones((2, 2, 2))),
            r"conv1d: x has 3 input channels but the kernel expects 2",
        ),
        (
            lambda: nnlib.depthwise_conv2d(
                np.ones((1, 4, 4, 3)), np.ones((2, 2, 2, 1))
            ),
            r"depthwise_conv2d: x has 3 input channels but the kernel expects 2",
        ),
        (
            lambda: nnlib.conv2d(
                np.ones((1, 4, 4, 3)), np.ones((3, 3, 3, 2)), data_format="NHWC"
            ),
            r"conv2d: data_format must be 'channels_last' or 'channels_first'",
        ),
        (
            lambda: nnlib.conv2d_transpose(
                np.ones((1, 4, 4, 3)), np.ones((3, 3, 2, 4))
            ),
            r"conv2d_transpose: x has 3 input channels but the kernel .* expects 4",
        ),
        (
            lambda: nnlib.conv2d_transpose(
                np.ones((1, 2, 2, 1)),
                np.ones((3, 3, 1, 1)),
                output_shape=(9, 9),
                strides=2,
            ),
            (
                r"conv2d_transpose: output_shape \(9, 9\) is not one that a conv2d "
                r".* maps to x's \(2, 2\)"
            ),
        ),
        (
            lambda: nnlib.conv2d_transpose(
                np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)), output_shape=(2, 5, 5, 3)
            ),
            r"conv2d_transpose: output_shape \(2, 5, 5, 3\) does not match",
        ),
    ],
)
def test_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# PyTorch, as an independent implementation (NCHW, OIHW kernels).


def _torch_grads(fn, x, k, dy):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    kt = torch.tensor(k, requires_grad=True)
    y = fn(torch, xt, kt)
    y.backward(torch.tensor(dy))
    return y.detach().numpy(), xt.grad.numpy(), kt.grad.numpy()


def _nnlib_grads(fn, x, k, dy):
    xt, kt = nnlib.constant(x), nnlib.constant(k)
    with nnlib.GradientTape() as tape:
        tape.watch([xt, kt])
        y = fn(xt, kt)
    dx, dk = tape.gradient(y, [xt, kt], output_gradients=nnlib.constant(dy))
    return y.numpy(), dx.numpy(), dk.numpy()


def _compare(ours, theirs):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("strides, padding", [(1, "valid"), (2, "same")])
def test_conv2d_agrees_with_torch(strides, padding):
    x = _rand(4, 3, 11, 10).astype(np.float32)  # NCHW
    k = _rand(3, 3, 3, 8, seed=1).astype(np.float32)
    pads = _pads(padding, (11, 10), (3, 3), (strides,) * 2, (1, 1))
    out_hw = [(s + sum(p) - 3) // strides + 1 for s, p in zip((11, 10), pads)]
    dy = _rand(4, 8, *out_hw, seed=2).astype(np.float32)

    def torch_conv(torch, xt, kt):
        (t, b), (left, r) = pads
        xp = torch.nn.functional.pad(xt, (left, r, t, b))
        return torch.nn.functional.conv2d(xp, kt.permute(3, 2, 0, 1), stride=strides)

    ours = _nnlib_grads(
        lambda a, b: nnlib.conv2d(a, b, strides, padding, data_format="channels_first"),
        x,
        k,
        dy,
    )
    _compare(ours, _torch_grads(torch_conv, x, k, dy))


def test_conv2d_transpose_agrees_with_torch():
    x = _rand(2, 6, 5, 4).astype(np.float32)  # NCHW, 6 channels in
    k = _rand(3, 3, 3, 6, seed=1).astype(np.float32)  # (KH, KW, C_out, C_in)
    dy = _rand(2, 3, 12, 10, seed=2).astype(np.float32)  # one extra row and column

    def torch_transpose(torch, xt, kt):
        return torch.nn.functional.conv_transpose2d(
            xt, kt.permute(3, 2, 0, 1), stride=2, output_padding=1
        )

    ours = _nnlib_grads(
        lambda a, b: nnlib.conv2d_transpose(
            a, b, (12, 10), strides=2, data_format="channels_first"
        ),
        x,
        k,
        dy,
    )
    _compare(ours, _torch_grads(torch_transpose, x, k, dy))


def test_depthwise_conv2d_agrees_with_torch():
    x = _rand(2, 3, 9, 8).astype(np.float32)
    k = _rand(3, 3, 3, 2, seed=1).astype(np.float32)
    dy = _rand(2, 6, 5, 4, seed=2).astype(np.float32)

    def torch_depthwise(torch, xt, kt):
        w = kt.permute(2, 3, 0, 1).reshape(6, 1, 3, 3)  # output channel c*M + m
        return torch.nn.functional.conv2d(xt, w, stride=(1, 1), dilation=2, groups=3)

    ours = _nnlib_grads(
        lambda a, b: nnlib.depthwise_conv2d(
            a, b, dilation=2, data_format="channels_first"
        ),
        x,
        k,
        dy,
    )
    _compare(ours, _torch_grads(torch_depthwise, x, k, dy))


@pytest.mark.parametrize("op, x_shape, k_shape, kwargs", _GRADIENT_CASES[::2])
def test_gradients_are_differentiable_in_the_upstream_gradient(
    op, x_shape, k_shape, kwargs
):
    """Double backprop: d(dx, dk)/d(dy), the backward pass recorded by a tape."""
    x, k = nnlib.constant(_rand(*x_shape)), nnlib.constant(_rand(*k_shape, seed=1))
    dy_shape = op(x, k, **kwargs).shape

    def gradients(dy):
        with nnlib.GradientTape() as tape:
            tape.watch([x, k])
            total = nnlib.reduce_sum(op(x, k, **kwargs) * dy)
        return tape.gradient(total, [x, k])

    check_gradients(gradients, _rand(*dy_shape, seed=2), order=2)
