"""MultiHeadAttention against a numpy reference written here (Keras's equations)."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import MultiHeadAttention
from nnlib.test_util import check_gradients

RNG = np.random.default_rng(0)


def _reference(layer, query, value, key=None, mask=None, causal=False):
    """Attention output and probabilities from the layer's weights, in numpy."""
    key = value if key is None else key
    weights = layer.get_weights()
    if not layer.use_bias:  # zero biases in their places
        kernels = weights
        weights = []
        for i, k in enumerate(kernels):
            weights += [k, np.zeros(k.shape[2:] if i == 3 else k.shape[1:])]
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    q = np.einsum("btd,dhk->bthk", query, wq) + bq
    k = np.einsum("bsd,dhk->bshk", key, wk) + bk
    v = np.einsum("bsd,dhv->bshv", value, wv) + bv
    scores = np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(layer.key_dim)
    allowed = np.ones(scores.shape, bool)
    if mask is not None:
        allowed &= np.asarray(mask, bool)[:, None]
    if causal:
        t, s = scores.shape[-2:]
        allowed &= np.arange(t)[:, None] >= np.arange(s)[None, :]
    scores = np.where(allowed, scores, -1e9)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    out = np.einsum("bhts,bshv->bthv", p, v)
    return np.einsum("bthv,hvo->bto", out, wo) + bo, p


def _layer(**kwargs):
    kwargs.setdefault("dtype", "float64")
    return MultiHeadAttention(**kwargs)


def _randomize(layer):
    layer.set_weights(
        [RNG.normal(scale=0.5, size=w.shape) for w in layer.get_weights()]
    )


def _mask(batch, target, source):
    mask = RNG.random((batch, target, source)) > 0.4
    mask[..., 0] = True  # every query sees at least one position
    return mask


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_self_attention_matches_numpy(causal, masked):
    layer = _layer(num_heads=2, key_dim=3)
    x = RNG.normal(size=(2, 5, 4))
    layer(x, x)
    _randomize(layer)
    mask = _mask(2, 5, 5) if masked else None
    out, scores = layer(
        x, x, attention_mask=mask, use_causal_mask=causal, return_attention_scores=True
    )
    expected, probs = _reference(layer, x, x, mask=mask, causal=causal)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores.numpy().sum(-1), 1.0, rtol=1e-12)
    if causal:
        assert np.all(np.triu(scores.numpy(), k=1) == 0)


def test_cross_attention_with_separate_key_value_dims_and_output_shape():
    layer = _layer(num_heads=3, key_dim=2, value_dim=4, output_shape=7)
    query = RNG.normal(size=(2, 3, 5))
    value = RNG.normal(size=(2, 6, 4))
    key = RNG.normal(size=(2, 6, 3))
    mask = _mask(2, 3, 6)
    out = layer(query, value, key, attention_mask=mask)
    assert out.shape == (2, 3, 7)
    _randomize(layer)
    expected, _ = _reference(layer, query, value, key, mask=mask)
    np.testing.assert_allclose(
        layer(query, value, key, attention_mask=mask).numpy(),
        expected,
        rtol=1e-10,
        atol=1e-12,
    )
    assert [v.shape for v in layer.variables] == [
        (5, 3, 2),
        (3, 2),
        (3, 3, 2),
        (3, 2),
        (4, 3, 4),
        (3, 4),
        (3, 4, 7),
        (7,),
    ]
    assert [v.name.split("/", 1)[1] for v in layer.variables] == [
        f"{p}/{w}"
        for p in ("query", "key", "value", "attention_output")
        for w in ("kernel", "bias")
    ]


def test_a_broadcast_mask_and_a_fully_masked_row():
    layer = _layer(num_heads=1, key_dim=2, use_bias=False)
    x = RNG.normal(size=(2, 3, 2))
    mask = np.array([[True, True, False], [False, False, False], [True, False, True]])
    out, scores = layer(x, x, attention_mask=mask, return_attention_scores=True)
    expected, probs = _reference(layer, x, x, mask=np.broadcast_to(mask, (2, 3, 3)))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-10, atol=1e-12)
    # A row with nothing to attend to is uniform, as in Keras (not NaN).
    np.testing.assert_allclose(scores.numpy()[:, :, 1], 1 / 3)


def test_gradients_of_query_key_and_value_match_finite_differences():
    layer = _layer(num_heads=2, key_dim=2)
    query, value, key = (
        RNG.normal(size=(1, 3, 3)),
        RNG.normal(size=(1, 2, 2)),
        RNG.normal(size=(1, 2, 3)),
    )
    layer(query, value, key)
    _randomize(layer)
    mask = np.array([[[True, False], [True, True], [False, True]]])
    check_gradients(
        lambda q, v, k: layer(q, v, k, attention_mask=mask), query, value, key
    )
    self_attention = _layer(num_heads=2, key_dim=2)
    self_attention(query, query)
    check_gradients(lambda q: self_attention(q, q, use_causal_mask=True), query)


def test_variable_gradients_match_finite_differences():
    layer = _layer(num_heads=2, key_dim=2)
    x = RNG.normal(size=(2, 3, 3))
    layer(x, x)
    _randomize(layer)
    dy = RNG.normal(size=(2, 3, 3))
    with nnlib.GradientTape() as tape:
        out = layer(x, x, use_causal_mask=True)
    grads = tape.gradient(out, layer.variables, output_gradients=dy)
    eps = 1e-6
    for variable, grad in zip(layer.variables, grads):
        base = variable.numpy().copy()
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            for sign in (1, -1):
                value = base.copy()
                value[index] += sign * eps
                variable.assign(value)
                out = layer(x, x, use_causal_mask=True).numpy()
                numeric[index] += sign * np.sum(out * dy) / (2 * eps)
        variable.assign(base)
        np.testing.assert_allclose(
            grad.numpy(), numeric, rtol=1e-5, atol=1e-7, err_msg=variable.name
        )


def test_dropout_acts_only_while_training_and_is_seeded():
    layer = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=3)
    x = RNG.normal(size=(2, 4, 8)).astype(np.float32)
    base = layer(x, x).numpy()
    np.testing.assert_array_equal(layer(x, x, training=False).numpy(), base)
    trained, scores = layer(x, x, training=True, return_attention_scores=True)
    assert not np.allclose(trained.numpy(), base)
    np.testing.assert_allclose(scores.numpy().sum(-1), 1.0, rtol=1e-6)  # pre-dropout
    twin = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=3)
    twin(x, x)
    twin.set_weights(layer.get_weights())
    again = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=3)
    again(x, x)
    again.set_weights(layer.get_weights())
    np.testing.assert_array_equal(
        twin(x, x, training=True).numpy(), again(x, x, training=True).numpy()
    )


def test_float32_by_default_and_inside_a_network():
    class Block(nnlib.Network):
        def __init__(self):
            super().__init__(name="attention_block")
            self.attention = MultiHeadAttention(num_heads=2, key_dim=4)
            self.dense = nnlib.layers.Dense(3)

        def call(self, x, training=False):
            return self.dense(self.attention(x, x, use_causal_mask=True))

    block = Block()
    out = block(RNG.normal(size=(2, 5, 6)))
    assert out.dtype == np.float32 and out.shape == (2, 5, 3)
    assert (
        block.variables[0].name == "attention_block/multi_head_attention/query/kernel"
    )


def test_config_round_trip_and_clone():
    layer = MultiHeadAttention(
        num_heads=2,
        key_dim=3,
        value_dim=5,
        dropout=0.1,
        output_shape=4,
        use_bias=False,
        kernel_regularizer="l2",
    )
    x = RNG.normal(size=(2, 3, 6)).astype(np.float32)
    out = layer(x, x)
    config = layer.get_config()
    clone = MultiHeadAttention.from_config(config)
    assert {k: v for k, v in clone.get_config().items() if k != "name"} == {
        k: v for k, v in config.items() if k != "name"
    }
    clone(x, x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x, x).numpy(), out.numpy(), rtol=1e-6)
    assert len(layer.losses) == 4


def test_bad_arguments_and_inputs_raise_naming_the_layer():
    with pytest.raises(ValueError, match="MultiHeadAttention: num_heads must be"):
        MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        MultiHeadAttention(num_heads=1, key_dim=2, dropout=1.0)
    layer = MultiHeadAttention(num_heads=1, key_dim=2, name="attend")
    with pytest.raises(ValueError, match=r"layer 'attend.*' expected query of rank 3"):
        layer(np.zeros((2, 4)), np.zeros((2, 3, 4)))
    x = np.zeros((2, 3, 4), np.float32)
    layer(x, x)
    with pytest.raises(
        ValueError, match=r"layer 'attend.*' expected query \(batch, target, 4\)"
    ):
        layer(np.zeros((2, 3, 5)), x)
    with pytest.raises(ValueError, match=r"attention_mask of shape \(2, 3, 3\)"):
        layer(x, x, attention_mask=np.ones((2, 3, 4), bool))


def test_agrees_with_torch_multihead_attention():
    torch = pytest.importorskip("torch")
    embed, heads = 6, 2
    ref = torch.nn.MultiheadAttention(embed, heads, batch_first=True)
    layer = MultiHeadAttention(num_heads=heads, key_dim=embed // heads)
    query = RNG.normal(size=(2, 4, embed)).astype(np.float32)
    value = RNG.normal(size=(2, 5, embed)).astype(np.float32)
    layer(query, value)
    w = ref.in_proj_weight.detach().numpy()
    b = ref.in_proj_bias.detach().numpy()
    weights = []
    for i in range(3):  # torch: y = x @ W.T + b, heads contiguous in the output
        weights += [
            w[i * embed : (i + 1) * embed].T.reshape(embed, heads, -1),
            b[i * embed : (i + 1) * embed].reshape(heads, -1),
        ]
    weights += [
        ref.out_proj.weight.detach().numpy().T.reshape(heads, -1, embed),
        ref.out_proj.bias.detach().numpy(),
    ]
    layer.set_weights(weights)
    mask = _mask(2, 4, 5)
    expected, probs = ref(
        torch.from_numpy(query),
        torch.from_numpy(value),
        torch.from_numpy(value),
        attn_mask=torch.from_numpy(~mask).repeat_interleave(heads, 0),
        average_attn_weights=False,
    )
    out, scores = layer(query, value, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), probs.detach().numpy(), atol=1e-5)
