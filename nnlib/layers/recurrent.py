"""Recurrent layers: SimpleRNN, LSTM, GRU, and the Bidirectional wrapper.

Weights have Keras's names, shapes and gate order, so they can be exchanged with
Keras: ``kernel`` (features, gates * units), ``recurrent_kernel`` (units,
gates * units) and ``bias``. Inputs are (batch, time, features). Every layer
takes ``initial_state=`` in its call, and ``return_sequences``,
``return_state`` and ``go_backwards`` as Keras defines them (with
``go_backwards`` the returned sequence is in the reversed order it was read).
"""

import numpy as np

from .. import activations
from ..ops import activations as _activation_ops
from ..ops import joining, linalg
from ..ops import math as _math_ops
from ..ops.recurrent import lstm as _fused_lstm
from .base import Layer, get_layer_class
from .recurrent_cells import RNNBase

__all__ = ["GRU", "LSTM", "Bidirectional", "SimpleRNN"]


class SimpleRNN(RNNBase):
    """A fully connected recurrent layer: ``h = activation(x @ kernel + h @ U + b)``.

    Args:
        units: The size of the hidden state (and of the output).
        activation: Default ``"tanh"``.
        use_bias: Whether to add ``bias`` (units,).
        kernel_initializer: Default ``"glorot_uniform"``.
        recurrent_initializer: Default ``"orthogonal"``.
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Optional.
        return_sequences: Return every step's output (batch, time, units)
            instead of the last one (batch, units).
        return_state: Also return the final state: ``[output, h]``.
        go_backwards: Read the sequence from its end.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Call arguments:
        inputs: (batch, time, features).
        initial_state: Optional ``[h]`` (batch, units); zeros by default.

    Raises:
        ValueError: For a bad ``units``; at call time, for inputs that are not
            (batch, time, features) or initial states of the wrong shape.

    Example:
        >>> rnn = nnlib.layers.SimpleRNN(4, return_sequences=True)
        >>> rnn(np.ones((2, 5, 3), np.float32)).shape
        (2, 5, 4)
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

    Returns:
        The output, or ``[output, h, c]`` with ``return_state``.

    Example:
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
        self.unit_forget_bias = bool(unit_forget_bias)

    def bias_initializer_for_build(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def initializer(shape, dtype):
            parts = (base((units,), dtype), np.ones(units, dtype))
            return np.concatenate(parts + (base((2 * units,), dtype),))

        return initializer

    def run(self, z, states):
        if (
            self.activation is _math_ops.tanh
            and self.recurrent_activation is _activation_ops.sigmoid
        ):
            sequence, h, c = _fused_lstm(
                z, states[0], states[1], self.recurrent_kernel, self.bias
            )
            return sequence, [h, c]
        return super().run(z, states)

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

    Example:
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
        self.reset_after = bool(reset_after)

    def bias_shape(self):
        width = 3 * self.units
        return (2, width) if self.reset_after else (width,)

    def input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

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


_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, merging both.

    Both directions are rebuilt from ``layer.get_config()`` (fresh variables):
    ``forward_<name>`` as configured and ``backward_<name>`` with
    ``go_backwards`` flipped, so their variables are
    ``<bidirectional>/forward_lstm/kernel`` and so on, as in Keras. With
    ``return_sequences`` the backward outputs are reversed back in time before
    merging, so step ``t`` of both halves describes input step ``t``.

    Args:
        layer: A ``SimpleRNN``, ``LSTM`` or ``GRU`` (or any layer with the
            same ``go_backwards``/``return_sequences``/``return_state`` config).
        merge_mode: ``"concat"`` (last axis), ``"sum"``, ``"mul"``, ``"ave"``,
            or None for the list ``[forward, backward]``.
        backward_layer: Optional layer for the backward direction; it must read
            in the other direction and return sequences and states alike.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Call arguments:
        inputs: (batch, time, features).
        initial_state: Optional list: the forward layer's states, then the
            backward layer's.

    Returns:
        The merged output; with ``return_state`` followed by the forward
        layer's final states, then the backward layer's.

    Raises:
        ValueError: For an unknown ``merge_mode`` or a mismatched
            ``backward_layer``.

    Example:
        >>> lstm = nnlib.layers.LSTM(3, return_sequences=True, name="encoder_doc")
        >>> bi = nnlib.layers.Bidirectional(lstm, name="bi_doc")
        >>> bi(np.ones((2, 5, 4), np.float32)).shape
        (2, 5, 6)
        >>> [v.name for v in bi.variables][::3]
        ['bi_doc/forward_encoder_doc/kernel', 'bi_doc/backward_encoder_doc/kernel']
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Bidirectional: layer must be a Layer, got {type(layer).__name__}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional: merge_mode must be one of {_MERGE_MODES}, "
                f"got {merge_mode!r}"
            )
        kwargs.setdefault("dtype", layer.dtype)
        super().__init__(**kwargs)
        config = layer.get_config()
        name = config["name"].removeprefix("forward_")
        self._layer_spec = {"class_name": type(layer).__name__, "config": config}
        self._backward_spec = None
        self.merge_mode = merge_mode
        self.forward_layer = type(layer).from_config(
            {**config, "name": "forward_" + name}
        )
        if backward_layer is None:
            backward_layer = type(layer).from_config(
                {
                    **config,
                    "name": "backward_" + name,
                    "go_backwards": not config["go_backwards"],
                }
            )
        else:
            self._backward_spec = {
                "class_name": type(backward_layer).__name__,
                "config": backward_layer.get_config(),
            }
            _check_backward_layer(config, self._backward_spec["config"])
        self.backward_layer = backward_layer
        self.return_sequences = config["return_sequences"]
        self.return_state = config["return_state"]

    def call(self, inputs, initial_state=None):
        forward_state = backward_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(inputs, initial_state=forward_state)
        y_rev = self.backward_layer(inputs, initial_state=backward_state)
        states = []
        if self.return_state:
            states = y[1:] + y_rev[1:]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        output = _merge(self.merge_mode, y, y_rev)
        if not self.return_state:
            return output
        return (output if self.merge_mode is None else [output]) + states

    def get_config(self):
        return {
            **super().get_config(),
            "layer": self._layer_spec,
            "merge_mode": self.merge_mode,
            "backward_layer": self._backward_spec,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        specs = {}
        for key in ("layer", "backward_layer"):
            spec = config.pop(key)
            if spec is not None:
                layer_cls = get_layer_class(spec["class_name"])
                specs[key] = layer_cls.from_config(dict(spec["config"]))
        return cls(specs["layer"], backward_layer=specs.get("backward_layer"), **config)


def _check_backward_layer(forward, backward):
    for key in ("return_sequences", "return_state"):
        if forward[key] != backward[key]:
            raise ValueError(
                f"Bidirectional: backward_layer must have the forward layer's "
                f"{key}={forward[key]}, got {backward[key]}"
            )
    if forward["go_backwards"] == backward["go_backwards"]:
        raise ValueError(
            "Bidirectional: backward_layer must have go_backwards="
            f"{not forward['go_backwards']} (the other direction), got "
            f"{backward['go_backwards']}"
        )


def _merge(mode, y, y_rev):
    if mode == "concat":
        return joining.concat([y, y_rev], axis=-1)
    if mode == "sum":
        return y + y_rev
    if mode == "mul":
        return y * y_rev
    if mode == "ave":
        return (y + y_rev) * 0.5
    return [y, y_rev]
