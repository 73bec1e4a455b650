"""Recurrent layers: SimpleRNN, LSTM and GRU (Bidirectional is in ``bidirectional``).

Each is an ``RNN`` over its cell (``SimpleRNNCell``, ``LSTMCell``,
``GRUCell``), as in Keras, with the cell's arguments given to the layer. The
layer embeds its cell: the weights are the layer's own variables,
``lstm/kernel``, ``lstm/recurrent_kernel`` and ``lstm/bias``, with Keras's
names, shapes and gate order (``RNN(LSTMCell(n))`` has the same ones, as
``rnn/kernel``...), so they can be exchanged with Keras. Inputs are (batch,
time, features), or (time, batch, features) with ``time_major``. Every layer
takes ``initial_state=`` and ``mask=`` in its call, and ``return_sequences``,
``return_state``, ``go_backwards``, ``stateful`` and ``time_major`` as Keras
and TensorFlow define them (see ``RNN``). With their default activations LSTM
and GRU run the whole sequence as one fused op (``nnlib.lstm``, ``nnlib.gru``).
"""

from .base import Layer
from .bidirectional import Bidirectional  # noqa: F401 (imported from here too)
from .gated_cells import GRUCell, LSTMCell
from .recurrent_cells import SimpleRNNCell
from .rnn import RNN

__all__ = ["GRU", "LSTM", "SimpleRNN"]

_CELL_ATTRIBUTES = (
    "units",
    "activation",
    "recurrent_activation",
    "use_bias",
    "unit_forget_bias",
    "reset_after",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "dropout",
    "recurrent_dropout",
    "seed",
    "kernel",
    "recurrent_kernel",
    "bias",
    "gates",
    "state_names",
)
_LAYER_KEYS = ("name", "trainable", "dtype", "input_shape")


class RNNBase(RNN):
    """The base of SimpleRNN, LSTM and GRU: an ``RNN`` embedding its cell.

    ``cell`` is the layer's own ``cell_class`` instance, made from the layer's
    arguments; its weights are created as the layer's variables, and the
    cell's attributes (``units``, ``kernel``...) read through the layer.
    """

    cell_class = None

    def __init__(
        self,
        units,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        time_major=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        layer_kwargs = {k: kwargs.pop(k) for k in _LAYER_KEYS if k in kwargs}
        cell = self.cell_class(
            units,
            dtype=layer_kwargs.get("dtype"),
            _label=type(self).__name__,
            **kwargs,
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            time_major=time_major,
            zero_output_for_mask=zero_output_for_mask,
            **layer_kwargs,
        )

    def _hold(self, cell):
        # Not tracked: the layer owns the weights, under its own names.
        object.__setattr__(self, "cell", cell)

    def _build_cell(self, step_shape):
        if len(step_shape) != 2:
            raise ValueError(
                f"layer '{self.name}' expected ndim=3, got ndim={len(step_shape) + 1}"
                f": inputs must be (batch, time, features), got step shape "
                f"{step_shape}"
            )
        self.cell.make_weights(self, step_shape[-1])
        object.__setattr__(self.cell, "built", True)

    def get_config(self):
        cell = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell.pop(key)
        return {**Layer.get_config(self), **cell, **self._sequence_config()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _read_from_cell(name):
    def read(self):
        return getattr(self.cell, name)

    return property(read, doc=f"The cell's ``{name}``.")


for _name in _CELL_ATTRIBUTES:
    setattr(RNNBase, _name, _read_from_cell(_name))


class SimpleRNN(RNNBase):
    """A fully connected recurrent layer: ``h = activation(x @ kernel + h @ U + b)``.

    Args:
        units: The size of the hidden state (and of the output).
        activation: Default ``"tanh"``.
        use_bias: Whether to add ``bias`` (units,).
        kernel_initializer: Default ``"glorot_uniform"``.
        recurrent_initializer: Default ``"orthogonal"``.
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer: Optional regularizer of ``kernel``.
        recurrent_regularizer: Optional regularizer of ``recurrent_kernel``.
        bias_regularizer: Optional regularizer of ``bias``.
        dropout: Only 0.0 (nnlib's recurrent layers have no dropout; put a
            ``Dropout`` layer before them).
        recurrent_dropout: Only 0.0, likewise.
        return_sequences: Return every step's output (batch, time, units)
            instead of the last one (batch, units).
        return_state: Also return the final state: ``[output, h]``.
        go_backwards: Read the sequence from its end.
        stateful: Start each batch from the states the previous one ended
            with (see ``RNN``; ``reset_states()`` zeros them).
        unroll: Accepted for Keras's sake (nnlib always loops in Python).
        time_major: Inputs and returned sequences (time, batch, ...).
        zero_output_for_mask: With a mask, output zeros at masked steps
            instead of repeating the last output (``Bidirectional`` sets it
            when it returns sequences, as Keras does).
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``, ``seed``.

    Call arguments:
        inputs: (batch, time, features).
        initial_state: Optional ``[h]`` (batch, units); zeros by default.
        mask: Optional (batch, time) booleans, false at the steps to skip
            (padding); by default the mask the inputs carry. A skipped step
            leaves the state as it was and repeats the previous output; the
            last output is the last unmasked step's. With
            ``return_sequences`` the output carries the mask on.

    Raises:
        ValueError: For a bad ``units``; at call time, for inputs that are not
            (batch, time, features) or initial states of the wrong shape.

    Examples:
        >>> rnn = nnlib.layers.SimpleRNN(4, return_sequences=True)
        >>> rnn(np.ones((2, 5, 3), np.float32)).shape
        (2, 5, 4)
        >>> x = np.random.default_rng(0).normal(size=(1, 4, 3)).astype("float32")
        >>> padded = rnn(x, mask=[[True, True, False, False]])
        >>> np.allclose(padded[:, 1], rnn(x[:, :2])[:, 1])  # steps 2, 3 skipped
        True
        >>> np.array_equal(padded[:, 3], padded[:, 1])  # the output repeats
        True
        >>> [v.shape for v in rnn.variables]
        [(3, 4), (4, 4), (4,)]
        >>> tm = nnlib.layers.SimpleRNN(4, return_sequences=True, time_major=True)
        >>> tm(np.ones((5, 2, 3), np.float32)).shape  # (time, batch, units)
        (5, 2, 4)
    """

    cell_class = SimpleRNNCell

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
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        zero_output_for_mask=False,
        dropout=0.0,
        recurrent_dropout=0.0,
        stateful=False,
        unroll=False,
        time_major=False,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            zero_output_for_mask=zero_output_for_mask,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            stateful=stateful,
            unroll=unroll,
            time_major=time_major,
            **kwargs,
        )


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997), as Keras has it.

    The cell is ``LSTMCell`` (see there for the equations and gate order).
    With the default activations the whole time loop is one fused op
    (``nnlib.lstm``).

    Args:
        units: The size of the hidden and cell states.
        activation: Default ``"tanh"``.
        recurrent_activation: For the gates; default ``"sigmoid"``.
        use_bias: Whether to add ``bias`` (4 * units,).
        unit_forget_bias: Initialize the forget gate's bias to 1 (Jozefowicz et
            al., 2015), the rest with ``bias_initializer``.
        **kwargs: As for ``SimpleRNN`` (initializers, regularizers,
            ``return_sequences``, ``return_state``, ``go_backwards``,
            ``stateful``, ``time_major``, ``name``...).

    Call arguments:
        inputs: (batch, time, features).
        initial_state: Optional ``[h, c]``, each (batch, units).
        mask: Optional (batch, time) booleans, false at the steps to skip
            (as for ``SimpleRNN``); the fused op skips them too.

    Returns:
        The output, or ``[output, h, c]`` with ``return_state``.

    Examples:
        >>> lstm = nnlib.layers.LSTM(4, return_state=True)
        >>> out, h, c = lstm(np.ones((2, 5, 3), np.float32))
        >>> out.shape, c.shape
        ((2, 4), (2, 4))
        >>> lstm.bias.numpy()[4:8]
        array([1., 1., 1., 1.], dtype=float32)
        >>> type(lstm.cell).__name__, lstm.cell.kernel is lstm.kernel
        ('LSTMCell', True)
    """

    cell_class = LSTMCell

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            unit_forget_bias=unit_forget_bias,
            **kwargs,
        )


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al., 2014), with Keras's equations and weights.

    The cell is ``GRUCell`` (see there for the equations, the gate order and
    ``reset_after``, which is also PyTorch's ``nn.GRU``). With the default
    activations the whole time loop is one fused op (``nnlib.gru``).

    Args:
        units: The size of the hidden state.
        activation: For the candidate; default ``"tanh"``.
        recurrent_activation: For the gates; default ``"sigmoid"``.
        use_bias: Whether to add a bias.
        reset_after: Apply the reset gate after the recurrent matmul (bias
            (2, 3 * units): input row, recurrent row); else bias (3 * units,).
        **kwargs: As for ``SimpleRNN``.

    Call arguments:
        inputs: (batch, time, features).
        initial_state: Optional ``[h]`` (batch, units).
        mask: Optional (batch, time) booleans, false at the steps to skip
            (as for ``SimpleRNN``).

    Examples:
        >>> gru = nnlib.layers.GRU(4, return_sequences=True)
        >>> gru(np.ones((2, 5, 3), np.float32)).shape
        (2, 5, 4)
        >>> gru.bias.shape
        (2, 12)
    """

    cell_class = GRUCell

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        reset_after=True,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            reset_after=reset_after,
            **kwargs,
        )
