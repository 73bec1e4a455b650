"""The three bilinear maps of a convolution on numpy arrays, in batch pieces.

``conv`` is y = x * w; ``conv_input`` and ``conv_kernel`` are its adjoints in x
and w (its gradients): <conv(x, w), dy> = <x, conv_input(dy, w)> = <w,
conv_kernel(x, dy)>. All take NHWC arrays. A depthwise kernel is (KH, KW, C, M):
output channel c*M + m sees input channel c.

Each map knows its scratch per batch item (the padded input and its im2col
matrix, the per-tap products of a gradient) and, where the whole batch's would
pass ``_budget``'s limit, runs over pieces of the batch: written into one output
for ``conv`` and ``conv_input``, summed for ``conv_kernel``. The pieces share one
im2col buffer, so that each does not fault fresh pages in.
"""

import numpy as np

from . import _budget
from ._windows import channel_major, im2col, pad, planar, tap_scatter


def _image_bytes(win, channels, itemsize):
    """One item's padded copy (none when the window does not pad)."""
    if not any(a or b for a, b in win.pads):
        return 0
    return win.padded_hw[0] * win.padded_hw[1] * channels * itemsize


def _cols_size(win, channels):
    """The elements of one item's im2col matrix (and of its per-tap products)."""
    (kh, kw), (oh, ow) = win.kernel, win.out_hw
    return oh * ow * kh * kw * channels


def _depthwise_bytes(win, channels, itemsize):
    """One item's padded (repeated) copy and two output-sized temporaries."""
    (hp, wp), (oh, ow) = win.padded_hw, win.out_hw
    return (hp * wp + 2 * oh * ow) * channels * itemsize


def _buffer(n, step, size, dtype):
    """A buffer for ``step`` items' scratch of ``size`` elements each, or None
    when the batch is one piece."""
    return None if step >= n else np.empty(step * size, dtype)


def _view(buffer, shape):
    return None if buffer is None else buffer[: int(np.prod(shape))].reshape(shape)


def _joined(fn, n, step):
    """``fn(piece, size)`` over the pieces of a batch of ``n``, as one array (one
    call on the whole batch when ``step`` covers it)."""
    if step >= n:
        return fn(slice(None), n)
    out = None
    for s in _budget.pieces(n, step):
        part = fn(s, s.stop - s.start)
        if out is None:
            out = np.empty((n, *part.shape[1:]), part.dtype)
        out[s] = part
    return out


def _summed(fn, n, step):
    """``fn(piece)`` summed over the pieces of a batch of ``n``."""
    if step >= n:
        return fn(slice(None))
    parts = _budget.pieces(n, step)
    total = fn(parts[0])
    for s in parts[1:]:
        total += fn(s)
    return total


def conv(x, w, win, depthwise, keep_cols=False):
    """``x`` (N, H, W, C) convolved with ``w``: (N, OH, OW, C_out).

    With ``keep_cols``, returns ``(y, cols)``: the im2col matrix, which
    ``conv_kernel`` can reuse (None for depthwise kernels and for a batch
    computed in pieces).
    """
    n, c, itemsize = x.shape[0], x.shape[3], x.itemsize
    if depthwise:
        item = _depthwise_bytes(win, c * w.shape[3], itemsize)

        def depthwise_piece(s, _):
            return _depthwise(x[s], w, win)

        y = _joined(depthwise_piece, n, _budget.batch_step(n, item))
        return (y, None) if keep_cols else y
    wm = w.reshape(-1, w.shape[-1])
    size = _cols_size(win, c)
    step = _budget.batch_step(n, size * itemsize + _image_bytes(win, c, itemsize))
    if step >= n:
        cols = _im2col(x, win)
        y = np.dot(cols.T, wm).reshape(n, *win.out_hw, -1)
        return (y, cols) if keep_cols else y
    y = np.empty((n, *win.out_hw, wm.shape[1]), np.result_type(x, w))
    buffer = _buffer(n, step, size, x.dtype)
    for s in _budget.pieces(n, step):
        # Straight into y: a piece of NHWC y is contiguous.
        np.dot(_im2col(x[s], win, buffer).T, wm, out=y[s].reshape(-1, wm.shape[1]))
    return (y, None) if keep_cols else y


def _im2col(x, win, buffer=None):
    """``x``'s im2col; a planar ``x`` with many channels goes NHWC first (one
    transposing copy, or the padding's copy), which costs less than gathering
    its windows' channels one by one."""
    nhwc = planar(x) and not channel_major(x.shape[3])
    xp = pad(x, win, as_planes=False if nhwc else None)
    if nhwc and xp is x:
        xp = np.ascontiguousarray(x)
    return im2col(xp, win, buffer)


def prepared(dy, in_channels):
    """An upstream gradient in a layout that ``conv_input`` and ``conv_kernel``
    both read without a copy: converted once for the two of them."""
    if dy.flags.c_contiguous or dy.transpose(3, 0, 1, 2).flags.c_contiguous:
        return dy
    if channel_major(in_channels):
        if _images(dy) is not None:
            return dy
        if planar(dy):
            return np.ascontiguousarray(dy.transpose(3, 0, 1, 2)).transpose(1, 2, 3, 0)
    return np.ascontiguousarray(dy)


def _images(dy):
    """NHWC-shaped ``dy`` as (N, C, OH*OW) where it lies in memory as NCHW (a
    channels-first gradient from outside), else None."""
    images = dy.transpose(0, 3, 1, 2)
    if dy.flags.c_contiguous or not images.flags.c_contiguous:
        return None
    return images.reshape(*images.shape[:2], -1)


def _by_channel(dy):
    """NHWC-shaped ``dy`` as a (C, N*OH*OW) matrix: a view where ``dy`` is laid
    out (C, N, OH, OW) or NHWC, else a copy, a cheap one for planar layouts
    (whole planes move)."""
    channels = dy.shape[3]
    planes = dy.transpose(3, 0, 1, 2)
    if planes.flags.c_contiguous:
        return planes.reshape(channels, -1)
    if planar(dy):
        return np.ascontiguousarray(planes).reshape(channels, -1)
    # Contiguous: an upstream broadcast (the gradient of a sum) has zero strides,
    # which BLAS cannot take; numpy would fall back to a loop 3x slower.
    return np.ascontiguousarray(dy).reshape(-1, channels).T


def conv_input(dy, w, win, shape, depthwise):
    """The gradient of ``conv`` with respect to its input of ``shape``."""
    n, c, itemsize = shape[0], shape[3], dy.itemsize
    if depthwise:
        item = _depthwise_bytes(win, c * w.shape[3], itemsize)

        def depthwise_piece(s, k):
            return _depthwise_input(dy[s], w, win, (k, *shape[1:]))

        return _joined(depthwise_piece, n, _budget.batch_step(n, item))
    size = _cols_size(win, c)
    dy_bytes = win.out_hw[0] * win.out_hw[1] * dy.shape[3] * itemsize
    item = size * itemsize + _image_bytes(win, c, itemsize) + dy_bytes
    step = _budget.batch_step(n, item)
    buffer = _buffer(n, step, size, np.result_type(dy, w))

    def piece(s, k):
        return _conv_input(dy[s], w, win, (k, *shape[1:]), buffer)

    return _joined(piece, n, step)


def _conv_input(dy, w, win, shape, buffer=None):
    c = shape[3]
    if channel_major(c):  # as im2col: a tap's part is C planes
        wm, images = w.reshape(-1, w.shape[-1]), _images(dy)
        if images is None:
            d2t = _by_channel(dy)
            cols = np.dot(wm, d2t, out=_view(buffer, (wm.shape[0], d2t.shape[1])))
            parts = cols.reshape(-1, c, *dy.shape[:3]).transpose(0, 2, 3, 4, 1)
        else:  # one product per image: (N, KH*KW*C, OH*OW)
            n, oh, ow = dy.shape[:3]
            cols = np.matmul(wm, images, out=_view(buffer, (n, wm.shape[0], oh * ow)))
            parts = cols.reshape(n, -1, c, oh, ow).transpose(1, 0, 3, 4, 2)
        return tap_scatter(parts, win, shape, parts.dtype, planar(dy))
    # One product per tap, so that each part is contiguous: the additions below
    # then run over whole image rows (twice as fast as strided parts). The
    # contiguous copy also takes the zero strides of a broadcast upstream
    # gradient (the gradient of a sum), which BLAS cannot.
    d2 = np.ascontiguousarray(dy).reshape(-1, dy.shape[-1])
    wt = np.ascontiguousarray(w.reshape(-1, c, w.shape[-1]).transpose(0, 2, 1))
    out = _view(buffer, (wt.shape[0], d2.shape[0], c))
    parts = np.matmul(d2, wt, out=out).reshape(-1, *dy.shape[:3], c)
    return tap_scatter(parts, win, shape, parts.dtype)


def conv_kernel(x, dy, win, shape, depthwise, cols=None):
    """The gradient of ``conv`` with respect to its kernel of ``shape``; ``cols``
    is ``x``'s im2col matrix when the caller kept it."""
    n, c, itemsize = x.shape[0], shape[2], x.itemsize
    if depthwise:
        item = _depthwise_bytes(win, c * shape[3], itemsize)

        def depthwise_piece(s):
            return _depthwise_kernel(x[s], dy[s], win, shape)

        return _summed(depthwise_piece, n, _budget.batch_step(n, item))
    if cols is not None:
        return _conv_kernel(dy, shape, cols)
    size = _cols_size(win, c)
    dy_bytes = win.out_hw[0] * win.out_hw[1] * shape[3] * dy.itemsize
    # A channels-first dy with few input channels: a kernel's worth per item.
    dy_bytes += int(np.prod(shape)) * itemsize if channel_major(c) else 0
    item = size * itemsize + _image_bytes(win, c, itemsize) + dy_bytes
    step = _budget.batch_step(n, item)
    buffer = _buffer(n, step, size, x.dtype)

    def piece(s):
        return _conv_kernel(dy[s], shape, _im2col(x[s], win, buffer))

    return _summed(piece, n, step)


def _conv_kernel(dy, shape, cols):
    images = _images(dy) if channel_major(shape[2]) else None
    if images is None:
        return np.dot(cols, _by_channel(dy).T).reshape(shape)
    # One product per image, summed: (KH*KW*C, C_out) each, small for few C.
    per_image = cols.reshape(cols.shape[0], images.shape[0], -1).transpose(1, 0, 2)
    return np.matmul(per_image, images.transpose(0, 2, 1)).sum(axis=0).reshape(shape)


# Depthwise kernels: a depth multiplier M > 1 repeats each input channel M times
# (channel c*M + m is channel c), leaving one filter per channel. Stride-1 taps
# are viewed as (N, OH, OW*C) rows, so that products with the per-channel
# weights (tiled along the row) run over whole rows instead of runs of C. Planar
# operands go NHWC first: one transposing copy costs less than products over
# the short rows of small images' planes (4x slower on 13x13 planes).


def _nhwc(a):
    return np.ascontiguousarray(a) if planar(a) else a


def _rows(win, n, channels):
    oh, ow = win.out_hw
    return (n, oh, ow * channels) if win.strides[1] == 1 else (n, oh, ow, channels)


def _repeated(x, m, win):
    return pad(np.repeat(x, m, axis=3) if m > 1 else x, win)


def _depthwise(x, w, win):
    kh, kw, c, m = w.shape
    xp, rows = _repeated(_nhwc(x), m, win), _rows(win, x.shape[0], c * m)
    reps = rows[2] // (c * m) if len(rows) == 3 else 1
    taps = iter(zip(win.taps, np.tile(w.reshape(kh * kw, c * m), (1, reps))))
    key, wt = next(taps)
    y = xp[key].reshape(rows) * wt
    tmp = np.empty_like(y)
    for key, wt in taps:
        y += np.multiply(xp[key].reshape(rows), wt, out=tmp)
    return y.reshape(x.shape[0], *win.out_hw, c * m)


def _depthwise_input(dy, w, win, shape):
    kh, kw, c, m = w.shape
    rows = _rows(win, shape[0], c * m)
    reps = rows[2] // (c * m) if len(rows) == 3 else 1
    d = _nhwc(dy).reshape(rows)
    tmp = np.empty(rows, np.result_type(dy, w))  # one buffer: each part is used at once
    parts = (
        np.multiply(d, wt, out=tmp).reshape(dy.shape)
        for wt in np.tile(w.reshape(kh * kw, c * m), (1, reps))
    )
    dx = tap_scatter(parts, win, (*shape[:3], c * m), tmp.dtype)
    return dx if m == 1 else sum(dx[..., k::m] for k in range(m))


def _depthwise_kernel(x, dy, win, shape):
    c, m = shape[2:]
    xp, rows = _repeated(_nhwc(x), m, win), _rows(win, x.shape[0], c * m)
    d = _nhwc(dy).reshape(rows)
    tmp = np.empty(rows, np.result_type(x, dy))
    # Sums over pixels as a product with ones: BLAS, several times np.add.reduce.
    ones = np.ones(tmp.size // (c * m), tmp.dtype)
    dw = [
        np.dot(ones, np.multiply(xp[key].reshape(rows), d, out=tmp).reshape(-1, c * m))
        for key in win.taps
    ]
    return np.stack(dw).reshape(shape)
