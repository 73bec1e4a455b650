"""``Masking``: marks the time steps whose features all equal a padding value."""

import numbers

from ..ops import arithmetic, scan
from ..ops import shape as _shape
from .base import Layer

__all__ = ["Masking"]


class Masking(Layer):
    """Masks every time step whose features all equal ``mask_value`` (Keras's).

    The output is the input with masked steps set to zero, and carries the
    mask ``any(inputs != mask_value, axis=-1)`` (batch, time): recurrent layers
    after it skip the masked steps, pooling leaves them out, and ``fit`` does
    not count them in the loss. A mask the input already carries is replaced,
    as in Keras.

    Args:
        mask_value: The padding value (a number).
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        TypeError: If ``mask_value`` is not a number.

    Examples:
        >>> x = np.array([[[1., 2.], [0., 0.], [3., 0.]]], np.float32)
        >>> y = nnlib.layers.Masking(mask_value=0.0)(x)
        >>> y._keras_mask.numpy()
        array([[ True, False,  True]])
        >>> out = nnlib.layers.LSTM(4)(y)  # reads steps 0 and 2 only
        >>> out.shape
        (1, 4)
    """

    supports_masking = True
    _cast_integers = True  # int64 data into a float model gives float outputs

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise TypeError(f"Masking: mask_value must be a number, got {mask_value!r}")
        self.mask_value = float(mask_value)

    def _keep(self, inputs, keepdims):
        return scan.reduce_any(
            arithmetic.not_equal(inputs, self.mask_value), axis=-1, keepdims=keepdims
        )

    def call(self, inputs):
        keep = self._keep(inputs, keepdims=True)
        outputs = inputs * _shape.cast(keep, inputs.dtype)
        outputs._keras_mask = _shape.reshape(keep, keep.shape[:-1])
        return outputs

    def compute_mask(self, inputs, mask=None):
        """``any(inputs != mask_value, axis=-1)``: True at the steps to keep."""
        return self._keep(inputs, keepdims=False)

    def compute_output_shape(self, input_shape):
        """The input's shape."""
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
