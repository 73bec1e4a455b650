"""The base class the convolution layers share: config, weights, bias, activation.

``_Conv`` checks the hyperparameters when constructed and the input shape when
built, creates the kernel and bias, and computes ``conv2d``; each layer of
``nnlib.layers.convolutional`` overrides only its kernel's shape and name, its
output channels, its input check or its op.
"""

from .. import activations, initializers, regularizers
from .._args import boolean
from ..ops import convolution as _conv
from ..ops.shape import reshape
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
from .core import positive_int
from .input_spec import InputSpec


class _Conv(Layer):
    """What the convolution layers share: config, weights, bias and activation."""

    rank = 2
    _paddings = ("valid", "same")

    _cast_integers = True  # int64 data into a float model gives float outputs

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format="channels_last",
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        cls, n = type(self).__name__, self.rank
        # None for DepthwiseConv2D, whose output channels follow from the input's.
        self.filters = (
            None if filters is None else positive_int(filters, "filters", cls)
        )
        self.kernel_size = int_tuple(kernel_size, n, "kernel_size", cls)
        self.strides = int_tuple(strides, n, "strides", cls)
        self.padding = choice(padding, self._paddings, "padding", cls)
        self.data_format = choice(data_format, FORMATS, "data_format", cls)
        self.dilation_rate = int_tuple(dilation_rate, n, "dilation_rate", cls)
        self.activation = activations.get(activation)
        self.use_bias = boolean(use_bias, "use_bias", cls)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    _kernel_name = "kernel"

    def _kernel_shape(self, channels):
        return (*self.kernel_size, channels, self.filters)

    def _output_channels(self, channels):
        return self.filters

    def _check_input(self, input_shape, spatial):
        check_fits(
            self,
            input_shape,
            spatial,
            self.kernel_size,
            self.padding,
            "kernel size",
            self.dilation_rate,
        )

    def build(self, input_shape):
        channels, spatial = spatial_input(
            self, input_shape, self.rank, self.data_format
        )
        if channels is None:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}' needs a known channel "
                f"dimension, got input shape {tuple(input_shape)}"
            )
        self._check_input(input_shape, spatial)
        kernel = self.add_weight(
            self._kernel_name,
            self._kernel_shape(channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        setattr(self, self._kernel_name, kernel)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias",
                (self._output_channels(channels),),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        axis = -1 if self.data_format == "channels_last" else 1
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={axis: channels})

    def compute_output_shape(self, input_shape):
        """The convolution's output shape (the input's rank and channels checked).

        Examples:
            >>> conv = nnlib.layers.Conv2D(8, 3, strides=2)
            >>> conv.compute_output_shape((None, 28, None, 3))
            (None, 13, None, 8)
        """
        channels, spatial = spatial_input(
            self, input_shape, self.rank, self.data_format
        )
        self._check_input(input_shape, spatial)
        out_channels = None if channels is None else self._output_channels(channels)
        return output_shape(
            input_shape, self._output_spatial(spatial), out_channels, self.data_format
        )

    def _output_spatial(self, spatial):
        return tuple(
            window_output_size(size, (k - 1) * d + 1, s, self.padding)
            for size, k, d, s in zip(
                spatial, self.kernel_size, self.dilation_rate, self.strides
            )
        )

    def call(self, inputs):
        outputs = self._convolve(inputs, getattr(self, self._kernel_name))
        if self.bias is not None:
            bias = self.bias
            if self.data_format == "channels_first":
                bias = reshape(bias, (bias.shape[0],) + (1,) * self.rank)
            outputs = outputs + bias
        return self.activation(outputs) if self.activation is not None else outputs

    def _convolve(self, inputs, kernel):
        return _conv.conv2d(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            dilation=self.dilation_rate,
            data_format=self.data_format,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }
