"""Sliding windows for convolution and pooling: geometry and strided-view helpers.

Everything here works on numpy arrays in NHWC layout (a 1-D input is a height-1
image). Helpers loop over the ``KH * KW`` taps of a window, never over pixels or
batch items: a tap is one strided slice of the padded input, and a window's
elements are gathered for a matrix product with ``as_strided`` (im2col). The
convolution kernels built on them are in ``_conv_kernels.py``.
"""

import dataclasses
import functools
import operator

import numpy as np
from numpy.lib.stride_tricks import as_strided

# Below this many input channels im2col is built channel-major, (taps, C, N*OH*OW):
# each tap then copies whole image rows instead of runs of C elements.
_CHANNEL_MAJOR_BELOW = 8
# Under a horizontal stride, a channels-last tap with fewer channels than this is
# copied to a contiguous array before elementwise work: see ``gathers``.
_GATHER_BELOW = 128


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


# Memory layouts. The kernels take NHWC-shaped arrays, but a channels-first
# tensor comes in as a transposed view, and one from outside nnlib holds image
# planes (N, C, H, W) in memory: "planar". Copying it to NHWC moves every element
# on its own (2.5x a plain copy, as much as a 2x2 pooling costs), so the
# elementwise kernels (pooling, scattering taps) keep planes as planes: their
# results and scratch are laid out (C, N, H, W) where their operands are planar.
# Matrix-product kernels take what costs least for their operands (see
# ``_conv_kernels.py``).


def planar(x):
    """Whether NHWC-shaped ``x`` lies in memory as image planes: some spatial
    axis of more than one element runs faster than its channel axis."""
    _, h, w, c = x.shape
    strides = [s for s, size in zip(x.strides[1:3], (h, w)) if size > 1]
    return c > 1 and bool(strides) and min(strides) < x.strides[3]


def empty(shape, dtype, as_planes=False):
    """An uninitialized NHWC-shaped array, laid out (C, N, H, W) with ``as_planes``."""
    if not as_planes:
        return np.empty(shape, dtype)
    n, h, w, c = shape
    return np.empty((c, n, h, w), dtype).transpose(1, 2, 3, 0)


def zeros(shape, dtype, as_planes=False):
    """As ``empty``, filled with zeros."""
    out = empty(shape, dtype, as_planes)
    out.fill(0)
    return out


def gathers(x, win):
    """Whether the taps of ``win`` over NHWC-shaped ``x`` are worth copying into
    a contiguous array before an elementwise op reads them more than once.

    Under a horizontal stride a tap is strided: runs of C elements (channels
    last) or single elements (planes). numpy runs its inner loop once per run,
    at a fixed cost each (about 15 ns, as much as 100 contiguous elements), so
    short runs cost several times a contiguous pass; a copy pays that cost once.
    """
    return win.strides[1] > 1 and (planar(x) or x.shape[3] < _GATHER_BELOW)


def transposes(x, win):
    """Whether elementwise work on the taps of ``win`` over planes ``x`` costs
    less after one copy of ``x`` to NHWC.

    A tap of planes under a horizontal stride is gathered one numpy loop per
    tap row, of OW elements; the transposing copy runs one loop per pixel, of C
    elements, then the channels-last kernels one per tap pixel. With output rows
    under a quarter of the channels (the LeNet CNN's second 2x2 pool: 5 against
    64) the copy wins (1.3x to 1.5x forward and backward); with longer rows (its
    first: 13 against 32) the planes do.
    """
    return planar(x) and gathers(x, win) and 4 * win.out_hw[1] < x.shape[3]


def pad(x, win, value=0, as_planes=None):
    """``x`` (NHWC) padded as ``win`` says, with ``value``; ``x`` itself if no pad.

    The copy is laid out as planes with ``as_planes``, by default where ``x`` is.
    """
    (t, b), (left, r) = win.pads
    if not (t or b or left or r):
        return x
    n, h, w, c = x.shape
    as_planes = planar(x) if as_planes is None else as_planes
    out = empty((n, h + t + b, w + left + r, c), x.dtype, as_planes)
    out.fill(value)
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


def im2col(xp, win, out=None):
    """The windows of a padded NHWC array as one matrix, ``(KH*KW*C, N*OH*OW)``.

    Rows are in tap-major, channel-minor order (the order of a ``(KH, KW, C,
    ...)`` kernel). The matrix is contiguous when ``channel_major(C)``, else the
    transpose of a contiguous ``(N*OH*OW, KH*KW*C)`` (runs of C channels, which
    a planar ``xp`` would gather one by one: give it NHWC); it is written into
    the start of ``out`` (a 1-D array of ``xp``'s dtype, long enough) when given.
    """
    n, _, _, c = xp.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = (
        win.kernel,
        win.strides,
        win.dilation,
        win.out_hw,
    )
    bn, bh, bw, bc = xp.strides
    major = channel_major(c)
    if major:
        shape = (kh, kw, c, n, oh, ow)
        strides = (bh * dh, bw * dw, bc, bn, bh * sh, bw * sw)
    else:
        shape = (n, oh, ow, kh, kw, c)
        strides = (bn, bh * sh, bw * sw, bh * dh, bw * dw, bc)
    view = as_strided(xp, shape, strides, writeable=False)
    if out is None:
        cols = np.ascontiguousarray(view)
    else:
        cols = out[: view.size].reshape(shape)
        np.copyto(cols, view)
    if major:
        return cols.reshape(kh * kw * c, n * oh * ow)
    return cols.reshape(n * oh * ow, kh * kw * c).T


def tap_sum(xp, win):
    """The sum over each window of a padded NHWC array, in its layout."""
    taps = iter(win.taps)
    y = xp[next(taps)].copy(order="K")
    for key in taps:
        y += xp[key]
    return y


def scratch(win, shape, dtype, as_planes=False):
    """A padded NHWC array for disjoint taps to write into: uninitialized when
    the windows cover it all, else zeros."""
    n, _, _, c = shape
    covered = all(o * s == p for o, s, p in zip(win.out_hw, win.strides, win.padded_hw))
    return (empty if covered else zeros)((n, *win.padded_hw, c), dtype, as_planes)


def tap_scatter(parts, win, shape, dtype, as_planes=False):
    """Adds ``parts[t]`` (one output-shaped array per tap) into a zero padded NHWC
    array of ``shape`` (unpadded) at tap ``t``'s places; returns the unpadded part.

    The padded array is laid out as planes with ``as_planes``.
    """
    if win.disjoint:
        xp = scratch(win, shape, dtype, as_planes)
        for key, part in zip(win.taps, parts):
            xp[key] = part
    else:
        xp = zeros((shape[0], *win.padded_hw, shape[3]), dtype, as_planes)
        for key, part in zip(win.taps, parts):
            xp[key] += part
    return crop(xp, win)


def check_rank(op, x, spatial, what="x", layout=None):
    """Raises ValueError unless ``x`` has ``spatial + 2`` axes."""
    layout = layout or ("(N, W, C)", "(N, H, W, C)")[spatial - 1] + " or channels first"
    if x.ndim != spatial + 2:
        raise ValueError(
            f"{op}: {what} must have rank {spatial + 2} {layout}, got shape {x.shape}"
        )


def transposed_size(size, extent, stride, padding, pads):
    """Keras' ``Conv2DTranspose`` output length (``output_padding=None``)."""
    if padding == "valid":
        return size * stride + max(extent - stride, 0)
    if padding == "same":
        return size * stride
    return max((size - 1) * stride + extent - sum(pads), 1)


def output_hw(op, output_shape, n, c_out, data_format):
    """A transposed convolution's ``output_shape``, (H, W) or 4-D, as (H, W)."""
    shape = tuple(int(d) for d in np.asarray(output_shape).reshape(-1))
    if len(shape) == 4:
        full = (n, *shape[1:3], c_out) if data_format == "channels_last" else None
        full = full or (n, c_out, *shape[2:])
        if shape != full:
            raise ValueError(
                f"{op}: output_shape {shape} does not match the batch size {n} "
                f"and the kernel's {c_out} output channels ({data_format})"
            )
        shape = shape[1:3] if data_format == "channels_last" else shape[2:]
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(
            f"{op}: output_shape must be (H, W) or a full 4-D shape of "
            f"positive sizes, got {output_shape!r}"
        )
    return shape
