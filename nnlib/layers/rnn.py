"""``RNN``: a recurrent layer over any cell, and the base of SimpleRNN, LSTM, GRU.

``RNN`` runs a cell (``recurrent_cells``) over the time steps of its inputs,
with Keras's arguments: ``return_sequences``, ``return_state``,
``go_backwards`` (the returned sequence is in the reversed order it was read),
``stateful``, ``unroll`` and TensorFlow's ``time_major``. nnlib's cells run a
whole sequence at once (one input projection, fused ops for LSTM and GRU with
their default activations); any other cell is called step by step in a Python
loop. A mask (by default the one the inputs carry) makes the layer skip padded
steps: their states carry over unchanged (see ``recurrent_cells``).

Stateful layers keep the last states of each batch as the initial states of
the next, in non-trainable variables (``layer.states``) that, as in Keras 3,
are not among the layer's weights: checkpoints do not save them.
"""

import numpy as np

from .._args import boolean
from ..engine import nest
from ..engine.variable import Variable
from ..ops import arithmetic, shape
from . import _building, _masks, _registry
from ._rnn_loop import flat_sizes, pack, step_loop
from .base import Layer
from .input_spec import InputSpec
from .recurrent_cells import CellLayer, zero_states
from .stacked_cells import StackedRNNCells, check_cell

__all__ = ["RNN"]


class RNN(Layer):
    """A recurrent layer that runs a cell over the time steps of its inputs.

    Args:
        cell: A cell (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``, or any layer
            with ``state_size`` and ``call(inputs, states)`` returning
            ``(output, new_states)``), or a list of cells, stacked
            (``StackedRNNCells``).
        return_sequences: Return every step's output (batch, time, units)
            instead of the last one (batch, units).
        return_state: Also return the final states: ``[output, *states]``.
        go_backwards: Read the sequence from its end.
        stateful: Start each call from the states the previous call ended
            with (``reset_states()`` zeros them); the batch size must then
            stay the same from call to call.
        unroll: Accepted for Keras's sake: nnlib always runs a Python loop.
        time_major: Inputs (time, batch, features), and returned sequences and
            masks time-major too (TensorFlow's argument).
        zero_output_for_mask: With a mask, output zeros at masked steps
            instead of repeating the last output.
        **kwargs: ``name``, ``trainable``, ``dtype`` (default: the cell's),
            ``input_shape``.

    Call arguments:
        inputs: (batch, time, features), or (time, batch, features) with
            ``time_major``.
        initial_state: Optional list of the initial states (zeros by default);
            a stack's may be nested per cell or flat.
        mask: Optional (batch, time) booleans ((time, batch) with
            ``time_major``), false at the steps to skip; by default the mask
            the inputs carry.
        training: Passed on to the cell.

    Returns:
        The output, or ``[output, *final states]`` with ``return_state``.

    Raises:
        ValueError: For a ``cell`` that is not a cell; at call time, for inputs
            of the wrong rank, initial states of the wrong shapes, or (with
            ``stateful``) a batch size that changed.

    Examples:
        >>> rnn = nnlib.layers.RNN(nnlib.layers.LSTMCell(4), return_sequences=True)
        >>> rnn(np.ones((2, 5, 3), np.float32)).shape
        (2, 5, 4)
        >>> [v.name for v in rnn.variables]  # LSTM's names: the cell adds no level
        ['rnn/kernel', 'rnn/recurrent_kernel', 'rnn/bias']
        >>> stacked = nnlib.layers.RNN([nnlib.layers.GRUCell(4), nnlib.layers.GRUCell(2)])
        >>> stacked(np.ones((2, 5, 3), np.float32)).shape
        (2, 2)
    """

    _cast_integers = True  # int64 data into a float model gives float outputs
    supports_masking = True
    _cell_shares_scope = True  # the cell's variables are named in this scope

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        time_major=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell, type(self).__name__)
        kwargs.setdefault("dtype", getattr(cell, "dtype", None))
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.return_sequences = boolean(return_sequences, "return_sequences", cls)
        self.return_state = boolean(return_state, "return_state", cls)
        self.go_backwards = boolean(go_backwards, "go_backwards", cls)
        self.stateful = boolean(stateful, "stateful", cls)
        self.unroll = boolean(unroll, "unroll", cls)
        self.time_major = boolean(time_major, "time_major", cls)
        self.zero_output_for_mask = boolean(
            zero_output_for_mask, "zero_output_for_mask", cls
        )
        self._hold(cell)
        self.states = None

    def _hold(self, cell):
        self.cell = cell  # tracked: a sublayer, named in this layer's scope

    @property
    def state_size(self):
        """The cell's ``state_size``."""
        return self.cell.state_size

    # -- building -------------------------------------------------------------------

    def build(self, input_shape):
        shape_ = self._batch_major(tuple(input_shape))
        self._build_cell((shape_[0],) + shape_[2:])
        if self._runs_sequences():
            self.input_spec = InputSpec(ndim=3, axes={-1: shape_[-1]})
        else:
            self.input_spec = InputSpec(min_ndim=3)
        fixed = shape_[0] is not None and not _building.standing_in()
        if self.stateful and fixed and self.states is None:
            self._make_states(shape_[0])  # a static batch size fixes the states

    def _build_cell(self, step_shape):
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step_shape)

    def _batch_major(self, input_shape):
        """``input_shape`` as (batch, time, ...), checked."""
        if len(input_shape) < 3:
            layout = (
                "(time, batch, features)"
                if self.time_major
                else "(batch, time, features)"
            )
            raise ValueError(
                f"layer '{self.name}' expected ndim=3, got ndim={len(input_shape)}: "
                f"inputs must be {layout}, got shape {input_shape}"
            )
        if self.time_major:
            return (input_shape[1], input_shape[0]) + input_shape[2:]
        return input_shape

    def _runs_sequences(self):
        runs = getattr(self.cell, "runs_sequences", None)
        return runs is not None and runs()

    # -- computing ------------------------------------------------------------------

    def call(self, inputs, initial_state=None, mask=None, training=None):
        mask = _masks.step_mask(mask, inputs, f"layer '{self.name}'")
        if self.time_major:
            inputs = _swap(inputs)
            mask = None if mask is None else mask.T
        batch, time = inputs.shape[:2]
        states = self._initial_states(batch, initial_state)
        if time == 0:
            raise ValueError(
                f"layer '{self.name}' needs at least one time step, got inputs "
                f"of shape {inputs.shape}"
            )
        if self.go_backwards:
            inputs = inputs[:, ::-1]
            mask = None if mask is None else mask[:, ::-1]
        if mask is not None and mask.all():
            mask = None  # nothing to skip: the unmasked (fastest) path
        if self._runs_sequences():
            last, outputs, states = self.cell._sequence(inputs, states, mask)
        else:
            last, outputs, states = step_loop(self.cell, inputs, states, mask, training)
        if mask is not None and self.zero_output_for_mask:
            keep = mask.reshape(mask.shape + (1,) * (outputs.ndim - 2))
            outputs = arithmetic.where(keep, outputs, 0.0)
            last = outputs[:, -1]
        if self.stateful and not _building.standing_in():
            for variable, state in zip(self.states, nest.flatten(states)):
                variable.assign(state.numpy())
        output = last
        if self.return_sequences:
            output = _swap(outputs) if self.time_major else outputs
        return [output, *states] if self.return_state else output

    def get_initial_state(self, batch_size):
        """The cell's initial states (zeros) for ``batch_size`` sequences, as a
        list (nested per cell for a stack).

        Examples:
            >>> rnn = nnlib.layers.RNN(nnlib.layers.LSTMCell(3))
            >>> [s.shape for s in rnn.get_initial_state(2)]
            [(2, 3), (2, 3)]
        """
        make = getattr(self.cell, "get_initial_state", None)
        if getattr(make, "__func__", None) is CellLayer.get_initial_state:
            # nnlib's cells start from zeros: made at once, in this layer's dtype
            return zero_states(self.cell.state_size, batch_size, self.dtype)
        if make is None:
            states = zero_states(flat_sizes(self.cell), batch_size, self.dtype)
        else:
            states = make(batch_size=batch_size)
        states = states if isinstance(states, (list, tuple)) else [states]
        return pack(self.cell, [self._convert(s) for s in nest.flatten(states)])

    def _initial_states(self, batch, initial_state):
        # A run on stand-in zeros that builds a model keeps no states.
        stand_in = _building.standing_in()
        if initial_state is None:
            if not self.stateful or stand_in:
                return self.get_initial_state(batch)
            self._check_batch(batch)
            return pack(self.cell, [self._convert(v.numpy()) for v in self.states])
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        states = [self._convert(s) for s in nest.flatten(initial_state)]
        sizes = flat_sizes(self.cell)
        expected = [(batch, size) for size in sizes]
        shapes = [tuple(s.shape) for s in states]
        if shapes != expected:
            names = getattr(self.cell, "state_names", None)
            names = f" ({', '.join(names)})" if names else ""
            want = expected[0] if len(set(expected)) == 1 else expected
            raise ValueError(
                f"layer '{self.name}' expected initial_state as {len(sizes)} "
                f"tensor(s){names} of shape {want}, got shapes {shapes}"
            )
        if self.stateful and not stand_in:
            self._check_batch(batch)
        return pack(self.cell, states)

    # -- stateful -------------------------------------------------------------------

    def _make_states(self, batch, values=None):
        sizes = flat_sizes(self.cell)
        if values is None:
            values = [np.zeros((batch, size), self.dtype) for size in sizes]
        names = [f"rnn_state_{i}" if i else "rnn_state" for i in range(len(sizes))]
        # Not assigned as attributes: the layer does not own them (not weights).
        states = [
            Variable(
                value,
                name=f"{self.scope_name}/{name}",
                trainable=False,
                dtype=self.dtype,
            )
            for value, name in zip(values, names)
        ]
        object.__setattr__(self, "states", states)

    def _check_batch(self, batch):
        if self.states is None:
            self._make_states(batch)
            return
        expected = self.states[0].shape[0]
        if batch != expected:
            raise ValueError(
                f"layer '{self.name}' is stateful: its states hold {expected} "
                f"sequences, so every batch must have {expected}; got a batch of "
                f"{batch} (use batches of {expected}, or stateful=False)"
            )

    def reset_states(self, states=None):
        """Sets a stateful layer's states to zeros, or to ``states``.

        Args:
            states: Optional values: a list of (batch, size) arrays, one per
                state (nested per cell or flat for a stack), or one array for
                a cell of one state. Given before the first call, they also
                fix the batch size.

        Raises:
            ValueError: If the layer is not stateful, or for values of the
                wrong number or shapes (naming the layer and both shapes).

        Examples:
            >>> lstm = nnlib.layers.LSTM(2, stateful=True)
            >>> first = lstm(np.ones((1, 3, 2), np.float32))
            >>> np.allclose(lstm(np.ones((1, 3, 2), np.float32)), first)  # went on
            False
            >>> lstm.reset_states()
            >>> np.allclose(lstm(np.ones((1, 3, 2), np.float32)), first)
            True
        """
        if not self.stateful:
            raise ValueError(
                f"layer '{self.name}' is not stateful: it keeps no states between "
                "calls (build it with stateful=True)"
            )
        if states is None:
            for variable in self.states or ():
                variable.assign(np.zeros_like(variable.numpy()))
            return
        flat = nest.flatten(states if isinstance(states, (list, tuple)) else [states])
        arrays = [np.asarray(getattr(s, "numpy", lambda s=s: s)()) for s in flat]
        sizes = flat_sizes(self.cell)
        batch = self.states[0].shape[0] if self.states else arrays[0].shape[0]
        expected = [(batch, size) for size in sizes]
        if [a.shape for a in arrays] != expected:
            raise ValueError(
                f"layer '{self.name}': reset_states expected {len(sizes)} state(s) "
                f"of shapes {expected}, got shapes {[a.shape for a in arrays]}"
            )
        if self.states is None:
            self._make_states(batch, arrays)
        for variable, array in zip(self.states, arrays):
            variable.assign(array)

    def reset_state(self):
        """Keras 3's name: ``reset_states()``, zeros."""
        self.reset_states()

    # -- configuration --------------------------------------------------------------

    def compute_mask(self, inputs, mask=None):
        """The input mask for the sequence (reversed with ``go_backwards``, as
        the sequence is), None for a last output and for the states."""
        output_mask = None
        if self.return_sequences and mask is not None:
            output_mask = mask
            if self.go_backwards:
                output_mask = mask[::-1] if self.time_major else mask[:, ::-1]
        if self.return_state:
            return [output_mask] + [None] * len(pack(self.cell, flat_sizes(self.cell)))
        return output_mask

    def compute_output_shape(self, input_shape, initial_state_shape=None):
        """``(batch, units)``, or ``(batch, time, units)`` with
        ``return_sequences`` (time first with ``time_major``); with
        ``return_state`` a list, the final states' shapes after the output.

        Examples:
            >>> lstm = nnlib.layers.LSTM(4, return_state=True)
            >>> lstm.compute_output_shape((None, 7, 3))
            [(None, 4), (None, 4), (None, 4)]
        """
        batch, time = self._batch_major(tuple(input_shape))[:2]
        size = getattr(self.cell, "output_size", None) or flat_sizes(self.cell)[0]
        output = (batch, int(size))
        if self.return_sequences:
            output = (
                (time, batch, int(size))
                if self.time_major
                else (batch, time, int(size))
            )
        if not self.return_state:
            return output
        return [output, *pack(self.cell, [(batch, s) for s in flat_sizes(self.cell)])]

    def get_config(self):
        cell = {
            **_registry.class_spec(type(self.cell)),
            "config": self.cell.get_config(),
        }
        return {**super().get_config(), "cell": cell, **self._sequence_config()}

    def _sequence_config(self):
        return {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "time_major": self.time_major,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        spec = config.pop("cell")
        cell = _registry.resolve(spec).from_config(dict(spec["config"]))
        return cls(cell, **config)


def _swap(x):
    """(time, batch, ...) <-> (batch, time, ...)."""
    return shape.transpose(x, (1, 0) + tuple(range(2, x.ndim)))
