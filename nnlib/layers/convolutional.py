"""Convolution layers: Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D (Keras's).

Kernels have Keras's layouts and names (``kernel``, ``bias``; ``depthwise_kernel``
for DepthwiseConv2D), so weights move between nnlib and Keras unchanged. Each
layer checks its hyperparameters when constructed and its input shape when built
(the shared part is the base class in ``_conv_base.py``), and computes with the
ops of ``nnlib.ops.convolution``.
"""

from ..ops import convolution as _conv
from ._conv_base import _Conv
from ._spatial import int_tuple
from .core import positive_int

__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D"]


class Conv2D(_Conv):
    """2-D convolution: ``activation(conv2d(inputs, kernel) + bias)``.

    Args:
        filters: The number of output channels.
        kernel_size: An int or ``(height, width)``.
        strides: An int or a pair; default 1.
        padding: ``"valid"`` (no padding) or ``"same"`` (output ``ceil(size /
            stride)``, as TensorFlow pads).
        data_format: ``"channels_last"`` (inputs ``(N, H, W, C)``) or
            ``"channels_first"`` (``(N, C, H, W)``).
        dilation_rate: An int or a pair: the spacing between kernel taps.
        activation: An activation name or callable; None is linear.
        use_bias: Whether to add a bias.
        kernel_initializer: For the kernel ``(KH, KW, C_in, filters)``; default
            ``"glorot_uniform"``.
        bias_initializer: For the bias ``(filters,)``; default ``"zeros"``.
        kernel_regularizer: Optional regularizer.
        bias_regularizer: Optional regularizer.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: Naming the layer, for a non-positive ``filters``,
            ``kernel_size``, ``strides`` or ``dilation_rate`` or an unknown
            ``padding`` or ``data_format``; when built, for an input of rank other
            than 4 or smaller than the kernel with ``"valid"`` padding.

    Examples:
        >>> layer = nnlib.layers.Conv2D(8, 3, padding="same", name="conv2d_doc")
        >>> layer(np.zeros((2, 5, 5, 3), np.float32)).shape
        (2, 5, 5, 8)
        >>> [(v.name, v.shape) for v in layer.variables]
        [('conv2d_doc/kernel', (3, 3, 3, 8)), ('conv2d_doc/bias', (8,))]
    """


class Conv1D(_Conv):
    """1-D convolution over ``(N, W, C)`` inputs (``(N, C, W)`` channels first).

    The arguments are ``Conv2D``'s with single ints; the kernel is ``(K, C_in,
    filters)``. ``padding`` may also be ``"causal"``: ``dilation_rate * (K - 1)``
    zeros on the left only, so that output ``t`` sees no input after ``t``
    (WaveNet's convolution).

    Raises:
        ValueError: As ``Conv2D`` (rank 3 inputs).

    Examples:
        >>> layer = nnlib.layers.Conv1D(4, 3, padding="causal")
        >>> layer(np.zeros((2, 10, 3), np.float32)).shape
        (2, 10, 4)
    """

    rank = 1
    _paddings = ("valid", "same", "causal")

    def _convolve(self, inputs, kernel):
        padding = self.padding
        if padding == "causal":
            padding = (self.dilation_rate[0] * (self.kernel_size[0] - 1), 0)
        return _conv.conv1d(
            inputs,
            kernel,
            strides=self.strides,
            padding=padding,
            dilation=self.dilation_rate,
            data_format=self.data_format,
        )


def _transposed_length(size, extent, stride, padding, output_padding):
    """Keras's ``deconv_output_length``: a transposed convolution's output size."""
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(extent - stride, 0)
        return size * stride
    pad = extent // 2 if padding == "same" else 0
    return (size - 1) * stride + extent - 2 * pad + output_padding


def _conv_length(size, extent, stride, padding):
    """The output size of the convolution that a transposed one inverts."""
    if padding == "same":
        return -(-size // stride)
    return (size - extent) // stride + 1 if size >= extent else 0


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution ("deconvolution"): the input gradient of a Conv2D.

    It maps a ``Conv2D`` output's shape back to its input's: with ``strides=2``
    it doubles the height and width (``"same"`` padding). The arguments are
    ``Conv2D``'s; the kernel is ``(KH, KW, filters, C_in)``, Keras's layout (the
    kernel of the ``Conv2D`` being transposed).

    Args:
        output_padding: None, or an int or pair, each below the stride: the
            output grows by it (it picks among the sizes a strided ``Conv2D``
            maps to the same input size). With None the output is ``size *
            stride + max(KH - stride, 0)`` (``"valid"``) or ``size * stride``
            (``"same"``), as in Keras.
        **kwargs: As ``Conv2D``.

    Raises:
        ValueError: As ``Conv2D``, or for an ``output_padding`` that is negative
            or not below the stride, or one that no ``Conv2D`` inverts.

    Examples:
        >>> layer = nnlib.layers.Conv2DTranspose(3, 3, strides=2, padding="same")
        >>> layer(np.zeros((1, 4, 4, 8), np.float32)).shape
        (1, 8, 8, 3)
        >>> layer.kernel.shape
        (3, 3, 3, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        **kwargs,
    ):
        super().__init__(filters, kernel_size, strides, padding, **kwargs)
        if output_padding is not None:
            cls = type(self).__name__
            output_padding = int_tuple(output_padding, 2, "output_padding", cls, 0)
            if any(p >= s for p, s in zip(output_padding, self.strides)):
                raise ValueError(
                    f"{cls}: output_padding {output_padding} must be smaller than "
                    f"the strides {self.strides}"
                )
        self.output_padding = output_padding

    def _kernel_shape(self, channels):
        return (*self.kernel_size, self.filters, channels)

    def _output_hw(self, spatial):
        pads = self.output_padding or (None, None)
        return tuple(
            None
            if size is None
            else _transposed_length(size, (k - 1) * d + 1, s, self.padding, p)
            for size, k, d, s, p in zip(
                spatial, self.kernel_size, self.dilation_rate, self.strides, pads
            )
        )

    def _output_spatial(self, spatial):
        return self._output_hw(spatial)

    def _check_input(self, input_shape, spatial):
        for size, out, k, d, s in zip(
            spatial,
            self._output_hw(spatial),
            self.kernel_size,
            self.dilation_rate,
            self.strides,
        ):
            extent = (k - 1) * d + 1
            if size is not None and _conv_length(out, extent, s, self.padding) != size:
                raise ValueError(
                    f"Conv2DTranspose layer '{self.name}': output_padding "
                    f"{self.output_padding} with kernel size {self.kernel_size}, "
                    f"strides {self.strides} and padding {self.padding!r} gives "
                    f"an output of size {out}, which no Conv2D maps back to the "
                    f"input's {size} (input shape {tuple(input_shape)})"
                )

    def _convolve(self, inputs, kernel):
        output_shape = None
        if self.output_padding is not None:
            axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
            output_shape = self._output_hw([inputs.shape[a] for a in axes])
        return _conv.conv2d_transpose(
            inputs,
            kernel,
            output_shape=output_shape,
            strides=self.strides,
            padding=self.padding,
            dilation=self.dilation_rate,
            data_format=self.data_format,
        )

    def get_config(self):
        return {**super().get_config(), "output_padding": self.output_padding}


class DepthwiseConv2D(_Conv):
    """Depthwise 2-D convolution: each input channel convolved with its own filters.

    The output has ``C_in * depth_multiplier`` channels, channel ``c *
    depth_multiplier + m`` coming from input channel ``c`` (TensorFlow's order).
    Weights, as Keras names them: ``depthwise_kernel`` ``(KH, KW, C_in,
    depth_multiplier)`` and ``bias`` ``(C_in * depth_multiplier,)``.

    Args:
        kernel_size: An int or ``(height, width)``.
        strides: An int or a pair; default 1.
        padding: ``"valid"`` or ``"same"``.
        depth_multiplier: Output channels per input channel.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: An int or a pair.
        activation: An activation name or callable; None is linear.
        use_bias: Whether to add a bias.
        depthwise_initializer: Default ``"glorot_uniform"``.
        bias_initializer: Default ``"zeros"``.
        depthwise_regularizer: Optional regularizer.
        bias_regularizer: Optional regularizer.
        **kwargs: ``name``, ``trainable``, ``dtype``, ``input_shape``.

    Raises:
        ValueError: As ``Conv2D`` (``depth_multiplier`` in place of ``filters``).

    Examples:
        >>> layer = nnlib.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw_doc")
        >>> layer(np.zeros((1, 6, 6, 4), np.float32)).shape
        (1, 4, 4, 8)
        >>> [v.name for v in layer.variables]
        ['dw_doc/depthwise_kernel', 'dw_doc/bias']
    """

    _kernel_name = "depthwise_kernel"

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format="channels_last",
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(
            None,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            **kwargs,
        )
        self.depth_multiplier = positive_int(
            depth_multiplier, "depth_multiplier", "DepthwiseConv2D"
        )

    @property
    def depthwise_initializer(self):
        return self.kernel_initializer

    @property
    def depthwise_regularizer(self):
        return self.kernel_regularizer

    def _kernel_shape(self, channels):
        return (*self.kernel_size, channels, self.depth_multiplier)

    def _output_channels(self, channels):
        return channels * self.depth_multiplier

    def _convolve(self, inputs, kernel):
        return _conv.depthwise_conv2d(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            dilation=self.dilation_rate,
            data_format=self.data_format,
        )

    def get_config(self):
        config = super().get_config()
        del config["filters"]
        config["depth_multiplier"] = self.depth_multiplier
        config["depthwise_initializer"] = config.pop("kernel_initializer")
        config["depthwise_regularizer"] = config.pop("kernel_regularizer")
        return config
