"""BatchNormalization (Keras's): batch statistics in training, moving averages
at inference, masks respected."""

import numpy as np

from .. import initializers
from ..engine import effects as _effects
from ..ops import normalization as _norm
from ..ops import reduction as _reduce
from ..ops import shape as _shape
from ..ops.math import square
from .input_spec import InputSpec
from .normalization import (
    AffineNormalization,
    checked_axis,
    checked_number,
    resolved_axes,
)

__all__ = ["BatchNormalization"]


class BatchNormalization(AffineNormalization):
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
        self.axis = checked_axis(axis, "BatchNormalization")
        self.momentum = checked_number(momentum, "momentum", "BatchNormalization", 0, 1)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        ndim = len(input_shape)
        if ndim < 2:
            raise ValueError(
                f"layer '{self.name}' needs inputs of rank at least 2 (a batch "
                f"axis and a channel axis), got input shape {input_shape}"
            )
        (axis,) = resolved_axes(self, (self.axis,), ndim)
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
