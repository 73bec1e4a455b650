"""Masked recurrent layers against numpy references of Keras's semantics.

Keras 3 (``keras/src/backend/{jax,numpy}/rnn.py``): at a masked step every
state carries over unchanged and the output is the carried ``h`` (zeros with
``zero_output_for_mask``); the last output is the last step's. So a padded,
masked batch gives what the unpadded sequences give one by one, gradients
included. Both the fused ops (LSTM, GRU) and the step-by-step loop are checked.
"""

import numpy as np
import pytest

import nnlib
from nnlib.layers.recurrent_cells import Cell
from nnlib.test_util import check_gradients

KINDS = ("SimpleRNN", "LSTM", "GRU")
LENGTHS = (5, 2, 4)  # a full sequence, a short one, one in between
FEATURES, UNITS, TIME = 3, 4, 5


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _step_fn(layer):
    """One step of the layer in numpy, Keras's equations: ``(out, states)``."""
    kernel, recurrent = layer.kernel.numpy(), layer.recurrent_kernel.numpy()
    bias = layer.bias.numpy()
    kind = type(layer).__name__
    if kind == "SimpleRNN":
        return lambda x, s: (h := np.tanh(x @ kernel + s[0] @ recurrent + bias), [h])
    if kind == "LSTM":

        def lstm(x, s):
            i, f, g, o = np.split(x @ kernel + s[0] @ recurrent + bias, 4, axis=-1)
            c = _sigmoid(f) * s[1] + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            return h, [h, c]

        return lstm

    def gru(x, s):  # reset_after=True: bias rows (input, recurrent)
        xz, xr, xh = np.split(x @ kernel + bias[0], 3, axis=-1)
        mz, mr, mh = np.split(s[0] @ recurrent + bias[1], 3, axis=-1)
        z, r = _sigmoid(xz + mz), _sigmoid(xr + mr)
        h = z * s[0] + (1 - z) * np.tanh(xh + r * mh)
        return h, [h]

    return gru


def reference(layer, x, mask, states=None, go_backwards=False, zero_output=False):
    """Keras's masked time loop in numpy: ``(sequence, last output, states)``
    with the sequence in the order it was read."""
    step = _step_fn(layer)
    batch = x.shape[0]
    if states is None:
        states = [np.zeros((batch, UNITS))] * len(layer.state_names)
    steps = range(x.shape[1])
    outputs = []
    for t in reversed(steps) if go_backwards else steps:
        out, new = step(x[:, t], states)
        keep = mask[:, t, None]
        outputs.append(np.where(keep, out, 0.0 if zero_output else states[0]))
        states = [np.where(keep, n, s) for n, s in zip(new, states)]
    return np.stack(outputs, axis=1), outputs[-1], states


def _padded(rng, lengths=LENGTHS, left=False):
    x = rng.normal(size=(len(lengths), TIME, FEATURES))
    mask = np.zeros((len(lengths), TIME), bool)
    for row, n in enumerate(lengths):
        if left:
            mask[row, TIME - n :] = True
        else:
            mask[row, :n] = True
    return x, mask


def _layer(kind, **kwargs):
    layer = getattr(nnlib.layers, kind)(UNITS, dtype="float64", **kwargs)
    layer(np.zeros((1, TIME, FEATURES)))
    if layer.bias is not None:  # a non-zero bias, so padding is not neutral
        layer.bias.assign(np.random.default_rng(1).normal(size=layer.bias.shape))
    return layer


@pytest.fixture(params=["fused", "steps"])
def path(request, monkeypatch):
    """LSTM and GRU run as fused ops; "steps" forces the per-step loop."""
    if request.param == "steps":
        for kind in ("LSTMCell", "GRUCell"):
            monkeypatch.setattr(getattr(nnlib.layers, kind), "fused", Cell.fused)
    return request.param


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_sequences_follow_the_reference(kind, go_backwards, path):
    x, mask = _padded(np.random.default_rng(0))
    mask[1, 3] = True  # a hole, too: masks need not be contiguous
    mask[:, 1] = False  # and a step no sequence reads
    layer = _layer(
        kind, return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    sequence, *states = layer(x, mask=mask)
    want_seq, _, want_states = reference(layer, x, mask, go_backwards=go_backwards)
    np.testing.assert_allclose(sequence.numpy(), want_seq, atol=1e-12)
    for got, want in zip(states, want_states):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_zero_output_for_mask_outputs_zeros_at_masked_steps(kind, path):
    x, mask = _padded(np.random.default_rng(2))
    layer = _layer(kind, return_sequences=True, zero_output_for_mask=True)
    want, _, _ = reference(layer, x, mask, zero_output=True)
    np.testing.assert_allclose(layer(x, mask=mask).numpy(), want, atol=1e-12)
    last = _layer(kind, zero_output_for_mask=True)
    last.set_weights(layer.get_weights())
    out = last(x, mask=mask).numpy()
    np.testing.assert_array_equal(out[~mask[:, -1]], 0.0)  # Keras: outputs[-1]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("left", [False, True], ids=["right-padded", "left-padded"])
def test_padded_batch_equals_the_sequences_one_by_one(kind, left, path):
    """Final output and every gradient: the padding changes nothing."""
    x, mask = _padded(np.random.default_rng(3), left=left)
    layer = _layer(kind)
    weights = layer.trainable_variables
    xt = nnlib.constant(x)
    with nnlib.GradientTape() as tape:
        tape.watch(xt)
        out = layer(xt, mask=mask)
        loss = nnlib.reduce_sum(out * out)
    dx, *dw = tape.gradient(loss, [xt, *weights])
    want_dw = [np.zeros(w.shape) for w in weights]
    for row, n in enumerate(LENGTHS):
        steps = slice(TIME - n, TIME) if left else slice(0, n)
        seq = nnlib.constant(x[row : row + 1, steps])
        with nnlib.GradientTape() as tape:
            tape.watch(seq)
            one = layer(seq)
            one_loss = nnlib.reduce_sum(one * one)
        one_dx, *one_dw = tape.gradient(one_loss, [seq, *weights])
        np.testing.assert_allclose(out.numpy()[row], one.numpy()[0], atol=1e-12)
        np.testing.assert_allclose(
            dx.numpy()[row, steps], one_dx.numpy()[0], atol=1e-12
        )
        for total, g in zip(want_dw, one_dw):
            total += g.numpy()
    np.testing.assert_array_equal(dx.numpy()[~mask], 0.0)  # padding: no gradient
    for got, want in zip(dw, want_dw):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_go_backwards_reads_the_real_steps_backwards(kind, path):
    x, mask = _padded(np.random.default_rng(4))
    layer = _layer(kind, go_backwards=True)
    out = layer(x, mask=mask).numpy()
    for row, n in enumerate(LENGTHS):
        one = layer(x[row : row + 1, :n]).numpy()
        np.testing.assert_allclose(out[row], one[0], atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_input_gradients_match_finite_differences(kind, path):
    x, mask = _padded(np.random.default_rng(5))
    layer = _layer(kind, return_sequences=True)
    check_gradients(lambda v: layer(v, mask=mask), x)
    backwards = _layer(kind, go_backwards=True)
    check_gradients(lambda v: backwards(v, mask=mask), x)


@pytest.mark.parametrize("kind", KINDS)
def test_masked_steps_keep_the_initial_state(kind, path):
    """Keras's JAX backend: a leading masked step outputs the carried
    ``h``, here the initial state; a fully masked sequence keeps it throughout."""
    x, mask = _padded(np.random.default_rng(6), lengths=(0, 2, 5), left=True)
    layer = _layer(kind, return_sequences=True, return_state=True)
    rng = np.random.default_rng(7)
    initial = [rng.normal(size=(3, UNITS)) for _ in layer.state_names]
    sequence, *states = layer(x, mask=mask, initial_state=initial)
    want_seq, _, want_states = reference(layer, x, mask, states=initial)
    np.testing.assert_allclose(sequence.numpy(), want_seq, atol=1e-12)
    np.testing.assert_allclose(sequence.numpy()[0], np.tile(initial[0][0], (TIME, 1)))
    for got, want, start in zip(states, want_states, initial):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
        np.testing.assert_array_equal(got.numpy()[0], start[0])


def test_a_mask_reaches_the_layer_from_the_embedding():
    emb = nnlib.layers.Embedding(10, FEATURES, mask_zero=True, dtype="float64")
    lstm = nnlib.layers.LSTM(UNITS, return_sequences=True, dtype="float64")
    ids = np.array([[4, 2, 7, 0, 0], [1, 0, 0, 0, 0]])
    out = lstm(emb(ids))
    np.testing.assert_array_equal(out._keras_mask.numpy(), ids != 0)
    for row, n in enumerate((3, 1)):
        one = lstm(emb(ids[row : row + 1, :n])).numpy()
        np.testing.assert_allclose(out.numpy()[row, :n], one[0], atol=1e-12)
        np.testing.assert_allclose(out.numpy()[row, n:], one[0, -1:].repeat(5 - n, 0))


def test_output_masks_follow_the_sequence():
    mask = np.array([[True, True, False]])
    x = np.ones((1, 3, 2))
    seq = nnlib.layers.GRU(2, return_sequences=True)(x, mask=mask)
    np.testing.assert_array_equal(seq._keras_mask.numpy(), mask)
    # go_backwards returns the sequence reversed, and its mask with it (Keras
    # keeps the input mask there, which then marks the wrong steps).
    rev = nnlib.layers.GRU(2, return_sequences=True, go_backwards=True)(x, mask=mask)
    np.testing.assert_array_equal(rev._keras_mask.numpy(), mask[:, ::-1])
    last, h = nnlib.layers.GRU(2, return_state=True)(x, mask=mask)
    assert last._keras_mask is None and h._keras_mask is None


def test_a_mask_of_the_wrong_shape_is_refused_naming_the_layer():
    layer = nnlib.layers.LSTM(2, name="tagger")
    with pytest.raises(
        ValueError, match=r"'tagger'.*\(batch, time\) = \(1, 3\).*\(1, 4\)"
    ):
        layer(np.ones((1, 3, 2)), mask=np.ones((1, 4), bool))


def test_zero_output_for_mask_is_part_of_the_config():
    layer = nnlib.layers.LSTM(2, zero_output_for_mask=True)
    config = layer.get_config()
    assert config["zero_output_for_mask"] is True
    assert nnlib.layers.LSTM.from_config(config).zero_output_for_mask is True


# -- Bidirectional --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_padded_batch_equals_the_sequences(kind, return_sequences, path):
    x, mask = _padded(np.random.default_rng(8))
    base = getattr(nnlib.layers, kind)(
        UNITS, return_sequences=return_sequences, dtype="float64"
    )
    bi = nnlib.layers.Bidirectional(base)
    out = bi(x, mask=mask)
    forward, backward = bi.forward_layer, bi.backward_layer
    f_seq, f_last, _ = reference(forward, x, mask, zero_output=return_sequences)
    b_seq, b_last, _ = reference(
        backward, x, mask, go_backwards=True, zero_output=return_sequences
    )
    if return_sequences:  # Keras forces zero_output_for_mask: zeros at padding
        want = np.concatenate([f_seq, b_seq[:, ::-1]], axis=-1)
        np.testing.assert_array_equal(out._keras_mask.numpy(), mask)
    else:
        want = np.concatenate([f_last, b_last], axis=-1)
        assert out._keras_mask is None
    np.testing.assert_allclose(out.numpy(), want, atol=1e-12)
    for row, n in enumerate(LENGTHS):
        one = bi(x[row : row + 1, :n]).numpy()[0]
        got = out.numpy()[row, :n] if return_sequences else out.numpy()[row]
        np.testing.assert_allclose(got, one, atol=1e-12)
    check_gradients(lambda v: bi(v, mask=mask), x)


def test_bidirectional_masks_of_every_output():
    mask = np.array([[True, False]])
    bi = nnlib.layers.Bidirectional(
        nnlib.layers.LSTM(2, return_sequences=True, return_state=True),
        merge_mode=None,
    )
    y, y_rev, *states = bi(np.ones((1, 2, 3)), mask=mask)
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)
    np.testing.assert_array_equal(y_rev._keras_mask.numpy(), mask)
    assert len(states) == 4
    assert all(s._keras_mask is None for s in states)
