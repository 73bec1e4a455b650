"""Channels-first convolution and pooling in every memory layout, against channels last.

A channels-first tensor made outside nnlib lies NCHW in memory; nnlib's own
channels-first results may lie NHWC or (C, N, H, W) behind their NCHW shape; an
upstream gradient comes in any of these, or broadcast (the gradient of a sum).
Each op computes in the layout it gets, so each layout is checked here: the
results, gradients included, must be channels last's, transposed.
"""

import numpy as np
import pytest

import nnlib

_CF, _CL = "channels_first", "channels_last"


def _rand(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


def _in_layout(a, layout):
    """``a`` (channels first) with the same values, laid out as ``layout``."""
    if layout == "nchw":
        return np.ascontiguousarray(a)
    if layout == "nhwc":  # as nnlib's channels-first results
        return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)
    if layout == "cnhw":
        return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, 0)), 0, 1)
    if layout == "strided":  # every other element of a bigger array
        big = np.zeros((*a.shape[:-1], 2 * a.shape[-1]))
        big[..., ::2] = a
        return big[..., ::2]
    raise AssertionError(layout)


def _last(a):
    return np.moveaxis(a, 1, -1)


def _first(a):
    return np.moveaxis(a, -1, 1)


def _gradients(op, x, k, dy, layout, **kwargs):
    """``op``'s output, dx and dk for upstream ``dy`` (None: the gradient of a
    sum, which reaches the op broadcast)."""
    sources = [nnlib.constant(x)]
    if k is not None:
        sources.append(nnlib.constant(k))
    with nnlib.GradientTape() as tape:
        tape.watch(sources)
        y = op(*sources, data_format=layout, **kwargs)
        total = nnlib.reduce_sum(y) if dy is None else None
    if dy is None:
        grads = tape.gradient(total, sources)
    else:
        grads = tape.gradient(y, sources, output_gradients=nnlib.constant(dy))
    return [t.numpy() for t in (y, *grads)]


# (op, channels-first x shape, kernel shape or None, kwargs): few channels (im2col
# channel-major) and many, padding, strides, 1-D, depthwise, transposed, pooling.
_CASES = [
    (nnlib.conv2d, (3, 2, 7, 6), (3, 3, 2, 5), {}),
    (nnlib.conv2d, (3, 9, 6, 7), (3, 2, 9, 10), {"padding": "same", "strides": 2}),
    (nnlib.conv2d, (3, 10, 5, 5), (2, 2, 10, 3), {"dilation": 2}),
    (nnlib.conv1d, (3, 9, 8), (3, 9, 4), {"padding": "same"}),
    (nnlib.conv1d, (3, 2, 8), (2, 2, 9), {"strides": 2}),
    (nnlib.depthwise_conv2d, (3, 4, 6, 6), (3, 3, 4, 2), {"padding": "same"}),
    (nnlib.depthwise_conv2d, (3, 3, 7, 7), (3, 3, 3, 1), {"strides": 2}),
    (nnlib.conv2d_transpose, (3, 9, 3, 4), (3, 3, 2, 9), {"strides": 2}),
    (nnlib.conv2d_transpose, (3, 2, 3, 3), (2, 2, 10, 2), {"padding": "same"}),
    (nnlib.max_pool, (3, 9, 6, 6), None, {"pool_size": 2}),
    (
        nnlib.max_pool,
        (3, 2, 7, 6),
        None,
        {"pool_size": 3, "strides": 1, "padding": "same"},
    ),
    (nnlib.max_pool, (3, 9, 8), None, {"pool_size": 2}),
    (nnlib.avg_pool, (3, 9, 6, 6), None, {"pool_size": 2}),
    (
        nnlib.avg_pool,
        (3, 2, 7, 5),
        None,
        {"pool_size": 3, "strides": 2, "padding": "same"},
    ),
]
_IDS = [f"{op.__name__}-{i}" for i, (op, *_) in enumerate(_CASES)]
_X_LAYOUTS = ["nchw", "nhwc", "cnhw", "strided"]
_DY_LAYOUTS = ["nchw", "nhwc", "cnhw", "sum"]


@pytest.mark.parametrize("op, x_shape, k_shape, kwargs", _CASES, ids=_IDS)
@pytest.mark.parametrize("budget", [None, 1], ids=["whole", "pieces"])
def test_channels_first_in_every_layout_is_channels_last_transposed(
    op, x_shape, k_shape, kwargs, budget
):
    x = _rand(x_shape, 0)
    if op is nnlib.max_pool:  # distinct values: no near ties between taps
        x = np.random.default_rng(0).permutation(x.size).reshape(x_shape) * 0.1
    k = None if k_shape is None else _rand(k_shape, 1)
    y_shape = op(*([x] if k is None else [x, k]), data_format=_CF, **kwargs).shape
    dy = _rand(y_shape, 2)
    previous = nnlib.ops.set_conv_memory_budget(budget)
    try:
        for dy_layout in _DY_LAYOUTS:
            up = None if dy_layout == "sum" else _last(dy)
            want = _gradients(op, _last(x), k, up, _CL, **kwargs)
            want = [_first(want[0]), _first(want[1]), *want[2:]]
            for x_layout in _X_LAYOUTS:
                if x.ndim == 3 and x_layout == "cnhw":
                    continue
                up = None if dy_layout == "sum" else _in_layout(dy, dy_layout)
                got = _gradients(op, _in_layout(x, x_layout), k, up, _CF, **kwargs)
                for g, w in zip(got, want, strict=True):
                    np.testing.assert_allclose(
                        g, w, rtol=1e-12, atol=1e-12, err_msg=f"{x_layout}, {dy_layout}"
                    )
    finally:
        nnlib.ops.set_conv_memory_budget(previous)


@pytest.mark.parametrize("op", [nnlib.conv2d, nnlib.depthwise_conv2d, nnlib.max_pool])
def test_float32_channels_first_layouts_agree(op):
    x = _rand((4, 8, 9, 9), 0).astype(np.float32)
    args = [x] if op is nnlib.max_pool else [x, _rand((3, 3, 8, 1), 1).astype("f4")]
    kwargs = {"pool_size": 2} if op is nnlib.max_pool else {"padding": "same"}
    want = op(*args, data_format=_CF, **kwargs).numpy()
    for layout in _X_LAYOUTS:
        args[0] = _in_layout(x, layout).astype(np.float32)
        got = op(*args, data_format=_CF, **kwargs).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("x_layout", _X_LAYOUTS)
@pytest.mark.parametrize("dy_layout", ["nchw", "nhwc", "cnhw"])
def test_batch_norm_over_channels_first_is_channels_last_transposed(
    x_layout, dy_layout
):
    x, dy = _rand((4, 3, 5, 6), 0), _rand((4, 3, 5, 6), 1)
    scale, offset = _rand(3, 2) + 2, _rand(3, 3)

    def run(x, dy, axes):
        x, s, o = nnlib.constant(x), nnlib.constant(scale), nnlib.constant(offset)
        with nnlib.GradientTape() as tape:
            tape.watch([x, s, o])
            y, mean, var = nnlib.fused_batch_norm(x, s, o, axes)
        grads = tape.gradient(y, [x, s, o], output_gradients=nnlib.constant(dy))
        return [t.numpy() for t in (y, mean, var, *grads)]

    want = run(_last(x), _last(dy), (0, 1, 2))
    want[0], want[3] = _first(want[0]), _first(want[3])
    got = run(_in_layout(x, x_layout), _in_layout(dy, dy_layout), (0, 2, 3))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
