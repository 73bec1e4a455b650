"""Argument and input-shape checks shared by the convolution and pooling layers."""

import numpy as np

FORMATS = ("channels_last", "channels_first")


def int_tuple(value, n, what, layer, minimum=1):
    """``value`` (an int or ``n`` ints) as ``n`` ints of at least ``minimum``, or
    a ValueError naming the layer class."""
    ints = (int, np.integer)
    values = (value,) * n if isinstance(value, ints) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if len(values) != n or not all(
        isinstance(v, ints) and not isinstance(v, bool) and v >= minimum for v in values
    ):
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(
            f"{layer}: {what} must be {kind} or a tuple of {n} of them, got {value!r}"
        )
    return tuple(int(v) for v in values)


def choice(value, allowed, what, layer):
    """``value`` (case-insensitive for strings) if it is one of ``allowed``."""
    lowered = value.lower() if isinstance(value, str) else value
    if lowered not in allowed:
        names = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{layer}: {what} must be one of {names}, got {value!r}")
    return lowered


def spatial_input(layer, input_shape, rank, data_format):
    """Checks the rank of a built layer's input; returns (channels, spatial sizes)."""
    input_shape = tuple(input_shape)
    ndim = rank + 2
    if len(input_shape) != ndim:
        hint = (
            " (did you forget the batch axis?)" if len(input_shape) == ndim - 1 else ""
        )
        raise ValueError(
            f"{type(layer).__name__} layer '{layer.name}' expected inputs of rank "
            f"{ndim} (ndim={ndim}), got ndim={len(input_shape)}: shape "
            f"{input_shape}{hint}"
        )
    if data_format == "channels_last":
        return input_shape[-1], input_shape[1:-1]
    return input_shape[1], input_shape[2:]


def window_output_size(size, extent, stride, padding):
    """The output size of a window sliding over ``size`` elements: ``"valid"``
    keeps whole windows, ``"same"`` and ``"causal"`` give ``ceil(size /
    stride)``; None (unknown) stays None.

    Examples:
        >>> window_output_size(7, 3, 2, "valid"), window_output_size(7, 3, 2, "same")
        (3, 4)
    """
    if size is None:
        return None
    if padding == "valid":
        return max(size - extent, -1) // stride + 1
    return -(-size // stride)


def output_shape(input_shape, spatial, channels, data_format):
    """The full output shape from its batch, spatial sizes and channels."""
    batch = tuple(input_shape[:1])
    if data_format == "channels_last":
        return (*batch, *spatial, channels)
    return (*batch, channels, *spatial)


def check_fits(layer, input_shape, spatial, window, padding, what, dilation=None):
    """With ``"valid"`` padding, a window larger than the input is an error."""
    dilation = dilation or (1,) * len(window)
    extent = tuple((k - 1) * d + 1 for k, d in zip(window, dilation))
    if padding == "valid" and any(
        s is not None and e > s for s, e in zip(spatial, extent)
    ):
        dilated = f" (dilation {dilation}: extent {extent})" if extent != window else ""
        raise ValueError(
            f"{type(layer).__name__} layer '{layer.name}': the {what} {window}"
            f"{dilated} is larger than the input's spatial size {tuple(spatial)} "
            f"(input shape {tuple(input_shape)}) with padding='valid'; use "
            "padding='same' or a smaller window"
        )
