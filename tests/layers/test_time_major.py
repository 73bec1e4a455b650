"""``time_major=True``: recurrent layers read (time, batch, features), as in
TensorFlow, and return sequences (and masks) time-major too."""

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.engine import nest

RNG = np.random.default_rng(0)

MAKERS = {
    "SimpleRNN": lambda **k: layers.SimpleRNN(3, **k),
    "LSTM": lambda **k: layers.LSTM(3, **k),
    "GRU": lambda **k: layers.GRU(3, reset_after=False, **k),
    "RNN-LSTMCell": lambda **k: layers.RNN(layers.LSTMCell(3, dtype="float64"), **k),
    "RNN-stack": lambda **k: layers.RNN(
        [layers.GRUCell(3, dtype="float64"), layers.SimpleRNNCell(2, dtype="float64")],
        **k,
    ),
}


def _pair(kind, **kwargs):
    """A time-major layer and a batch-major one with the same weights."""
    x = RNG.normal(size=(3, 5, 4))
    batch_major = MAKERS[kind](dtype="float64", **kwargs)
    time_major = MAKERS[kind](dtype="float64", time_major=True, **kwargs)
    batch_major(x)
    time_major(x.transpose(1, 0, 2))
    for v in batch_major.variables:
        v.assign(RNG.normal(size=v.shape) * 0.5)
    time_major.set_weights(batch_major.get_weights())
    return time_major, batch_major, x


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_time_major_is_batch_major_transposed(kind, go_backwards):
    time_major, batch_major, x = _pair(
        kind, return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = mask[2, :1] = False
    for kwargs, tm_kwargs in (({}, {}), ({"mask": mask}, {"mask": mask.T})):
        got = time_major(x.transpose(1, 0, 2), **tm_kwargs)
        want = batch_major(x, **kwargs)
        assert got[0].shape == (5, 3, want[0].shape[-1])
        np.testing.assert_allclose(
            got[0].numpy().transpose(1, 0, 2), want[0].numpy(), atol=1e-12
        )
        for a, b in zip(nest.flatten(got[1:]), nest.flatten(want[1:]), strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


def test_a_time_major_last_output_is_batch_by_units():
    time_major, batch_major, x = _pair("LSTM")
    out = time_major(x.transpose(1, 0, 2))
    assert out.shape == (3, 3)
    np.testing.assert_allclose(out.numpy(), batch_major(x).numpy(), atol=1e-12)


@pytest.mark.parametrize("return_state", [False, True])
def test_bidirectional_over_a_time_major_layer(return_state):
    lstm = layers.LSTM(2, return_sequences=True, return_state=return_state)
    tm = layers.LSTM(
        2, return_sequences=True, return_state=return_state, time_major=True
    )
    bi, bi_tm = layers.Bidirectional(lstm), layers.Bidirectional(tm)
    x = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    want = bi(x)
    got = bi_tm(x.transpose(1, 0, 2))
    bi_tm.set_weights(bi.get_weights())
    got = nest.flatten(bi_tm(x.transpose(1, 0, 2)))
    want = nest.flatten(want)
    assert got[0].shape == (4, 3, 4)
    np.testing.assert_allclose(
        got[0].numpy().transpose(1, 0, 2), want[0].numpy(), atol=1e-6
    )
    for a, b in zip(got[1:], want[1:], strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    shape = bi_tm.compute_output_shape((None, 3, 5))
    assert (shape[0] if return_state else shape) == (None, 3, 4)


def test_time_major_masks_and_shapes():
    masked = layers.Masking()(np.concatenate([np.ones((2, 3, 4)), np.zeros((1, 3, 4))]))
    gru = layers.GRU(2, return_sequences=True, time_major=True, go_backwards=True)
    out = gru(masked)  # a (time, batch) mask, from a time-major Masking
    assert out.shape == (3, 3, 2)
    # read backwards: the sequence and its mask come in reversed time order
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[0] * 3] + [[1] * 3] * 2)
    assert gru.compute_output_shape((7, None, 4)) == (7, None, 2)
    rnn = layers.RNN(layers.LSTMCell(2), return_state=True, time_major=True)
    assert rnn.compute_output_shape((7, None, 4)) == [(None, 2)] * 3
    assert layers.LSTM(2, time_major=True).get_config()["time_major"] is True
    with pytest.raises(ValueError, match=r"'tm_err'.*\(time, batch, features\)"):
        layers.SimpleRNN(2, time_major=True, name="tm_err")(np.zeros((3, 4)))


def test_a_time_major_model_trains():
    model = nnlib.Sequential(
        [layers.LSTM(4, return_sequences=True, time_major=True), layers.Dense(1)]
    )
    model.compile(optimizer=nnlib.optimizers.Adam(0.05), loss="mse")
    x = RNG.normal(size=(6, 8, 2)).astype(np.float32)  # 6 steps, 8 sequences
    y = np.cumsum(x[..., :1], axis=0)
    history = model.fit(x, y, batch_size=8, epochs=30, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
