"""``tf.nn``'s convolutions and pools, taking TensorFlow's argument forms.

TensorFlow passes ``strides``, ``ksize`` and ``dilations`` per axis of the input
(``[1, 2, 2, 1]``: 1 for the batch and channel axes), ``padding`` as ``"SAME"``
or ``"VALID"`` or per axis (``[[0, 0], [1, 1], [2, 2], [0, 0]]``), and
``data_format`` as ``"NHWC"``/``"NCHW"``. These functions translate those forms
(nnlib's own forms pass through unchanged) and call the op: ``nnlib.conv2d`` and
the others, whose kernels already have TensorFlow's layouts.
"""

import numpy as np

from .. import ops as _ops
from ..engine import Tensor, convert_to_tensor

__all__ = [
    "avg_pool",
    "conv1d",
    "conv2d",
    "conv2d_transpose",
    "depthwise_conv2d",
    "max_pool",
]

_LAST = ("NWC", "NHWC", "NDHWC", "channels_last")
_FIRST = ("NCW", "NCHW", "NCDHW", "channels_first")


def _format(data_format, op):
    """``data_format`` in nnlib's words."""
    if data_format is None or data_format in _LAST:
        return "channels_last"
    if data_format in _FIRST:
        return "channels_first"
    raise ValueError(
        f"{op}: data_format must be 'NHWC' or 'NCHW' (or 'NWC'/'NCW', "
        f"'channels_last'/'channels_first'), got {data_format!r}"
    )


def _per_axis(value, name, op, spatial, data_format):
    """A stride, window size or dilation: an int, one per spatial axis, or
    TensorFlow's one per input axis (1 for the batch and channel axes)."""
    if value is None:
        return 1
    if isinstance(value, Tensor):
        value = value.numpy()
    if np.ndim(value) == 0:
        return int(value)
    values = [int(v) for v in value]
    if len(values) == spatial + 2:
        first = data_format == "channels_first"
        inner = values[2:] if first else values[1:-1]
        outer = [values[0], values[1] if first else values[-1]]
        if outer != [1, 1]:
            raise ValueError(
                f"{op}: {name} {values} must be 1 for the batch and channel axes "
                f"(data_format {data_format!r})"
            )
        values = inner
    if len(values) == 1:
        return values[0]
    if len(values) != spatial:
        raise ValueError(
            f"{op}: {name} must be an int, {spatial} ints (one per spatial axis) "
            f"or {spatial + 2} (one per axis of the input), got {values}"
        )
    return tuple(values)


def _padding(padding, op, spatial, data_format):
    """``"SAME"``/``"VALID"`` in any case, nnlib's explicit pads, or TensorFlow's
    per-axis pads (``(0, 0)`` for the batch and channel axes)."""
    if isinstance(padding, str):
        return padding.lower()
    pairs = [tuple(int(v) for v in pair) for pair in padding]
    if len(pairs) == spatial + 2:
        first = data_format == "channels_first"
        outer = [pairs[0], pairs[1] if first else pairs[-1]]
        if outer != [(0, 0), (0, 0)]:
            raise ValueError(
                f"{op}: padding {pairs} must be (0, 0) for the batch and channel "
                f"axes (data_format {data_format!r})"
            )
        pairs = pairs[2:] if first else pairs[1:-1]
    return pairs[0] if spatial == 1 else tuple(pairs)


def _kernel(filters, filter, op):
    if filters is None and filter is None:
        raise TypeError(f"{op}: missing the kernel (filters=, or filter= as in TF 1)")
    if filters is not None and filter is not None:
        raise TypeError(f"{op}: pass filters or filter, not both")
    return filters if filters is not None else filter


def conv2d(
    input,  # TensorFlow's argument names, for calls by keyword
    filters=None,
    strides=1,
    padding="VALID",
    data_format="NHWC",
    dilations=None,
    name=None,
    filter=None,
    use_cudnn_on_gpu=None,
):
    """``tf.nn.conv2d``: ``nnlib.conv2d`` with TensorFlow's argument forms.

    Args:
        input: A tensor of shape ``(N, H, W, C_in)`` (``(N, C_in, H, W)`` for
            ``"NCHW"``).
        filters: The kernel, ``(KH, KW, C_in, C_out)`` (TensorFlow's layout);
            TensorFlow 1's ``filter=`` keyword works too.
        strides: An int, a pair, or one per input axis (``[1, 2, 2, 1]``).
        padding: ``"SAME"``, ``"VALID"`` (any case), or pads per spatial axis or
            per input axis (``[[0, 0], [1, 1], [1, 1], [0, 0]]``).
        data_format: ``"NHWC"`` or ``"NCHW"`` (or nnlib's names).
        dilations: Like ``strides``; default 1.
        name: Ignored (nnlib's ops are not named).
        filter: TensorFlow 1's name of ``filters``.
        use_cudnn_on_gpu: Ignored (TensorFlow 1).

    Returns:
        The ``nnlib.conv2d`` result.

    Raises:
        ValueError: For a stride, dilation or padding that is not 1 (or
            ``(0, 0)``) on the batch and channel axes, and as ``nnlib.conv2d``.

    Examples:
        >>> x = nnlib.ones((1, 4, 4, 1))
        >>> nnlib.nn.conv2d(x, nnlib.ones((3, 3, 1, 2)), strides=[1, 2, 2, 1],
        ...                 padding="SAME").shape
        (1, 2, 2, 2)
    """
    fmt = _format(data_format, "conv2d")
    return _ops.conv2d(
        input,
        _kernel(filters, filter, "conv2d"),
        strides=_per_axis(strides, "strides", "conv2d", 2, fmt),
        padding=_padding(padding, "conv2d", 2, fmt),
        dilation=_per_axis(dilations, "dilations", "conv2d", 2, fmt),
        data_format=fmt,
    )


def conv1d(
    input,
    filters=None,
    stride=1,
    padding="VALID",
    data_format="NWC",
    dilations=None,
    name=None,
    value=None,
):
    """``tf.nn.conv1d``: ``nnlib.conv1d`` with TensorFlow's argument forms.

    Args:
        input: A tensor of shape ``(N, W, C_in)`` (``(N, C_in, W)`` for ``"NCW"``);
            TensorFlow 1's ``value=`` keyword works too.
        filters: The kernel, ``(K, C_in, C_out)``.
        stride: An int, or one per input axis (``[1, 2, 1]``).
        padding: ``"SAME"`` or ``"VALID"`` (any case), or ``(left, right)``.
        data_format: ``"NWC"`` or ``"NCW"``.
        dilations: Like ``stride``; default 1.
        name: Ignored.
        value: TensorFlow 1's name of ``input``.

    Returns:
        The ``nnlib.conv1d`` result.

    Examples:
        >>> nnlib.nn.conv1d(nnlib.ones((1, 5, 1)), nnlib.ones((2, 1, 1)), 1,
        ...                 "VALID")[0, :, 0]
        nnlib.Tensor([2. 2. 2. 2.], shape=(4,), dtype=float32)
    """
    x = value if input is None else input
    fmt = _format(data_format, "conv1d")
    return _ops.conv1d(
        x,
        filters,
        strides=_per_axis(stride, "stride", "conv1d", 1, fmt),
        padding=_padding(padding, "conv1d", 1, fmt),
        dilation=_per_axis(dilations, "dilations", "conv1d", 1, fmt),
        data_format=fmt,
    )


def depthwise_conv2d(
    input,
    filter=None,
    strides=1,
    padding="VALID",
    data_format=None,
    dilations=None,
    name=None,
    rate=None,
):
    """``tf.nn.depthwise_conv2d``: ``nnlib.depthwise_conv2d`` with TensorFlow's forms.

    Args:
        input: A tensor of shape ``(N, H, W, C_in)`` (or ``"NCHW"``).
        filter: The kernel, ``(KH, KW, C_in, channel_multiplier)``.
        strides: An int, a pair, or one per input axis (``[1, 1, 1, 1]``).
        padding: ``"SAME"``, ``"VALID"`` or explicit pads, as for ``conv2d``.
        data_format: ``"NHWC"`` (default) or ``"NCHW"``.
        dilations: An int or a pair; TensorFlow 1's ``rate=`` works too.
        name: Ignored.
        rate: TensorFlow 1's name of ``dilations``.

    Returns:
        The ``nnlib.depthwise_conv2d`` result.

    Examples:
        >>> nnlib.nn.depthwise_conv2d(nnlib.ones((1, 3, 3, 2)), nnlib.ones((2, 2, 2, 3)),
        ...                           [1, 1, 1, 1], "VALID").shape
        (1, 2, 2, 6)
    """
    fmt = _format(data_format, "depthwise_conv2d")
    return _ops.depthwise_conv2d(
        input,
        filter,
        strides=_per_axis(strides, "strides", "depthwise_conv2d", 2, fmt),
        padding=_padding(padding, "depthwise_conv2d", 2, fmt),
        dilation=_per_axis(
            rate if dilations is None else dilations,
            "dilations",
            "depthwise_conv2d",
            2,
            fmt,
        ),
        data_format=fmt,
    )


def conv2d_transpose(
    input,
    filters=None,
    output_shape=None,
    strides=1,
    padding="SAME",
    data_format="NHWC",
    dilations=None,
    name=None,
    filter=None,
    value=None,
):
    """``tf.nn.conv2d_transpose``: ``nnlib.conv2d_transpose`` with TensorFlow's forms.

    Args:
        input: A tensor of shape ``(N, H, W, C_in)``; TF 1's ``value=`` works.
        filters: The kernel, ``(KH, KW, C_out, C_in)`` (TensorFlow's layout);
            TF 1's ``filter=`` works too.
        output_shape: The full output shape (a list or a 1-D tensor), or None.
        strides: An int, a pair, or one per input axis.
        padding: ``"SAME"`` (TensorFlow's default here) or ``"VALID"``.
        data_format: ``"NHWC"`` or ``"NCHW"``.
        dilations: Like ``strides``; default 1.
        name: Ignored.
        filter: TensorFlow 1's name of ``filters``.
        value: TensorFlow 1's name of ``input``.

    Returns:
        The ``nnlib.conv2d_transpose`` result.

    Examples:
        >>> nnlib.nn.conv2d_transpose(nnlib.ones((1, 2, 2, 3)), nnlib.ones((3, 3, 1, 3)),
        ...                           [1, 4, 4, 1], [1, 2, 2, 1]).shape
        (1, 4, 4, 1)
    """
    x = value if input is None else input
    fmt = _format(data_format, "conv2d_transpose")
    if isinstance(output_shape, Tensor):
        output_shape = [int(v) for v in output_shape.numpy()]
    return _ops.conv2d_transpose(
        x,
        _kernel(filters, filter, "conv2d_transpose"),
        output_shape=output_shape,
        strides=_per_axis(strides, "strides", "conv2d_transpose", 2, fmt),
        padding=_padding(padding, "conv2d_transpose", 2, fmt),
        dilation=_per_axis(dilations, "dilations", "conv2d_transpose", 2, fmt),
        data_format=fmt,
    )


def _pool(op, fn, x, ksize, strides, padding, data_format):
    x = convert_to_tensor(x)
    fmt = _format(data_format, op)
    spatial = x.ndim - 2
    if spatial not in (1, 2):
        raise ValueError(
            f"{op}: input must have rank 3 (N, W, C) or 4 (N, H, W, C), got shape "
            f"{x.shape}"
        )
    size = _per_axis(ksize, "ksize", op, spatial, fmt)
    step = size if strides is None else _per_axis(strides, "strides", op, spatial, fmt)
    pad = _padding(padding, op, spatial, fmt)
    return fn(x, size, strides=step, padding=pad, data_format=fmt)


def max_pool(
    input=None,
    ksize=None,
    strides=None,
    padding="VALID",
    data_format=None,
    name=None,
    value=None,
):
    """``tf.nn.max_pool``: ``nnlib.max_pool`` with TensorFlow's argument forms.

    Args:
        input: A tensor of shape ``(N, W, C)`` or ``(N, H, W, C)`` (or channels
            first); TensorFlow 1's ``value=`` works too.
        ksize: The window: an int, one per spatial axis or one per input axis
            (``[1, 2, 2, 1]``).
        strides: Like ``ksize``; default ``ksize``.
        padding: ``"SAME"`` or ``"VALID"`` (any case).
        data_format: ``"NHWC"`` (default), ``"NCHW"``, ``"NWC"`` or ``"NCW"``.
        name: Ignored.
        value: TensorFlow 1's name of ``input``.

    Returns:
        The ``nnlib.max_pool`` result.

    Examples:
        >>> x = nnlib.constant(np.arange(16, dtype="float32").reshape(1, 4, 4, 1))
        >>> nnlib.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")[0, :, :, 0]
        nnlib.Tensor([[ 5.  7.]
                      [13. 15.]], shape=(2, 2), dtype=float32)
    """
    x = value if input is None else input
    return _pool("max_pool", _ops.max_pool, x, ksize, strides, padding, data_format)


def avg_pool(
    input=None,
    ksize=None,
    strides=None,
    padding="VALID",
    data_format=None,
    name=None,
    value=None,
):
    """``tf.nn.avg_pool``: ``nnlib.avg_pool`` with TensorFlow's argument forms.

    Arguments as for ``max_pool``; with ``"SAME"`` padding a border window
    averages only the elements it covers, as TensorFlow does.

    Examples:
        >>> x = nnlib.constant(np.arange(16, dtype="float32").reshape(1, 4, 4, 1))
        >>> nnlib.nn.avg_pool(x, ksize=2, strides=2, padding="SAME")[0, :, :, 0]
        nnlib.Tensor([[ 2.5  4.5]
                      [10.5 12.5]], shape=(2, 2), dtype=float32)
    """
    x = value if input is None else input
    return _pool("avg_pool", _ops.avg_pool, x, ksize, strides, padding, data_format)
