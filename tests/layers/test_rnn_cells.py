"""Recurrent cells, StackedRNNCells and the generic RNN layer.

A cell called in a Python loop is TensorFlow eager's recurrent model: it must
compute what its sequence layer computes, train, and have exact gradients.
``RNN(cell)`` must be its sequence layer: the same weights under the same
names, the same outputs (fused or step by step, masked or not), and each
loads the other's checkpoints.
"""

import copy
import os
import pickle

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.engine import nest
from nnlib.layers._rnn_loop import step_loop
from nnlib.layers.recurrent_cells import Cell
from nnlib.test_util import check_gradients

RNG = np.random.default_rng(0)

# kind -> (cell, its sequence layer), both taking the same arguments
KINDS = {
    "SimpleRNN": (layers.SimpleRNNCell, layers.SimpleRNN),
    "LSTM": (layers.LSTMCell, layers.LSTM),
    "GRU": (layers.GRUCell, layers.GRU),
    "GRU-reset_before": (
        lambda *a, **k: layers.GRUCell(*a, reset_after=False, **k),
        lambda *a, **k: layers.GRU(*a, reset_after=False, **k),
    ),
}


def _randomize(layer, rng=RNG):
    for v in layer.variables:
        v.assign(rng.normal(size=v.shape) * 0.5)


def _loop(cell, x, states):
    """The eager loop: ``for t: output, states = cell(x[:, t], states)``."""
    outputs = []
    for t in range(x.shape[1]):
        output, states = cell(x[:, t], states)
        outputs.append(output)
    return nnlib.stack(outputs, axis=1), states


def _variable_gradients_match(loss, variables, eps=1e-6):
    """Checks ``tape.gradient(loss(), variables)`` against central differences."""
    with nnlib.GradientTape() as tape:
        value = loss()
    analytic = tape.gradient(value, variables)
    for variable, grad in zip(variables, analytic, strict=True):
        base = variable.numpy().copy()
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            for sign in (1, -1):
                value = base.copy()
                value[index] += sign * eps
                variable.assign(value)
                numeric[index] += sign * float(loss().numpy()) / (2 * eps)
        variable.assign(base)
        np.testing.assert_allclose(
            grad.numpy(), numeric, rtol=1e-5, atol=1e-7, err_msg=variable.name
        )


# -- one cell, one step at a time --------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_cell_in_a_python_loop_computes_its_sequence_layer(kind):
    make_cell, make_layer = KINDS[kind]
    layer = make_layer(3, return_sequences=True, return_state=True, dtype="float64")
    x = RNG.normal(size=(2, 5, 4))
    layer(x)
    _randomize(layer)
    cell = make_cell(3, dtype="float64")
    cell(x[:, 0], cell.get_initial_state(batch_size=2))  # builds
    cell.set_weights(layer.get_weights())
    states = [RNG.normal(size=(2, 3)) for _ in cell.state_names]
    sequence, final = _loop(cell, x, states)
    want_sequence, *want_states = layer(x, initial_state=states)
    states = final
    np.testing.assert_allclose(sequence.numpy(), want_sequence.numpy(), atol=1e-12)
    for got, want in zip(states, want_states, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_cell_has_its_layers_weights_names_and_shapes(kind):
    make_cell, make_layer = KINDS[kind]
    layer, cell = make_layer(3), make_cell(3)
    layer(np.zeros((1, 2, 4), np.float32))
    cell(np.zeros((1, 4), np.float32), cell.get_initial_state(batch_size=1))
    relative = [v.name.split("/", 1)[1] for v in cell.variables]
    assert relative == [v.name.split("/", 1)[1] for v in layer.variables]
    assert relative == ["kernel", "recurrent_kernel", "bias"]
    assert [v.shape for v in cell.variables] == [v.shape for v in layer.variables]
    # the LSTM's forget gate starts at 1, in the cell as in the layer
    np.testing.assert_array_equal(cell.get_weights()[2], layer.get_weights()[2])


def test_cell_signatures_are_keras_s():
    lstm, gru, simple = layers.LSTMCell(4), layers.GRUCell(3), layers.SimpleRNNCell(2)
    assert (lstm.state_size, lstm.output_size) == ([4, 4], 4)
    assert (gru.state_size, simple.state_size, simple.output_size) == (3, 2, 2)
    states = lstm.get_initial_state(batch_size=5, dtype="float64")
    assert [(s.shape, s.dtype) for s in states] == [((5, 4), np.float64)] * 2
    assert [s.shape for s in gru.get_initial_state(inputs=np.zeros((6, 2)))] == [(6, 3)]
    x = np.ones((2, 5), np.float32)
    # one state: a list gives a list, a tensor gives a tensor (as Keras)
    out, new = gru(x, [np.zeros((2, 3), np.float32)])
    assert isinstance(new, list) and new[0] is out
    out, new = gru(x, np.zeros((2, 3), np.float32))
    assert isinstance(new, nnlib.Tensor) and new is out
    out, (h, c) = lstm(x, lstm.get_initial_state(batch_size=2))
    assert out is h and c.shape == (2, 4)


def test_a_cell_builds_once_and_round_trips_its_config():
    cell = layers.GRUCell(3, reset_after=False, kernel_regularizer="l2")
    x = RNG.normal(size=(2, 4)).astype(np.float32)
    state = np.zeros((2, 3), np.float32)
    cell(x, [state])
    variables = cell.variables
    cell(x, [state])
    assert cell.variables == variables
    config = cell.get_config()
    assert (config["reset_after"], config["dropout"]) == (False, 0.0)
    clone = layers.GRUCell.from_config(config)
    assert {k: v for k, v in clone.get_config().items() if k != "name"} == {
        k: v for k, v in config.items() if k != "name"
    }
    clone(x, [state])
    clone.set_weights(cell.get_weights())
    np.testing.assert_array_equal(clone(x, [state])[0], cell(x, [state])[0])
    assert len(cell.losses) == 1


def test_cell_errors_name_the_cell_and_the_shapes():
    cell = layers.LSTMCell(3, name="decoder_cell")
    with pytest.raises(
        ValueError, match=r"'decoder_cell'.*\(batch, features\).*\(2, 5, 4\)"
    ):
        cell(np.zeros((2, 5, 4)), [np.zeros((2, 3))] * 2)
    with pytest.raises(
        ValueError,
        match=r"'decoder_cell'.*2 tensor\(s\) \(h, c\) of shape \(2, 3\).*\[\(2, 3\)\]",
    ):
        cell(np.zeros((2, 4)), [np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"'decoder_cell'.*\[\(2, 3\), \(2, 4\)\]"):
        cell(np.zeros((2, 4)), [np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(
        ValueError, match=r"LSTMCell: dropout=0.5 is not supported.*Dropout"
    ):
        layers.LSTMCell(3, dropout=0.5)
    with pytest.raises(
        ValueError, match=r"GRU: recurrent_dropout=0.2 is not supported"
    ):
        layers.GRU(3, recurrent_dropout=0.2)
    with pytest.raises(ValueError, match=r"RNN: a cell must have a state_size"):
        layers.RNN(layers.Dense(3))


def test_the_eager_loop_trains_with_a_tape_and_an_optimizer():
    nnlib.random.set_seed(0)
    cell, readout = layers.LSTMCell(8), layers.Dense(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 6, 2)).astype(np.float32)
    y = x[:, :, 0].sum(axis=1, keepdims=True)  # a running sum
    opt = nnlib.optimizers.Adam(0.02)
    losses = []
    for _ in range(40):
        with nnlib.GradientTape() as tape:
            states = cell.get_initial_state(batch_size=16)
            for t in range(6):
                output, states = cell(x[:, t], states)
            loss = nnlib.reduce_mean((readout(output) - y) ** 2)
        variables = cell.trainable_variables + readout.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        losses.append(float(loss.numpy()))
    assert losses[-1] < 0.2 * losses[0]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_eager_loop_has_exact_gradients(kind):
    make_cell, _ = KINDS[kind]
    cell = make_cell(2, dtype="float64")
    x = RNG.normal(size=(2, 3, 3))
    states = [RNG.normal(size=(2, 2)) for _ in cell.state_names]
    cell(x[:, 0], states)
    _randomize(cell)

    def f(x, *states):
        sequence, final = _loop(cell, x, list(states))
        return [sequence, *final]

    check_gradients(f, x, *states, rtol=1e-5)
    weights = RNG.normal(size=(2, 3, 2))
    _variable_gradients_match(
        lambda: nnlib.reduce_sum(_loop(cell, x, states)[0] * weights), cell.variables
    )


# -- RNN over a cell: the sequence layer ---------------------------------------------


def _twins(kind, **kwargs):
    """``RNN(cell)`` and the sequence layer, built, with the same random weights."""
    make_cell, make_layer = KINDS[kind]
    layer = make_layer(3, dtype="float64", **kwargs)
    rnn = layers.RNN(
        make_cell(3, dtype="float64", **_cell_kwargs(kwargs)), **_rnn_kwargs(kwargs)
    )
    x = RNG.normal(size=(3, 5, 2))
    layer(x)
    rnn(x)
    _randomize(layer)
    rnn.set_weights(layer.get_weights())
    return rnn, layer, x


_RNN_KEYS = ("return_sequences", "return_state", "go_backwards", "time_major")


def _cell_kwargs(kwargs):
    return {k: v for k, v in kwargs.items() if k not in _RNN_KEYS}


def _rnn_kwargs(kwargs):
    return {k: v for k, v in kwargs.items() if k in _RNN_KEYS}


def _outputs(out):
    return [o.numpy() for o in nest.flatten(out)]


@pytest.mark.parametrize("activation", ["tanh", "relu"], ids=["fused", "steps"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_rnn_over_a_cell_is_its_sequence_layer(kind, go_backwards, activation):
    rnn, layer, x = _twins(
        kind,
        activation=activation,
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
    )
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = mask[1, :2] = False
    start = [RNG.normal(size=(3, 3)) for _ in layer.state_names]
    for kwargs in ({}, {"mask": mask}, {"initial_state": start, "mask": mask}):
        dy = [RNG.normal(size=np.shape(o)) for o in layer(x, **kwargs)]
        results = []
        for model in (rnn, layer):
            xt = nnlib.constant(x)
            with nnlib.GradientTape() as tape:
                tape.watch(xt)
                out = model(xt, **kwargs)
            grads = tape.gradient(out, [xt, *model.variables], output_gradients=dy)
            results.append(_outputs(out) + [g.numpy() for g in grads])
        for got, want in zip(*results, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_rnn_over_an_lstm_cell_runs_the_fused_op(monkeypatch):
    calls = []
    fused = layers.LSTMCell.fused

    def counted(self, *args, **kwargs):
        found = fused(self, *args, **kwargs)
        calls.append(found is not None)
        return found

    monkeypatch.setattr(layers.LSTMCell, "fused", counted)
    layers.RNN(layers.LSTMCell(2))(np.ones((1, 4, 3), np.float32))
    layers.RNN(layers.LSTMCell(2, activation="relu"))(np.ones((1, 4, 3), np.float32))
    assert calls == [True, False]


def test_rnn_names_the_cells_variables_in_its_scope():
    rnn = layers.RNN(layers.LSTMCell(4), name="scoped_rnn")
    rnn(np.zeros((1, 2, 3), np.float32))
    assert [v.name for v in rnn.variables] == [
        "scoped_rnn/kernel",
        "scoped_rnn/recurrent_kernel",
        "scoped_rnn/bias",
    ]
    assert rnn.cell.name == "lstm_cell"
    stacked = layers.RNN([layers.GRUCell(2), layers.GRUCell(2)], name="scoped_stack")
    stacked(np.zeros((1, 2, 3), np.float32))
    assert [v.name for v in stacked.variables][::3] == [
        "scoped_stack/gru_cell/kernel",
        "scoped_stack/gru_cell_1/kernel",
    ]


class _MinimalCell(layers.Layer):
    """Keras's documentation example of a cell of one's own."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", (self.units, self.units)
        )

    def call(self, inputs, states):
        h = nnlib.matmul(inputs, self.kernel) + nnlib.matmul(
            states[0], self.recurrent_kernel
        )
        return nnlib.tanh(h), [nnlib.tanh(h)]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_rnn_over_a_cell_of_ones_own_is_the_loop_with_masks():
    cell = _MinimalCell(3, dtype="float64")
    rnn = layers.RNN(cell, return_sequences=True, return_state=True)
    x = RNG.normal(size=(2, 4, 2))
    mask = np.array([[True, False, True, False], [False, True, True, True]])
    sequence, h = rnn(x, mask=mask)
    want = []
    state, previous = np.zeros((2, 3)), np.zeros((2, 3))
    for t in range(4):
        out, (new,) = cell(x[:, t], [state])
        keep = mask[:, t, None]
        state = np.where(keep, new.numpy(), state)
        previous = np.where(keep, out.numpy(), previous)
        want.append(previous)
    np.testing.assert_allclose(sequence.numpy(), np.stack(want, 1), atol=1e-12)
    np.testing.assert_allclose(h.numpy(), state, atol=1e-12)
    check_gradients(lambda v: rnn(v, mask=mask), x, rtol=1e-5)


def test_a_cell_subclass_that_overrides_call_runs_step_by_step():
    class Doubled(layers.SimpleRNNCell):
        def call(self, inputs, states, training=None):
            output, states = super().call(inputs, states)
            return output * 2, states

    rnn = layers.RNN(Doubled(2, dtype="float64"), return_sequences=True)
    x = RNG.normal(size=(1, 3, 2))
    out = rnn(x).numpy()
    _, states = rnn.cell(x[:, 0], [np.zeros((1, 2))])
    np.testing.assert_allclose(out[:, 0], 2 * states[0].numpy())


# -- stacked cells ------------------------------------------------------------------


def _stack():
    return [
        layers.LSTMCell(3, dtype="float64"),
        layers.GRUCell(2, activation="relu", dtype="float64"),
        layers.SimpleRNNCell(2, dtype="float64"),
    ]


@pytest.mark.parametrize("go_backwards", [False, True])
def test_stacked_cells_over_a_sequence_are_the_step_by_step_stack(go_backwards):
    x = RNG.normal(size=(3, 5, 4))
    mask = np.ones((3, 5), bool)
    mask[0, 2:] = mask[2, :3] = False
    rnn = layers.RNN(
        _stack(), return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    rnn(x)
    _randomize(rnn)
    stack = rnn.cell
    out, lstm_states, gru_states, rnn_states = rnn(x, mask=mask)
    assert [len(s) for s in (lstm_states, gru_states, rnn_states)] == [2, 1, 1]
    # the same through the generic loop (the stack's own call, step by step)
    xs = x[:, ::-1] if go_backwards else x
    ms = mask[:, ::-1] if go_backwards else mask
    states = stack.get_initial_state(batch_size=3)
    _, want, want_states = step_loop(stack, nnlib.constant(xs), states, ms, None)
    np.testing.assert_allclose(out.numpy(), want.numpy(), atol=1e-12)
    got = [s.numpy() for s in nest.flatten([lstm_states, gru_states, rnn_states])]
    for a, b in zip(got, nest.flatten(want_states), strict=True):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-12)
    check_gradients(lambda v: rnn(v, mask=mask), x, rtol=1e-5)


def test_stacked_initial_states_nested_or_flat():
    rnn = layers.RNN(
        [layers.LSTMCell(2), layers.GRUCell(3)], return_state=True, dtype="float32"
    )
    x = np.ones((2, 3, 4), np.float32)
    h1, c1, h2 = (RNG.normal(size=(2, n)).astype(np.float32) for n in (2, 2, 3))
    nested = rnn(x, initial_state=[[h1, c1], [h2]])
    flat = rnn(x, initial_state=[h1, c1, h2])
    for a, b in zip(nest.flatten(nested), nest.flatten(flat), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match=r"initial_state as 3 tensor\(s\).*\(2, 2\)"):
        rnn(x, initial_state=[h1, c1])
    assert rnn.compute_output_shape((None, 3, 4)) == [
        (None, 3),
        [(None, 2), (None, 2)],
        [(None, 3)],
    ]


def test_stacked_cells_errors():
    with pytest.raises(ValueError, match="non-empty list of cells"):
        layers.StackedRNNCells([])
    with pytest.raises(ValueError, match="StackedRNNCells: a cell must have"):
        layers.StackedRNNCells([layers.LSTMCell(2), layers.Dense(2)])


# -- configs, copies, checkpoints ---------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.RNN(
            layers.LSTMCell(3, unit_forget_bias=False), go_backwards=True
        ),
        lambda: layers.RNN(
            [layers.GRUCell(3, reset_after=False), layers.SimpleRNNCell(2)],
            return_sequences=True,
            return_state=True,
        ),
        lambda: layers.RNN(_MinimalCell(2), time_major=True),
        lambda: layers.Bidirectional(
            layers.RNN(layers.LSTMCell(2), return_sequences=True)
        ),
    ],
    ids=["lstm-cell", "stack", "own-cell", "bidirectional"],
)
def test_rnn_configs_hold_the_cell_and_round_trip(make):
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
    for a, b in zip(_outputs(clone(x)), _outputs(out), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_the_cell_is_serialized_inside_keras_style():
    config = layers.RNN(layers.LSTMCell(3)).get_config()
    assert config["cell"]["class_name"] == "LSTMCell"
    assert config["cell"]["config"]["units"] == 3
    assert {"stateful", "unroll", "time_major", "zero_output_for_mask"} <= set(config)
    stacked = layers.RNN([layers.GRUCell(2), layers.LSTMCell(1)]).get_config()["cell"]
    assert stacked["class_name"] == "StackedRNNCells"
    assert [c["class_name"] for c in stacked["config"]["cells"]] == [
        "GRUCell",
        "LSTMCell",
    ]


def test_copies_of_an_rnn_keep_its_names_and_values():
    rnn = layers.RNN(layers.LSTMCell(2), name="copied_rnn")
    x = RNG.normal(size=(1, 3, 2)).astype(np.float32)
    out = rnn(x).numpy()
    for twin in (copy.deepcopy(rnn), pickle.loads(pickle.dumps(rnn))):
        assert [v.name.split("/", 1)[1] for v in twin.variables] == [
            "kernel",
            "recurrent_kernel",
            "bias",
        ]
        assert twin.name != rnn.name and twin.variables[0].name.startswith(twin.name)
        np.testing.assert_array_equal(twin(x).numpy(), out)


def _sequential(recurrent):
    return nnlib.Sequential(
        [layers.Embedding(7, 3, input_shape=(4,)), recurrent, layers.Dense(2)]
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_rnn_over_a_cell_and_its_layer_load_each_others_checkpoints(kind, tmp_path):
    make_cell, make_layer = KINDS[kind]
    x = RNG.integers(0, 7, size=(3, 4))
    for name in ("recurrent", None):  # same layer names; default names
        fused = _sequential(make_layer(3, name=name))
        rnn = _sequential(layers.RNN(make_cell(3), name=name))
        by_name = name is not None  # lstm/kernel vs rnn/kernel: by position
        for source, target in ((fused, rnn), (rnn, fused)):
            source(x)
            _randomize(source)
            path = source.save_weights(os.path.join(tmp_path, "w.h5"))
            report = target.load_weights(path, by_name=by_name)
            assert not report.missing and not report.unexpected
            if by_name:
                assert "recurrent/kernel" in report.matched
            np.testing.assert_allclose(
                target.predict(x), source.predict(x), rtol=1e-6, atol=1e-6
            )


def test_a_standalone_cells_checkpoint_loads_into_rnn_and_back(tmp_path):
    cell = layers.GRUCell(3)
    cell(np.zeros((1, 2), np.float32), [np.zeros((1, 3), np.float32)])
    _randomize(cell)
    path = cell.save_weights(os.path.join(tmp_path, "cell.h5"))
    rnn = layers.RNN(layers.GRUCell(3))
    rnn(np.zeros((1, 4, 2), np.float32))
    rnn.cell.load_weights(path)
    for a, b in zip(rnn.get_weights(), cell.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_keras_3_paths_of_rnn_cells(tmp_path):
    """What Keras 3 writes for RNN over cells (checked against real files in
    tests/golden/test_keras_golden.py): the cell at ``cell``, a stack's cells
    at ``cell/cells/<class>``."""
    import h5py

    path = os.path.join(tmp_path, "model.weights.h5")
    rng = np.random.default_rng(3)
    arrays = {
        "layers/rnn/cell/vars": [(2, 8), (2, 8), (8,)],
        "layers/rnn_1/cell/cells/gru_cell/vars": [(2, 6), (2, 6), (2, 6)],
        "layers/rnn_1/cell/cells/simple_rnn_cell/vars": [(2, 1), (1, 1), (1,)],
    }
    with h5py.File(path, "w") as f:
        for group, shapes in arrays.items():
            for i, s in enumerate(shapes):
                f[f"{group}/{i}"] = rng.normal(size=s).astype(np.float32)
        f.create_group("vars")
    model = nnlib.Sequential(
        [
            layers.RNN(layers.LSTMCell(2), return_sequences=True, input_shape=(3, 2)),
            layers.RNN([layers.GRUCell(2), layers.SimpleRNNCell(1)]),
        ]
    )
    report = model.load_weights(path)
    assert len(report.matched) == 9
    with h5py.File(path) as f:
        np.testing.assert_array_equal(
            model.layers[1].cell.cells[1].kernel.numpy(),
            f["layers/rnn_1/cell/cells/simple_rnn_cell/vars/0"][()],
        )
    # and the fused twins read the same file
    twin = nnlib.Sequential(
        [
            layers.LSTM(2, return_sequences=True, input_shape=(3, 2)),
            layers.RNN([layers.GRUCell(2), layers.SimpleRNNCell(1)]),
        ]
    )
    assert len(twin.load_weights(path).matched) == 9
    x = rng.normal(size=(2, 3, 2)).astype(np.float32)
    np.testing.assert_allclose(twin.predict(x), model.predict(x), rtol=1e-6)


def test_masks_reach_an_rnn_and_its_outputs():
    emb = layers.Embedding(5, 3, mask_zero=True)
    rnn = layers.RNN(layers.GRUCell(2), return_sequences=True, return_state=True)
    ids = np.array([[1, 2, 0, 0], [3, 0, 4, 1]])
    sequence, h = rnn(emb(ids))
    np.testing.assert_array_equal(sequence._keras_mask.numpy(), ids != 0)
    assert getattr(h, "_keras_mask", None) is None
    alone = rnn(emb(ids[:1, :2]))[0]
    np.testing.assert_allclose(sequence.numpy()[0, :2], alone.numpy()[0], atol=1e-6)
    np.testing.assert_array_equal(sequence.numpy()[0, 3], sequence.numpy()[0, 1])


def test_step_path_of_cells_agrees_with_fused(monkeypatch):
    rnn = layers.RNN(layers.LSTMCell(3, dtype="float64"), return_sequences=True)
    x = RNG.normal(size=(2, 4, 3))
    fused = rnn(x).numpy()
    monkeypatch.setattr(layers.LSTMCell, "fused", Cell.fused)
    np.testing.assert_allclose(rnn(x).numpy(), fused, atol=1e-12)


def test_a_saved_model_of_rnns_over_cells_loads(tmp_path):
    model = nnlib.Sequential(
        [
            layers.LSTM(3, return_sequences=True, input_shape=(4, 2)),
            layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_sequences=True),
            layers.Bidirectional(layers.RNN(layers.SimpleRNNCell(2))),
            layers.Dense(1),
        ]
    )
    x = RNG.normal(size=(2, 4, 2)).astype(np.float32)
    path = os.path.join(tmp_path, "model.h5")
    model.save(path)
    loaded = nnlib.load_model(path)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)
    assert [v.name.split("/", 1)[1] for v in loaded.variables] == [
        v.name.split("/", 1)[1] for v in model.variables
    ]
