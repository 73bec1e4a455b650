"""What every recurrent layer shares: weights, the input projection, the time loop.

``RNNBase`` owns the Keras weights ``kernel`` (input features, gates * units),
``recurrent_kernel`` (units, gates * units) and ``bias``, projects the inputs of
every time step with one matmul, and runs the time loop; a subclass gives its
gate count, its state count and one ``step`` (or a fused op for the whole loop).

Masks (Keras's semantics, as its JAX backend computes them): at a
masked step the states carry over unchanged, the output repeats the carried
``h`` (zeros with ``zero_output_for_mask``), and the step's inputs get no
gradient; with ``return_sequences=False`` the output is the last carried
``h``, the output of the last unmasked step.
"""

import numpy as np

from .. import activations, initializers, regularizers
from .._args import boolean
from ..ops import arithmetic, joining, linalg, shape
from . import _masks
from .base import Layer
from .core import positive_int
from .input_spec import InputSpec

__all__ = ["RNNBase"]


class RNNBase(Layer):
    """The base of SimpleRNN, LSTM and GRU (not used directly).

    Subclasses set ``gates`` (blocks of ``units`` columns in the kernels) and
    ``state_names``, and implement ``step(z, states, weights) -> (h, states)``
    where ``z`` is one step's projected input ``x @ kernel (+ bias)``.
    """

    gates = 1
    state_names = ("h",)

    _cast_integers = True  # int64 data into a float model gives float outputs
    supports_masking = True

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
        **kwargs,
    ):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.units = positive_int(units, "units", cls)
        self.activation = activations.get(activation)
        self.use_bias = boolean(use_bias, "use_bias", cls)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.return_sequences = boolean(return_sequences, "return_sequences", cls)
        self.return_state = boolean(return_state, "return_state", cls)
        self.go_backwards = boolean(go_backwards, "go_backwards", cls)
        self.zero_output_for_mask = boolean(
            zero_output_for_mask, "zero_output_for_mask", cls
        )

    # -- weights --------------------------------------------------------------------

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(
                f"layer '{self.name}' expected ndim=3, got ndim={len(input_shape)}: "
                f"inputs must be (batch, time, features), got shape {input_shape}"
            )
        features = input_shape[-1]
        width = self.gates * self.units
        self.kernel = self.add_weight(
            "kernel",
            (features, width),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel",
            (self.units, width),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias",
                self.bias_shape(),
                initializer=self.bias_initializer_for_build(),
                regularizer=self.bias_regularizer,
            )
        self.input_spec = InputSpec(ndim=3, axes={-1: features})

    def bias_shape(self):
        """The bias variable's shape (GRU's ``reset_after`` has two rows)."""
        return (self.gates * self.units,)

    def bias_initializer_for_build(self):
        """The initializer the bias is built with (LSTM adds unit_forget_bias)."""
        return self.bias_initializer

    def input_bias(self):
        """The bias added to the input projection (None without a bias)."""
        return self.bias

    # -- computing ------------------------------------------------------------------

    def call(self, inputs, initial_state=None, mask=None):
        states = self._initial_states(inputs, initial_state)
        mask = _masks.step_mask(mask, inputs, f"layer '{self.name}'")
        if self.go_backwards:
            inputs = inputs[:, ::-1]
            mask = None if mask is None else mask[:, ::-1]
        batch, time, features = inputs.shape
        if time == 0:
            raise ValueError(
                f"layer '{self.name}' needs at least one time step, got inputs "
                f"of shape {inputs.shape}"
            )
        if mask is not None and mask.all():
            mask = None  # nothing to skip: the unmasked (fastest) path
        # One matmul for every step's input projection; a 2-D product is
        # markedly faster than numpy's batched one.
        z = linalg.matmul(shape.reshape(inputs, (batch * time, features)), self.kernel)
        sequence, states = self.run(shape.reshape(z, (batch, time, -1)), states, mask)
        output = sequence if self.return_sequences else states[0]
        if mask is not None and self.zero_output_for_mask:
            sequence = arithmetic.where(mask[..., None], sequence, 0.0)
            output = sequence if self.return_sequences else sequence[:, -1]
        return [output, *states] if self.return_state else output

    def compute_mask(self, inputs, mask=None):
        """The input mask for the sequence (reversed with ``go_backwards``, as
        the sequence is), None for a last output and for the states."""
        output_mask = None
        if self.return_sequences and mask is not None:
            output_mask = mask[:, ::-1] if self.go_backwards else mask
        if self.return_state:
            return [output_mask] + [None] * len(self.state_names)
        return output_mask

    def run(self, z, states, mask=None):
        """The time loop over ``z = x @ kernel`` (batch, time, gates * units):
        ``(sequence (batch, time, units), final states)``. ``mask`` (batch,
        time) booleans, or None: steps to read; skipped ones carry the states."""
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

    def step_weights(self):
        """Values every step reads, computed once per call (slices of weights)."""
        return self.recurrent_kernel

    def step(self, z, states, weights):
        raise NotImplementedError

    def _initial_states(self, inputs, initial_state):
        batch = inputs.shape[0]
        expected = (batch, self.units)
        count = len(self.state_names)
        if initial_state is None:
            zeros = np.zeros(expected, self.dtype)
            return [self._convert(zeros) for _ in range(count)]
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        states = [self._convert(s) for s in initial_state]
        shapes = [tuple(s.shape) for s in states]
        if len(states) != count or any(s != expected for s in shapes):
            names = ", ".join(self.state_names)
            raise ValueError(
                f"layer '{self.name}' expected initial_state as {count} tensor(s) "
                f"({names}) of shape {expected}, got shapes {shapes}"
            )
        return states

    # -- configuration --------------------------------------------------------------

    def compute_output_shape(self, input_shape, initial_state_shape=None):
        """``(batch, units)``, or ``(batch, time, units)`` with
        ``return_sequences``; with ``return_state`` a list, the final states'
        ``(batch, units)`` after the output.

        Examples:
            >>> lstm = nnlib.layers.LSTM(4, return_state=True)
            >>> lstm.compute_output_shape((None, 7, 3))
            [(None, 4), (None, 4), (None, 4)]
        """
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(
                f"layer '{self.name}' expected ndim=3, got ndim={len(input_shape)}: "
                f"inputs must be (batch, time, features), got shape {input_shape}"
            )
        batch, time = input_shape[:2]
        state = (batch, self.units)
        output = (batch, time, self.units) if self.return_sequences else state
        if not self.return_state:
            return output
        return [output] + [state] * len(self.state_names)

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
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
