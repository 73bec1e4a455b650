"""The gated cells: ``LSTMCell`` and ``GRUCell`` (see ``recurrent_cells``).

Each is one step of its sequence layer (``LSTM``, ``GRU``), with the same
weights; over a whole sequence with the default activations it runs the fused
op (``nnlib.lstm``, ``nnlib.gru``), whether inside ``LSTM`` or ``RNN``.
"""

import numpy as np

from .. import activations
from .._args import boolean
from ..ops import activations as _activation_ops
from ..ops import joining, linalg
from ..ops import math as _math_ops
from ..ops.recurrent import lstm as _fused_lstm
from ..ops.recurrent_gru import gru as _fused_gru
from .recurrent_cells import Cell

__all__ = ["GRUCell", "LSTMCell"]


class _Gated(Cell):
    """A cell with a ``recurrent_activation`` for its gates."""

    def __init__(self, units, recurrent_activation="sigmoid", **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)

    def has_default_activations(self):
        """tanh and sigmoid: what the fused ops compute."""
        return (
            self.activation is _math_ops.tanh
            and self.recurrent_activation is _activation_ops.sigmoid
        )

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
        }


class LSTMCell(_Gated):
    """One step of ``LSTM`` (Hochreiter and Schmidhuber, 1997), as Keras has it.

    Gates in Keras's order, input ``i``, forget ``f``, candidate ``c`` and
    output ``o``, each a block of ``units`` columns of the kernels and the
    bias: ``c_t = f * c + i * activation(z_c)``, ``h_t = o * activation(c_t)``,
    the gates ``recurrent_activation`` of their part of
    ``x @ kernel + h @ U + b``.

    Args:
        units: The size of the hidden and cell states.
        activation: Default ``"tanh"``.
        recurrent_activation: For the gates; default ``"sigmoid"``.
        use_bias: Whether to add ``bias`` (4 * units,).
        unit_forget_bias: Initialize the forget gate's bias to 1 (Jozefowicz et
            al., 2015), the rest with ``bias_initializer``.
        **kwargs: As for ``SimpleRNNCell`` (initializers, regularizers,
            ``dropout``, ``name``, ``dtype``...).

    Call arguments:
        inputs: One step, (batch, features).
        states: ``[h, c]``, each (batch, units).
        training: Accepted, as Keras's cells take it.

    Returns:
        ``(h, [h, c])``.

    Examples:
        >>> cell = nnlib.layers.LSTMCell(4)
        >>> x = np.ones((2, 5, 3), np.float32)
        >>> states = cell.get_initial_state(batch_size=2)
        >>> for t in range(5):
        ...     output, states = cell(x[:, t], states)
        >>> output.shape, cell.state_size, [v.shape for v in cell.variables]
        ((2, 4), [4, 4], [(3, 16), (4, 16), (16,)])
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
        label = kwargs.get("_label") or type(self).__name__
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            **kwargs,
        )
        self.unit_forget_bias = boolean(unit_forget_bias, "unit_forget_bias", label)

    def bias_initializer_for_build(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def initializer(shape, dtype):
            parts = (base((units,), dtype), np.ones(units, dtype))
            return np.concatenate(parts + (base((2 * units,), dtype),))

        return initializer

    def fused(self, z, states, mask=None):
        if not self.has_default_activations():
            return None
        sequence, h, c = _fused_lstm(
            z, states[0], states[1], self.recurrent_kernel, self.bias, mask=mask
        )
        return sequence, [h, c]

    def step(self, z, states, kernel):
        h, c = states
        zi, zf, zc, zo = joining.split(z + linalg.matmul(h, kernel), 4, axis=-1)
        gate = self.recurrent_activation
        c = gate(zf) * c + gate(zi) * self.activation(zc)
        h = gate(zo) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Gated):
    """One step of ``GRU`` (Cho et al., 2014), with Keras's equations and weights.

    Gates in Keras's order, update ``z``, reset ``r`` and candidate ``h``. With
    ``x @ kernel`` split into ``x_z, x_r, x_h`` and ``U`` the recurrent kernel::

        reset_after=True (default; bias (2, 3 * units): input row, recurrent row)
            m = h @ U + b_recurrent               split into m_z, m_r, m_h
            z = sigmoid(x_z + b_z + m_z)          r likewise
            hh = tanh(x_h + b_h + r * m_h)
        reset_after=False (bias (3 * units,))
            z = sigmoid(x_z + b_z + h @ U_z)      r likewise
            hh = tanh(x_h + b_h + (r * h) @ U_h)
        h_new = z * h + (1 - z) * hh

    ``reset_after=True`` is also PyTorch's ``nn.GRU`` (gate order r, z, n there).

    Args:
        units: The size of the hidden state.
        activation: For the candidate; default ``"tanh"``.
        recurrent_activation: For the gates; default ``"sigmoid"``.
        use_bias: Whether to add a bias.
        reset_after: Apply the reset gate after the recurrent matmul (above).
        **kwargs: As for ``SimpleRNNCell``.

    Call arguments:
        inputs: One step, (batch, features).
        states: ``[h]`` (batch, units), or the tensor ``h`` alone.
        training: Accepted, as Keras's cells take it.

    Returns:
        ``(h, [h])`` (``h`` alone as the state when ``states`` was a tensor).

    Examples:
        >>> cell = nnlib.layers.GRUCell(4)
        >>> output, h = cell(np.ones((2, 3), np.float32), np.zeros((2, 4), np.float32))
        >>> output.shape, h.shape, cell.bias.shape
        ((2, 4), (2, 4), (2, 12))
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
        label = kwargs.get("_label") or type(self).__name__
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            **kwargs,
        )
        self.reset_after = boolean(reset_after, "reset_after", label)

    def bias_shape(self):
        width = 3 * self.units
        return (2, width) if self.reset_after else (width,)

    def input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def fused(self, z, states, mask=None):
        if not self.has_default_activations():
            return None
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
        return {**super().get_config(), "reset_after": self.reset_after}
