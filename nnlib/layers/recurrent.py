"""Recurrent layers: SimpleRNN, LSTM and GRU (Bidirectional is in ``bidirectional``).

Weights have Keras's names, shapes and gate order, so they can be exchanged with
Keras: ``kernel`` (features, gates * units), ``recurrent_kernel`` (units,
gates * units) and ``bias``. Inputs are (batch, time, features). Every layer
takes ``initial_state=`` and ``mask=`` in its call, and ``return_sequences``,
``return_state`` and ``go_backwards`` as Keras defines them (with
``go_backwards`` the returned sequence is in the reversed order it was read).
A mask (by default the one the inputs carry, from ``Embedding(mask_zero=True)``
or ``Masking``) makes the layer skip padded steps (see ``recurrent_cells``).
"""

import numpy as np

from .. import activations
from .._args import boolean
from ..ops import activations as _activation_ops
from ..ops import joining, linalg
from ..ops import math as _math_ops
from ..ops.recurrent import lstm as _fused_lstm
from ..ops.recurrent_gru import gru as _fused_gru
from .bidirectional import Bidirectional  # noqa: F401 (imported from here too)
from .recurrent_cells import RNNBase

__all__ = ["GRU", "LSTM", "SimpleRNN"]


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
        return_sequences: Return every step's output (batch, time, units)
            instead of the last one (batch, units).
        return_state: Also return the final state: ``[output, h]``.
        go_backwards: Read the sequence from its end.
        zero_output_for_mask: With a mask, output zeros at masked steps
            instead of repeating the last output (``Bidirectional`` sets it
            when it returns sequences, as Keras does).
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

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
    """

    def step(self, z, states, kernel):
        h = self.activation(z + linalg.matmul(states[0], kernel))
        return h, [h]


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997), as Keras has it.

    Gates in Keras's order, input ``i``, forget ``f``, candidate ``c`` and output
    ``o``, each a block of ``units`` columns of the kernels and the bias:
    ``c_t = f * c + i * activation(z_c)``, ``h_t = o * activation(c_t)``, the
    gates ``recurrent_activation`` of their part of ``x @ kernel + h @ U + b``.
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
            ``return_sequences``, ``return_state``, ``go_backwards``, ``name``...).

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
    """

    gates = 4
    state_names = ("h", "c")

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = boolean(unit_forget_bias, "unit_forget_bias", "LSTM")

    def bias_initializer_for_build(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def initializer(shape, dtype):
            parts = (base((units,), dtype), np.ones(units, dtype))
            return np.concatenate(parts + (base((2 * units,), dtype),))

        return initializer

    def run(self, z, states, mask=None):
        if (
            self.activation is _math_ops.tanh
            and self.recurrent_activation is _activation_ops.sigmoid
        ):
            sequence, h, c = _fused_lstm(
                z, states[0], states[1], self.recurrent_kernel, self.bias, mask=mask
            )
            return sequence, [h, c]
        return super().run(z, states, mask)

    def step(self, z, states, kernel):
        h, c = states
        zi, zf, zc, zo = joining.split(z + linalg.matmul(h, kernel), 4, axis=-1)
        gate = self.recurrent_activation
        c = gate(zf) * c + gate(zi) * self.activation(zc)
        h = gate(zo) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al., 2014), with Keras's equations and weights.

    Gates in Keras's order, update ``z``, reset ``r`` and candidate ``h``. With
    ``x @ kernel`` split into ``x_z, x_r, x_h`` and ``U`` the recurrent kernel
    (Keras's ``GRUCell.call``)::

        reset_after=True (default; bias (2, 3 * units): input row, recurrent row)
            m = h @ U + b_recurrent               split into m_z, m_r, m_h
            z = sigmoid(x_z + b_z + m_z)          r likewise
            hh = tanh(x_h + b_h + r * m_h)
        reset_after=False (bias (3 * units,))
            z = sigmoid(x_z + b_z + h @ U_z)      r likewise
            hh = tanh(x_h + b_h + (r * h) @ U_h)
        h_new = z * h + (1 - z) * hh

    ``reset_after=True`` is also PyTorch's ``nn.GRU`` (gate order r, z, n there).
    With the default activations the whole time loop is one fused op
    (``nnlib.gru``).

    Args:
        units: The size of the hidden state.
        activation: For the candidate; default ``"tanh"``.
        recurrent_activation: For the gates; default ``"sigmoid"``.
        use_bias: Whether to add a bias.
        reset_after: Apply the reset gate after the recurrent matmul (above).
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

    gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        reset_after=True,
        **kwargs,
    ):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = boolean(reset_after, "reset_after", "GRU")

    def bias_shape(self):
        width = 3 * self.units
        return (2, width) if self.reset_after else (width,)

    def input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def run(self, z, states, mask=None):
        if (
            self.activation is _math_ops.tanh
            and self.recurrent_activation is _activation_ops.sigmoid
        ):
            in_bias, bias = self.bias, None
            if in_bias is not None and self.reset_after:
                in_bias, bias = in_bias[0], in_bias[1]
            sequence, h = _fused_gru(
                z,
                states[0],
                self.recurrent_kernel,
                bias,
                reset_after=self.reset_after,
                input_bias=in_bias,
                mask=mask,
            )
            return sequence, [h]
        return super().run(z, states, mask)

    def step_weights(self):
        u, kernel = self.units, self.recurrent_kernel
        if self.reset_after:
            return kernel, None if self.bias is None else self.bias[1]
        return kernel[:, : 2 * u], kernel[:, 2 * u :]

    def step(self, z, states, weights):
        (h,) = states
        xz, xr, xh = joining.split(z, 3, axis=-1)
        gate = self.recurrent_activation
        if self.reset_after:
            kernel, bias = weights
            m = linalg.matmul(h, kernel)
            mz, mr, mh = joining.split(m if bias is None else m + bias, 3, axis=-1)
            zg, r = gate(xz + mz), gate(xr + mr)
            hh = self.activation(xh + r * mh)
        else:
            kernel_zr, kernel_h = weights
            mz, mr = joining.split(linalg.matmul(h, kernel_zr), 2, axis=-1)
            zg, r = gate(xz + mz), gate(xr + mr)
            hh = self.activation(xh + linalg.matmul(r * h, kernel_h))
        h = zg * h + (1.0 - zg) * hh
        return h, [h]

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
