"""Stateful recurrent layers: each batch starts where the previous one ended.

As Keras has them: the states live in non-trainable variables
(``layer.states``) that are not weights (Keras 3 saves none of them);
``reset_states()`` zeros them, ``reset_states(values)`` sets them; the batch
size is fixed; a model's ``reset_states()`` reaches every stateful layer.
"""

import os

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.checkpoint import h5io
from nnlib.engine import nest

RNG = np.random.default_rng(0)

MAKERS = {
    "SimpleRNN": lambda **k: layers.SimpleRNN(3, **k),
    "LSTM": lambda **k: layers.LSTM(3, **k),
    "GRU": lambda **k: layers.GRU(3, **k),
    "RNN-stack": lambda **k: layers.RNN(
        [layers.LSTMCell(3, dtype="float64"), layers.GRUCell(2, dtype="float64")],
        **k,
    ),
    "RNN-own-cell": lambda **k: layers.RNN(
        layers.SimpleRNNCell(3, activation="relu", dtype="float64"), **k
    ),
}


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_a_stateful_layer_goes_on_where_the_last_batch_ended(kind):
    x = RNG.normal(size=(2, 6, 4))
    stateful = MAKERS[kind](stateful=True, return_sequences=True, dtype="float64")
    plain = MAKERS[kind](return_sequences=True, return_state=True, dtype="float64")
    first = stateful(x[:, :3])
    plain(x)
    plain.set_weights(stateful.get_weights())
    second = stateful(x[:, 3:])
    whole, *states = plain(x)
    np.testing.assert_allclose(
        np.concatenate([first.numpy(), second.numpy()], axis=1),
        whole.numpy(),
        atol=1e-12,
    )
    for variable, state in zip(stateful.states, nest.flatten(states), strict=True):
        np.testing.assert_allclose(variable.numpy(), state.numpy(), atol=1e-12)
        assert not variable.trainable
    stateful.reset_states()
    assert all(not v.numpy().any() for v in stateful.states)
    np.testing.assert_allclose(stateful(x[:, :3]).numpy(), first.numpy(), atol=1e-12)


def test_states_are_variables_but_not_weights_and_not_saved(tmp_path):
    lstm = layers.LSTM(3, stateful=True, name="stateful_lstm")
    lstm(np.ones((2, 4, 5), np.float32))
    assert [v.name for v in lstm.states] == [
        "stateful_lstm/rnn_state",
        "stateful_lstm/rnn_state_1",
    ]
    assert all(isinstance(v, nnlib.Variable) and not v.trainable for v in lstm.states)
    assert len(lstm.weights) == 3 and lstm.non_trainable_variables == []
    path = lstm.save_weights(os.path.join(tmp_path, "w.h5"))
    assert sorted(h5io.read(path).arrays) == ["bias", "kernel", "recurrent_kernel"]
    with nnlib.GradientTape() as tape:
        out = lstm(np.ones((2, 4, 5), np.float32))
    grads = tape.gradient(out, lstm.trainable_variables + lstm.states)
    assert grads[-1] is None and grads[-2] is None  # no gradient across batches


def test_reset_states_with_values_and_its_errors():
    gru = layers.GRU(2, stateful=True, return_state=True, name="stateful_gru")
    x = np.ones((3, 4, 2), np.float32)
    values = RNG.normal(size=(3, 2)).astype(np.float32)
    gru.reset_states(values)  # before the first call: fixes the batch size
    _, h = gru(x)
    gru.reset_states([values])
    np.testing.assert_array_equal(gru.states[0].numpy(), values)
    np.testing.assert_array_equal(gru(x)[1].numpy(), h.numpy())
    with pytest.raises(
        ValueError,
        match=r"'stateful_gru'.*expected 1 state\(s\) of shapes \[\(3, 2\)\].*\[\(2, 2\)\]",
    ):
        gru.reset_states(np.zeros((2, 2)))
    with pytest.raises(
        ValueError, match=r"'stateful_gru' is stateful.*hold 3 .*batch of 2"
    ):
        gru(np.ones((2, 4, 2), np.float32))
    with pytest.raises(ValueError, match=r"'plain_gru' is not stateful"):
        layers.GRU(2, name="plain_gru").reset_states()
    layers.LSTM(2, stateful=True).reset_states()  # not built yet: nothing to reset


def test_an_initial_state_wins_and_the_states_follow():
    lstm = layers.LSTM(2, stateful=True, return_state=True, dtype="float64")
    x = RNG.normal(size=(1, 3, 2))
    lstm(x)
    start = [RNG.normal(size=(1, 2)), RNG.normal(size=(1, 2))]
    _, h, _ = lstm(x, initial_state=start)
    plain = layers.LSTM(2, return_state=True, dtype="float64")
    plain(x)
    plain.set_weights(lstm.get_weights())
    _, want_h, want_c = plain(x, initial_state=start)
    np.testing.assert_allclose(h.numpy(), want_h.numpy(), atol=1e-12)
    np.testing.assert_allclose(lstm.states[1].numpy(), want_c.numpy(), atol=1e-12)


def test_a_static_batch_size_fixes_the_states_at_build():
    inputs = nnlib.Input(batch_shape=(4, 3, 2))
    outputs = layers.SimpleRNN(2, stateful=True, name="static_rnn")(inputs)
    model = nnlib.Model(inputs, outputs)
    layer = model.get_layer("static_rnn")
    model.build()  # the layers, from the inputs' shapes: (4, 3, 2)
    assert [v.shape for v in layer.states] == [(4, 2)]
    assert not layer.states[0].numpy().any()
    model(np.ones((4, 3, 2), np.float32))
    assert layer.states[0].numpy().any()
    with pytest.raises(ValueError, match=r"'static_rnn'.*hold 4 .*batch of 2"):
        layer(np.ones((2, 3, 2), np.float32))


def test_building_a_model_from_an_input_shape_keeps_no_state():
    model = nnlib.Sequential([layers.GRU(2, stateful=True, input_shape=(3, 1))])
    gru = model.layers[0]
    assert gru.built and gru.states is None  # built on stand-in zeros: nothing kept
    x = np.ones((5, 3, 1), np.float32)
    first = model(x)
    fresh = layers.GRU(2, input_shape=(3, 1))
    fresh(x)
    fresh.set_weights(gru.get_weights())
    np.testing.assert_allclose(first.numpy(), fresh(x).numpy(), rtol=1e-6)
    assert [v.shape for v in gru.states] == [(5, 2)]


def test_fit_without_shuffling_and_model_reset_states():
    nnlib.random.set_seed(0)
    model = nnlib.Sequential(
        [
            layers.LSTM(4, stateful=True, input_shape=(5, 1)),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer=nnlib.optimizers.Adam(0.01), loss="mse")
    x = RNG.normal(size=(8, 5, 1)).astype(np.float32)
    y = x.sum(axis=(1, 2))[:, None]
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 3
    lstm = model.layers[0]
    assert [v.shape for v in lstm.states] == [(4, 4), (4, 4)]
    assert lstm.states[0].numpy().any()
    model.reset_states()
    assert not any(v.numpy().any() for v in lstm.states)
    first = model.predict(x[:4], batch_size=4)
    model.reset_states()
    np.testing.assert_allclose(model.predict(x[:4], batch_size=4), first, rtol=1e-6)
    with pytest.raises(ValueError, match=r"is stateful.*hold 4 .*batch of 3"):
        model.predict(x[:3])


def test_model_reset_states_reaches_nested_and_bidirectional_layers():
    inner = nnlib.Sequential(
        [layers.Bidirectional(layers.GRU(2, stateful=True, return_sequences=True))]
    )
    model = nnlib.Sequential([inner, layers.SimpleRNN(2, stateful=True)])
    model(np.ones((2, 3, 2), np.float32))
    stateful = [
        layer for layer in model._layers_below() if getattr(layer, "stateful", False)
    ]
    assert len(stateful) == 3
    assert all(v.numpy().any() for layer in stateful for v in layer.states)
    model.reset_states()
    assert not any(v.numpy().any() for layer in stateful for v in layer.states)


def test_stateful_is_in_the_config():
    config = layers.RNN(layers.GRUCell(2), stateful=True, unroll=True).get_config()
    assert (config["stateful"], config["unroll"]) == (True, True)
    clone = layers.RNN.from_config(config)
    assert clone.stateful and clone.states is None
