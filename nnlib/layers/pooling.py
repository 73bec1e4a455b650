"""Pooling layers (Keras's): max and average pooling over windows, and global pooling.

``MaxPooling1D/2D`` and ``AveragePooling1D/2D`` slide a window (``pool_size``,
moved by ``strides``, which default to ``pool_size``) over ``(N, W, C)`` or ``(N,
H, W, C)`` inputs (channels first with ``data_format="channels_first"``). The
global layers reduce every spatial axis; the 1-D ones leave masked steps out.
None has variables.
"""

import numpy as np

from .._args import boolean
from ..ops import arithmetic
from ..ops import pooling as _pool
from ..ops import reduction as _reduce
from . import _masks
from ._spatial import (
    FORMATS,
    check_fits,
    choice,
    int_tuple,
    output_shape,
    spatial_input,
    window_output_size,
)
from .base import Layer
from .input_spec import InputSpec

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "MaxPooling1D",
    "MaxPooling2D",
]


class _Pooling(Layer):
    """A window pooling layer; subclasses give ``_rank`` and ``_pool`` (the op)."""

    _rank = 2

    _cast_integers = True  # int64 data into a float model gives float outputs

    def __init__(
        self,
        pool_size=2,
        strides=None,
        padding="valid",
        data_format="channels_last",
        **kwargs,
    ):
        super().__init__(**kwargs)
        cls, n = type(self).__name__, self._rank
        self.pool_size = int_tuple(pool_size, n, "pool_size", cls)
        self.strides = (
            self.pool_size if strides is None else int_tuple(strides, n, "strides", cls)
        )
        self.padding = choice(padding, ("valid", "same"), "padding", cls)
        self.data_format = choice(data_format, FORMATS, "data_format", cls)

    def build(self, input_shape):
        _, spatial = spatial_input(self, input_shape, self._rank, self.data_format)
        check_fits(
            self, input_shape, spatial, self.pool_size, self.padding, "pool size"
        )
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs):
        return type(self)._pool(
            inputs, self.pool_size, self.strides, self.padding, self.data_format
        )

    def compute_output_shape(self, input_shape):
        """The pooled shape (the input's rank and size checked).

        Examples:
            >>> nnlib.layers.MaxPooling2D().compute_output_shape((None, 7, 8, 3))
            (None, 3, 4, 3)
        """
        channels, spatial = spatial_input(
            self, input_shape, self._rank, self.data_format
        )
        check_fits(
            self, input_shape, spatial, self.pool_size, self.padding, "pool size"
        )
        sizes = tuple(
            window_output_size(size, k, s, self.padding)
            for size, k, s in zip(spatial, self.pool_size, self.strides)
        )
        return output_shape(input_shape, sizes, channels, self.data_format)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling2D(_Pooling):
    """The maximum of each window of ``(N, H, W, C)`` inputs.

    The gradient goes to each window's maximum (the first one, in row-major
    order, where several tie); padded elements never win.

    Args:
        pool_size: An int or a pair: the window's size; default 2.
        strides: An int or a pair, or None for ``pool_size`` (windows side by
            side).
        padding: ``"valid"`` (windows inside the input) or ``"same"`` (output
            ``ceil(size / stride)``, as TensorFlow pads).
        data_format: ``"channels_last"`` (inputs ``(N, H, W, C)``) or
            ``"channels_first"`` (``(N, C, H, W)``).
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: Naming the layer, for non-positive sizes or an unknown
            ``padding`` or ``data_format``; when built, for an input of rank
            other than 4 (3 for the 1-D layers) or smaller than the window with
            ``"valid"`` padding.

    Examples:
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> nnlib.layers.MaxPooling2D()(x)[0, :, :, 0].numpy()
        array([[ 5.,  7.],
               [13., 15.]], dtype=float32)
    """

    _pool = staticmethod(_pool.max_pool)


class MaxPooling1D(_Pooling):
    """The maximum of each window of ``(N, W, C)`` inputs (``(N, C, W)`` first).

    Takes ``MaxPooling2D``'s arguments, with ints for the sizes.

    Examples:
        >>> x = np.array([[[1.], [3.], [2.], [0.]]], "float32")
        >>> nnlib.layers.MaxPooling1D(2, strides=1)(x)[0, :, 0].numpy()
        array([3., 3., 2.], dtype=float32)
    """

    _rank = 1
    _pool = staticmethod(_pool.max_pool)


class AveragePooling2D(_Pooling):
    """The mean of each window of ``(N, H, W, C)`` inputs.

    With ``"same"`` padding the padded elements are not counted (TensorFlow's
    rule): a border window averages only the elements it covers. Takes
    ``MaxPooling2D``'s arguments.

    Examples:
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> nnlib.layers.AveragePooling2D()(x)[0, :, :, 0].numpy()
        array([[ 2.5,  4.5],
               [10.5, 12.5]], dtype=float32)
    """

    _pool = staticmethod(_pool.avg_pool)


class AveragePooling1D(_Pooling):
    """The mean of each window of ``(N, W, C)`` inputs (``(N, C, W)`` first).

    Takes ``MaxPooling2D``'s arguments, with ints for the sizes; padding is not
    counted in the mean (see ``AveragePooling2D``).

    Examples:
        >>> x = np.array([[[1.], [3.], [2.]]], "float32")
        >>> nnlib.layers.AveragePooling1D(2, padding="same")(x)[0, :, 0].numpy()
        array([2., 2.], dtype=float32)
    """

    _rank = 1
    _pool = staticmethod(_pool.avg_pool)


class _GlobalPooling(Layer):
    """Reduces every spatial axis; subclasses give ``_rank`` and ``_reduce``."""

    _rank = 2

    _cast_integers = True  # int64 data into a float model gives float outputs

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.data_format = choice(data_format, FORMATS, "data_format", cls)
        self.keepdims = boolean(keepdims, "keepdims", cls)

    def build(self, input_shape):
        spatial_input(self, input_shape, self._rank, self.data_format)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def compute_output_shape(self, input_shape):
        """``(batch, channels)``, or with ``keepdims`` size-1 spatial axes.

        Examples:
            >>> layer = nnlib.layers.GlobalAveragePooling2D(keepdims=True)
            >>> layer.compute_output_shape((None, 7, 7, 3))
            (None, 1, 1, 3)
        """
        channels, spatial = spatial_input(
            self, input_shape, self._rank, self.data_format
        )
        if not self.keepdims:
            return (*tuple(input_shape)[:1], channels)
        return output_shape(
            input_shape, (1,) * len(spatial), channels, self.data_format
        )

    def call(self, inputs):
        first = 1 if self.data_format == "channels_last" else 2
        axes = tuple(range(first, first + self._rank))
        return type(self)._reduce(inputs, axis=axes, keepdims=self.keepdims)

    def get_config(self):
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "keepdims": self.keepdims,
        }


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over height and width: ``(N, H, W, C)`` to ``(N, C)``.

    Args:
        data_format: ``"channels_last"`` (inputs ``(N, H, W, C)``) or
            ``"channels_first"`` (``(N, C, H, W)``).
        keepdims: Keep the spatial axes, with size 1 (``(N, 1, 1, C)``).
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: For an unknown ``data_format``, or (when built) an input of
            rank other than 4; naming the layer.

    Examples:
        >>> x = np.arange(8, dtype="float32").reshape(1, 2, 2, 2)
        >>> nnlib.layers.GlobalAveragePooling2D()(x).numpy()
        array([[3., 4.]], dtype=float32)
    """

    _reduce = staticmethod(_reduce.reduce_mean)


class _GlobalPooling1D(_GlobalPooling):
    """A global 1-D pooling that reads a mask: masked steps are left out, and
    the output (one vector per sequence) carries no mask."""

    _rank = 1
    supports_masking = True

    def call(self, inputs, mask=None):
        axis = 1 if self.data_format == "channels_last" else 2
        mask = _masks.step_mask(mask, inputs, f"layer '{self.name}'", axis)
        if mask is None or mask.all():
            return type(self)._reduce(inputs, axis=axis, keepdims=self.keepdims)
        keep = mask[:, :, None] if axis == 1 else mask[:, None, :]
        return self._masked(inputs, keep, axis)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over the steps: ``(N, W, C)`` to ``(N, C)`` (see the 2-D layer).

    With a mask (from ``Embedding(mask_zero=True)`` or ``Masking``), the mean
    of the unmasked steps only, as in Keras; a sequence with every step
    masked gives zeros (Keras: NaN).

    Call arguments:
        inputs: ``(N, W, C)`` (``(N, C, W)`` channels first).
        mask: Optional ``(N, W)`` booleans, false at the steps to leave out
            (by default the mask the inputs carry).

    Examples:
        >>> nnlib.layers.GlobalAveragePooling1D(keepdims=True)(np.ones((2, 5, 3))).shape
        (2, 1, 3)
        >>> x = np.array([[[1.], [3.], [100.]]], np.float32)
        >>> nnlib.layers.GlobalAveragePooling1D()(x, mask=[[True, True, False]]).numpy()
        array([[2.]], dtype=float32)
    """

    _reduce = staticmethod(_reduce.reduce_mean)

    def _masked(self, inputs, keep, axis):
        total = _reduce.reduce_sum(
            arithmetic.where(keep, inputs, 0.0), axis=axis, keepdims=self.keepdims
        )
        count = keep.sum(axis=axis, keepdims=self.keepdims).astype(inputs.dtype)
        return total / np.maximum(count, 1)


class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over height and width: ``(N, H, W, C)`` to ``(N, C)``.

    Takes ``GlobalAveragePooling2D``'s arguments.

    Examples:
        >>> x = np.arange(8, dtype="float32").reshape(1, 2, 2, 2)
        >>> nnlib.layers.GlobalMaxPooling2D(data_format="channels_first")(x).numpy()
        array([[3., 7.]], dtype=float32)
    """

    _reduce = staticmethod(_reduce.reduce_max)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over the steps: ``(N, W, C)`` to ``(N, C)``.

    With a mask, the maximum over the unmasked steps (zeros for a sequence
    with every step masked). Keras 3 ignores the mask here (with a warning),
    so padding can win the maximum there.

    Call arguments:
        inputs: ``(N, W, C)`` (``(N, C, W)`` channels first).
        mask: Optional ``(N, W)`` booleans, false at the steps to leave out.

    Examples:
        >>> nnlib.layers.GlobalMaxPooling1D()(np.ones((2, 5, 3))).shape
        (2, 3)
        >>> x = np.array([[[1.], [3.], [100.]]], np.float32)
        >>> nnlib.layers.GlobalMaxPooling1D()(x, mask=[[True, True, False]]).numpy()
        array([[3.]], dtype=float32)
    """

    _reduce = staticmethod(_reduce.reduce_max)

    def _masked(self, inputs, keep, axis):
        lowest = np.finfo(inputs.dtype).min
        peak = _reduce.reduce_max(
            arithmetic.where(keep, inputs, lowest), axis=axis, keepdims=self.keepdims
        )
        return arithmetic.where(keep.any(axis=axis, keepdims=self.keepdims), peak, 0.0)
