"""Masks carried from layer to layer (Keras 3's ``_keras_mask``), the Masking
layer, and what pooling, BatchNormalization and attention do with a mask.

Recurrent layers have their own file (``test_recurrent_masking.py``).
"""

import warnings

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.engine import tensor as _tensor_module
from nnlib.engine.tensor import Tensor
from nnlib.test_util import check_gradients

IDS = np.array([[4, 2, 7, 0, 0], [1, 3, 0, 0, 0]])
MASK = IDS != 0


def _embedded(dtype="float32"):
    return layers.Embedding(10, 3, mask_zero=True, dtype=dtype)(IDS)


# -- the mechanism --------------------------------------------------------------------


def test_the_tensor_slot_is_never_set_by_ops():
    assert "_mask" in Tensor.__slots__  # behind the _keras_mask property
    x = nnlib.constant([1.0, 2.0])
    for y in (x + 1, nnlib.tanh(x), x[:1]):
        assert y._keras_mask is None and not hasattr(y, "_mask")


def test_setting_a_mask_by_hand_is_seen_by_the_next_layer():
    # Keras users set _keras_mask themselves; the first mask set anywhere turns
    # on the layers' mask lookup (skipped while no mask exists).
    x = nnlib.constant(np.ones((1, 3, 2), np.float32))
    x._keras_mask = nnlib.constant([[True, True, False]])
    assert _tensor_module.MASKS_IN_USE
    out = layers.Dense(2)(x)
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, True, False]])


def test_position_wise_layers_pass_the_mask_on():
    x = _embedded()
    for layer in (
        layers.Dense(4),
        layers.Dropout(0.5),
        layers.Activation("relu"),
        layers.LayerNormalization(),
        layers.BatchNormalization(),
    ):
        assert layer.supports_masking
        x = layer(x, training=True)
        np.testing.assert_array_equal(x._keras_mask.numpy(), MASK)


def test_a_layer_without_masking_support_drops_the_mask_with_a_warning():
    flatten = layers.Flatten(name="flat")
    with pytest.warns(
        UserWarning, match=r"'flat' \(Flatten\).*does not support masking"
    ):
        y = flatten(_embedded())
    assert y._keras_mask is None


def test_a_layer_made_of_layers_hands_the_mask_on_quietly():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Block()(_embedded())
    np.testing.assert_array_equal(y._keras_mask.numpy(), MASK)  # Dense's


def test_supports_masking_defaults_follow_compute_mask_and_can_be_set():
    class Plain(layers.Layer):
        pass

    class Maker(layers.Layer):
        def compute_mask(self, inputs, mask=None):
            return None

    assert not Plain().supports_masking and Maker().supports_masking
    layer = Plain()
    layer.supports_masking = True
    assert layer.supports_masking
    y = layer(_embedded())  # the base call returns its input: the mask stays
    np.testing.assert_array_equal(y._keras_mask.numpy(), MASK)
    dense = layers.Dense(2)
    dense.supports_masking = False
    with pytest.warns(UserWarning, match="does not support masking"):
        assert dense(_embedded())._keras_mask is None


def test_call_gets_the_mask_when_it_names_a_mask_parameter():
    seen = {}

    class WithMask(layers.Layer):
        supports_masking = True

        def call(self, inputs, mask=None):
            seen["mask"] = mask
            return inputs * 2.0

    class CatchAll(layers.Layer):
        supports_masking = True

        def call(self, inputs, **kwargs):
            seen["kwargs"] = kwargs
            return inputs * 2.0

    x = _embedded()
    WithMask()(x)
    np.testing.assert_array_equal(np.asarray(seen["mask"]), MASK)
    CatchAll()(x)  # as in Keras 3, **kwargs does not ask for the mask
    assert seen["kwargs"] == {}
    explicit = np.ones_like(MASK)
    y = WithMask()(x, mask=explicit)  # an explicit mask wins, for the output too
    assert seen["mask"] is explicit
    np.testing.assert_array_equal(y._keras_mask.numpy(), explicit)
    y = WithMask()(x, explicit)  # given in its place among the arguments
    assert seen["mask"] is explicit
    np.testing.assert_array_equal(y._keras_mask.numpy(), explicit)


def test_compute_mask_makes_and_ends_masks():
    class EveryOther(layers.Layer):
        def call(self, inputs):
            return [inputs + 1.0, inputs - 1.0]

        def compute_mask(self, inputs, mask=None):
            keep = np.arange(inputs.shape[1]) % 2 == 0
            return [np.broadcast_to(keep, inputs.shape[:2]), None]

    a, b = EveryOther()(np.ones((2, 4, 1), np.float32))
    np.testing.assert_array_equal(a._keras_mask.numpy(), [[1, 0, 1, 0]] * 2)
    assert a._keras_mask.dtype == np.bool_
    assert b._keras_mask is None


def test_a_cast_to_the_layers_dtype_keeps_the_mask():
    seen = {}

    class Probe(layers.Layer):
        supports_masking = True

        def call(self, inputs, mask=None):
            seen["dtype"], seen["mask"] = inputs.dtype, mask
            return inputs

    y = Probe(dtype="float64")(_embedded("float32"))
    assert seen["dtype"] == np.float64
    np.testing.assert_array_equal(np.asarray(seen["mask"]), MASK)
    np.testing.assert_array_equal(y._keras_mask.numpy(), MASK)


def test_masks_flow_through_a_sequential_model():
    model = nnlib.Sequential(
        [
            layers.Embedding(10, 3, mask_zero=True),
            layers.LSTM(4, return_sequences=True),
            layers.Dense(2),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = model(IDS)
    np.testing.assert_array_equal(y._keras_mask.numpy(), MASK)


# -- Masking --------------------------------------------------------------------------


def test_masking_marks_and_zeroes_padded_steps():
    x = np.array([[[1.0, 2.0], [-1.0, -1.0], [0.0, 3.0]]], np.float32)
    y = layers.Masking(mask_value=-1.0)(x)
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, False, True]])
    np.testing.assert_array_equal(y.numpy(), [[[1, 2], [0, 0], [0, 3]]])


def test_masking_replaces_a_mask_the_input_carries():
    x = layers.Embedding(10, 2, mask_zero=True)(np.array([[0, 1, 2]]))
    y = layers.Masking(mask_value=123.0)(x)  # nothing equals 123: all kept
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, True, True]])


def test_masking_gradients():
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    x[0, 1] = 0.0
    masking = layers.Masking(dtype="float64")
    xt = nnlib.constant(x)
    with nnlib.GradientTape() as tape:
        tape.watch(xt)
        y = masking(xt)
    dx = tape.gradient(y, xt, output_gradients=np.ones_like(x)).numpy()
    np.testing.assert_array_equal(dx[0, 1], 0.0)
    np.testing.assert_array_equal(dx[1], 1.0)


def test_masking_config_round_trip_and_checks():
    config = layers.Masking(mask_value=-1).get_config()
    assert config["mask_value"] == -1.0
    assert layers.Masking.from_config(config).mask_value == -1.0
    with pytest.raises(TypeError, match="mask_value must be a number"):
        layers.Masking(mask_value="pad")


# -- pooling --------------------------------------------------------------------------


def _masked_input(rng, data_format="channels_last"):
    x = rng.normal(size=(3, 5, 2))
    mask = np.array([[1, 1, 1, 0, 0], [0, 1, 0, 1, 1], [1] * 5], bool)
    return (x if data_format == "channels_last" else x.transpose(0, 2, 1)), mask, x


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_1d_leaves_masked_steps_out(data_format, keepdims):
    inputs, mask, x = _masked_input(np.random.default_rng(1), data_format)
    want_mean = np.stack([x[i][mask[i]].mean(0) for i in range(3)])
    want_max = np.stack([x[i][mask[i]].max(0) for i in range(3)])
    for cls, want in (
        (layers.GlobalAveragePooling1D, want_mean),
        (layers.GlobalMaxPooling1D, want_max),
    ):
        layer = cls(data_format=data_format, keepdims=keepdims, dtype="float64")
        y = layer(inputs, mask=mask)
        assert y._keras_mask is None  # one vector per sequence
        got = y.numpy().reshape(3, 2)
        np.testing.assert_allclose(got, want, atol=1e-12)
        check_gradients(lambda v, layer=layer: layer(v, mask=mask), inputs)


def test_global_pooling_of_a_fully_masked_sequence_is_zero():
    x = np.ones((2, 3, 2))
    mask = np.array([[False] * 3, [True, False, False]])
    for cls in (layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D):
        y = cls(dtype="float64")(x, mask=mask).numpy()
        np.testing.assert_array_equal(y, [[0.0, 0.0], [1.0, 1.0]])


def test_global_average_pooling_after_an_embedding():
    emb = layers.Embedding(10, 3, mask_zero=True)
    y = layers.GlobalAveragePooling1D()(emb(IDS))
    table = emb.embeddings.numpy()
    want = [table[[4, 2, 7]].mean(0), table[[1, 3]].mean(0)]
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6)


# -- BatchNormalization ---------------------------------------------------------------


@pytest.mark.parametrize("axis", [-1, 1])
def test_batch_statistics_count_unmasked_positions_only(axis):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4, 5)) * 3 + 1
    mask = rng.random((3, 5)) > 0.4 if axis == 1 else rng.random((3, 4)) > 0.4
    channels = np.moveaxis(x, axis, -1)  # (..., channels) to compute the reference
    kept = channels[mask]
    count = mask.sum() + 1e-7  # Keras 3's epsilon in both denominators
    mean = kept.sum(0) / count
    variance = ((kept - mean) ** 2).sum(0) / count
    bn = layers.BatchNormalization(axis=axis, momentum=0.0, dtype="float64")
    y = bn(x, training=True, mask=mask)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, atol=1e-12)
    np.testing.assert_allclose(bn.moving_variance.numpy(), variance, atol=1e-12)
    want = (channels - mean) / np.sqrt(variance + 1e-3)
    np.testing.assert_allclose(np.moveaxis(y.numpy(), -1, axis), want, atol=1e-12)
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)
    check_gradients(lambda v: bn(v, training=True, mask=mask), x)


def test_batch_normalization_refuses_a_mask_of_the_wrong_shape():
    bn = layers.BatchNormalization(name="bn_mask")
    with pytest.raises(ValueError, match=r"'bn_mask'.*channel axis 2.*\(2, 4\)"):
        bn(np.ones((2, 3, 4)), training=True, mask=np.ones((2, 4), bool))


# -- MultiHeadAttention ---------------------------------------------------------------


def _attention_reference(mha, query, value, mask):
    """Keras's attention in numpy, ``mask`` (batch, target, source)."""

    def project(layer, x):
        return np.einsum("btf,fhd->bthd", x, layer.kernel.numpy()) + layer.bias.numpy()

    q = project(mha.query_dense, query) / np.sqrt(mha.key_dim)
    k, v = project(mha.key_dense, value), project(mha.value_dense, value)
    scores = np.einsum("bthd,bshd->bhts", q, k)
    scores = np.where(mask[:, None], scores, -1e9)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    heads = np.einsum("bhts,bshd->bthd", probs, v)
    out = mha.output_dense
    return np.einsum("bthd,hdo->bto", heads, out.kernel.numpy()) + out.bias.numpy()


def test_attention_combines_query_and_value_masks():
    rng = np.random.default_rng(3)
    query, value = rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 5, 6))
    q_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    v_mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], bool)
    mha = layers.MultiHeadAttention(2, key_dim=3, dtype="float64")
    mha(query, value)
    # Masks the inputs carry (as an Embedding or Masking layer leaves them)...
    q, v = nnlib.constant(query), nnlib.constant(value)
    q._keras_mask, v._keras_mask = nnlib.constant(q_mask), nnlib.constant(v_mask)
    out = mha(q, v)
    want = _attention_reference(mha, query, value, q_mask[:, :, None] & v_mask[:, None])
    np.testing.assert_allclose(out.numpy(), want, atol=1e-10)
    np.testing.assert_array_equal(out._keras_mask.numpy(), q_mask)
    # ... or given as arguments, Keras's query_mask and value_mask.
    given = mha(query, value, query_mask=q_mask, value_mask=v_mask)
    np.testing.assert_allclose(given.numpy(), want, atol=1e-10)
    key_masked = mha(query, value, key=value, key_mask=v_mask)
    np.testing.assert_allclose(key_masked.numpy()[q_mask], want[q_mask], atol=1e-10)


def test_self_attention_over_padding_equals_the_unpadded_sequence():
    emb = layers.Embedding(10, 6, mask_zero=True, dtype="float64")
    mha = layers.MultiHeadAttention(2, key_dim=3, dtype="float64")
    x = emb(IDS)
    out = mha(x, x, use_causal_mask=True)
    for row, n in enumerate((3, 2)):
        one = emb(IDS[row : row + 1, :n])
        np.testing.assert_allclose(
            out.numpy()[row, :n],
            mha(one, one, use_causal_mask=True).numpy()[0],
            atol=1e-12,
        )
