"""Convolution layers against numpy loops (and torch): Conv1D, Conv2D,
Conv2DTranspose, DepthwiseConv2D."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D
from nnlib.test_util import check_gradients, numerical_gradient

RNG = np.random.default_rng(0)


# -- independent references: plain loops over output positions ------------------------


def _pads(size, extent, stride, padding):
    """TensorFlow's (before, after) padding of one axis."""
    if padding == "valid":
        return 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def ref_conv2d(x, k, strides=(1, 1), padding="valid", dilation=(1, 1), pads=None):
    """x (N, H, W, C), k (KH, KW, C, F) -> (N, OH, OW, F)."""
    n, h, w, _ = x.shape
    kh, kw, _, f = k.shape
    (sh, sw), (dh, dw) = strides, dilation
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    pads = pads or (_pads(h, eh, sh, padding), _pads(w, ew, sw, padding))
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    oh, ow = (xp.shape[1] - eh) // sh + 1, (xp.shape[2] - ew) // sw + 1
    y = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    y[:, i, j] += xp[:, i * sh + a * dh, j * sw + b * dw] @ k[a, b]
    return y


def ref_depthwise(x, k, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """k (KH, KW, C, M): output channel c * M + m is channel c with k[..., c, m]."""
    c, m = k.shape[2:]
    outs = [
        ref_conv2d(
            x[..., ci : ci + 1], k[:, :, ci : ci + 1, :], strides, padding, dilation
        )
        for ci in range(c)
    ]
    return np.stack(outs, axis=3).reshape(*outs[0].shape[:3], c * m)


def ref_conv2d_transpose(x, k, strides, padding, output_padding=None):
    """Scatters each input pixel times the kernel: k (KH, KW, F, C)."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = k.shape
    sizes = []
    for size, kk, s, op in zip(
        (h, w), (kh, kw), strides, output_padding or (None,) * 2
    ):
        if op is None:
            out = size * s + max(kk - s, 0) if padding == "valid" else size * s
        else:
            out = (size - 1) * s + kk - 2 * (kk // 2 if padding == "same" else 0) + op
        sizes.append(out)
    # The padding of the conv2d that maps ``sizes`` back to (h, w).
    top, left = (
        _pads(sizes[0], kh, strides[0], padding)[0],
        _pads(sizes[1], kw, strides[1], padding)[0],
    )
    y = np.zeros((n, sizes[0] + kh + 2 * strides[0], sizes[1] + kw + 2 * strides[1], f))
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for b in range(kw):
                    y[:, i * strides[0] + a, j * strides[1] + b] += (
                        x[:, i, j] @ k[a, b].T
                    )
    return y[:, top : top + sizes[0], left : left + sizes[1]]


def _first(x):
    return np.moveaxis(x, -1, 1)


def _last(x):
    return np.moveaxis(x, 1, -1)


# -- shapes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, in_shape, out_shape",
    [
        ({}, (2, 7, 6, 3), (2, 5, 4, 4)),
        ({"padding": "same"}, (2, 7, 6, 3), (2, 7, 6, 4)),
        ({"strides": 2}, (2, 7, 6, 3), (2, 3, 2, 4)),
        ({"strides": (2, 3), "padding": "same"}, (2, 7, 6, 3), (2, 4, 2, 4)),
        ({"dilation_rate": 2}, (2, 7, 6, 3), (2, 3, 2, 4)),
        ({"data_format": "channels_first"}, (2, 3, 7, 6), (2, 4, 5, 4)),
        (
            {"data_format": "channels_first", "strides": 2, "padding": "same"},
            (1, 3, 7, 6),
            (1, 4, 4, 3),
        ),
    ],
)
def test_conv2d_output_shapes(kwargs, in_shape, out_shape):
    layer = Conv2D(4, 3, **kwargs)
    assert layer(np.zeros(in_shape, np.float32)).shape == out_shape
    channels = in_shape[1] if kwargs.get("data_format") else in_shape[-1]
    assert layer.kernel.shape == (3, 3, channels, 4) and layer.bias.shape == (4,)


def test_conv1d_output_shapes_and_kernel_layout():
    x = np.zeros((2, 9, 3), np.float32)
    layer = Conv1D(5, 3, strides=2)
    assert layer(x).shape == (2, 4, 5)
    assert layer.kernel.shape == (3, 3, 5)
    assert Conv1D(5, 3, padding="same")(x).shape == (2, 9, 5)
    assert Conv1D(5, 3, padding="causal", dilation_rate=2)(x).shape == (2, 9, 5)
    assert Conv1D(5, 4, data_format="channels_first")(np.zeros((2, 3, 9))).shape == (
        2,
        5,
        6,
    )


@pytest.mark.parametrize(
    "kwargs, out_hw",
    [
        ({"strides": 2}, (9, 11)),
        ({"strides": 2, "padding": "same"}, (8, 10)),
        ({"strides": 1}, (6, 7)),
        ({"strides": 3}, (12, 15)),  # kernel smaller than the stride
        ({"strides": 2, "output_padding": 1}, (10, 12)),
        ({"strides": 2, "padding": "same", "output_padding": 1}, (8, 10)),
        ({"strides": 2, "padding": "same", "output_padding": 0}, (7, 9)),
    ],
)
def test_conv2d_transpose_output_shapes(kwargs, out_hw):
    layer = Conv2DTranspose(2, 3, **kwargs)
    assert layer(np.zeros((1, 4, 5, 6), np.float32)).shape == (1, *out_hw, 2)
    assert layer.kernel.shape == (3, 3, 2, 6)


def test_depthwise_output_shapes_and_weight_names():
    layer = DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")
    assert layer(np.zeros((2, 5, 5, 3), np.float32)).shape == (2, 5, 5, 6)
    assert [(v.name, v.shape) for v in layer.variables] == [
        ("dw/depthwise_kernel", (3, 3, 3, 2)),
        ("dw/bias", (6,)),
    ]
    assert DepthwiseConv2D(2, strides=2)(np.zeros((1, 6, 6, 4))).shape == (1, 3, 3, 4)


# -- numbers against the loops ------------------------------------------------------


def _randomize(layer, x):
    layer(x)
    layer.set_weights([RNG.normal(size=w.shape) for w in layer.get_weights()])
    return layer.get_weights()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding": "same"},
        {"strides": (2, 1), "padding": "same"},
        {"strides": 2},
        {"dilation_rate": (2, 1), "padding": "same"},
        {"activation": "relu"},
    ],
)
def test_conv2d_matches_the_loop(kwargs):
    x = RNG.normal(size=(2, 6, 5, 3))
    layer = Conv2D(4, (3, 2), dtype="float64", **kwargs)
    kernel, bias = _randomize(layer, x)
    expected = (
        ref_conv2d(x, kernel, layer.strides, layer.padding, layer.dilation_rate) + bias
    )
    if kwargs.get("activation"):
        expected = np.maximum(expected, 0)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_conv2d_channels_first_matches_channels_last():
    x = RNG.normal(size=(2, 5, 6, 3))
    last = Conv2D(4, 3, strides=2, padding="same", dtype="float64")
    weights = _randomize(last, x)
    first = Conv2D(
        4, 3, strides=2, padding="same", data_format="channels_first", dtype="float64"
    )
    first(_first(x))
    first.set_weights(weights)
    np.testing.assert_allclose(
        _last(first(_first(x)).numpy()), last(x).numpy(), rtol=1e-12
    )


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"padding": "same", "strides": 2}, {"padding": "causal", "dilation_rate": 2}],
)
def test_conv1d_matches_the_loop(kwargs):
    x = RNG.normal(size=(2, 9, 3))
    layer = Conv1D(4, 3, dtype="float64", **kwargs)
    kernel, bias = _randomize(layer, x)
    (d,) = layer.dilation_rate
    if layer.padding == "causal":
        pads, padding = ((0, 0), (2 * d, 0)), "valid"
    else:
        pads, padding = None, layer.padding
    expected = (
        ref_conv2d(
            x[:, None], kernel[None], (1, *layer.strides), padding, (1, d), pads
        )[:, 0]
        + bias
    )
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_causal_conv1d_output_ignores_the_future():
    x = RNG.normal(size=(1, 8, 2))
    layer = Conv1D(3, 3, padding="causal", dilation_rate=2, dtype="float64")
    y = layer(x).numpy()
    x2 = x.copy()
    x2[:, 5:] += 1.0
    np.testing.assert_array_equal(layer(x2).numpy()[:, :5], y[:, :5])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strides": 2},
        {"strides": 2, "padding": "same"},
        {"strides": 1},
        {"strides": 3},
        {"strides": 2, "output_padding": 1},
        {"strides": (2, 3), "padding": "same", "output_padding": (1, 2)},
    ],
)
def test_conv2d_transpose_matches_the_loop(kwargs):
    x = RNG.normal(size=(2, 3, 4, 3))
    layer = Conv2DTranspose(2, 3, dtype="float64", **kwargs)
    kernel, bias = _randomize(layer, x)
    expected = (
        ref_conv2d_transpose(
            x, kernel, layer.strides, layer.padding, layer.output_padding
        )
        + bias
    )
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_conv2d_transpose_is_the_adjoint_of_conv2d():
    x = RNG.normal(size=(1, 7, 6, 3))
    conv = Conv2D(4, 3, strides=2, padding="same", use_bias=False, dtype="float64")
    conv(x)
    # output_padding picks x's size among those that conv2d maps to (4, 3).
    up = Conv2DTranspose(
        3,
        3,
        strides=2,
        padding="same",
        output_padding=(0, 1),
        use_bias=False,
        dtype="float64",
    )
    y = RNG.normal(size=conv(x).shape)
    assert up(y).shape == x.shape
    up.set_weights(conv.get_weights())
    # <conv(x), y> == <x, conv^T(y)>
    lhs = np.sum(conv(x).numpy() * y)
    rhs = np.sum(x * up(y).numpy())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"depth_multiplier": 2, "padding": "same", "strides": 2},
        {"dilation_rate": 2, "depth_multiplier": 3},
    ],
)
def test_depthwise_matches_the_loop(kwargs):
    x = RNG.normal(size=(2, 6, 6, 3))
    layer = DepthwiseConv2D(3, dtype="float64", **kwargs)
    kernel, bias = _randomize(layer, x)
    expected = (
        ref_depthwise(x, kernel, layer.strides, layer.padding, layer.dilation_rate)
        + bias
    )
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


# -- gradients -----------------------------------------------------------------


def _check_variable_gradients(layer, x):
    dy = RNG.normal(size=layer(x).shape)
    with nnlib.GradientTape() as tape:
        out = layer(x)
    grads = tape.gradient(out, layer.trainable_variables, output_gradients=dy)
    for variable, grad in zip(layer.trainable_variables, grads):
        base = variable.numpy().copy()

        def f(value, variable=variable):
            variable.assign(value)
            return layer(x)

        numeric = numerical_gradient(f, [base], 0, [dy])
        variable.assign(base)
        np.testing.assert_allclose(
            np.asarray(grad), numeric, rtol=1e-5, atol=1e-7, err_msg=variable.name
        )


@pytest.mark.parametrize(
    "make, shape",
    [
        (
            lambda: Conv2D(3, 2, strides=2, padding="same", activation="tanh"),
            (2, 5, 4, 2),
        ),
        (
            lambda: Conv2D(
                2, (2, 3), dilation_rate=(1, 2), data_format="channels_first"
            ),
            (1, 2, 4, 6),
        ),
        (lambda: Conv1D(2, 3, padding="causal", dilation_rate=2), (2, 6, 2)),
        (lambda: Conv1D(2, 2, strides=2, data_format="channels_first"), (2, 3, 5)),
        (
            lambda: Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1),
            (1, 3, 2, 2),
        ),
        (
            lambda: Conv2DTranspose(2, 2, strides=(1, 2), data_format="channels_first"),
            (1, 2, 2, 3),
        ),
        (
            lambda: DepthwiseConv2D(2, depth_multiplier=2, strides=2, padding="same"),
            (1, 5, 4, 2),
        ),
    ],
)
def test_gradients_through_the_layer_match_finite_differences(make, shape):
    x = RNG.normal(size=shape)
    layer = make()
    layer = type(layer).from_config(
        {**layer.get_config(), "dtype": "float64", "name": None}
    )
    _randomize(layer, x)
    check_gradients(layer, x)
    _check_variable_gradients(layer, x)


def test_second_order_gradients_through_conv2d():
    x = RNG.normal(size=(1, 4, 4, 2))
    layer = Conv2D(2, 2, strides=2, activation="tanh", dtype="float64")
    _randomize(layer, x)
    check_gradients(layer, x, order=2)


def test_gradients_reach_every_variable_by_name():
    layer = Conv2D(2, 3, name="conv_grads")
    x = RNG.normal(size=(1, 4, 4, 1)).astype(np.float32)
    _, grads = nnlib.implicit_value_and_gradients(lambda: nnlib.reduce_sum(layer(x)))()
    assert [v.name for _, v in grads] == ["conv_grads/kernel", "conv_grads/bias"]


# -- configuration and errors ---------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [
        Conv1D(3, 2, padding="causal", dilation_rate=2, activation="relu"),
        Conv2D(
            4,
            (3, 1),
            strides=(2, 1),
            data_format="channels_first",
            kernel_initializer="he_normal",
            kernel_regularizer="l2",
            use_bias=False,
        ),
        Conv2DTranspose(2, 3, strides=2, output_padding=1, padding="same"),
        DepthwiseConv2D(
            3,
            depth_multiplier=2,
            depthwise_initializer="ones",
            depthwise_regularizer="l1",
        ),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trips(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert {**clone.get_config(), "name": None} == {**config, "name": None}
    assert "filters" not in config or config["filters"] > 0


def test_depthwise_config_uses_keras_names():
    config = DepthwiseConv2D(3, depthwise_initializer="ones").get_config()
    assert config["depthwise_initializer"]["class_name"] == "Ones"
    assert "kernel_initializer" not in config and "filters" not in config


def test_regularizers_add_losses():
    layer = Conv2D(2, 2, kernel_regularizer="l2", bias_regularizer="l1")
    layer(np.ones((1, 3, 3, 1), np.float32))
    assert len(layer.losses) == 2


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Conv2D(0, 3), r"Conv2D: filters must be a positive integer, got 0"),
        (lambda: Conv2D(2, 0), r"Conv2D: kernel_size"),
        (lambda: Conv2D(2, (3, 3, 3)), r"Conv2D: kernel_size"),
        (lambda: Conv2D(2, 3, strides=0), r"Conv2D: strides"),
        (lambda: Conv2D(2, 3, padding="full"), r"Conv2D: padding must be one of"),
        (lambda: Conv2D(2, 3, padding="causal"), r"Conv2D: padding"),
        (lambda: Conv2D(2, 3, data_format="NHWC"), r"Conv2D: data_format"),
        (lambda: Conv1D(-1, 3), r"Conv1D: filters"),
        (lambda: Conv1D(2, 3, dilation_rate=0), r"Conv1D: dilation_rate"),
        (
            lambda: Conv2DTranspose(2, 3, strides=2, output_padding=2),
            r"Conv2DTranspose: output_padding \(2, 2\) must be smaller than the strides",
        ),
        (
            lambda: Conv2DTranspose(2, 3, output_padding=-1),
            r"Conv2DTranspose: output_padding",
        ),
        (
            lambda: DepthwiseConv2D(3, depth_multiplier=0),
            r"DepthwiseConv2D: depth_multiplier",
        ),
    ],
)
def test_bad_hyperparameters_are_rejected_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "layer, shape",
    [
        (Conv2D(2, 5, name="big_conv"), (1, 4, 6, 1)),
        (Conv2D(2, 3, dilation_rate=3, name="big_conv"), (1, 6, 6, 1)),
        (Conv1D(2, 5, name="big_conv"), (1, 4, 1)),
        (DepthwiseConv2D((2, 7), name="big_conv"), (1, 4, 6, 1)),
    ],
)
def test_a_kernel_larger_than_the_input_is_rejected_at_build(layer, shape):
    cls = type(layer).__name__
    with pytest.raises(
        ValueError,
        match=rf"{cls} layer 'big_conv.*': the kernel size"
        rf".*input shape \({shape[0]}, {shape[1]}",
    ) as info:
        layer(np.zeros(shape, np.float32))
    assert str(layer.kernel_size) in str(info.value)
    assert not layer.built and layer.variables == []
    # "same" padding has no such limit.
    config = {**layer.get_config(), "padding": "same", "name": None}
    type(layer).from_config(config)(np.zeros(shape, np.float32))


def test_wrong_rank_and_channels_are_rejected():
    layer = Conv2D(2, 3)
    with pytest.raises(ValueError, match=r"Conv2D layer .*ndim=4.*got ndim=3"):
        layer(np.zeros((4, 4, 3), np.float32))
    layer(np.zeros((1, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"ndim=4.*got ndim=3.*batch axis"):
        layer(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"last dimension 3, got shape \(1, 4, 4, 2\)"):
        layer(np.zeros((1, 4, 4, 2), np.float32))
    first = Conv2D(2, 3, data_format="channels_first")
    first(np.zeros((1, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"dimension 1 3"):
        first(np.zeros((1, 4, 4, 4)))
    with pytest.raises(ValueError, match=r"Conv1D layer .*ndim=3.*got ndim=4"):
        Conv1D(2, 3)(np.zeros((1, 4, 4, 3)))


def test_an_output_padding_no_conv2d_inverts_is_rejected_at_build():
    # An even kernel with "same" padding needs output_padding >= 1 (as in Keras).
    layer = Conv2DTranspose(2, 2, strides=2, padding="same", output_padding=0)
    with pytest.raises(ValueError, match=r"Conv2DTranspose layer .* output_padding"):
        layer(np.zeros((1, 3, 3, 1), np.float32))


def test_float64_and_float32_layers():
    x = RNG.normal(size=(1, 4, 4, 2))
    assert Conv2D(2, 2)(x).dtype == np.float32
    assert Conv2D(2, 2, dtype="float64")(x).dtype == np.float64


def test_sequential_cnn_builds_and_summarizes():
    model = nnlib.Sequential(
        [
            Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
            nnlib.layers.MaxPooling2D(),
            Conv2D(2, 3, padding="same"),
            nnlib.layers.GlobalAveragePooling2D(),
            nnlib.layers.Dense(3),
        ],
        name="cnn_example",
    )
    assert model(np.zeros((2, 8, 8, 1), np.float32)).shape == (2, 3)
    assert model.count_params() == (9 * 4 + 4) + (9 * 4 * 2 + 2) + (2 * 3 + 3)
    clone = nnlib.Sequential.from_config(model.get_config())
    assert clone.count_params() == model.count_params()


# -- torch -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, torch_kwargs",
    [
        ({}, {}),
        ({"strides": 2, "dilation_rate": 1}, {"stride": 2}),
        ({"dilation_rate": 2}, {"dilation": 2}),
        ({"padding": "same"}, {"padding": "same"}),
    ],
)
def test_conv2d_agrees_with_torch(kwargs, torch_kwargs):
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(2, 3, 7, 8))
    layer = Conv2D(4, 3, data_format="channels_first", dtype="float64", **kwargs)
    kernel, bias = _randomize(layer, x)
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(kernel.transpose(3, 2, 0, 1)),
        torch.from_numpy(bias),
        **torch_kwargs,
    ).numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_conv1d_agrees_with_torch():
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(2, 3, 9))
    layer = Conv1D(4, 3, strides=2, data_format="channels_first", dtype="float64")
    kernel, bias = _randomize(layer, x)
    expected = torch.nn.functional.conv1d(
        torch.from_numpy(x),
        torch.from_numpy(kernel.transpose(2, 1, 0)),
        torch.from_numpy(bias),
        stride=2,
    ).numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("strides, output_padding", [(1, None), (2, None), (2, 1)])
def test_conv2d_transpose_agrees_with_torch(strides, output_padding):
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(2, 3, 4, 5))
    layer = Conv2DTranspose(
        2,
        3,
        strides=strides,
        output_padding=output_padding,
        data_format="channels_first",
        dtype="float64",
    )
    kernel, bias = _randomize(layer, x)
    expected = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x),
        torch.from_numpy(kernel.transpose(3, 2, 0, 1)),
        torch.from_numpy(bias),
        stride=strides,
        output_padding=output_padding or 0,
    ).numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_depthwise_agrees_with_torch_grouped_conv():
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(2, 3, 6, 5))
    layer = DepthwiseConv2D(
        3,
        depth_multiplier=2,
        strides=(1, 2),
        data_format="channels_first",
        dtype="float64",
    )
    kernel, bias = _randomize(layer, x)
    # torch's groups keep each input channel's filters together, as TensorFlow does.
    weight = kernel.transpose(2, 3, 0, 1).reshape(6, 1, 3, 3)
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(weight),
        torch.from_numpy(bias),
        stride=(1, 2),
        groups=3,
    ).numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)
