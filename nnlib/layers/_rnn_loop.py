"""What ``RNN`` does with any cell: the structure of its states, and the loop
over time steps for cells that do not run whole sequences themselves.

A cell's ``state_size`` is an int (one state), a list of ints (several, LSTM's
``[h, c]``) or, for ``StackedRNNCells``, a list holding each cell's. States
travel as a list in that structure; stateful layers, shape checks and
``initial_state=`` see them flattened, one (batch, size) tensor per int.
"""

import numpy as np

from ..engine import nest
from ..ops import arithmetic, creation, joining
from .stacked_cells import StackedRNNCells

__all__ = ["flat_sizes", "pack", "step_loop"]


def flat_sizes(cell):
    """Every state's size, in order: ``[4, 4]`` for ``LSTMCell(4)``."""
    size = cell.state_size
    return [int(s) for s in nest.flatten(size if isinstance(size, list) else [size])]


def pack(cell, flat):
    """``flat`` states in the structure ``cell`` takes: a list (a list per cell
    of a stack, as Keras's ``StackedRNNCells`` gives them)."""
    flat = iter(flat)
    if isinstance(cell, StackedRNNCells):
        return [pack(c, [next(flat) for _ in flat_sizes(c)]) for c in cell.cells]
    return [next(flat) for _ in flat_sizes(cell)]


def step_loop(cell, inputs, states, mask, training):
    """Calls ``cell`` on each step of ``inputs`` (batch, time, ...).

    ``mask`` (batch, time) booleans or None: at a masked step the states carry
    over and the output repeats the previous one (before any step, the first
    state, as Keras's JAX backend has it, or zeros where its shape differs).

    Returns:
        ``(last output, outputs (batch, time, ...), final states)``.
    """
    kwargs = {"training": training} if training is not None else {}
    outputs, previous = [], None
    for t in range(inputs.shape[1]):
        output, new = cell(inputs[:, t], states, **kwargs)
        new = list(new) if isinstance(new, (list, tuple)) else [new]
        keep = None if mask is None else mask[:, t]
        if keep is not None and not keep.all():
            if previous is None:
                previous = _output_before(states, output)
            pairs = zip(nest.flatten(new), nest.flatten(states))
            new = nest.pack_as(new, [_where(keep, n, s) for n, s in pairs])
            output = _where(keep, output, previous)
        states, previous = new, output
        outputs.append(output)
    return output, joining.stack(outputs, axis=1), states


def _where(keep, new, old):
    return arithmetic.where(keep.reshape(keep.shape + (1,) * (new.ndim - 1)), new, old)


def _output_before(states, output):
    first = states
    while isinstance(first, (list, tuple)):
        first = first[-1] if first and isinstance(first[0], (list, tuple)) else first[0]
    if tuple(first.shape) == tuple(output.shape):
        return first
    return creation.zeros(output.shape, dtype=np.dtype(output.dtype))
