"""LayerNormalization, and what every normalization layer shares.

``AffineNormalization`` holds ``epsilon`` and the learned scale and offset;
``checked_number``, ``checked_axis`` and ``resolved_axes`` check the arguments.
``BatchNormalization`` (``batch_normalization.py``) builds on them too.
"""

import numpy as np

from .. import initializers, regularizers
from .._args import boolean
from ..ops import normalization as _norm
from .base import Layer
from .input_spec import InputSpec

__all__ = [
    "AffineNormalization",
    "LayerNormalization",
    "checked_axis",
    "checked_number",
    "resolved_axes",
]


def checked_number(value, what, layer, low=0.0, high=np.inf):
    """``value`` as a float in ``[low, high]``: TypeError for a non-number,
    ValueError out of range (nan included), naming the layer class."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{layer}: {what} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{layer}: {what} must be in [{low}, {high}], got {value!r}")
    return float(value)


def checked_axis(value, layer):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{layer}: axis must be an integer, got {value!r}")
    return int(value)


def resolved_axes(layer, axes, ndim):
    """``axes`` as sorted non-negative ints for inputs of rank ``ndim``."""
    resolved = sorted({a % ndim for a in axes if -ndim <= a < ndim})
    if len(resolved) != len(axes):
        raise ValueError(
            f"layer '{layer.name}': axis {layer.axis} is out of range or repeated "
            f"for inputs of rank {ndim}"
        )
    return tuple(resolved)


class AffineNormalization(Layer):
    """What both normalizations share: ``epsilon`` and the optional learned
    scale (``gamma``) and offset (``beta``) applied after normalizing.

    Examples:
        >>> issubclass(nnlib.layers.BatchNormalization, AffineNormalization)
        True
    """

    _cast_integers = True  # int64 data into a float model gives float outputs
    supports_masking = True  # masks pass through unchanged

    def __init__(
        self,
        epsilon,
        center,
        scale,
        beta_initializer,
        gamma_initializer,
        beta_regularizer,
        gamma_regularizer,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.epsilon = checked_number(epsilon, "epsilon", type(self).__name__)
        owner = type(self).__name__
        self.center = boolean(center, "center", owner)
        self.scale = boolean(scale, "scale", owner)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def _add_gamma_and_beta(self, shape):
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                "gamma",
                shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
            )
        if self.center:
            self.beta = self.add_weight(
                "beta",
                shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
            )

    def compute_output_shape(self, input_shape):
        """The input's shape (normalizing keeps it)."""
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
        }


class LayerNormalization(AffineNormalization):
    """Normalizes each example over ``axis``, then scales and shifts (Keras's layer).

    ``(x - mean) / sqrt(var + epsilon) * gamma + beta``, with ``mean`` and ``var``
    (biased) taken over ``axis`` separately for every other index. The same in
    training and inference; no moving statistics.

    Weights: ``gamma`` and ``beta`` of shape ``[input_shape[a] for a in axis]``
    (axes in increasing order), in Keras's order.

    Args:
        axis: An int or a list/tuple of ints: the axes to normalize over.
        epsilon: Small float added to the variance.
        center: Whether to add ``beta``.
        scale: Whether to multiply by ``gamma``.
        beta_initializer: Default ``"zeros"``.
        gamma_initializer: Default ``"ones"``.
        beta_regularizer: Optional regularizer.
        gamma_regularizer: Optional regularizer.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        TypeError: For an ``axis`` or ``epsilon`` of the wrong type.
        ValueError: For an empty ``axis`` or a negative ``epsilon`` (at
            construction), or an axis out of range for the inputs (at the first
            call, naming the layer).

    Examples:
        >>> ln = nnlib.layers.LayerNormalization(epsilon=0.0, name="ln_doc")
        >>> ln(np.array([[1., 3.], [2., 8.]], np.float32)).numpy()
        array([[-1.,  1.],
               [-1.,  1.]], dtype=float32)
        >>> [v.name for v in ln.variables]
        ['ln_doc/gamma', 'ln_doc/beta']
    """

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        **kwargs,
    ):
        super().__init__(
            epsilon,
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            **kwargs,
        )
        if isinstance(axis, (list, tuple)):
            if not axis:
                raise ValueError("LayerNormalization: axis must not be empty")
            self.axis = [checked_axis(a, "LayerNormalization") for a in axis]
        else:
            self.axis = checked_axis(axis, "LayerNormalization")

    def build(self, input_shape):
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        self._ndim = len(input_shape)
        self._axes = resolved_axes(self, given, self._ndim)
        shape = tuple(input_shape[a] for a in self._axes)
        if None in shape:
            raise ValueError(
                f"layer '{self.name}' needs known dimensions on axis {self.axis}, "
                f"got input shape {input_shape}"
            )
        self._add_gamma_and_beta(shape)
        # Axes counted from the end (the usual -1) fit inputs of any rank, as in
        # Keras; axes counted from the front fix the rank.
        fixed = any(a >= 0 for a in given)
        self.input_spec = InputSpec(
            ndim=self._ndim if fixed else None,
            min_ndim=None if fixed else max(-a for a in given),
            axes=dict(zip(self._axes if fixed else sorted(given), shape)),
        )

    def call(self, inputs):
        axes = self._axes
        if inputs.ndim != self._ndim:
            axes = tuple(a % inputs.ndim for a in self._axes_from_end())
        return _norm.layer_normalization(
            inputs, self.gamma, self.beta, axis=axes, epsilon=self.epsilon
        )

    def _axes_from_end(self):
        return [a - self._ndim for a in self._axes]

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
        }
