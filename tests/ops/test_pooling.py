"""Pooling against direct loops and PyTorch; gradients, ties, errors."""

import numpy as np
import pytest

import nnlib
from nnlib.test_util import check_gradients, numerical_gradient


def _distinct(*shape, seed=0):
    """Values at least 0.1 apart, so finite differences never cross a tie."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))) * 0.1).reshape(shape) - 1.0


def _same_pads(size, k, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def _loop_pool(x, pool, strides, padding, kind):
    """The definition, one loop per output element; also the argmax-routed
    gradient of ``sum(y * dy)`` for ``dy = 1``, for the max pool (first of ties)."""
    n, h, w, c = x.shape
    pads = [
        _same_pads(*a) if padding == "same" else (0, 0)
        for a in zip((h, w), pool, strides)
    ]
    oh = (h + sum(pads[0]) - pool[0]) // strides[0] + 1
    ow = (w + sum(pads[1]) - pool[1]) // strides[1] + 1
    y = np.zeros((n, oh, ow, c))
    routed = np.zeros_like(x)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    top = i * strides[0] - pads[0][0]
                    left = j * strides[1] - pads[1][0]
                    cells = [
                        (r, q)
                        for r in range(top, top + pool[0])
                        for q in range(left, left + pool[1])
                        if 0 <= r < h and 0 <= q < w
                    ]
                    values = [x[b, r, q, ch] for r, q in cells]
                    if kind == "max":
                        best = int(np.argmax(values))  # the first of ties
                        y[b, i, j, ch] = values[best]
                        routed[(b, *cells[best], ch)] += 1
                    else:
                        y[b, i, j, ch] = np.mean(values)
    return y, routed


_CONFIGS = [
    ((2, 6, 6, 3), 2, None, "valid"),
    ((1, 7, 5, 2), 2, None, "valid"),  # the last row and column fall outside
    ((1, 7, 5, 2), 3, 2, "same"),
    ((2, 5, 6, 1), (2, 3), (1, 2), "same"),
    ((1, 6, 6, 2), 3, 1, "valid"),  # overlapping windows
]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape, pool, strides, padding", _CONFIGS)
def test_pooling_matches_loops(kind, shape, pool, strides, padding):
    x = _distinct(*shape)
    op = nnlib.max_pool if kind == "max" else nnlib.avg_pool
    pool2 = (pool,) * 2 if isinstance(pool, int) else pool
    s = (
        pool2
        if strides is None
        else (strides,) * 2
        if isinstance(strides, int)
        else strides
    )
    expected, routed = _loop_pool(x, pool2, s, padding, kind)
    np.testing.assert_allclose(
        op(x, pool, strides, padding).numpy(), expected, atol=1e-12
    )
    if kind == "max":
        xt = nnlib.constant(x)
        with nnlib.GradientTape() as tape:
            tape.watch(xt)
            y = nnlib.max_pool(xt, pool, strides, padding)
        # Recorded, the max comes from the tap-tracking kernel: the same values.
        np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)
        np.testing.assert_array_equal(tape.gradient(y, xt).numpy(), routed)


def test_max_pool_propagates_nan_with_and_without_a_tape():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    x[0, 1, 0, 0] = np.nan
    plain = nnlib.max_pool(x, 2).numpy()
    with nnlib.GradientTape() as tape:
        xt = nnlib.constant(x)
        tape.watch(xt)
        recorded = nnlib.max_pool(xt, 2).numpy()
    expected = np.array([[np.nan, 7], [13, 15]], np.float32)
    np.testing.assert_array_equal(plain[0, :, :, 0], expected)
    np.testing.assert_array_equal(recorded[0, :, :, 0], expected)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_1d_and_channels_first(kind):
    op = nnlib.max_pool if kind == "max" else nnlib.avg_pool
    x = _distinct(2, 7, 3)
    expected, _ = _loop_pool(x[:, None], (1, 3), (1, 2), "same", kind)
    np.testing.assert_allclose(op(x, 3, 2, "same").numpy(), expected[:, 0], atol=1e-12)
    x4 = _distinct(2, 3, 5, 4)  # NCHW
    expected, _ = _loop_pool(x4.transpose(0, 2, 3, 1), (2, 2), (1, 1), "valid", kind)
    y = op(x4, 2, 1, data_format="channels_first").numpy()
    np.testing.assert_allclose(y, expected.transpose(0, 3, 1, 2), atol=1e-12)
    y = op(x.transpose(0, 2, 1), 2, data_format="channels_first").numpy()
    expected, _ = _loop_pool(x[:, None], (1, 2), (1, 2), "valid", kind)
    np.testing.assert_allclose(y, expected[:, 0].transpose(0, 2, 1), atol=1e-12)


def test_max_pool_gradient_goes_to_the_first_of_ties():
    x = nnlib.constant(np.array([[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 0.0, 0.0]]))
    x = nnlib.reshape(x, (1, 2, 4, 1))
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = nnlib.max_pool(x, 2)
    grad = tape.gradient(y, x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(grad, [[0, 1, 1, 0], [0, 0, 0, 0]])


def test_same_padding_never_wins_and_is_not_averaged():
    x = -np.ones((1, 3, 3, 1))  # all below the zero a padded cell would hold
    np.testing.assert_array_equal(nnlib.max_pool(x, 2, padding="same").numpy(), -1)
    np.testing.assert_array_equal(nnlib.avg_pool(x, 2, padding="same").numpy(), -1)


def test_integer_inputs():
    x = np.arange(16).reshape(1, 4, 4, 1)
    y = nnlib.max_pool(x, 2, padding="same")
    assert y.dtype == np.int64 and y.numpy().ravel().tolist() == [5, 7, 13, 15]
    assert nnlib.avg_pool(x, 2).dtype == np.float32


@pytest.mark.parametrize("op", [nnlib.max_pool, nnlib.avg_pool])
@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((1, 5, 4, 2), {"pool_size": 2, "strides": 1, "padding": "same"}),
        ((2, 5, 2), {"pool_size": 3, "strides": 2, "padding": "same"}),
    ],
)
def test_gradients_match_finite_differences(op, shape, kwargs):
    check_gradients(lambda x: op(x, **kwargs), _distinct(*shape), order=2)


@pytest.mark.parametrize("op", [nnlib.max_pool, nnlib.avg_pool])
def test_gradient_of_the_gradient_is_the_pooling_again(op):
    """d(dx)/d(dy): the backward pass recorded by an outer tape (double backprop)."""
    x = nnlib.constant(_distinct(1, 5, 6, 2))

    def input_gradient(dy):
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            total = nnlib.reduce_sum(op(x, 3, 2, "same") * dy)
        return tape.gradient(total, x)

    check_gradients(input_gradient, _distinct(1, 3, 3, 2, seed=1), order=2)


@pytest.mark.parametrize("op", [nnlib.max_pool, nnlib.avg_pool])
def test_array_mode_gradient_matches_float64_finite_differences(op):
    x = nnlib.constant(_distinct(2, 6, 5, 3))
    with nnlib.GradientTape() as tape:
        tape.watch(x)
        y = op(x, 2, 1, "same")
    dy = np.random.default_rng(1).standard_normal(y.shape)
    grad = tape.gradient(y, x, output_gradients=nnlib.constant(dy))
    numeric = numerical_gradient(lambda a: op(a, 2, 1, "same"), [x.numpy()], 0, [dy])
    np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: nnlib.max_pool(np.ones((4, 4)), 2),
            r"max_pool: x must have rank 3 \(N, W, C\) or 4 .*got shape \(4, 4\)",
        ),
        (
            lambda: nnlib.max_pool(np.ones((1, 3, 3, 1)), 4),
            (
                r"max_pool: the window 4x4 .* larger than the padded input 3x3 "
                r"\(x shape \(1, 3, 3, 1\), pool_size 4\)"
            ),
        ),
        (
            lambda: nnlib.avg_pool(np.ones((1, 4, 4, 1)), 2, padding="full"),
            r"avg_pool: padding must be 'valid' or 'same', got 'full'",
        ),
        (
            lambda: nnlib.avg_pool(np.ones((1, 4, 4, 1)), 2, padding=((1, 1), (1, 1))),
            r"avg_pool: padding must be 'valid' or 'same'",
        ),
        (
            lambda: nnlib.max_pool(np.ones((1, 4, 4, 1)), 0),
            r"max_pool: pool_size must be a positive int or 2 of them, got 0",
        ),
        (
            lambda: nnlib.max_pool(np.ones((1, 4, 1)), 2, strides=-1),
            r"max_pool: strides must be a positive int or 1 of them, got -1",
        ),
        (
            lambda: nnlib.avg_pool(np.ones((1, 4, 4, 1)), 2, data_format="NCHW"),
            r"avg_pool: data_format must be",
        ),
    ],
)
def test_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_agrees_with_torch(kind):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 4, 9, 9)).astype(np.float32)
    dy = np.random.default_rng(1).standard_normal((2, 4, 9, 9)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    if kind == "max":
        yt = torch.nn.functional.max_pool2d(xt, 3, 1, padding=1)
    else:
        yt = torch.nn.functional.avg_pool2d(
            xt, 3, 1, padding=1, count_include_pad=False
        )
    yt.backward(torch.tensor(dy))
    ours = nnlib.constant(x)
    op = nnlib.max_pool if kind == "max" else nnlib.avg_pool
    with nnlib.GradientTape() as tape:
        tape.watch(ours)
        y = op(ours, 3, 1, "same", "channels_first")
    grad = tape.gradient(y, ours, output_gradients=nnlib.constant(dy))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
