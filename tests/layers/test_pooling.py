"""Pooling layers against numpy loops (and torch): window and global pooling."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from nnlib.test_util import check_gradients

RNG = np.random.default_rng(0)


def _distinct(*shape):
    """Values at least 0.1 apart, so that no window has a near tie (max pooling's
    gradient is only defined away from ties)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.1 - n * 0.05).reshape(shape)


def ref_pool(x, pool, strides, padding, reduce):
    """x (N, H, W, C); "same" windows cover only the input's elements (TF)."""
    n, h, w, c = x.shape
    if padding == "valid":
        oh, ow = (h - pool[0]) // strides[0] + 1, (w - pool[1]) // strides[1] + 1
        top = left = 0
    else:
        oh, ow = -(-h // strides[0]), -(-w // strides[1])
        top = max((oh - 1) * strides[0] + pool[0] - h, 0) // 2
        left = max((ow - 1) * strides[1] + pool[1] - w, 0) // 2
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - top, j * strides[1] - left
            window = x[:, max(r0, 0) : r0 + pool[0], max(c0, 0) : c0 + pool[1]]
            y[:, i, j] = reduce(window.reshape(n, -1, c), axis=1)
    return y


# -- shapes and numbers -----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, out_hw",
    [
        ({}, (3, 2)),
        ({"pool_size": 3}, (2, 1)),
        ({"pool_size": 3, "strides": 1}, (5, 3)),
        ({"pool_size": (3, 2), "strides": (2, 1), "padding": "same"}, (4, 5)),
        ({"pool_size": 2, "padding": "same"}, (4, 3)),
    ],
)
@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_pool2d_shapes_and_values_match_the_loop(cls, kwargs, out_hw):
    x = _distinct(2, 7, 5, 3)
    layer = cls(dtype="float64", **kwargs)
    out = layer(x).numpy()
    assert out.shape == (2, *out_hw, 3)
    reduce = np.max if cls is MaxPooling2D else np.mean
    expected = ref_pool(x, layer.pool_size, layer.strides, layer.padding, reduce)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert layer.variables == []


@pytest.mark.parametrize(
    "kwargs, out_w",
    [
        ({}, 3),
        ({"pool_size": 3, "strides": 1}, 5),
        ({"pool_size": 2, "padding": "same"}, 4),
    ],
)
@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D])
def test_pool1d_shapes_and_values_match_the_loop(cls, kwargs, out_w):
    x = _distinct(2, 7, 3)
    layer = cls(dtype="float64", **kwargs)
    out = layer(x).numpy()
    assert out.shape == (2, out_w, 3)
    reduce = np.max if cls is MaxPooling1D else np.mean
    expected = ref_pool(
        x[:, None], (1, *layer.pool_size), (1, *layer.strides), layer.padding, reduce
    )[:, 0]
    np.testing.assert_allclose(out, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "cls", [MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D]
)
def test_channels_first_matches_channels_last(cls):
    rank = 1 if cls.__name__.endswith("1D") else 2
    x = _distinct(2, *(5,) * rank, 3)
    last = cls(pool_size=2, strides=1, padding="same", dtype="float64")(x).numpy()
    first = cls(
        pool_size=2,
        strides=1,
        padding="same",
        data_format="channels_first",
        dtype="float64",
    )(np.moveaxis(x, -1, 1)).numpy()
    np.testing.assert_allclose(np.moveaxis(first, 1, -1), last, rtol=1e-12)


def test_strides_default_to_the_pool_size():
    assert MaxPooling2D((3, 2)).strides == (3, 2)
    assert AveragePooling1D(4).strides == (4,)
    assert MaxPooling2D(2, strides=1).strides == (1, 1)


def test_integer_inputs_are_pooled_as_floats():
    out = MaxPooling2D()(np.arange(16).reshape(1, 4, 4, 1))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy()[0, :, :, 0], [[5, 7], [13, 15]])


@pytest.mark.parametrize(
    "cls, reduce, rank",
    [
        (GlobalAveragePooling1D, np.mean, 1),
        (GlobalAveragePooling2D, np.mean, 2),
        (GlobalMaxPooling1D, np.max, 1),
        (GlobalMaxPooling2D, np.max, 2),
    ],
)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling_matches_numpy(cls, reduce, rank, keepdims, data_format):
    x = _distinct(2, *(4, 3)[:rank], 5)
    axes = tuple(range(1, rank + 1))
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
        axes = tuple(a + 1 for a in axes)
    layer = cls(data_format=data_format, keepdims=keepdims, dtype="float64")
    out = layer(x).numpy()
    expected = reduce(x, axis=axes, keepdims=keepdims)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12)


# -- gradients ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer, shape",
    [
        (MaxPooling2D(2, dtype="float64"), (2, 4, 4, 2)),
        (
            MaxPooling2D((3, 2), strides=(2, 1), padding="same", dtype="float64"),
            (1, 5, 4, 2),
        ),
        (
            MaxPooling1D(3, strides=1, data_format="channels_first", dtype="float64"),
            (2, 2, 5),
        ),
        (AveragePooling2D(2, padding="same", dtype="float64"), (1, 5, 3, 2)),
        (
            AveragePooling2D(
                3, strides=1, data_format="channels_first", dtype="float64"
            ),
            (1, 2, 4, 4),
        ),
        (AveragePooling1D(2, strides=1, dtype="float64"), (2, 5, 2)),
        (GlobalAveragePooling2D(dtype="float64"), (2, 3, 3, 2)),
        (GlobalMaxPooling2D(keepdims=True, dtype="float64"), (2, 3, 3, 2)),
        (
            GlobalAveragePooling1D(data_format="channels_first", dtype="float64"),
            (2, 3, 4),
        ),
        (GlobalMaxPooling1D(dtype="float64"), (2, 5, 3)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nnlib.layers.Layer) else "",
)
def test_gradients_through_the_layer_match_finite_differences(layer, shape):
    check_gradients(layer, _distinct(*shape))


def test_second_order_gradients_through_pooling():
    check_gradients(
        MaxPooling2D(2, strides=1, dtype="float64"), _distinct(1, 3, 3, 2), order=2
    )
    check_gradients(
        AveragePooling2D(2, padding="same", dtype="float64"),
        _distinct(1, 3, 3, 2),
        order=2,
    )


def test_max_pooling_gradient_goes_to_each_window_maximum():
    x = np.array([[[[1.0], [4.0]], [[3.0], [2.0]]]])
    with nnlib.GradientTape() as tape:
        tensor = nnlib.constant(x)
        tape.watch(tensor)
        y = MaxPooling2D(dtype="float64")(tensor)
    np.testing.assert_array_equal(
        tape.gradient(y, tensor).numpy()[0, :, :, 0], [[0, 1], [0, 0]]
    )


# -- configuration and errors ---------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [
        MaxPooling2D((3, 2), strides=1, padding="same", data_format="channels_first"),
        MaxPooling1D(3),
        AveragePooling2D(),
        AveragePooling1D(2, strides=1, padding="same"),
        GlobalAveragePooling2D(keepdims=True),
        GlobalMaxPooling1D(data_format="channels_first"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trips(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert {**clone.get_config(), "name": None} == {**config, "name": None}


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: MaxPooling2D(0), r"MaxPooling2D: pool_size must be a positive"),
        (lambda: MaxPooling2D((2, 2, 2)), r"MaxPooling2D: pool_size"),
        (lambda: AveragePooling1D(2, strides=0), r"AveragePooling1D: strides"),
        (lambda: MaxPooling1D(padding="causal"), r"MaxPooling1D: padding must be one"),
        (
            lambda: AveragePooling2D(data_format="NCHW"),
            r"AveragePooling2D: data_format",
        ),
        (
            lambda: GlobalMaxPooling2D(data_format="x"),
            r"GlobalMaxPooling2D: data_format",
        ),
    ],
)
def test_bad_hyperparameters_are_rejected_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_pool_larger_than_the_input_is_rejected_at_build():
    layer = MaxPooling2D((2, 5), name="big_pool")
    with pytest.raises(
        ValueError,
        match=r"MaxPooling2D layer 'big_pool.*': the pool size \(2, 5\) .*input "
        r"shape \(1, 4, 4, 1\)",
    ):
        layer(np.zeros((1, 4, 4, 1), np.float32))
    assert not layer.built
    assert MaxPooling2D((2, 5), padding="same")(np.zeros((1, 4, 4, 1))).shape == (
        1,
        2,
        1,
        1,
    )
    with pytest.raises(ValueError, match=r"AveragePooling1D layer .*pool size \(6,\)"):
        AveragePooling1D(6)(np.zeros((1, 5, 2)))


@pytest.mark.parametrize(
    "layer, shape, ndim",
    [
        (MaxPooling2D(), (4, 4, 3), 4),
        (AveragePooling1D(), (1, 4, 4, 3), 3),
        (GlobalAveragePooling2D(), (4, 3), 4),
        (GlobalMaxPooling1D(), (2, 3), 3),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nnlib.layers.Layer) else "",
)
def test_wrong_rank_is_rejected(layer, shape, ndim):
    cls = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{cls} layer .*ndim={ndim}.*got ndim="):
        layer(np.zeros(shape, np.float32))
    layer(np.zeros((1,) + (2,) * (ndim - 1), np.float32))
    with pytest.raises(ValueError, match=rf"ndim={ndim}.*got ndim={len(shape)}"):
        layer(np.zeros(shape, np.float32))


# -- torch -----------------------------------------------------------------------


@pytest.mark.parametrize("pool, stride", [(2, None), (3, 1), ((3, 2), (2, 1))])
def test_pool2d_agrees_with_torch(pool, stride):
    torch = pytest.importorskip("torch")
    x = _distinct(2, 3, 7, 6)
    t = torch.from_numpy(x)
    for cls, fn in (
        (MaxPooling2D, torch.nn.functional.max_pool2d),
        (AveragePooling2D, torch.nn.functional.avg_pool2d),
    ):
        layer = cls(pool, strides=stride, data_format="channels_first", dtype="float64")
        np.testing.assert_allclose(
            layer(x).numpy(), fn(t, pool, stride).numpy(), rtol=1e-12
        )


def test_pool1d_and_global_pooling_agree_with_torch():
    torch = pytest.importorskip("torch")
    x = _distinct(2, 3, 9)
    t = torch.from_numpy(x)
    f = torch.nn.functional
    kwargs = {"data_format": "channels_first", "dtype": "float64"}
    np.testing.assert_allclose(
        MaxPooling1D(3, strides=2, **kwargs)(x).numpy(), f.max_pool1d(t, 3, 2).numpy()
    )
    np.testing.assert_allclose(
        AveragePooling1D(2, **kwargs)(x).numpy(), f.avg_pool1d(t, 2).numpy()
    )
    np.testing.assert_allclose(
        GlobalAveragePooling1D(**kwargs)(x).numpy(),
        f.adaptive_avg_pool1d(t, 1)[..., 0].numpy(),
    )
    np.testing.assert_allclose(
        GlobalMaxPooling1D(**kwargs)(x).numpy(),
        f.adaptive_max_pool1d(t, 1)[..., 0].numpy(),
    )
