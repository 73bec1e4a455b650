"""Convolutions: conv1d, conv2d, conv2d_transpose and depthwise_conv2d.

Kernels use Keras layouts (``(KH, KW, C_in, C_out)``). Every op checks its
arguments, brings the input to channels-last 4-D and reduces to the three private
bilinear primitives of ``_conv_primitives.py``: the convolution, its adjoint in the
input (the input gradient, which is also the transposed convolution) and its
adjoint in the kernel (the kernel gradient), whose gradients of any order come out
of the same three numpy kernels (``_windows.py``: im2col and matrix products, no
loop over pixels).
"""

import numpy as np

from . import _conv_primitives as _prim
from . import _windows as _win
from ._dispatch import as_tensor
from .registry import Sample, register
from .shape import cast, reshape, transpose

__all__ = ["conv1d", "conv2d", "conv2d_transpose", "depthwise_conv2d"]

_FORMATS = ("channels_last", "channels_first")


def _operands(x, kernel):
    """Both as Tensors of one floating dtype (a recorded cast where one differs)."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    dtype = np.result_type(x.dtype, kernel.dtype)
    if dtype.kind != "f":
        dtype = np.dtype(np.float64 if dtype.kind in "iub" else dtype)
    if x.dtype != dtype:
        x = cast(x, dtype)
    if kernel.dtype != dtype:
        kernel = cast(kernel, dtype)
    return x, kernel


def to_nhwc(op, x, spatial, data_format):
    """``x`` (channels first or last, 1 or 2 spatial axes) as a 4-D NHWC tensor,
    and the function that turns an NHWC result back into ``x``'s layout."""
    if data_format not in _FORMATS:
        raise ValueError(
            f"{op}: data_format must be 'channels_last' or 'channels_first', "
            f"got {data_format!r}"
        )
    first = data_format == "channels_first"
    if first:
        x = transpose(x, (0, *range(2, x.ndim), 1))
    if spatial == 1:
        x = reshape(x, (x.shape[0], 1, *x.shape[1:]))

    def restore(y):
        if spatial == 1:
            y = reshape(y, (y.shape[0], *y.shape[2:]))
        return transpose(y, (0, y.ndim - 1, *range(1, y.ndim - 1))) if first else y

    return x, restore


def _shapes(x, kernel):
    return f"x shape {x.shape}, kernel shape {kernel.shape}"


def _convolve(op, x, kernel, strides, padding, dilation, data_format, spatial):
    """conv1d, conv2d and depthwise_conv2d: checks, layout, then ``_prim.conv``."""
    x, kernel = _operands(x, kernel)
    depthwise = op == "depthwise_conv2d"
    axes = ("(K, C_in, C_out)", "(KH, KW, C_in, C_out)")[spatial - 1]
    axes = "(KH, KW, C_in, depth_multiplier)" if depthwise else axes
    _win.check_rank(op, x, spatial)
    _win.check_rank(op, kernel, spatial, "kernel", axes)
    x4, restore = to_nhwc(op, x, spatial, data_format)
    if x4.shape[3] != kernel.shape[-2]:
        raise ValueError(
            f"{op}: x has {x4.shape[3]} input channels but the kernel expects "
            f"{kernel.shape[-2]} ({_shapes(x, kernel)}, data_format {data_format!r})"
        )
    k4 = reshape(kernel, (1, *kernel.shape)) if spatial == 1 else kernel
    shapes = _shapes(x, kernel)
    args = _win.window_args(op, spatial, strides, padding, dilation, shapes)
    win = _win.window_of(op, x4.shape[1:3], k4.shape[:2], args, shapes)
    return restore(_prim.conv(x4, k4, _prim.Spec(win, depthwise)))


@register(
    Sample(shapes=[(2, 5, 2), (3, 2, 2)]),
    Sample(shapes=[(2, 5, 1), (2, 1, 3)], kwargs={"strides": 2, "padding": "same"}),
    Sample(shapes=[(1, 6, 2), (2, 2, 2)], kwargs={"dilation": 2, "padding": (1, 2)}),
    Sample(shapes=[(2, 2, 5), (3, 2, 1)], kwargs={"data_format": "channels_first"}),
    second_order=True,
)
def conv1d(
    x, kernel, strides=1, padding="valid", dilation=1, data_format="channels_last"
):
    """1-D convolution (cross-correlation, as in every deep-learning library).

    Args:
        x: A float tensor of shape ``(N, W, C_in)``, or ``(N, C_in, W)`` with
            ``data_format="channels_first"``.
        kernel: A tensor of shape ``(K, C_in, C_out)`` (Keras' ``Conv1D`` layout).
        strides: A positive int (or a 1-tuple).
        padding: ``"valid"`` (no padding), ``"same"`` (output ``ceil(W / strides)``,
            the odd padding element on the right, as TensorFlow) or an explicit
            ``(left, right)`` pair.
        dilation: A positive int: the spacing between kernel taps.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A Tensor of shape ``(N, W_out, C_out)`` (or ``(N, C_out, W_out)``).

    Raises:
        ValueError: Naming the shapes, for a wrong rank, a channel count the kernel
            does not expect, a kernel wider than the padded input, a bad padding,
            or non-positive strides or dilation.

    Examples:
        >>> x = nnlib.constant([[[1.], [2.], [3.], [4.]]])
        >>> nnlib.conv1d(x, [[[1.]], [[-1.]]])[0, :, 0]
        nnlib.Tensor([-1. -1. -1.], shape=(3,), dtype=float32)
    """
    return _convolve("conv1d", x, kernel, strides, padding, dilation, data_format, 1)


@register(
    Sample(shapes=[(1, 3, 4, 2), (2, 2, 2, 3)]),
    Sample(
        shapes=[(2, 3, 3, 1), (2, 2, 1, 2)], kwargs={"strides": 2, "padding": "same"}
    ),
    Sample(shapes=[(1, 4, 5, 1), (2, 2, 1, 2)], kwargs={"dilation": 2}),
    Sample(
        shapes=[(1, 2, 3, 3), (2, 2, 2, 2)],
        kwargs={"data_format": "channels_first", "padding": ((1, 0), (0, 1))},
    ),
    Sample(shapes=[(1, 4, 4, 1), (3, 2, 1, 2)], kwargs={"strides": (2, 1)}),
    second_order=True,
)
def conv2d(
    x, kernel, strides=1, padding="valid", dilation=1, data_format="channels_last"
):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    Computed as one matrix product of the input's windows (im2col) with the kernel;
    its gradients are the transposed convolution and a correlation of the input
    with the upstream gradient, themselves differentiable (any order).

    Args:
        x: A float tensor of shape ``(N, H, W, C_in)``, or ``(N, C_in, H, W)`` with
            ``data_format="channels_first"``.
        kernel: A tensor of shape ``(KH, KW, C_in, C_out)`` (Keras' ``Conv2D``).
        strides: A positive int or a ``(vertical, horizontal)`` pair.
        padding: ``"valid"`` (no padding), ``"same"`` (output ``ceil(size /
            stride)``, the odd padding element at the bottom and right, as
            TensorFlow) or explicit ``((top, bottom), (left, right))``.
        dilation: A positive int or pair: the spacing between kernel taps.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A Tensor of shape ``(N, H_out, W_out, C_out)`` (or channels first).

    Raises:
        ValueError: Naming the shapes, for a wrong rank, a channel count the kernel
            does not expect, a kernel larger than the padded input, a bad padding,
            or non-positive strides or dilation.

    Examples:
        >>> x = nnlib.constant(np.arange(16, dtype="float32").reshape(1, 4, 4, 1))
        >>> nnlib.conv2d(x, nnlib.ones((2, 2, 1, 1)), strides=2)[0, :, :, 0]
        nnlib.Tensor([[10. 18.]
                      [42. 50.]], shape=(2, 2), dtype=float32)
        >>> nnlib.conv2d(x, nnlib.ones((3, 3, 1, 8)), padding="same").shape
        (1, 4, 4, 8)
    """
    return _convolve("conv2d", x, kernel, strides, padding, dilation, data_format, 2)


@register(
    Sample(shapes=[(1, 3, 3, 2), (2, 2, 2, 2)]),
    Sample(
        shapes=[(1, 3, 3, 2), (2, 2, 2, 1)], kwargs={"strides": 2, "padding": "same"}
    ),
    Sample(
        shapes=[(1, 2, 4, 4), (2, 2, 2, 1)],
        kwargs={"dilation": (1, 2), "data_format": "channels_first"},
    ),
    second_order=True,
)
def depthwise_conv2d(
    x, kernel, strides=1, padding="valid", dilation=1, data_format="channels_last"
):
    """Depthwise 2-D convolution: each input channel convolved with its own filters.

    Args:
        x: A float tensor of shape ``(N, H, W, C_in)`` (or ``(N, C_in, H, W)``).
        kernel: A tensor of shape ``(KH, KW, C_in, depth_multiplier)`` (Keras'
            ``DepthwiseConv2D``).
        strides: A positive int or pair.
        padding: ``"valid"``, ``"same"`` or ``((top, bottom), (left, right))``, as
            in ``conv2d``.
        dilation: A positive int or pair.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A Tensor with ``C_in * depth_multiplier`` channels in TensorFlow's order:
        output channel ``c * depth_multiplier + m`` is input channel ``c`` convolved
        with ``kernel[:, :, c, m]``.

    Raises:
        ValueError: As ``conv2d``.

    Examples:
        >>> x = nnlib.ones((1, 3, 3, 2))
        >>> k = nnlib.constant(np.array([1., 10.], "float32").reshape(1, 1, 2, 1))
        >>> nnlib.depthwise_conv2d(x, k)[0, 0, 0]
        nnlib.Tensor([ 1. 10.], shape=(2,), dtype=float32)
    """
    return _convolve(
        "depthwise_conv2d", x, kernel, strides, padding, dilation, data_format, 2
    )


def _transpose_samples(rng):
    return [rng.uniform(-2, 2, (1, 2, 3, 2)), rng.uniform(-2, 2, (3, 3, 2, 2))], {
        "output_shape": (6, 7),  # one more row than the default: never read
        "strides": 2,
    }


@register(
    Sample(shapes=[(1, 2, 2, 2), (2, 2, 3, 2)]),
    Sample(shapes=[(2, 2, 2, 1), (3, 2, 1, 1)], kwargs={"strides": 2}),
    Sample(
        shapes=[(1, 2, 3, 3), (2, 2, 1, 2)],
        kwargs={"strides": (1, 2), "padding": "same", "data_format": "channels_first"},
    ),
    Sample(make=_transpose_samples),
    second_order=True,
)
def conv2d_transpose(
    x,
    kernel,
    output_shape=None,
    strides=1,
    padding="valid",
    dilation=1,
    data_format="channels_last",
):
    """Transposed 2-D convolution: the gradient of ``conv2d`` with respect to its input.

    ``conv2d_transpose(dy, k)`` is what ``conv2d(x, k)`` sends back to ``x`` for an
    upstream gradient ``dy``: it maps a ``conv2d`` output's shape back to its
    input's, as Keras' ``Conv2DTranspose`` and ``tf.nn.conv2d_transpose`` do.

    Args:
        x: A float tensor of shape ``(N, H, W, C_in)`` (or ``(N, C_in, H, W)``).
        kernel: A tensor of shape ``(KH, KW, C_out, C_in)`` (Keras'
            ``Conv2DTranspose`` layout: the ``conv2d`` kernel it transposes).
        output_shape: The output's ``(H_out, W_out)`` or its full shape. Default,
            as Keras: ``H * stride + max(KH - stride, 0)`` with ``"valid"``
            padding (``(H - 1) * stride + KH`` when the kernel is at least the
            stride), ``H * stride`` with ``"same"``, ``(H - 1) * stride + KH -
            top - bottom`` with explicit pads (``KH`` counts the dilation).
        strides: A positive int or pair.
        padding: ``"valid"``, ``"same"`` or ``((top, bottom), (left, right))``: the
            padding of the ``conv2d`` being transposed.
        dilation: A positive int or pair.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A Tensor of shape ``(N, H_out, W_out, C_out)`` (or channels first).

    Raises:
        ValueError: As ``conv2d``, or if ``output_shape`` is not a shape that a
            ``conv2d`` with these settings maps to ``x``'s.

    Examples:
        >>> x = nnlib.ones((1, 2, 2, 1))
        >>> y = nnlib.conv2d_transpose(x, nnlib.ones((3, 3, 1, 1)), strides=2)
        >>> y[0, :, :, 0]
        nnlib.Tensor([[1. 1. 2. 1. 1.]
                      [1. 1. 2. 1. 1.]
                      [2. 2. 4. 2. 2.]
                      [1. 1. 2. 1. 1.]
                      [1. 1. 2. 1. 1.]], shape=(5, 5), dtype=float32)
    """
    op = "conv2d_transpose"
    x, kernel = _operands(x, kernel)
    _win.check_rank(op, x, 2)
    _win.check_rank(op, kernel, 2, "kernel", "(KH, KW, C_out, C_in)")
    x4, restore = to_nhwc(op, x, 2, data_format)
    n, h, w, c_in = x4.shape
    kh, kw, c_out, k_in = kernel.shape
    if c_in != k_in:
        raise ValueError(
            f"{op}: x has {c_in} input channels but the kernel (KH, KW, C_out, C_in) "
            f"expects {k_in} ({_shapes(x, kernel)}, data_format {data_format!r})"
        )
    shapes = _shapes(x, kernel)
    args = _win.window_args(op, 2, strides, padding, dilation, shapes)
    strides, dilation, padding = args
    if output_shape is None:
        pairs = ((0, 0),) * 2 if isinstance(padding, str) else padding
        out_hw = tuple(
            _win.transposed_size(size, (k - 1) * d + 1, s, padding, p)
            for size, k, d, s, p in zip((h, w), (kh, kw), dilation, strides, pairs)
        )
    else:
        out_hw = _win.output_hw(op, output_shape, n, c_out, data_format)
    win = _win.window_of(op, out_hw, (kh, kw), args, shapes)
    if win.out_hw != (h, w):
        raise ValueError(
            f"{op}: output_shape {out_hw} is not one that a conv2d with strides "
            f"{strides}, dilation {dilation} and padding {padding!r} maps to x's "
            f"{(h, w)} (it gives {win.out_hw}; {shapes})"
        )
    spec = _prim.Spec(win, False)
    return restore(_prim.conv_input(x4, kernel, spec, (n, *out_hw, c_out)))
