"""``StackedRNNCells``: several cells run as one, each reading the one before."""

from ..engine import nest
from . import _registry
from .base import Layer
from .recurrent_cells import CellLayer, zero_states

__all__ = ["StackedRNNCells"]


class StackedRNNCells(CellLayer):
    """Cells stacked into one: at each step every cell reads the output of the
    cell before it (the first reads the inputs), as Keras's ``StackedRNNCells``.

    ``RNN([cell_1, cell_2])`` makes one. Its states hold each cell's (a list
    per cell: ``[[h1, c1], [h2]]`` for an LSTMCell and a GRUCell); its output
    is the last cell's. Inside an ``RNN`` the cells' variables are
    ``rnn/lstm_cell/kernel``, ``rnn/gru_cell/kernel`` and so on; over a whole
    sequence nnlib's cells run one after the other, each over every step
    (the same values as step by step, with fused ops where a cell has one).

    Args:
        cells: A list of cells (each with ``state_size`` and
            ``call(inputs, states)``).
        **kwargs: ``name``, ``trainable``, ``dtype`` (default: the first cell's).

    Call arguments:
        inputs: One step, (batch, features).
        states: One entry per cell: its list of states (or its one state).
        training: Passed on to the cells.

    Returns:
        ``(output, new_states)``: the last cell's output, and every cell's new
        states in the structure ``states`` had.

    Raises:
        ValueError: For an empty list, or an entry that is not a cell.

    Examples:
        >>> cells = nnlib.layers.StackedRNNCells(
        ...     [nnlib.layers.LSTMCell(4), nnlib.layers.GRUCell(3)])
        >>> cells.state_size, cells.output_size
        ([[4, 4], 3], 3)
        >>> rnn = nnlib.layers.RNN(cells, return_state=True)
        >>> output, lstm_states, gru_states = rnn(np.ones((2, 5, 6), np.float32))
        >>> output.shape, [s.shape for s in lstm_states], [s.shape for s in gru_states]
        ((2, 3), [(2, 4), (2, 4)], [(2, 3)])
    """

    def __init__(self, cells, **kwargs):
        cells = list(cells) if isinstance(cells, (list, tuple)) else None
        if not cells:
            raise ValueError(
                "StackedRNNCells: cells must be a non-empty list of cells, got "
                f"{cells!r}"
            )
        for cell in cells:
            check_cell(cell, "StackedRNNCells")
        kwargs.setdefault("dtype", getattr(cells[0], "dtype", None))
        super().__init__(**kwargs)
        self.cells = cells

    @property
    def state_size(self):
        """Each cell's ``state_size``, in a list."""
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        """The last cell's output size."""
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None, dtype=None, inputs=None):
        """Each cell's initial states (zeros), in a list.

        Examples:
            >>> cells = nnlib.layers.StackedRNNCells([nnlib.layers.GRUCell(2)])
            >>> [[s.shape for s in states] for states in cells.get_initial_state(3)]
            [[(3, 2)]]
        """
        if batch_size is None and inputs is not None:
            batch_size = inputs.shape[0]
        found = []
        for cell in self.cells:
            make = getattr(cell, "get_initial_state", None)
            states = (
                make(batch_size=batch_size)
                if make is not None
                else zero_states(cell.state_size, batch_size, dtype or self.dtype)
            )
            found.append(
                list(states) if isinstance(states, (list, tuple)) else [states]
            )
        return found

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
            input_shape = (input_shape[0], _output_size(cell))

    def call(self, inputs, states, training=None):
        kwargs = {} if training is None else {"training": training}
        new_states = []
        for cell, cell_states in zip(self.cells, states, strict=True):
            is_list = isinstance(cell_states, (list, tuple))
            inputs, cell_states = cell(
                inputs, list(cell_states) if is_list else [cell_states], **kwargs
            )
            if not is_list and isinstance(cell_states, (list, tuple)):
                cell_states = cell_states[0]
            new_states.append(cell_states)
        return inputs, new_states

    def runs_sequences(self):
        """True when every cell runs whole sequences itself (nnlib's cells)."""
        return type(self).call is StackedRNNCells.call and all(
            getattr(cell, "runs_sequences", lambda: False)() for cell in self.cells
        )

    def _sequence(self, inputs, states, mask=None):
        """Each cell over the whole sequence, in turn: ``(last output, outputs,
        states)`` (masked steps carry every cell's states, as step by step)."""
        new_states = []
        for cell, cell_states in zip(self.cells, states, strict=True):
            last, inputs, cell_states = cell._sequence(inputs, cell_states, mask)
            new_states.append(cell_states)
        return last, inputs, new_states

    def compute_output_shape(self, inputs_shape, states_shape=None):
        """``(output shape, each cell's states' shapes)``.

        Examples:
            >>> cells = nnlib.layers.StackedRNNCells(
            ...     [nnlib.layers.LSTMCell(4), nnlib.layers.GRUCell(3)])
            >>> cells.compute_output_shape((None, 6))
            ((None, 3), [[(None, 4), (None, 4)], [(None, 3)]])
        """
        batch = inputs_shape[0]
        states = [
            [(batch, size) for size in nest.flatten([cell.state_size])]
            for cell in self.cells
        ]
        return (batch, self.output_size), states

    def get_config(self):
        cells = [
            {**_registry.class_spec(type(cell)), "config": cell.get_config()}
            for cell in self.cells
        ]
        return {**super().get_config(), "cells": cells}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cells = [
            _registry.resolve(spec).from_config(dict(spec["config"]))
            for spec in config.pop("cells")
        ]
        return cls(cells, **config)


def check_cell(cell, owner):
    """Raises ValueError unless ``cell`` has ``state_size`` and can be called."""
    if isinstance(cell, type) or not (
        callable(cell) and getattr(cell, "state_size", None) is not None
    ):
        raise ValueError(
            f"{owner}: a cell must have a state_size and be callable as "
            f"cell(inputs, states) (an RNN cell such as LSTMCell), got {cell!r}"
        )


def _output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is None:
        first = nest.flatten([cell.state_size])[0]
        size = first
    return int(size)
