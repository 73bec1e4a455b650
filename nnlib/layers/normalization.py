"""Normalization layers: BatchNormalization and LayerNormalization (Keras's)."""

import numpy as np

from .. import initializers, regularizers
from .._args import boolean
from ..engine import effects as _effects
from ..ops import normalization as _norm
from ..ops import reduction as _reduce
from ..ops import shape as _shape
from ..ops.math import square
from .base import Layer
from .input_spec import InputSpec

__all__ = ["BatchNormalization", "LayerNormalization"]


def _number(value, what, layer, low=0.0, high=np.inf):
    """``value`` as a float in ``[low, high]``: TypeError for a non-number,
    ValueError out of range (nan included), naming the layer class."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{layer}: {what} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{layer}: {what} must be in [{low}, {high}], got {value!r}")
    return float(value)


def _axis_int(value, layer):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{layer}: axis must be an integer, got {value!r}")
    return int(value)


def _resolve_axes(layer, axes, ndim):
    """``axes`` as sorted non-negative ints for inputs of rank ``ndim``."""
    resolved = sorted({a % ndim for a in axes if -ndim <= a < ndim})
    if len(resolved) != len(axes):
        raise ValueError(
            f"layer '{layer.name}': axis {layer.axis} is out of range or repeated "
            f"for inputs of rank {ndim}"
        )
    return tuple(resolved)


class _AffineNormalization(Layer):
    """What both normalizations share: ``epsilon`` and the optional learned
    scale (``gamma``) and offset (``beta``) applied after normalizing."""

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
        self.epsilon = _number(epsilon, "epsilon", type(self).__name__)
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


class BatchNormalization(_AffineNormalization):
    """Normalizes each channel with batch statistics while training (Keras's layer).

    Training (``training=True``): every channel on ``axis`` is normalized with the
    mean and (biased) variance of the batch over all other axes, then scaled by
    ``gamma`` and shifted by ``beta``; the moving statistics are updated,
    ``moving = moving * momentum + batch * (1 - momentum)``, outside any tape.
    Inference (``training`` false or unset): the moving statistics are used.
    With a mask (an input mask of the inputs' shape without the channel axis,
    such as (batch, time)), the batch statistics count the unmasked positions
    only, as Keras 3 computes them (``sum(mask * x) / (sum(mask) + 1e-7)``);
    every position is normalized, and the mask passes through.

    Like Keras 3 the moving variance averages the biased batch variance (no
    Bessel correction; PyTorch's ``running_var`` averages the unbiased one, and
    its ``momentum`` is ``1 - momentum`` here). Like Keras 3, a layer with
    ``trainable=False`` (or inside a frozen network) always runs in inference
    mode: it uses the moving statistics and leaves them unchanged, which is what
    fine-tuning a pretrained network needs.

    Weights, in Keras's order: ``gamma``, ``beta`` (trainable; absent when
    ``scale`` or ``center`` is False), ``moving_mean``, ``moving_variance``
    (never trainable), each of shape ``(channels,)``.

    Args:
        axis: The channel axis (-1 for channels last, 1 for channels first).
        momentum: Weight of the old value in the moving averages, in ``[0, 1]``.
        epsilon: Small float added to the variance.
        center: Whether to add ``beta``.
        scale: Whether to multiply by ``gamma``.
        beta_initializer: Default ``"zeros"``.
        gamma_initializer: Default ``"ones"``.
        moving_mean_initializer: Default ``"zeros"``.
        moving_variance_initializer: Default ``"ones"``.
        beta_regularizer: Optional regularizer.
        gamma_regularizer: Optional regularizer.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        TypeError: For an ``axis``, ``momentum`` or ``epsilon`` of the wrong type.
        ValueError: For ``momentum`` outside ``[0, 1]`` or a negative ``epsilon``
            (at construction), or inputs whose rank or channel count do not fit
            (at the call, naming the layer).

    Examples:
        >>> bn = nnlib.layers.BatchNormalization(momentum=0.9, name="bn_doc")
        >>> x = np.array([[1., 10.], [3., 30.]], np.float32)
        >>> bn(x, training=True).numpy().round(2)
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
        >>> bn.moving_mean.numpy().round(3)  # 0.9 * 0 + 0.1 * batch mean
        array([0.2, 2. ], dtype=float32)
        >>> bn(x).numpy().round(2)  # inference: the moving statistics
        array([[0.8 , 2.42],
               [2.8 , 8.48]], dtype=float32)
        >>> [v.name for v in bn.trainable_variables]
        ['bn_doc/gamma', 'bn_doc/beta']
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
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
        self.axis = _axis_int(axis, "BatchNormalization")
        self.momentum = _number(momentum, "momentum", "BatchNormalization", 0, 1)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        ndim = len(input_shape)
        if ndim < 2:
            raise ValueError(
                f"layer '{self.name}' needs inputs of rank at least 2 (a batch "
                f"axis and a channel axis), got input shape {input_shape}"
            )
        (axis,) = _resolve_axes(self, (self.axis,), ndim)
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(
                f"layer '{self.name}' needs a known channel dimension (axis "
                f"{self.axis}), got input shape {input_shape}"
            )
        shape = (channels,)
        self._add_gamma_and_beta(shape)
        self.moving_mean = self.add_weight(
            "moving_mean",
            shape,
            initializer=self.moving_mean_initializer,
            trainable=False,
        )
        self.moving_variance = self.add_weight(
            "moving_variance",
            shape,
            initializer=self.moving_variance_initializer,
            trainable=False,
        )
        self._reduction_axes = tuple(i for i in range(ndim) if i != axis)
        # Statistics broadcast against channels-first inputs as (C, 1, 1).
        self._stat_shape = None
        if axis != ndim - 1:
            self._stat_shape = (channels,) + (1,) * (ndim - 1 - axis)
        self.input_spec = InputSpec(ndim=ndim, axes={axis: channels})

    def call(self, inputs, training=None, mask=None):
        if training and self.trainable:
            if mask is None:
                outputs, mean, variance = _norm.fused_batch_norm(
                    inputs, self.gamma, self.beta, self._reduction_axes, self.epsilon
                )
            else:
                outputs, mean, variance = self._masked_batch_norm(inputs, mask)
            # The moving averages are state, updated on arrays (no tape records
            # them); announced as one write, so a traced step redoes it with
            # each batch's statistics.
            with _effects.effect(
                "moving_averages", self._update_moving_averages, (mean, variance)
            ):
                self._update_moving_averages(mean._value, variance._value)
            return outputs
        params = [self.moving_mean, self.moving_variance, self.beta, self.gamma]
        if self._stat_shape is not None:
            params = [
                None if p is None else _shape.reshape(p, self._stat_shape)
                for p in params
            ]
        return _norm.batch_normalization(inputs, *params, self.epsilon)

    def _update_moving_averages(self, mean, variance):
        """Moves the moving statistics toward a batch's (numpy arrays)."""
        momentum = self.momentum
        for moving, batch in (
            (self.moving_mean, mean),
            (self.moving_variance, variance),
        ):
            moving.assign(moving._value * momentum + batch * (1 - momentum))

    def _masked_batch_norm(self, inputs, mask):
        """Keras 3's masked moments, then the normalization with them."""
        axes = self._reduction_axes
        (channel,) = set(range(inputs.ndim)) - set(axes)
        weights = np.asarray(mask)
        if weights.shape != inputs.shape[:channel] + inputs.shape[channel + 1 :]:
            raise ValueError(
                f"layer '{self.name}' expected a mask of the inputs' shape without "
                f"the channel axis {channel}, got {weights.shape} for inputs of "
                f"shape {inputs.shape}"
            )
        weights = np.expand_dims(weights, channel).astype(inputs.dtype)
        count = weights.sum(axis=axes, keepdims=True) + 1e-7  # Keras's epsilon
        mean = _reduce.reduce_sum(inputs * weights, axis=axes, keepdims=True) / count
        variance = (
            _reduce.reduce_sum(
                square(inputs - mean) * weights, axis=axes, keepdims=True
            )
            / count
        )
        gamma, beta = self.gamma, self.beta
        if self._stat_shape is not None:
            gamma, beta = [
                None if p is None else _shape.reshape(p, self._stat_shape)
                for p in (gamma, beta)
            ]
        outputs = _norm.batch_normalization(
            inputs, mean, variance, beta, gamma, self.epsilon
        )
        return outputs, _shape.reshape(mean, (-1,)), _shape.reshape(variance, (-1,))

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "moving_mean_initializer": initializers.serialize(
                self.moving_mean_initializer
            ),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer
            ),
        }


class LayerNormalization(_AffineNormalization):
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
            self.axis = [_axis_int(a, "LayerNormalization") for a in axis]
        else:
            self.axis = _axis_int(axis, "LayerNormalization")

    def build(self, input_shape):
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        self._ndim = len(input_shape)
        self._axes = _resolve_axes(self, given, self._ndim)
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
