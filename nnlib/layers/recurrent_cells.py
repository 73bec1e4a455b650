"""Recurrent cells: one time step of a recurrent layer, as Keras has them.

A cell computes one step, ``cell(inputs, states) -> (output, new_states)``,
with ``inputs`` (batch, features) and ``states`` a list of (batch, units)
tensors. Called in a Python loop it is TensorFlow eager's recurrent model::

    states = cell.get_initial_state(batch_size=batch)
    for t in range(time):
        output, states = cell(x[:, t], states)

and ``RNN(cell)`` runs it over sequences. A cell's weights are its sequence
layer's (``LSTMCell`` and ``LSTM``): ``kernel`` (features, gates * units),
``recurrent_kernel`` (units, gates * units) and ``bias``, in Keras's gate
order. Inside an ``RNN`` the cell's variables take the RNN's scope, without a
level of their own: ``rnn/kernel``, as ``LSTM``'s are ``lstm/kernel``, so the
two have the same weights under the same names.

A cell also runs a whole sequence at once (``RNN`` and the sequence layers
call ``_sequence``): one matmul projects every step's inputs, and with the
default activations LSTM and GRU run as one fused op (``nnlib.lstm``,
``nnlib.gru``). Masks follow Keras (its JAX backend): at a masked step the
states carry over unchanged, the output repeats the carried ``h``, and the
step's inputs get no gradient.
"""

import numpy as np

from .. import activations, initializers, regularizers
from .._args import boolean
from ..engine.tensor import wrap
from ..ops import arithmetic, joining, linalg, shape
from ._symbolic import is_shape
from .base import Layer
from .core import fraction, positive_int
from .input_spec import InputSpec

__all__ = ["SimpleRNNCell"]


def _holder(cell):
    """The ``RNN`` whose ``cell`` this is (its variables take its scope), or None."""
    ref = cell._nnlib.parent
    parent = ref() if ref is not None else None
    if getattr(parent, "_cell_shares_scope", False) and parent.cell is cell:
        return parent
    return None


def zero_states(state_size, batch_size, dtype):
    """Zeros for ``state_size`` (an int, or a list of ints): a list of
    (batch_size, size) tensors, one per state."""
    sizes = state_size if isinstance(state_size, (list, tuple)) else [state_size]
    dtype = np.dtype(dtype)
    return [wrap(np.zeros((batch_size, int(size)), dtype)) for size in sizes]


class CellLayer(Layer):
    """The base of nnlib's cells (and ``StackedRNNCells``): ``get_initial_state``,
    and the variable scope an ``RNN`` gives its cell."""

    @property
    def scope_name(self):
        """The cell's variable scope: its ``RNN``'s, when it is one's cell."""
        holder = _holder(self)
        return holder.scope_name if holder is not None else super().scope_name

    def get_initial_state(self, batch_size=None, dtype=None, inputs=None):
        """Zeros for every state: a list of (batch_size, size) tensors.

        Args:
            batch_size: The number of sequences.
            dtype: Default: the cell's dtype.
            inputs: Instead of ``batch_size`` (TensorFlow's signature): a
                batch of inputs, whose first axis is the batch.

        Examples:
            >>> cell = nnlib.layers.LSTMCell(3)
            >>> [s.shape for s in cell.get_initial_state(batch_size=2)]
            [(2, 3), (2, 3)]
        """
        if batch_size is None:
            if inputs is None:
                raise ValueError(
                    f"cell '{self.name}': get_initial_state needs batch_size "
                    "(or inputs)"
                )
            batch_size = inputs.shape[0]
        return zero_states(self.state_size, int(batch_size), dtype or self.dtype)


class Cell(CellLayer):
    """What SimpleRNNCell, LSTMCell and GRUCell share (not used directly).

    Subclasses set ``gates`` (blocks of ``units`` columns in the kernels) and
    ``state_names``, and implement ``step(z, states, weights) -> (h, states)``
    where ``z`` is one step's projected input ``x @ kernel (+ bias)``; they may
    run a whole sequence as one op in ``fused``.
    """

    gates = 1
    state_names = ("h",)

    _cast_integers = True  # int64 data into a float model gives float outputs

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        # The sequence layer that embeds a cell names itself in its errors.
        label = kwargs.pop("_label", None) or type(self).__name__
        super().__init__(**kwargs)
        self.units = positive_int(units, "units", label)
        self.activation = activations.get(activation)
        self.use_bias = boolean(use_bias, "use_bias", label)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = _no_dropout(dropout, "dropout", label)
        self.recurrent_dropout = _no_dropout(
            recurrent_dropout, "recurrent_dropout", label
        )
        self.seed = seed

    @property
    def state_size(self):
        """``units`` for one state; a list of sizes for several (LSTM's h, c)."""
        count = len(self.state_names)
        return self.units if count == 1 else [self.units] * count

    @property
    def output_size(self):
        """The size of the output: ``units``."""
        return self.units

    # -- weights --------------------------------------------------------------------

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                f"cell '{self.name}' expected inputs of one step, (batch, "
                f"features), got shape {input_shape}"
            )
        self.make_weights(self, input_shape[-1])
        self.input_spec = InputSpec(ndim=2, axes={-1: input_shape[-1]})

    def make_weights(self, owner, features):
        """Creates the weights as ``owner``'s variables (the cell itself, or the
        sequence layer that embeds it) and keeps them as the cell's attributes."""
        width = self.gates * self.units
        self.kernel = owner.add_weight(
            "kernel",
            (features, width),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = owner.add_weight(
            "recurrent_kernel",
            (self.units, width),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = owner.add_weight(
                "bias",
                self.bias_shape(),
                initializer=self.bias_initializer_for_build(),
                regularizer=self.bias_regularizer,
            )

    def bias_shape(self):
        """The bias variable's shape (GRU's ``reset_after`` has two rows)."""
        return (self.gates * self.units,)

    def bias_initializer_for_build(self):
        """The initializer the bias is built with (LSTM adds unit_forget_bias)."""
        return self.bias_initializer

    def input_bias(self):
        """The bias added to the input projection (None without a bias)."""
        return self.bias

    def step_weights(self):
        """Values every step reads, computed once per call (slices of weights)."""
        return self.recurrent_kernel

    # -- computing ------------------------------------------------------------------

    def call(self, inputs, states, training=None):
        single = not isinstance(states, (list, tuple))
        states = self.checked_states([states] if single else states, inputs.shape[0])
        z = linalg.matmul(inputs, self.kernel)
        bias = self.input_bias()
        h, states = self.step(
            z if bias is None else z + bias, states, self.step_weights()
        )
        return h, states[0] if single else states

    def step(self, z, states, weights):
        raise NotImplementedError

    def checked_states(self, states, batch):
        """``states`` as tensors of the cell's dtype, or a ValueError naming the
        cell, the shapes it expected and those it got."""
        states = [self._convert(s) for s in states]
        expected = (batch, self.units)
        shapes = [tuple(s.shape) for s in states]
        if len(states) != len(self.state_names) or any(s != expected for s in shapes):
            names = ", ".join(self.state_names)
            raise ValueError(
                f"cell '{self.name}' expected states as {len(self.state_names)} "
                f"tensor(s) ({names}) of shape {expected}, got shapes {shapes}"
            )
        return states

    def runs_sequences(self):
        """True when ``_sequence`` computes what ``call`` would step by step
        (a subclass that overrides ``call`` is run step by step)."""
        return type(self).call is Cell.call

    def _sequence(self, inputs, states, mask=None):
        """Every step of ``inputs`` (batch, time, features), ``mask`` (batch,
        time) booleans or None: ``(last output, outputs (batch, time, units),
        final states)``, as Keras's backend ``rnn`` returns them."""
        batch, time, features = inputs.shape
        # One matmul for every step's input projection; a 2-D product is
        # markedly faster than numpy's batched one.
        z = linalg.matmul(shape.reshape(inputs, (batch * time, features)), self.kernel)
        z = shape.reshape(z, (batch, time, -1))
        found = self.fused(z, states, mask)
        outputs, states = found if found is not None else self._steps(z, states, mask)
        return states[0], outputs, states

    def fused(self, z, states, mask=None):
        """The whole loop as one op, or None where the cell has none (the default)."""
        return None  # noqa: RET501 - None is this method's answer, not a fallthrough

    def _steps(self, z, states, mask):
        bias = self.input_bias()
        if bias is not None:
            z = z + bias
        weights = self.step_weights()
        outputs = []
        for t, zt in enumerate(joining.unstack(z, axis=1)):
            keep = None if mask is None else mask[:, t, None]
            if keep is None or keep.all():
                _, states = self.step(zt, states, weights)
            elif keep.any():
                _, new = self.step(zt, states, weights)
                states = [arithmetic.where(keep, n, s) for n, s in zip(new, states)]
            outputs.append(states[0])
        return joining.stack(outputs, axis=1), states

    # -- configuration --------------------------------------------------------------

    def compute_output_shape(self, inputs_shape, states_shape=None):
        """``((batch, units), new states' shapes)``: a list, or one shape for a
        cell of one state given one tensor.

        Examples:
            >>> nnlib.layers.LSTMCell(4).compute_output_shape((None, 3))
            ((None, 4), [(None, 4), (None, 4)])
        """
        state = (inputs_shape[0], self.units)
        if len(self.state_names) == 1 and states_shape and is_shape(states_shape):
            return state, state
        return state, [state] * len(self.state_names)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


def _no_dropout(value, what, label):
    rate = fraction(value, what, label)
    if rate:
        raise ValueError(
            f"{label}: {what}={value!r} is not supported: nnlib's recurrent cells "
            "and layers have no dropout of their own (only 0.0); put a Dropout "
            "layer before the recurrent layer (or after it) instead"
        )
    return rate


class SimpleRNNCell(Cell):
    """One step of ``SimpleRNN``: ``h = activation(x @ kernel + h @ U + bias)``.

    Args:
        units: The size of the state (and of the output).
        activation: Default ``"tanh"``.
        use_bias: Whether to add ``bias`` (units,).
        kernel_initializer: Default ``"glorot_uniform"``.
        recurrent_initializer: Default ``"orthogonal"``.
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer: Optional regularizer of ``kernel``.
        recurrent_regularizer: Optional regularizer of ``recurrent_kernel``.
        bias_regularizer: Optional regularizer of ``bias``.
        dropout: Only 0.0: nnlib's cells have no dropout (a ValueError
            otherwise; put a ``Dropout`` layer before the RNN).
        recurrent_dropout: Only 0.0, likewise.
        seed: Kept in the config, for Keras's.
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Call arguments:
        inputs: One step, (batch, features).
        states: ``[h]`` (batch, units), or the tensor ``h`` alone.
        training: Accepted, as Keras's cells take it (nothing depends on it).

    Returns:
        ``(output, new_states)``: the new ``h`` and ``[h]`` (``h`` alone when
        ``states`` was a tensor).

    Examples:
        >>> cell = nnlib.layers.SimpleRNNCell(4)
        >>> x = np.ones((2, 5, 3), np.float32)
        >>> states = cell.get_initial_state(batch_size=2)
        >>> for t in range(5):
        ...     output, states = cell(x[:, t], states)
        >>> output.shape, cell.state_size, [v.name for v in cell.variables]
        ((2, 4), 4, ['simple_rnn_cell/kernel', 'simple_rnn_cell/recurrent_kernel', 'simple_rnn_cell/bias'])
    """

    def step(self, z, states, kernel):
        h = self.activation(z + linalg.matmul(states[0], kernel))
        return h, [h]
