"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, Lambda."""

import math
import numbers

import numpy as np

from .. import activations, initializers, regularizers
from .._args import boolean
from ..ops import linalg, nn, shape
from .base import Layer
from .input_spec import InputSpec

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Lambda", "Permute", "Reshape"]


def positive_int(value, what, layer):
    """``value`` as a positive int, or a ValueError naming the layer class."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value <= 0
    ):
        raise ValueError(f"{layer}: {what} must be a positive integer, got {value!r}")
    return int(value)


def fraction(value, what, layer):
    """``value`` as a float in ``[0, 1)`` (a dropout rate), naming the layer class.

    Raises:
        TypeError: If ``value`` is not a real number (a string, None, a bool).
        ValueError: If it is outside ``[0, 1)`` or NaN.

    Examples:
        >>> fraction("x", "rate", "Dropout")
        Traceback (most recent call last):
        ...
        TypeError: Dropout: rate must be a number in [0, 1), got 'x' (str)
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{layer}: {what} must be a number in [0, 1), got {value!r} "
            f"({type(value).__name__})"
        )
    if not (math.isfinite(value) and 0 <= value < 1):
        raise ValueError(f"{layer}: {what} must be in [0, 1), got {value!r}")
    return float(value)


class Dense(Layer):
    """A fully connected layer: ``activation(inputs @ kernel + bias)``.

    The kernel has shape ``(input_dim, units)`` (Keras's layout); inputs of rank
    above 2 are multiplied on their last axis.

    Args:
        units: The output size.
        activation: An activation name (``"relu"``) or callable; None is linear.
        use_bias: Whether to add a bias.
        kernel_initializer: Default ``"glorot_uniform"``.
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer: Optional regularizer (``"l2"`` or an object).
        bias_regularizer: Optional regularizer.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: If ``units`` is not a positive integer.
        TypeError: If ``use_bias`` is not True or False (``"no"`` is truthy).

    Examples:
        >>> layer = nnlib.layers.Dense(3, activation="relu", name="dense_doc")
        >>> layer(np.ones((2, 4), np.float32)).shape
        (2, 3)
        >>> [v.name for v in layer.variables]
        ['dense_doc/kernel', 'dense_doc/bias']
    """

    _cast_integers = True  # int64 data into a float model gives float outputs
    supports_masking = True  # position by position: masks pass through

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = positive_int(units, "units", "Dense")
        self.activation = activations.get(activation)
        self.use_bias = boolean(use_bias, "use_bias", "Dense")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape):
        # Before any variable: a rank-1 input would build the kernel on the batch.
        if len(input_shape) < 2:
            raise ValueError(
                f"layer '{self.name}' expected inputs of rank at least 2 (batch, "
                f"features), got shape {tuple(input_shape)}: the batch axis is "
                "missing (did you mean x[None]?)"
            )
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"layer '{self.name}' needs a known last dimension, "
                f"got input shape {input_shape}"
            )
        self.kernel = self.add_weight(
            "kernel",
            (input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias",
                (self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        outputs = linalg.matmul(inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        """``input_shape`` with its last axis replaced by ``units``.

        Examples:
            >>> nnlib.layers.Dense(4).compute_output_shape((None, 7, 3))
            (None, 7, 4)
        """
        input_shape = tuple(input_shape)
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"layer '{self.name}' expected inputs of rank at least 2 with a "
                f"known last dimension (batch, features), got shape {input_shape}"
            )
        return input_shape[:-1] + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }


class Activation(Layer):
    """Applies an activation function (by name or callable).

    Examples:
        >>> nnlib.layers.Activation("relu")(np.array([[-1., 2.]])).numpy()
        array([[0., 2.]], dtype=float32)
    """

    _cast_integers = True  # int64 data into a float model gives float outputs
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs) if self.activation is not None else inputs

    def compute_output_shape(self, input_shape):
        """The input's shape."""
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "activation": activations.serialize(self.activation),
        }


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of inputs while training, scaling the rest.

    An identity at inference (``training`` false or unset), as in Keras. The mask
    comes from ``nnlib.random`` (or from ``seed``), so runs are reproducible.

    Args:
        rate: Fraction to drop, in ``[0, 1)``.
        noise_shape: Optional mask shape broadcast against the inputs.
        seed: Optional seed for this layer's masks.

    Raises:
        TypeError: If ``rate`` is not a number.
        ValueError: If ``rate`` is outside ``[0, 1)``.

    Examples:
        >>> drop = nnlib.layers.Dropout(0.5)
        >>> x = np.ones((2, 4), np.float32)
        >>> np.array_equal(drop(x).numpy(), x)          # inference: identity
        True
        >>> sorted(set(drop(x, training=True).numpy().ravel().tolist()))
        [0.0, 2.0]
    """

    _cast_integers = True  # int64 data into a float model gives float outputs
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = fraction(rate, "rate", "Dropout")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        noise_shape = None
        if self.noise_shape is not None:
            noise_shape = tuple(
                d if n is None else n for n, d in zip(self.noise_shape, inputs.shape)
            )
        seed = None if self._rng is None else int(self._rng.integers(2**31))
        return nn.dropout(
            inputs, self.rate, training=True, noise_shape=noise_shape, seed=seed
        )

    def compute_output_shape(self, input_shape):
        """The input's shape."""
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": self.noise_shape,
            "seed": self.seed,
        }


class Flatten(Layer):
    """Flattens every axis but the batch axis.

    Examples:
        >>> nnlib.layers.Flatten()(np.zeros((2, 3, 4))).shape
        (2, 12)
    """

    def call(self, inputs):
        return shape.reshape(inputs, (inputs.shape[0], -1) if inputs.ndim else (1,))

    def compute_output_shape(self, input_shape):
        """``(batch, product of the other sizes)``; unknown if one of them is.

        Examples:
            >>> nnlib.layers.Flatten().compute_output_shape((None, 3, 4))
            (None, 12)
        """
        input_shape = tuple(input_shape)
        if not input_shape:
            return (1,)
        rest = input_shape[1:]
        size = None if None in rest else math.prod(rest)
        return (input_shape[0], size)


class Reshape(Layer):
    """Reshapes each example to ``target_shape`` (the batch axis is kept).

    Args:
        target_shape: The shape of one example; one entry may be -1.

    Examples:
        >>> nnlib.layers.Reshape((3, 2))(np.zeros((4, 6))).shape
        (4, 3, 2)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, inputs):
        return shape.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        """``(batch,) + target_shape``, its -1 worked out where the sizes are known.

        Raises:
            ValueError: If the known sizes cannot be reshaped to
                ``target_shape``, naming the layer and both shapes.

        Examples:
            >>> nnlib.layers.Reshape((-1, 2)).compute_output_shape((None, 6))
            (None, 3, 2)
        """
        input_shape = tuple(input_shape)
        rest, target = input_shape[1:], self.target_shape
        if None in rest:
            return input_shape[:1] + tuple(None if d == -1 else d for d in target)
        size, known = math.prod(rest), math.prod(d for d in target if d != -1)
        fits = size % known == 0 if -1 in target else size == known
        if not fits or target.count(-1) > 1:
            raise ValueError(
                f"layer '{self.name}' cannot reshape inputs of shape {input_shape} "
                f"to (batch,) + {target}: {size} values per example"
            )
        filled = tuple(size // known if d == -1 else d for d in target)
        return input_shape[:1] + filled

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the axes of each example; ``dims`` count from 1 (Keras).

    Examples:
        >>> nnlib.layers.Permute((2, 1))(np.zeros((4, 3, 5))).shape
        (4, 5, 3)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(int(d) for d in dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                f"Permute: dims must be a permutation of 1..{len(dims)}, got {dims}"
            )
        self.dims = dims

    def call(self, inputs):
        return shape.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        """The input's axes in the order ``dims`` gives.

        Examples:
            >>> nnlib.layers.Permute((2, 1)).compute_output_shape((None, 3, 5))
            (None, 5, 3)
        """
        input_shape = tuple(input_shape)
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(
                f"layer '{self.name}' permutes {len(self.dims)} axes (dims="
                f"{self.dims}) but got inputs of shape {input_shape}"
            )
        return input_shape[:1] + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class Lambda(Layer):
    """Wraps a function of the inputs as a layer (no variables).

    Its config cannot be saved by name: rebuild it from code.

    Examples:
        >>> nnlib.layers.Lambda(lambda x: x * 2)(np.ones(2)).numpy()
        array([2., 2.], dtype=float32)
    """

    def __init__(self, function, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda expects a callable, got {type(function).__name__}")
        self.function = function

    def call(self, inputs):
        return self.function(inputs)

    def get_config(self):
        raise ValueError(
            f"Lambda layer '{self.name}' wraps a Python function, which "
            "cannot be written to a config; rebuild it in code"
        )
