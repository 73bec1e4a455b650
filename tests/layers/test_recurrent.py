"""Recurrent layers (SimpleRNN, LSTM, GRU, Bidirectional) against numpy loops."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN
from nnlib.test_util import check_gradients, numerical_gradient

RNG = np.random.default_rng(0)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# -- independent references: one time step at a time, Keras's equations ---------------


def _ref_rnn(x, kernel, recurrent, bias, h):
    outputs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        outputs.append(h)
    return np.stack(outputs, 1), [h]


def _ref_lstm(x, kernel, recurrent, bias, h, c, gate=_sigmoid):
    u = h.shape[1]
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f = gate(z[:, :u]), gate(z[:, u : 2 * u])
        g, o = np.tanh(z[:, 2 * u : 3 * u]), gate(z[:, 3 * u :])
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, 1), [h, c]


def _ref_gru(x, kernel, recurrent, bias, h, reset_after):
    u = h.shape[1]
    b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * u))
    outputs = []
    for t in range(x.shape[1]):
        xz = x[:, t] @ kernel + b_in
        if reset_after:
            m = h @ recurrent + b_rec
            z = _sigmoid(xz[:, :u] + m[:, :u])
            r = _sigmoid(xz[:, u : 2 * u] + m[:, u : 2 * u])
            hh = np.tanh(xz[:, 2 * u :] + r * m[:, 2 * u :])
        else:
            z = _sigmoid(xz[:, :u] + h @ recurrent[:, :u])
            r = _sigmoid(xz[:, u : 2 * u] + h @ recurrent[:, u : 2 * u])
            hh = np.tanh(xz[:, 2 * u :] + (r * h) @ recurrent[:, 2 * u :])
        h = z * h + (1 - z) * hh
        outputs.append(h)
    return np.stack(outputs, 1), [h]


def _reference(layer, x, states=None):
    """The layer's outputs computed by the loops above from its weights."""
    kernel, recurrent, bias = layer.get_weights()
    zeros = np.zeros((x.shape[0], layer.units))
    states = list(states) if states is not None else [zeros] * len(layer.state_names)
    if layer.go_backwards:
        x = x[:, ::-1]
    if isinstance(layer, LSTM):
        seq, states = _ref_lstm(x, kernel, recurrent, bias, *states)
    elif isinstance(layer, GRU):
        seq, states = _ref_gru(x, kernel, recurrent, bias, *states, layer.reset_after)
    else:
        seq, states = _ref_rnn(x, kernel, recurrent, bias, *states)
    output = seq if layer.return_sequences else states[0]
    return [output, *states] if layer.return_state else output


def _randomize(layer, scale=0.5):
    layer.set_weights(
        [RNG.normal(scale=scale, size=w.shape) for w in layer.get_weights()]
    )


def _assert_close(actual, expected, **kwargs):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            np.testing.assert_allclose(np.asarray(a), e, **kwargs)
    else:
        np.testing.assert_allclose(np.asarray(actual), expected, **kwargs)


LAYERS = {
    "SimpleRNN": lambda **kw: SimpleRNN(3, **kw),
    "LSTM": lambda **kw: LSTM(3, **kw),
    "GRU": lambda **kw: GRU(3, **kw),
    "GRU-reset_before": lambda **kw: GRU(3, reset_after=False, **kw),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_outputs_match_the_numpy_loops(
    kind, return_sequences, return_state, go_backwards
):
    layer = LAYERS[kind](
        return_sequences=return_sequences,
        return_state=return_state,
        go_backwards=go_backwards,
        dtype="float64",
    )
    x = RNG.normal(size=(2, 5, 4))
    layer(x)
    _randomize(layer)
    _assert_close(layer(x), _reference(layer, x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_initial_state_is_used(kind):
    layer = LAYERS[kind](return_sequences=True, return_state=True, dtype="float64")
    x = RNG.normal(size=(2, 4, 3))
    layer(x)
    _randomize(layer)
    states = [RNG.normal(size=(2, 3)) for _ in layer.state_names]
    out = layer(x, initial_state=states)
    _assert_close(out, _reference(layer, x, states), rtol=1e-10, atol=1e-12)
    assert not np.allclose(np.asarray(out[0]), np.asarray(layer(x)[0]))


def test_float32_layers_compute_in_float32():
    layer = LSTM(4, return_sequences=True)
    x = RNG.normal(size=(3, 6, 2))  # float64 input, cast to the layer's dtype
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == (3, 6, 4)
    _assert_close(out, _reference(layer, x), rtol=1e-5, atol=1e-6)


def test_weights_have_keras_shapes_and_names():
    x = np.zeros((1, 2, 5), np.float32)
    expected = {
        SimpleRNN(3): [(5, 3), (3, 3), (3,)],
        LSTM(3): [(5, 12), (3, 12), (12,)],
        GRU(3): [(5, 9), (3, 9), (2, 9)],
        GRU(3, reset_after=False): [(5, 9), (3, 9), (9,)],
    }
    for layer, shapes in expected.items():
        layer(x)
        assert [v.shape for v in layer.variables] == shapes
        names = [v.name.split("/")[-1] for v in layer.variables]
        assert names == ["kernel", "recurrent_kernel", "bias"]
    no_bias = LSTM(3, use_bias=False)
    no_bias(x)
    assert [v.shape for v in no_bias.variables] == [(5, 12), (3, 12)]


def test_lstm_unit_forget_bias_and_orthogonal_recurrent_kernel():
    layer = LSTM(3, bias_initializer="zeros", dtype="float64")
    layer(np.zeros((1, 2, 4)))
    np.testing.assert_array_equal(layer.bias.numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    plain = LSTM(3, unit_forget_bias=False)
    plain(np.zeros((1, 2, 4), np.float32))
    np.testing.assert_array_equal(plain.bias.numpy(), np.zeros(12))
    u = layer.recurrent_kernel.numpy()
    np.testing.assert_allclose(u @ u.T, np.eye(3), atol=1e-12)


def test_lstm_with_other_activations_runs_the_per_step_ops():
    def hard(v):
        return np.clip(v / 6 + 0.5, 0, 1)

    layer = LSTM(
        3, recurrent_activation="hard_sigmoid", return_sequences=True, dtype="float64"
    )
    x = RNG.normal(size=(2, 4, 3))
    layer(x)
    _randomize(layer)
    kernel, recurrent, bias = layer.get_weights()
    h = c = np.zeros((2, 3))
    expected, _ = _ref_lstm(x, kernel, recurrent, bias, h, c, gate=hard)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-12)


def test_fused_and_per_step_lstm_agree_on_values_and_gradients():
    fused = LSTM(3, return_sequences=True, return_state=True, dtype="float64")
    stepped = LSTM(
        3,
        recurrent_activation=lambda v: nnlib.sigmoid(v),
        return_sequences=True,
        return_state=True,
        dtype="float64",
    )
    x = RNG.normal(size=(2, 4, 3))
    fused(x)
    stepped(x)
    _randomize(fused)
    stepped.set_weights(fused.get_weights())
    states = [RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))]
    dys = [RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))]
    results = []
    for layer in (fused, stepped):
        inputs = [nnlib.constant(v) for v in [x, *states]]
        with nnlib.GradientTape() as tape:
            for t in inputs:
                tape.watch(t)
            out = layer(inputs[0], initial_state=inputs[1:])
        grads = tape.gradient(out, inputs + layer.variables, output_gradients=dys)
        results.append([o.numpy() for o in out] + [g.numpy() for g in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_gradients_of_inputs_and_states_match_finite_differences(kind):
    layer = LAYERS[kind](return_sequences=True, return_state=True, dtype="float64")
    x = RNG.normal(size=(2, 3, 2))
    layer(x)
    _randomize(layer)
    states = [RNG.normal(size=(2, 3)) for _ in layer.state_names]
    check_gradients(lambda x, *s: layer(x, initial_state=list(s)), x, *states)


def test_lstm_second_derivatives_through_the_layer():
    layer = LSTM(2, dtype="float64")
    x = RNG.normal(size=(1, 3, 2))
    layer(x)
    check_gradients(lambda x: layer(x), x, order=2)


def test_fused_lstm_op_array_mode_gradients_match_finite_differences():
    # No outer tape: the rule runs on numpy arrays (the first-order fast path).
    args = [
        RNG.normal(size=(2, 3, 8)),
        RNG.normal(size=(2, 2)),
        RNG.normal(size=(2, 2)),
        RNG.normal(size=(2, 8)),
        RNG.normal(size=(8,)),
    ]
    dys = [RNG.normal(size=(2, 3, 2)), RNG.normal(size=(2, 2)), RNG.normal(size=(2, 2))]
    tensors = [nnlib.constant(a) for a in args]
    with nnlib.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        outputs = nnlib.lstm(*tensors)
    grads = tape.gradient(list(outputs), tensors, output_gradients=dys)
    for i, grad in enumerate(grads):
        numeric = numerical_gradient(lambda *a: list(nnlib.lstm(*a)), args, i, dys)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_lstm_op_rejects_shapes_that_do_not_fit():
    with pytest.raises(
        ValueError, match=r"lstm: expected inputs \(b, t, 4u\).*\(3, 8\)"
    ):
        nnlib.lstm(
            np.zeros((2, 3, 8)), np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((3, 8))
        )
    with pytest.raises(TypeError, match="floating point"):
        nnlib.lstm(
            np.zeros((2, 3, 8), int),
            np.zeros((2, 2), int),
            np.zeros((2, 2), int),
            np.zeros((2, 8), int),
        )


def test_variable_gradients_reach_every_weight_in_a_model():
    model = nnlib.Sequential(
        [LSTM(4, return_sequences=True, input_shape=(5, 3)), GRU(3), Dense(2)],
        name="rnn_stack",
    )
    x = RNG.normal(size=(2, 5, 3)).astype(np.float32)
    _, grads = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_sum(model(x) ** 2)
    )()
    assert [v.name for _, v in grads] == [v.name for v in model.trainable_variables]
    assert all(np.all(np.isfinite(g.numpy())) and np.any(g.numpy()) for g, _ in grads)


def test_bad_inputs_raise_errors_naming_the_layer():
    layer = LSTM(3, name="encoder")
    with pytest.raises(
        ValueError, match=r"layer 'encoder.*' expected ndim=3, got ndim=2"
    ):
        layer(np.zeros((2, 4), np.float32))
    layer(np.zeros((2, 4, 5), np.float32))
    with pytest.raises(ValueError, match=r"layer 'encoder.*ndim=3.*got ndim=2"):
        layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"layer 'encoder.*last dimension 5"):
        layer(np.zeros((2, 4, 6), np.float32))
    with pytest.raises(ValueError, match=r"initial_state as 2 tensor\(s\) \(h, c\)"):
        layer(np.zeros((2, 4, 5), np.float32), initial_state=[np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"of shape \(2, 3\), got shapes \[\(2, 4\)\]"):
        GRU(3)(np.zeros((2, 4, 5)), initial_state=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at least one time step"):
        SimpleRNN(2)(np.zeros((2, 0, 3)))
    with pytest.raises(ValueError, match="LSTM: units must be a positive integer"):
        LSTM(0)
    with pytest.raises(ValueError, match="unknown activation|activation"):
        GRU(2, activation="nope")


@pytest.mark.parametrize(
    "make",
    [
        lambda: SimpleRNN(
            3, activation="relu", return_sequences=True, go_backwards=True
        ),
        lambda: LSTM(
            3,
            recurrent_activation="hard_sigmoid",
            unit_forget_bias=False,
            return_state=True,
            kernel_regularizer="l2",
        ),
        lambda: GRU(3, reset_after=False, use_bias=False),
        lambda: Bidirectional(LSTM(2, return_sequences=True), merge_mode="sum"),
        lambda: Bidirectional(GRU(2), backward_layer=GRU(2, go_backwards=True)),
    ],
    ids=["SimpleRNN", "LSTM", "GRU", "Bidirectional", "Bidirectional-backward_layer"],
)
def test_config_round_trips_and_clones_compute_the_same(make):
    layer = make()
    x = RNG.normal(size=(2, 3, 2)).astype(np.float32)
    out = layer(x)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert {k: v for k, v in clone.get_config().items() if k != "name"} == {
        k: v for k, v in config.items() if k != "name"
    }
    clone(x)
    clone.set_weights(layer.get_weights())
    _assert_close(
        clone(x),
        [np.asarray(o) for o in out] if isinstance(out, list) else np.asarray(out),
        rtol=1e-6,
    )


# -- Bidirectional -------------------------------------------------------------------


def _bidirectional_reference(bi, x):
    fw = _reference(bi.forward_layer, x)
    bw = _reference(bi.backward_layer, x)
    return fw, bw


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_merges_forward_and_reversed_backward(
    merge_mode, return_sequences
):
    bi = Bidirectional(
        LSTM(3, return_sequences=return_sequences, dtype="float64"),
        merge_mode=merge_mode,
    )
    x = RNG.normal(size=(2, 5, 4))
    bi(x)
    _randomize(bi)
    fw, bw = _bidirectional_reference(bi, x)
    if return_sequences:
        bw = bw[:, ::-1]
    expected = {
        "concat": lambda: np.concatenate([fw, bw], -1),
        "sum": lambda: fw + bw,
        "mul": lambda: fw * bw,
        "ave": lambda: (fw + bw) / 2,
        None: lambda: [fw, bw],
    }[merge_mode]()
    _assert_close(bi(x), expected, rtol=1e-10, atol=1e-12)


def test_bidirectional_names_states_and_initial_state():
    bi = Bidirectional(GRU(2, return_state=True, name="enc"), name="bi")
    assert bi.forward_layer.go_backwards is False and bi.backward_layer.go_backwards
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    out, h_fw, h_bw = bi(x)
    assert out.shape == (2, 4) and h_fw.shape == h_bw.shape == (2, 2)
    assert [v.name for v in bi.variables] == [
        f"bi/{d}_enc/{w}"
        for d in ("forward", "backward")
        for w in ("kernel", "recurrent_kernel", "bias")
    ]
    s_fw, s_bw = RNG.normal(size=(2, 2)), RNG.normal(size=(2, 2))
    _, h_fw2, h_bw2 = bi(x, initial_state=[s_fw, s_bw])
    _assert_close(
        h_fw2, _reference(bi.forward_layer, x, [s_fw])[1], rtol=1e-5, atol=1e-6
    )
    _assert_close(
        h_bw2, _reference(bi.backward_layer, x, [s_bw])[1], rtol=1e-5, atol=1e-6
    )


def test_bidirectional_gradients_match_finite_differences():
    bi = Bidirectional(SimpleRNN(2, return_sequences=True, dtype="float64"))
    x = RNG.normal(size=(2, 3, 2))
    bi(x)
    check_gradients(lambda x: bi(x), x)


def test_bidirectional_rejects_bad_arguments():
    with pytest.raises(ValueError, match="merge_mode must be one of"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards=True"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match="return_sequences=True"):
        Bidirectional(
            LSTM(2, return_sequences=True), backward_layer=LSTM(2, go_backwards=True)
        )
    with pytest.raises(TypeError, match="must be a Layer"):
        Bidirectional("lstm")


# -- PyTorch, where installed ---------------------------------------------------------


def _torch_run(module, x):
    torch = pytest.importorskip("torch")
    out, state = module(torch.from_numpy(x))
    return out.detach().numpy(), state


def test_lstm_agrees_with_torch():
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(3, 6, 4)).astype(np.float32)
    ref = torch.nn.LSTM(4, 5, batch_first=True)
    layer = LSTM(5, return_sequences=True, return_state=True)
    layer(x)
    # torch's gate order i, f, g, o is Keras's i, f, c, o; torch has two biases.
    layer.set_weights(
        [
            ref.weight_ih_l0.detach().numpy().T,
            ref.weight_hh_l0.detach().numpy().T,
            (ref.bias_ih_l0 + ref.bias_hh_l0).detach().numpy(),
        ]
    )
    seq, (h, c) = _torch_run(ref, x)
    out = layer(x)
    for a, b in zip(out, [seq, h[0].detach().numpy(), c[0].detach().numpy()]):
        np.testing.assert_allclose(a.numpy(), b, atol=1e-5)
    # and the gradients of the weights
    dy = RNG.normal(size=seq.shape).astype(np.float32)
    torch_out, _ = ref(torch.from_numpy(x))
    (torch_out * torch.from_numpy(dy)).sum().backward()
    with nnlib.GradientTape() as tape:
        y = layer(x)[0]
    dk, dr, db = tape.gradient(y, layer.variables, output_gradients=dy)
    np.testing.assert_allclose(dk.numpy(), ref.weight_ih_l0.grad.numpy().T, atol=1e-5)
    np.testing.assert_allclose(dr.numpy(), ref.weight_hh_l0.grad.numpy().T, atol=1e-5)
    np.testing.assert_allclose(db.numpy(), ref.bias_ih_l0.grad.numpy(), atol=1e-5)


def _torch_gru_weights(ref, u):
    def reorder(w):  # torch r, z, n -> Keras z, r, h
        return np.concatenate([w[u : 2 * u], w[:u], w[2 * u :]])

    w = [
        p.detach().numpy()
        for p in (ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0)
    ]
    return [reorder(w[0]).T, reorder(w[1]).T, np.stack([reorder(w[2]), reorder(w[3])])]


def test_gru_agrees_with_torch():
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(3, 6, 4)).astype(np.float32)
    ref = torch.nn.GRU(4, 5, batch_first=True)
    layer = GRU(5, return_sequences=True)
    layer(x)
    layer.set_weights(_torch_gru_weights(ref, 5))
    seq, _ = _torch_run(ref, x)
    np.testing.assert_allclose(layer(x).numpy(), seq, atol=1e-5)


def test_simple_rnn_and_bidirectional_lstm_agree_with_torch():
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(2, 5, 3)).astype(np.float32)
    ref = torch.nn.RNN(3, 4, batch_first=True)
    layer = SimpleRNN(4, return_sequences=True)
    layer(x)
    layer.set_weights(
        [
            ref.weight_ih_l0.detach().numpy().T,
            ref.weight_hh_l0.detach().numpy().T,
            (ref.bias_ih_l0 + ref.bias_hh_l0).detach().numpy(),
        ]
    )
    np.testing.assert_allclose(layer(x).numpy(), _torch_run(ref, x)[0], atol=1e-5)

    ref = torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True)
    bi = Bidirectional(LSTM(4, return_sequences=True))
    bi(x)
    weights = []
    for suffix in ("l0", "l0_reverse"):
        p = {
            n: getattr(ref, f"{n}_{suffix}").detach().numpy()
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        }
        weights += [p["weight_ih"].T, p["weight_hh"].T, p["bias_ih"] + p["bias_hh"]]
    bi.set_weights(weights)
    np.testing.assert_allclose(bi(x).numpy(), _torch_run(ref, x)[0], atol=1e-5)
