"""Sliding windows for convolution and pooling: geometry and strided-view kernels.

Everything here works on numpy arrays in NHWC layout (a 1-D input is a height-1
image). Kernels loop over the ``KH * KW`` taps of a window, never over pixels or
batch items: a tap is one strided slice of the padded input, and a window's
elements are gathered for a matrix product with ``as_strided`` (im2col).
"""

import dataclasses
import functools
import operator

import numpy as np
from numpy.lib.stride_tricks import as_strided

# Below this many input channels im2col is built channel-major, (taps, C, N*OH*OW):
# each tap then copies whole image rows instead of runs of C elements.
_CHANNEL_MAJOR_BELOW = 8


@dataclasses.dataclass(frozen=True)
class Window:
    """Where a window sits: kernel, strides, dilation, padding and both sizes.

    ``pads`` is ``((top, bottom), (left, right))``; ``in_hw`` the unpadded input's
    height and width, ``out_hw`` the output's.
    """

    kernel: tuple
    strides: tuple
    dilation: tuple
    pads: tuple
    in_hw: tuple
    out_hw: tuple

    @property
    def padded_hw(self):
        return tuple(d + a + b for d, (a, b) in zip(self.in_hw, self.pads))

    @functools.cached_property
    def taps(self):
        """One index per tap into the padded NHWC input, in row-major tap order."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = (
            self.kernel,
            self.strides,
            self.dilation,
            self.out_hw,
        )
        return [
            (
                slice(None),
                slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                slice(j * dw, j * dw + sw * (ow - 1) + 1, sw),
            )
            for i in range(kh)
            for j in range(kw)
        ]

    @property
    def disjoint(self):
        """True when no two taps of any windows overlap (strides equal the kernel)."""
        return self.dilation == (1, 1) and self.strides == self.kernel


def positive_ints(value, n, what):
    """``value`` (an int or ``n`` ints) as ``n`` positive ints; ValueError if not."""
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != n or not all(
        isinstance(v, (int, np.integer)) and v > 0 for v in values
    ):
        raise ValueError(f"{what} must be a positive int or {n} of them, got {value!r}")
    return tuple(int(v) for v in values)


def _explicit_pads(padding, n):
    try:
        pads = tuple((operator.index(a), operator.index(b)) for a, b in padding)
    except (TypeError, ValueError):
        return None
    if len(pads) != n or any(a < 0 or b < 0 for a, b in pads):
        return None
    return pads


def window_args(op, spatial, strides, padding, dilation, shapes, explicit=True):
    """Checks an op's window arguments; returns them in ``window``'s form.

    ``spatial`` is 1 (then ints, 1-tuples and a ``(left, right)`` padding, for a
    height-1 image) or 2. Returns ``(strides, dilation, padding)``: two pairs of
    positive ints and ``"valid"``, ``"same"`` or ``((top, bottom), (left,
    right))``. Raises ValueError naming ``op`` and ``shapes`` (a description).
    """
    try:
        strides = positive_ints(strides, spatial, "strides")
        dilation = positive_ints(dilation, spatial, "dilation")
        mode = padding.lower() if isinstance(padding, str) else None
        if mode in ("valid", "same"):
            padding = mode
        else:
            pads = None
            if explicit and mode is None:
                pads = _explicit_pads([padding] if spatial == 1 else padding, spatial)
            if pads is None:
                form = ("(left, right)", "((top, bottom), (left, right))")[spatial - 1]
                form = f"'valid', 'same' or {form} non-negative ints"
                form = form if explicit else "'valid' or 'same'"
                raise ValueError(f"padding must be {form}, got {padding!r}")
            padding = ((0, 0), *pads) if spatial == 1 else pads
    except ValueError as err:
        raise ValueError(f"{op}: {err} ({shapes})") from None
    if spatial == 1:
        return (1, *strides), (1, *dilation), padding
    return strides, dilation, padding


def window_of(op, in_hw, kernel, args, shapes):
    """``window`` for checked ``args``, with errors that name ``op`` and ``shapes``."""
    try:
        return window(tuple(in_hw), tuple(kernel), *args)
    except ValueError as err:
        raise ValueError(f"{op}: {err} ({shapes})") from None


@functools.lru_cache(maxsize=1024)
def window(in_hw, kernel, strides, dilation, padding):
    """The ``Window`` of a convolution or pooling, with TF's padding rules.

    ``padding`` (as ``window_args`` returns it) is ``"valid"``, ``"same"`` (output
    ``ceil(in / stride)``, the odd pad element at the bottom/right) or explicit
    pairs. Raises ValueError (the caller adds the op's name) when the window
    does not fit.
    """
    extent = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
    if padding == "valid":
        pads = ((0, 0), (0, 0))
    elif padding == "same":
        pads = []
        for size, e, s in zip(in_hw, extent, strides):
            total = max((-(-size // s) - 1) * s + e - size, 0)
            pads.append((total // 2, total - total // 2))
        pads = tuple(pads)
    else:
        pads = padding
    padded = tuple(d + a + b for d, (a, b) in zip(in_hw, pads))
    if any(e > p for e, p in zip(extent, padded)):
        raise ValueError(
            f"the window {'x'.join(map(str, extent))} (kernel {kernel}, dilation "
            f"{dilation}) is larger than the padded input "
            f"{'x'.join(map(str, padded))}"
        )
    out_hw = tuple((p - e) // s + 1 for p, e, s in zip(padded, extent, strides))
    return Window(kernel, strides, dilation, pads, tuple(in_hw), out_hw)


def pad(x, win, value=0):
    """``x`` (NHWC) padded as ``win`` says, with ``value``; ``x`` itself if no pad."""
    (t, b), (left, r) = win.pads
    if not (t or b or left or r):
        return x
    n, h, w, c = x.shape
    out = np.full((n, h + t + b, w + left + r, c), value, x.dtype)
    out[:, t : t + h, left : left + w] = x
    return out


def crop(xp, win):
    """The unpadded part of a padded NHWC array (a view)."""
    (t, _), (left, _) = win.pads
    if xp.shape[1:3] == win.in_hw:
        return xp
    h, w = win.in_hw
    return xp[:, t : t + h, left : left + w]


def channel_major(channels):
    """Whether im2col of an input with this many channels is built channel-major."""
    return channels < _CHANNEL_MAJOR_BELOW


def im2col(xp, win):
    """The windows of a padded NHWC array as one contiguous matrix.

    Returns ``(N*OH*OW, KH*KW*C)`` (columns in tap-major, channel-minor order, the
    order of a ``(KH, KW, C, ...)`` kernel), or its transpose ``(KH*KW*C,
    N*OH*OW)`` when ``channel_major(C)``.
    """
    n, _, _, c = xp.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = (
        win.kernel,
        win.strides,
        win.dilation,
        win.out_hw,
    )
    bn, bh, bw, bc = xp.strides
    if channel_major(c):
        shape = (kh, kw, c, n, oh, ow)
        strides = (bh * dh, bw * dw, bc, bn, bh * sh, bw * sw)
    else:
        shape = (n, oh, ow, kh, kw, c)
        strides = (bn, bh * sh, bw * sw, bh * dh, bw * dw, bc)
    cols = np.ascontiguousarray(as_strided(xp, shape, strides, writeable=False))
    if channel_major(c):
        return cols.reshape(kh * kw * c, n * oh * ow)
    return cols.reshape(n * oh * ow, kh * kw * c)


def tap_sum(xp, win):
    """The sum over each window of a padded NHWC array."""
    taps = iter(win.taps)
    y = xp[next(taps)].copy()
    for key in taps:
        y += xp[key]
    return y


def _scratch(win, shape, dtype):
    """A padded NHWC array for disjoint taps to write into: uninitialized when
    the windows cover it all, else zeros."""
    n, _, _, c = shape
    covered = all(o * s == p for o, s, p in zip(win.out_hw, win.strides, win.padded_hw))
    return (np.empty if covered else np.zeros)((n, *win.padded_hw, c), dtype)


def tap_scatter(parts, win, shape, dtype):
    """Adds ``parts[t]`` (one output-shaped array per tap) into a zero padded NHWC
    array of ``shape`` (unpadded) at tap ``t``'s places; returns the unpadded part."""
    if win.disjoint:
        xp = _scratch(win, shape, dtype)
        for key, part in zip(win.taps, parts):
            xp[key] = part
    else:
        xp = np.zeros((shape[0], *win.padded_hw, shape[3]), dtype)
        for key, part in zip(win.taps, parts):
            xp[key] += part
    return crop(xp, win)


# The three bilinear maps of a convolution, on arrays. ``conv`` is y = x * w;
# ``conv_input`` and ``conv_kernel`` are its adjoints in x and w (the gradients):
# <conv(x, w), dy> = <x, conv_input(dy, w)> = <w, conv_kernel(x, dy)>.
# A depthwise kernel is (KH, KW, C, M): output channel c*M + m sees input channel c.


def conv(x, w, win, depthwise, keep_cols=False):
    """``x`` (N, H, W, C) convolved with ``w``: (N, OH, OW, C_out).

    With ``keep_cols``, returns ``(y, cols)``: the im2col matrix, which
    ``conv_kernel`` can reuse (None for depthwise kernels).
    """
    n, oh, ow = x.shape[0], *win.out_hw
    xp = pad(x, win)
    if depthwise:
        c, m = w.shape[2:]
        y = None
        for key, wt in zip(win.taps, w.reshape(-1, c, m)):
            v = xp[key][..., None] * wt
            y = v if y is None else np.add(y, v, out=y)
        y = y.reshape(n, oh, ow, c * m)
        return (y, None) if keep_cols else y
    cols = im2col(xp, win)
    wm = w.reshape(-1, w.shape[-1])
    y = np.dot(cols.T, wm) if channel_major(x.shape[3]) else np.dot(cols, wm)
    y = y.reshape(n, oh, ow, -1)
    return (y, cols) if keep_cols else y


def conv_input(dy, w, win, shape, depthwise):
    """The gradient of ``conv`` with respect to its input of ``shape``."""
    c = shape[3]
    if depthwise:
        m = w.shape[3]
        dy5 = dy.reshape(*dy.shape[:3], c, m)
        parts = (
            dy5[..., 0] * wt[:, 0] if m == 1 else np.einsum("nhwcm,cm->nhwc", dy5, wt)
            for wt in w.reshape(-1, c, m)
        )
        return tap_scatter(parts, win, shape, np.result_type(dy, w))
    d2 = dy.reshape(-1, dy.shape[-1])
    if channel_major(c):
        cols = np.dot(w.reshape(-1, w.shape[-1]), d2.T)
        parts = cols.reshape(-1, c, *dy.shape[:3]).transpose(0, 2, 3, 4, 1)
    else:
        # One product per tap, so that each part is contiguous: the additions
        # below then run over whole image rows (twice as fast as strided parts).
        wt = np.ascontiguousarray(w.reshape(-1, c, w.shape[-1]).transpose(0, 2, 1))
        parts = np.matmul(d2, wt).reshape(-1, *dy.shape[:3], c)
    return tap_scatter(parts, win, shape, parts.dtype)


def conv_kernel(x, dy, win, shape, depthwise, cols=None):
    """The gradient of ``conv`` with respect to its kernel of ``shape``; ``cols``
    is ``x``'s im2col matrix when the caller kept it."""
    if depthwise:
        c, m = shape[2:]
        xp = pad(x, win)
        dy5 = dy.reshape(*dy.shape[:3], c, m)
        parts = [np.einsum("nhwc,nhwcm->cm", xp[key], dy5) for key in win.taps]
        return np.stack(parts).reshape(shape)
    if cols is None:
        cols = im2col(pad(x, win), win)
    d2 = dy.reshape(-1, shape[-1])
    dw = np.dot(cols, d2) if channel_major(shape[2]) else np.dot(cols.T, d2)
    return dw.reshape(shape)


# Pooling kernels. A max pool keeps, per window, the index of the first tap that
# reaches the maximum (ties go to the earliest tap in row-major order); its
# gradient routes dy there, and the gradient of that routing picks at the index.


def tap_max(xp, win):
    """The max over each window of a padded NHWC array, and its first tap."""
    taps = win.taps
    if len(taps) == 1:
        return xp[taps[0]].copy(), np.zeros(xp[taps[0]].shape, np.uint8)
    first, second = xp[taps[0]], xp[taps[1]]
    # Masked stores (arg[better] = t) are slow on random masks; as taps come in
    # increasing order, arg = max(arg, t * better) does the same arithmetically.
    dtype = np.dtype(np.uint8 if len(taps) <= 256 else np.int32)
    arg = np.greater(second, first).astype(dtype, copy=False)  # strict: ties stay
    y = np.maximum(first, second)
    for t, key in enumerate(taps[2:], 2):
        better = np.greater(xp[key], y).astype(dtype, copy=False)
        np.maximum(y, xp[key], out=y)
        np.maximum(arg, np.multiply(better, dtype.type(t), out=better), out=arg)
    return y, arg


def tap_route(dy, arg, win, shape):
    """The gradient of ``tap_max``: ``dy`` sent to each window's chosen tap."""
    if not win.disjoint:
        parts = (dy * (arg == t) for t in range(len(win.taps)))
        return tap_scatter(parts, win, shape, dy.dtype)
    xp = _scratch(win, shape, dy.dtype)
    for t, key in enumerate(win.taps):
        np.multiply(dy, arg == t, out=xp[key])
    return crop(xp, win)


def tap_pick(x, arg, win):
    """Each window's element of (unpadded) ``x`` at the chosen tap."""
    xp = pad(x, win)
    y = np.zeros(arg.shape, x.dtype)
    for t, key in enumerate(win.taps):
        np.copyto(y, xp[key], where=arg == t)
    return y


@functools.lru_cache(maxsize=256)
def _inverse_counts(win, dtype):
    """1 / (the number of unpadded elements in each window), (1, OH, OW, 1)."""
    ones = pad(np.ones((1, *win.in_hw, 1), dtype), win)
    return 1 / tap_sum(ones, win)


def tap_mean(x, win):
    """The mean over each window of ``x`` (NHWC), padding not counted."""
    y = tap_sum(pad(x, win), win)
    if any(a or b for a, b in win.pads):
        return np.multiply(y, _inverse_counts(win, y.dtype), out=y)
    y *= 1 / (win.kernel[0] * win.kernel[1])
    return y


def tap_spread(dy, win, shape):
    """The gradient of ``tap_mean``: each window's ``dy`` shared by its elements."""
    if any(a or b for a, b in win.pads):
        g = dy * _inverse_counts(win, dy.dtype)
    else:
        g = dy * (1 / (win.kernel[0] * win.kernel[1]))
    return tap_scatter((g for _ in win.taps), win, shape, g.dtype)
