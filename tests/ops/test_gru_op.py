"""The fused GRU op (``nnlib.gru``) against the per-step GRU layer and finite
differences."""

import numpy as np
import pytest

import nnlib
from nnlib.layers import GRU
from nnlib.layers import gated_cells as recurrent_layers
from nnlib.test_util import check_gradients, numerical_gradient

RNG = np.random.default_rng(0)


def _pair(dtype="float64", **kwargs):
    """A fused GRU and a per-step one (a sigmoid the fused path does not
    recognize) with the same random weights."""
    config = dict(return_sequences=True, return_state=True, dtype=dtype, **kwargs)
    fused = GRU(3, **config)
    stepped = GRU(3, recurrent_activation=lambda v: nnlib.sigmoid(v), **config)
    x = RNG.normal(size=(2, 4, 5)).astype(dtype)
    fused(x)
    stepped(x)
    fused.set_weights(
        [RNG.normal(scale=0.5, size=w.shape).astype(dtype) for w in fused.get_weights()]
    )
    stepped.set_weights(fused.get_weights())
    return fused, stepped, x


def _run(layer, x, state, dys):
    inputs = [nnlib.constant(x), nnlib.constant(state)]
    with nnlib.GradientTape() as tape:
        for t in inputs:
            tape.watch(t)
        out = layer(inputs[0], initial_state=inputs[1:])
    grads = tape.gradient(out, inputs + layer.variables, output_gradients=dys)
    return [o.numpy() for o in out] + [g.numpy() for g in grads]


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("reset_after", [True, False])
def test_fused_and_per_step_gru_agree_on_values_and_gradients(
    reset_after, use_bias, go_backwards
):
    fused, stepped, x = _pair(
        reset_after=reset_after, use_bias=use_bias, go_backwards=go_backwards
    )
    state = RNG.normal(size=(2, 3))
    dys = [RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 3))]
    results = [_run(layer, x, state, dys) for layer in (fused, stepped)]
    # outputs, final h, then gradients of x, initial h, kernel, recurrent, bias
    assert len(results[0]) == 6 + use_bias
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_only_the_default_activations_take_the_fused_op(monkeypatch, reset_after):
    calls = []
    fused_gru = recurrent_layers._fused_gru
    monkeypatch.setattr(
        recurrent_layers,
        "_fused_gru",
        lambda *a, **k: calls.append(1) or fused_gru(*a, **k),
    )
    fused, stepped, x = _pair(reset_after=reset_after)
    calls.clear()
    fused(x)
    assert calls == [1]
    stepped(x)
    assert calls == [1]


@pytest.mark.parametrize("reset_after", [True, False])
def test_fused_gru_matches_the_per_step_path_in_float32(reset_after):
    fused, stepped, x = _pair("float32", reset_after=reset_after)
    for a, b in zip(fused(x), stepped(x)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_layer_second_derivatives(reset_after):
    layer = GRU(2, reset_after=reset_after, dtype="float64")
    x = RNG.normal(size=(1, 3, 2))
    layer(x)
    check_gradients(lambda x: layer(x), x, order=2)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("reset_after", [True, False])
def test_array_mode_gradients_match_finite_differences(reset_after, bias):
    # No outer tape: the rule runs on numpy arrays (the first-order fast path).
    args = [
        RNG.normal(size=(2, 3, 6)),
        RNG.normal(size=(2, 2)),
        RNG.normal(size=(2, 6)),
    ] + ([RNG.normal(size=(6,))] if bias else [])
    dys = [RNG.normal(size=(2, 3, 2)), RNG.normal(size=(2, 2))]

    def f(*a):
        return list(nnlib.gru(*a, reset_after=reset_after))

    tensors = [nnlib.constant(a) for a in args]
    with nnlib.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        outputs = f(*tensors)
    grads = tape.gradient(outputs, tensors, output_gradients=dys)
    for i, grad in enumerate(grads):
        numeric = numerical_gradient(f, args, i, dys)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gradients_of_some_operands_only(reset_after):
    # Operands without a gradient are skipped (None), the others still right.
    args = [
        RNG.normal(size=(2, 3, 6)),
        RNG.normal(size=(2, 2)),
        RNG.normal(size=(2, 6)),
    ]
    x, h0, kernel = [nnlib.constant(a) for a in args]
    with nnlib.GradientTape() as tape:
        tape.watch(kernel)
        seq, _ = nnlib.gru(x, h0, kernel, reset_after=reset_after)
    (grad,) = tape.gradient(seq, [kernel])

    def f(*a):
        return nnlib.gru(*a, reset_after=reset_after)[0]

    numeric = numerical_gradient(f, args, 2, [np.ones((2, 3, 2))])
    np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_gru_op_rejects_shapes_that_do_not_fit():
    with pytest.raises(
        ValueError, match=r"gru: expected inputs \(b, t, 3u\).*\(3, 6\)"
    ):
        nnlib.gru(np.zeros((2, 3, 6)), np.zeros((2, 2)), np.zeros((3, 6)))
    with pytest.raises(ValueError, match=r"gru: .*\(5,\)"):
        nnlib.gru(np.zeros((2, 3, 6)), np.zeros((2, 2)), np.zeros((2, 6)), np.zeros(5))
    with pytest.raises(TypeError, match="gru: .*floating point"):
        nnlib.gru(
            np.zeros((2, 3, 6), int), np.zeros((2, 2), int), np.zeros((2, 6), int)
        )


@pytest.mark.parametrize("reset_after", [True, False])
def test_input_bias_gradients_in_both_modes(reset_after):
    args = [
        RNG.normal(size=(2, 3, 6)),
        RNG.normal(size=(2, 2)),
        RNG.normal(size=(2, 6)),
        RNG.normal(size=(6,)),
        RNG.normal(size=(6,)),
    ]

    def f(x, h, kernel, bias, in_bias):
        return list(nnlib.gru(x, h, kernel, bias, reset_after, input_bias=in_bias))

    # Tensor mode, first and second order
    check_gradients(f, *args, order=2)
    # array mode against finite differences
    dys = [RNG.normal(size=(2, 3, 2)), RNG.normal(size=(2, 2))]
    tensors = [nnlib.constant(a) for a in args]
    with nnlib.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        outputs = f(*tensors)
    grads = tape.gradient(outputs, tensors, output_gradients=dys)
    for i, grad in enumerate(grads):
        numeric = numerical_gradient(f, args, i, dys)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)
    # the same as adding it to the inputs
    added = f(args[0] + args[4], *args[1:4], None)
    for a, b in zip(f(*args), added):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


def test_gru_op_rejects_a_bad_input_bias():
    with pytest.raises(ValueError, match=r"gru: expected input_bias \(6,\).*\(4,\)"):
        nnlib.gru(
            np.zeros((2, 3, 6)),
            np.zeros((2, 2)),
            np.zeros((2, 6)),
            input_bias=np.zeros(4),
        )
