"""The fused normalizations' machinery: statistics, layouts, the closed-form rule.

``nnlib.ops.normalization`` declares the ops; this module holds what their
forward and gradient rules share. A rule receives the upstream gradient as a
Tensor (an outer tape records: higher orders) or as an array (the first-order
fast path). In Tensor mode it sees ``x`` through ``Kept`` and computes the
statistics from ``x`` again with ``normalize_moments``, recorded; in array mode
it reads the forward's hidden outputs in the op's ``layout``: sums there are
matrix-vector products and channels-last data is tiled (``Tiled``), which numpy
broadcasts over faster.
"""

import functools

import numpy as np

from . import math as _math
from . import poly as _poly
from ._dispatch import Tensor
from .declare import declare
from .reduction import kept_shape


@functools.lru_cache(maxsize=256)
def count(shape, axes):
    """The number of elements each statistic is taken over."""
    n = 1
    for a in axes:
        n *= shape[a]
    return n


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def array_sum(v, axes, kept):
    """``np.sum(v, axes)`` reshaped to ``kept``; over leading and/or trailing axes
    of a contiguous array (or of a transposed view of one: channels-first data
    laid out channels last) it is matrix-vector products, 2 to 9 times faster
    than numpy's reduction (which walks short rows one at a time)."""
    k = len(axes)
    if not (k and k < v.ndim):
        return np.add.reduce(v, axis=axes).reshape(kept)
    if not v.flags.c_contiguous:
        order = sorted(range(v.ndim), key=lambda i: -v.strides[i])
        others = [a for a in order if a not in axes]
        if others == sorted(others) and v.transpose(order).flags.c_contiguous:
            moved = tuple(sorted(order.index(a) for a in axes))
            return array_sum(v.transpose(order), moved, kept)
        return np.add.reduce(v, axis=axes).reshape(kept)
    first = next(i for i in range(v.ndim) if i not in axes)
    end = first
    while end < v.ndim and end not in axes:
        end += 1
    if axes != (*range(first), *range(end, v.ndim)):
        return np.add.reduce(v, axis=axes).reshape(kept)
    rows, cols = count(v.shape, tuple(range(first))), count(v.shape, axes[first:])
    m = v.reshape(rows, -1)
    if cols > 1:
        m = np.dot(v.reshape(-1, cols), _ones(cols, v.dtype)).reshape(rows, -1)
    if rows > 1:
        m = np.dot(_ones(rows, v.dtype), m)
    return m.reshape(kept)


class Kept:
    """How a rule sees ``x`` and its statistics: ``x``'s own shape, statistics with
    the reduced axes kept as 1. Works on Tensors and arrays."""

    def __init__(self, shape, axes):
        self.axes, self.kept = axes, kept_shape(shape, axes)
        self.stats = tuple(d for i, d in enumerate(shape) if i not in axes)
        # A layer-norm parameter (over ``axes``) broadcast against ``x``, and
        # the axes its gradient sums over.
        self.over_axes = tuple(d if i in axes else 1 for i, d in enumerate(shape))
        self.others = tuple(i for i in range(len(shape)) if i not in axes)

    def view(self, v):
        return v

    unview = view

    def sum(self, v):
        if isinstance(v, Tensor):
            return _poly.reduce_sum(v, self.axes, keepdims=True)
        return array_sum(v, self.axes, self.kept)

    def param(self, p):
        """A vector over the statistics (a channel's gamma, its moments) as stats."""
        return _poly.reshape(p, self.kept)

    def stat(self, s, shape):
        return _poly.reshape(s, shape)


class Tiled:
    """Arrays only: a layout for statistics over the leading axes (channels last).

    ``x`` is seen as rows of ``t`` consecutive channel vectors, statistics as the
    channel vector tiled ``t`` times. Sums over rows are a matrix-vector product
    (about 9x faster than numpy's reduction over leading axes), and numpy
    broadcasts a long vector over a few rows about 35% faster than a short one
    over many rows.
    """

    def __init__(self, shape, axes):
        lead = len(axes)
        rows, self.c = int(np.prod(shape[:lead])), int(np.prod(shape[lead:]))
        most = max(1, 8192 // max(self.c, 1))  # elements per row: enough to win
        self.t = max(t for t in range(1, most + 1) if rows % t == 0)
        self.shape, self.rows = shape, (rows // self.t, self.t * self.c)
        self.stats = shape[lead:]

    def view(self, v):
        return np.reshape(v, self.rows)

    def unview(self, v):
        return np.reshape(v, self.shape)

    def sum(self, v):
        total = np.dot(_ones(v.shape[0], v.dtype), v)
        if self.t == 1:
            return total
        return _tile(np.add.reduce(total.reshape(self.t, self.c), axis=0), self.t)

    def param(self, p):
        return _tile(p, self.t)

    def stat(self, s, shape):
        return np.reshape(s[: self.c], shape)


def _tile(v, t):
    """``np.tile(np.ravel(v), t)`` without its Python overhead (a few times its
    cost on channel vectors)."""
    out = np.empty((t, v.size), v.dtype)
    out[...] = v.reshape(-1)
    return out.reshape(-1)


@functools.lru_cache(maxsize=256)
def layout(shape, axes, tiled=True):
    """The layout of the array fast path: ``Tiled`` when the axes lead (and
    ``tiled``), else ``Kept``."""
    if tiled and axes == tuple(range(len(axes))):
        return Tiled(shape, axes)
    return Kept(shape, axes)


def moments_normalize(xv, lay, n, eps):
    """``xhat, mean, var, rstd`` of an array (viewed in ``lay``'s layout)."""
    mean = lay.sum(xv) / n
    xhat = xv - mean
    var = lay.sum(xhat * xhat) / n
    rstd = _math._rsqrt(var + eps)
    xhat *= rstd
    return xhat, mean, var, rstd


def affine(xhat, g, b):
    y = xhat if g is None else xhat * g
    if b is None:
        return y
    return y + b if y is xhat else np.add(y, b, out=y)


def input_gradient(v, a, xhat, rstd, s1, s2, n, dmean=None, dvar=None):
    """The gradient reaching ``x`` through ``xhat = (x - mean) * rstd``.

    ``u = v * a / rstd`` is the gradient reaching ``xhat``, ``s1`` and ``s2`` are
    ``sum(u)`` and ``sum(u * xhat)`` over the axes (kept); ``dmean`` and ``dvar``
    are the gradients reaching the moments themselves. Works in both modes.
    """
    b = rstd * s2 * (-1.0 / n)
    c = rstd * s1 * (-1.0 / n)
    if dvar is not None:  # d var / dx = 2 (x - mean) / n = 2 xhat / (n rstd)
        b = b + dvar * (2.0 / n) / rstd
    if dmean is not None:
        c = c + dmean * (1.0 / n)
    return v * a + xhat * b + c


def live(d, lay):
    """An upstream gradient of a moment in ``lay``; None when the tape filled zeros.

    Only arrays are dropped when zero: a zero Tensor may still depend on
    something an outer tape differentiates.
    """
    if d is None or (not isinstance(d, Tensor) and not d.any()):
        return None
    return lay.param(d)


def _moments_forward(x, axes, epsilon, tiled):
    lay = layout(x.shape, axes, tiled)
    xhat, mean, var, rstd = moments_normalize(
        lay.view(x), lay, count(x.shape, axes), epsilon
    )
    stats = kept_shape(x.shape, axes)
    return lay.unview(xhat), lay.stat(mean, stats), lay.stat(var, stats), xhat, rstd


# ``(xhat, mean, var)`` of ``x`` (its shape, kept statistics), then hidden
# ``(xhat, rstd)`` in the layout: ``tiled`` when the forward that uses it ran in
# ``layout``'s (``fused_batch_norm``), else ``Kept`` (``layer_normalization``).
NORMALIZE_MOMENTS = declare(
    "normalize_moments", _moments_forward, outputs=3, hidden=2, saves="x"
)


@NORMALIZE_MOMENTS.gradient
def _(g):
    (du, dmean, dvar), x = g.dy, g.inputs[0]
    axes, eps, tiled = g.attrs["axes"], g.attrs["epsilon"], g.attrs["tiled"]
    at, xh, rs = in_mode(du, x, axes, eps, tiled, g.outputs[3:])
    du = at.view(du)
    s1, s2 = at.sum(du), at.sum(du * xh)
    n = count(x.shape, axes)
    dx = input_gradient(du, rs, xh, rs, s1, s2, n, live(dmean, at), live(dvar, at))
    return (at.unview(dx),)


def in_mode(dy, x, axes, eps, tiled, hidden):
    """The layout, ``xhat`` and ``rstd`` in the mode of ``dy``: the forward's
    ``hidden`` arrays, or Tensors connected to ``x`` by ``normalize_moments``
    (the forward again), so that an outer tape sees how they depend on ``x``."""
    if not isinstance(dy, Tensor):
        return layout(x.shape, axes, tiled), hidden[0], hidden[1]
    xhat, _, var = NORMALIZE_MOMENTS(x, axes=axes, epsilon=eps, tiled=tiled)
    return layout(x.shape, axes, False), xhat, _math.rsqrt(var + eps)


def param_sum(v, axes, kept, shape):
    """A layer-norm parameter's gradient: ``v`` summed over the other ``axes``."""
    if isinstance(v, Tensor):
        return _poly.reshape(_poly.sum_to_shape(v, kept), shape)
    return array_sum(v, axes, kept).reshape(shape)
