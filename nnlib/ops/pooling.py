"""Pooling: max_pool and avg_pool over 1-D (N, W, C) and 2-D (N, H, W, C) windows.

Both loop over the taps of the window (at most ``pool_size`` strided slices), never
over pixels. Each is a linear map of its input once the max pool's choice of
element is fixed, and each map's gradient is its transpose, declared as an op
whose own gradient is the map again: gradients of any order. The declared ops,
on NHWC arrays with the window (``_windows.Window``) as attribute ``win``:

* ``max_pool(x) -> y, arg``: ``arg``, a hidden output, holds each window's
  winning tap; ``max_pool_backprop(dy, arg)`` sends ``dy`` there and
  ``max_pool_pick(x, arg)`` reads each window's element back (they are each
  other's gradients);
* ``avg_pool(x)`` and ``avg_pool_backprop(dy)``, likewise each other's gradients.
"""

import functools

import numpy as np

from ..engine.tape import needs_gradient
from . import _windows as _win
from ._dispatch import ACTIVE, Tensor, as_tensor, wrap
from .convolution import to_nhwc
from .declare import declare
from .registry import Sample, register
from .shape import cast

__all__ = ["avg_pool", "max_pool"]


def _window(op, x, pool_size, strides, padding, data_format):
    """``x`` as NHWC, the function restoring its layout, and the pooling window."""
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{op}: x must have rank 3 (N, W, C) or 4 (N, H, W, C) (or channels "
            f"first), got shape {x.shape}"
        )
    spatial = x.ndim - 2
    shapes = f"x shape {x.shape}, pool_size {pool_size!r}"
    try:
        size = _win.positive_ints(pool_size, spatial, "pool_size")
    except ValueError as err:
        raise ValueError(f"{op}: {err} ({shapes})") from None
    strides = size if strides is None else strides
    args = _win.window_args(op, spatial, strides, padding, 1, shapes, explicit=False)
    x4, restore = to_nhwc(op, x, spatial, data_format)
    kernel = (1, *size) if spatial == 1 else size
    return x4, restore, _win.window_of(op, x4.shape[1:3], kernel, args, shapes)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# Pooling kernels. A max pool keeps, per window, the index of the first tap that
# reaches the maximum (ties go to the earliest tap in row-major order); its
# gradient routes dy there, and the gradient of that routing picks at the index.


def _tap_slices(xp, win):
    """Each tap's slice of a padded NHWC array, gathered into one contiguous
    block first where ``_win.gathers`` says so.

    ``_tap_max`` reads each tap twice or more. Under a horizontal stride a tap
    is strided in place: runs of C elements in channels-last data, single
    elements in planes. numpy's loops over such short runs cost several times
    a contiguous loop, so one copy of the taps, then contiguous reads, costs
    less (``_tap_max`` of a 2x2 pool: 1.4x faster on planes, and on 32 channels
    last). The block, ``(KH*KW / strides)`` times the output, keeps planes as
    planes.
    """
    if not _win.gathers(xp, win):
        return [xp[key] for key in win.taps]
    n, oh, ow, c = xp[win.taps[0]].shape
    if _win.planar(xp):
        block = np.empty((len(win.taps), n, c, oh, ow), xp.dtype)
        block = block.transpose(0, 1, 3, 4, 2)
    else:
        block = np.empty((len(win.taps), n, oh, ow, c), xp.dtype)
    for part, key in zip(block, win.taps):
        np.copyto(part, xp[key])
    return list(block)


def _tap_max(xp, win):
    """The max over each window of a padded NHWC array, and its first tap."""
    taps = _tap_slices(xp, win)
    if len(taps) == 1:
        return taps[0].copy(order="K"), np.zeros_like(taps[0], np.uint8)
    first, second = taps[0], taps[1]
    # Masked stores (arg[better] = t) are slow on random masks; as taps come in
    # increasing order, arg = max(arg, t * better) does the same arithmetically.
    dtype = np.dtype(np.uint8 if len(taps) <= 256 else np.int32)

    def as_index(mask):  # a bool mask is 0/1 bytes: viewed, not copied, as uint8
        return mask.view(np.uint8) if dtype == np.uint8 else mask.astype(dtype)

    arg = as_index(np.greater(second, first))  # strict: ties stay
    y = np.maximum(first, second)
    for t, tap in enumerate(taps[2:], 2):
        better = as_index(np.greater(tap, y))
        np.maximum(y, tap, out=y)
        np.maximum(arg, np.multiply(better, dtype.type(t), out=better), out=arg)
    return y, arg


def _tap_max_value(xp, win):
    """The max over each window, without the tap: inference needs no routing."""
    taps = win.taps
    y = xp[taps[0]].copy(order="K")  # in x's layout: planes stay planes
    for key in taps[1:]:
        np.maximum(y, xp[key], out=y)
    return y


def _tap_route(dy, arg, win, shape):
    """The gradient of ``_tap_max``: ``dy`` sent to each window's chosen tap."""
    planes = _win.planar(arg)  # the forward's layout
    if _win.planar(dy) != planes and 0 not in dy.strides:
        # Once into arg's layout, rather than read across it at every tap.
        converted = np.empty_like(arg, dy.dtype)
        np.copyto(converted, dy)
        dy = converted
    if not win.disjoint:
        parts = (dy * (arg == t) for t in range(len(win.taps)))
        return _win.tap_scatter(parts, win, shape, dy.dtype, planes)
    xp = _win.scratch(win, shape, dy.dtype, planes)
    for t, key in enumerate(win.taps):
        np.multiply(dy, arg == t, out=xp[key])
    return _win.crop(xp, win)


def _tap_pick(x, arg, win):
    """Each window's element of (unpadded) ``x`` at the chosen tap."""
    xp = _win.pad(x, win)
    y = np.zeros_like(arg, x.dtype)
    for t, key in enumerate(win.taps):
        np.copyto(y, xp[key], where=arg == t)
    return y


@functools.lru_cache(maxsize=256)
def _inverse_counts(win, dtype):
    """1 / (the number of unpadded elements in each window), (1, OH, OW, 1)."""
    ones = _win.pad(np.ones((1, *win.in_hw, 1), dtype), win)
    inverse = 1 / _win.tap_sum(ones, win)
    inverse.flags.writeable = False  # shared by every call through the cache
    return inverse


def _tap_mean(x, win):
    """The mean over each window of ``x`` (NHWC), padding not counted."""
    y = _win.tap_sum(_win.pad(x, win), win)
    if any(a or b for a, b in win.pads):
        return np.multiply(y, _inverse_counts(win, y.dtype), out=y)
    y *= 1 / (win.kernel[0] * win.kernel[1])
    return y


def _tap_spread(dy, win, shape):
    """The gradient of ``_tap_mean``: each window's ``dy`` shared by its elements."""
    if any(a or b for a, b in win.pads):
        g = dy * _inverse_counts(win, dy.dtype)
    else:
        g = dy * (1 / (win.kernel[0] * win.kernel[1]))
    return _win.tap_scatter((g for _ in win.taps), win, shape, g.dtype, _win.planar(g))


def _input_shape(y, win):
    """The NHWC shape a pooling of ``win`` maps back to, from an output's shape."""
    return (y.shape[0], *win.in_hw, y.shape[3])


# The hidden ``arg`` of a max pool no tape differentiates: inference skips
# finding each window's winning tap.
_NO_ARG = np.empty((0,), np.uint8)
_NO_ARG.flags.writeable = False


def _max_pool_forward(x, win, route):
    nhwc = route and _win.transposes(x, win)  # planes copied to NHWC first
    xp = _win.pad(x, win, _lowest(x.dtype), as_planes=False if nhwc else None)
    if not route:
        return _tap_max_value(xp, win), _NO_ARG
    if nhwc and xp is x:
        xp = np.ascontiguousarray(x)
    return _tap_max(xp, win)


def _max_pool_backprop_forward(dy, arg, win):
    return _tap_route(dy, arg, win, _input_shape(dy, win))


def _avg_pool_backprop_forward(dy, win):
    return _tap_spread(dy, win, _input_shape(dy, win))


MAX_POOL = declare("max_pool", _max_pool_forward, hidden=1, saves="")
MAX_POOL_BACKPROP = declare("max_pool_backprop", _max_pool_backprop_forward, saves="x")
MAX_POOL_PICK = declare("max_pool_pick", _tap_pick, saves="x")
AVG_POOL = declare("avg_pool", _tap_mean, saves="")
AVG_POOL_BACKPROP = declare("avg_pool_backprop", _avg_pool_backprop_forward, saves="")


def _route(dy, arg, win):
    """Sends each window's ``dy`` to its max element (the max pool's gradient)."""
    if isinstance(dy, Tensor):
        return MAX_POOL_BACKPROP(dy, arg, win=win)
    return _tap_route(dy, arg, win, _input_shape(dy, win))


def _pick(x, arg, win):
    """Each window's element of ``x`` where the max pool found its max (linear)."""
    if isinstance(x, Tensor):
        return MAX_POOL_PICK(x, arg, win=win)
    return _tap_pick(x, arg, win)


@MAX_POOL.gradient
def _(g):
    return (_route(g.dy, g.outputs[1], g.attrs["win"]),)


@MAX_POOL_BACKPROP.gradient
def _(g):
    return (_pick(g.dy, g.inputs[1], g.attrs["win"]), None)


@MAX_POOL_PICK.gradient
def _(g):
    return (_route(g.dy, g.inputs[1], g.attrs["win"]), None)


def _spread(dy, win):
    """Shares each window's ``dy`` among its elements (the average's gradient)."""
    if isinstance(dy, Tensor):
        return AVG_POOL_BACKPROP(dy, win=win)
    return _tap_spread(dy, win, _input_shape(dy, win))


def _average(x, win):
    """The mean of each window of NHWC ``x``, padding not counted."""
    if isinstance(x, Tensor):
        return AVG_POOL(x, win=win)
    return _tap_mean(x, win)


@AVG_POOL.gradient
def _(g):
    return (_spread(g.dy, g.attrs["win"]),)


@AVG_POOL_BACKPROP.gradient
def _(g):
    return (_average(g.dy, g.attrs["win"]),)


def _distinct(shape, **kwargs):
    """A sample with well separated values, so that no window has a near tie."""

    def make(rng):
        n = int(np.prod(shape))
        return [(rng.permutation(n) * 0.2 - n * 0.1).reshape(shape)], kwargs

    return Sample(make=make)


@register(
    _distinct((1, 4, 4, 1), pool_size=2),
    _distinct((2, 5, 2), pool_size=2, strides=1, padding="same"),
    _distinct((1, 5, 4, 2), pool_size=(3, 2), strides=(2, 1), padding="same"),
    _distinct((1, 2, 3, 4), pool_size=2, strides=1, data_format="channels_first"),
    second_order=True,
)
def max_pool(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """The maximum over each window of a 1-D or 2-D input (the rank decides).

    The gradient goes to the window's maximum; where several elements tie for it,
    to the first in row-major order (top row first, then left to right). With
    ``"same"`` padding the padded elements never win.

    Args:
        x: A tensor of shape ``(N, W, C)`` or ``(N, H, W, C)`` (with
            ``data_format="channels_first"``: ``(N, C, W)`` or ``(N, C, H, W)``).
        pool_size: A positive int or one per spatial axis.
        strides: A positive int or one per spatial axis; default ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (output ``ceil(size / stride)``, as
            TensorFlow).
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A Tensor of ``x``'s dtype and layout with the pooled spatial sizes.

    Raises:
        ValueError: Naming the shapes, for a rank other than 3 or 4, a pool
            larger than the padded input, a bad padding, or non-positive sizes.

    Examples:
        >>> x = nnlib.constant(np.arange(16, dtype="float32").reshape(1, 4, 4, 1))
        >>> nnlib.max_pool(x, 2)[0, :, :, 0]
        nnlib.Tensor([[ 5.  7.]
                      [13. 15.]], shape=(2, 2), dtype=float32)
        >>> nnlib.max_pool(nnlib.constant([[[1.], [3.], [2.]]]), 2, 1)[0, :, 0]
        nnlib.Tensor([3. 3.], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    x4, restore, win = _window("max_pool", x, pool_size, strides, padding, data_format)
    if not ACTIVE:  # nothing records: no op to record, no winning tap to find
        return restore(wrap(_max_pool_forward(x4._value, win, False)[0]))
    # Only a gradient needs each window's winning tap (``arg``).
    return restore(MAX_POOL(x4, win=win, route=needs_gradient(x4)))


@register(
    Sample(shapes=[(1, 4, 4, 1)], kwargs={"pool_size": 2}),
    Sample(
        shapes=[(2, 5, 2)], kwargs={"pool_size": 2, "strides": 1, "padding": "same"}
    ),
    Sample(
        shapes=[(1, 5, 4, 2)],
        kwargs={"pool_size": (3, 2), "strides": (2, 1), "padding": "same"},
    ),
    Sample(
        shapes=[(1, 2, 3, 4)],
        kwargs={"pool_size": 2, "strides": 1, "data_format": "channels_first"},
    ),
    second_order=True,
)
def avg_pool(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """The mean over each window of a 1-D or 2-D input (the rank decides).

    With ``"same"`` padding a window at the border averages only the elements of
    ``x`` it covers, as TensorFlow does (the padding is not counted).

    Args:
        x: A tensor of shape ``(N, W, C)`` or ``(N, H, W, C)`` (with
            ``data_format="channels_first"``: ``(N, C, W)`` or ``(N, C, H, W)``).
        pool_size: A positive int or one per spatial axis.
        strides: A positive int or one per spatial axis; default ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A floating-point Tensor (integers become float32) of ``x``'s layout.

    Raises:
        ValueError: As ``max_pool``.

    Examples:
        >>> x = nnlib.constant(np.arange(16, dtype="float32").reshape(1, 4, 4, 1))
        >>> nnlib.avg_pool(x, 2)[0, :, :, 0]
        nnlib.Tensor([[ 2.5  4.5]
                      [10.5 12.5]], shape=(2, 2), dtype=float32)
        >>> nnlib.avg_pool(nnlib.constant([[[1.], [3.], [2.]]]), 2, padding="same")
        nnlib.Tensor([[[2.]
                       [2.]]], shape=(1, 2, 1), dtype=float32)
    """
    x = as_tensor(x)
    if x.dtype.kind not in "fc":
        x = cast(x, np.float32)
    x4, restore, win = _window("avg_pool", x, pool_size, strides, padding, data_format)
    return restore(AVG_POOL(x4, win=win))
