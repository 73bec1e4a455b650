"""Normalization: moments, batch normalization (composed and fused), layer norm.

``batch_normalization`` and ``moments`` are compositions (TensorFlow's
``tf.nn`` functions), so gradients reach every argument, the moments included.
``fused_batch_norm`` and ``layer_normalization`` are fused: one numpy forward
and the closed-form backward ``dx = rstd * (u - mean(u) - xhat * mean(u * xhat))``
(``u`` the gradient reaching ``xhat``), differentiable again to any order. What
their rules share (and the array fast path's layouts) is in ``_normalize.py``.
"""

import numpy as np

from ..engine.tensor import to_array
from . import _normalize as _norm
from . import math as _math
from . import poly as _poly
from ._dispatch import Tensor, as_tensor, wrap
from .declare import declare
from .reduction import kept_shape, normalize_axes, reduce_mean
from .registry import Sample, register
from .shape import reshape

__all__ = [
    "batch_normalization",
    "fused_batch_norm",
    "layer_normalization",
    "moments",
]


def _float_input(x, op):
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: x must be floating point, got {x.dtype}")
    return x


def _like(p, x, name, op):
    """``p`` as a Tensor of ``x``'s dtype: arrays and numbers are converted, a
    Tensor of another dtype is an error (a silent cast would hide a gradient's dtype).
    """
    if p is None:
        return None
    if not isinstance(p, Tensor):
        return wrap(to_array(p, x.dtype))
    if p.dtype != x.dtype:
        raise TypeError(
            f"{op}: {name} has dtype {p.dtype} but x has {x.dtype}; "
            "cast it with nnlib.cast"
        )
    return p


def _param(p, x, name, op, shape, kept, axes):
    """``scale`` or ``offset``: a Tensor of ``shape`` or of the broadcastable ``kept``."""
    p = _like(p, x, name, op)
    if p is not None and p.shape not in (shape, kept):
        raise ValueError(
            f"{op}: {name} must have shape {shape} (or {kept}) for x of shape "
            f"{x.shape} normalized over axes {axes}, got {p.shape}"
        )
    return p


def _bn_samples(shape, stats, params, **kwargs):
    def make(rng):
        args = [rng.uniform(-2, 2, shape), rng.uniform(-1, 1, stats)]
        args.append(rng.uniform(0.5, 2.0, stats))
        args += [None if p is None else rng.uniform(0.5, 2.0, p) for p in params]
        return args, {"variance_epsilon": 1e-3, **kwargs}

    return Sample(make=make)


@register(
    _bn_samples((2, 3, 4), (4,), [(4,), (4,)]),
    _bn_samples((2, 3, 2), (1, 3, 1), [None, None]),
    _bn_samples((3, 4), (3, 1), [(4,), (1, 4)]),
    second_order=True,
)
def batch_normalization(x, mean, variance, offset, scale, variance_epsilon=1e-3):
    """Normalizes ``x`` with given moments: ``(x - mean) * rsqrt(variance + eps)
    * scale + offset``, as ``tf.nn.batch_normalization``.

    A composition of nnlib ops, so gradients reach all five tensors (to any
    order), in particular the moments when they were computed from ``x``.

    Args:
        x: A floating-point tensor.
        mean: Tensor broadcastable to ``x``'s shape (a channel vector, or
            ``moments(..., keepdims=True)``).
        variance: Tensor broadcastable to ``x``'s shape.
        offset: Tensor broadcastable to ``x``'s shape (beta), or None.
        scale: Tensor broadcastable to ``x``'s shape (gamma), or None.
        variance_epsilon: Small float added to the variance.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Raises:
        TypeError: If ``x`` is not floating point, or a tensor argument has
            another dtype than ``x`` (arrays and numbers are converted).
        ValueError: If an argument does not broadcast to ``x``'s shape.

    Examples:
        >>> nnlib.batch_normalization([[1., 2.], [3., 6.]], mean=[2., 4.],
        ...     variance=[1., 4.], offset=[0., 1.], scale=None, variance_epsilon=0.)
        nnlib.Tensor([[-1.  0.]
                      [ 1.  2.]], shape=(2, 2), dtype=float32)
    """
    op = "batch_normalization"
    x = _float_input(x, op)
    named = {"mean": mean, "variance": variance, "offset": offset, "scale": scale}
    for name, p in named.items():
        p = named[name] = _like(p, x, name, op)
        if p is not None and _broadcast(p.shape, x.shape) != x.shape:
            raise ValueError(
                f"{op}: {name} of shape {p.shape} does not broadcast to x's "
                f"shape {x.shape}"
            )
    inv = _math.rsqrt(named["variance"] + float(variance_epsilon))
    if scale is not None:
        inv = inv * named["scale"]
    shift = -named["mean"] * inv
    if offset is not None:
        shift = named["offset"] + shift
    return x * inv + shift


def _broadcast(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


@register(
    Sample(shapes=[(3, 4)], kwargs={"axes": 0}),
    Sample(shapes=[(2, 3, 4)], kwargs={"axes": (0, 2), "keepdims": True}),
    second_order=True,
)
def moments(x, axes, keepdims=False):
    """The mean and population variance of ``x`` over ``axes``, like ``tf.nn.moments``.

    A composition (``variance = mean((x - mean) ** 2)``): gradients flow through
    both results, to any order.

    Args:
        x: A floating-point tensor.
        axes: An int or tuple of ints (negative counts from the end).
        keepdims: Keep the reduced axes with length 1.

    Returns:
        A tuple ``(mean, variance)`` of Tensors of ``x``'s dtype.

    Raises:
        TypeError: If ``x`` is not floating point.
        ValueError: If an axis is out of range or repeated.

    Examples:
        >>> mean, variance = nnlib.moments([[1., 2.], [3., 6.]], axes=0)
        >>> mean
        nnlib.Tensor([2. 4.], shape=(2,), dtype=float32)
        >>> variance
        nnlib.Tensor([1. 4.], shape=(2,), dtype=float32)
    """
    x = _float_input(x, "moments")
    axes = normalize_axes(axes, x.ndim, "moments")
    mean = reduce_mean(x, axes, keepdims=True)
    variance = reduce_mean(_math.square(x - mean), axes, keepdims=keepdims)
    return (mean if keepdims else reshape(mean, variance.shape)), variance


def _fbn_forward(x, scale, offset, axes, epsilon):
    lay = _norm.layout(x.shape, axes)
    xhat, mean, var, rstd = _norm.moments_normalize(
        lay.view(x), lay, _norm.count(x.shape, axes), epsilon
    )
    g = None if scale is None else lay.param(scale)
    b = None if offset is None else lay.param(offset)
    y = lay.unview(_norm.affine(xhat, g, b))
    return y, lay.stat(mean, lay.stats), lay.stat(var, lay.stats), xhat, rstd


# ``(y, mean, var)``, then hidden ``(xhat, rstd)`` in ``_norm.layout``'s view.
FUSED_BATCH_NORM = declare(
    "fused_batch_norm", _fbn_forward, outputs=3, hidden=2, saves="x", prunes=True
)


@FUSED_BATCH_NORM.gradient
def _(g):
    (x, scale, offset), (dy, dmean, dvar) = g.inputs, g.dy
    axes, eps = g.attrs["axes"], g.attrs["epsilon"]
    at, xh, rs = _norm.in_mode(dy, x, axes, eps, True, g.outputs[3:])
    gg = None if scale is None else at.param(scale)
    dy = at.view(dy)
    s1, s2 = at.sum(dy), at.sum(dy * xh)
    dx = None
    if g.needs[0]:
        a, t1, t2 = (rs, s1, s2) if gg is None else (gg * rs, gg * s1, gg * s2)
        dmean, dvar = _norm.live(dmean, at), _norm.live(dvar, at)
        n = _norm.count(x.shape, axes)
        dx = at.unview(_norm.input_gradient(dy, a, xh, rs, t1, t2, n, dmean, dvar))
    dscale = None if scale is None else at.stat(s2, scale.shape)
    doffset = None if offset is None else at.stat(s1, offset.shape)
    return dx, dscale, doffset


def _fbn_sample(shape, axes, params):
    def make(rng):
        args = [rng.uniform(-2, 2, shape)]
        args += [None if p is None else rng.uniform(0.5, 2.0, p) for p in params]
        return args, {"axes": axes, "epsilon": 1e-3}

    return Sample(make=make)


@register(
    _fbn_sample((4, 2, 3), (0, 1), [(3,), (3,)]),
    _fbn_sample((3, 2, 3), (0, 2), [(1, 2, 1), None]),
    _fbn_sample((2, 3, 2), (0, 1, 2), [(), ()]),
    second_order=True,
)
def fused_batch_norm(x, scale, offset, axes, epsilon=1e-3):
    """Batch normalization in training mode: batch moments over ``axes`` and the
    normalization in one op, with the closed-form gradient.

    ``y = (x - mean) * rsqrt(var + epsilon) * scale + offset``, where ``mean`` and
    ``var`` (population variance, divided by the count) are taken over ``axes``.
    It equals ``batch_normalization(x, *moments(x, axes), offset,
    scale, epsilon)`` and is several times faster.

    Args:
        x: A floating-point tensor, e.g. ``(batch, height, width, channels)``.
        scale: Gamma, of ``x``'s shape without ``axes`` (``(channels,)`` above) or
            that shape with ``axes`` kept as 1; or None.
        offset: Beta, shaped like ``scale``; or None.
        axes: The axes to take statistics over (``(0, 1, 2)`` above).
        epsilon: Small float added to the variance.

    Returns:
        A tuple ``(y, batch_mean, batch_variance)``: ``y`` of ``x``'s shape, the
        moments of ``x``'s shape without ``axes``. ``batch_variance`` divides by the
        count ``n``; a moving variance as PyTorch keeps it needs ``n / (n - 1)``
        times it. Gradients flow through all three.

    Raises:
        TypeError: If ``x`` is not floating point or a tensor argument has another
            dtype than ``x``.
        ValueError: If ``scale`` or ``offset`` has the wrong shape (both shapes
            are named), or an axis is out of range.

    Examples:
        >>> y, mean, var = nnlib.fused_batch_norm([[1., 2.], [3., 6.]], [1., 2.],
        ...     [0., 1.], axes=0, epsilon=0.)
        >>> y
        nnlib.Tensor([[-1. -1.]
                      [ 1.  3.]], shape=(2, 2), dtype=float32)
        >>> var
        nnlib.Tensor([1. 4.], shape=(2,), dtype=float32)
    """
    op = "fused_batch_norm"
    x = _float_input(x, op)
    axes = normalize_axes(axes, x.ndim, op)
    kept = kept_shape(x.shape, axes)
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    scale = _param(scale, x, "scale", op, shape, kept, axes)
    offset = _param(offset, x, "offset", op, shape, kept, axes)
    return FUSED_BATCH_NORM(x, scale, offset, axes=axes, epsilon=float(epsilon))


def _ln_forward(x, scale, offset, axes, epsilon):
    lay = _norm.layout(x.shape, axes, False)
    pkept = lay.over_axes
    xhat, _, _, rstd = _norm.moments_normalize(
        x, lay, _norm.count(x.shape, axes), epsilon
    )
    g = None if scale is None else scale.reshape(pkept)
    b = None if offset is None else offset.reshape(pkept)
    return _norm.affine(xhat, g, b), xhat, rstd


# ``y``, then hidden ``(xhat, rstd)`` (``x``'s shape, kept statistics).
LAYER_NORMALIZATION = declare(
    "layer_normalization", _ln_forward, hidden=2, saves="x", prunes=True
)


@LAYER_NORMALIZATION.gradient
def _(g):
    (x, scale, offset), dy = g.inputs, g.dy
    axes, eps = g.attrs["axes"], g.attrs["epsilon"]
    need_x, need_scale, need_offset = g.needs
    at, xh, rs = _norm.in_mode(dy, x, axes, eps, False, g.outputs[1:])
    lay = _norm.layout(x.shape, axes, False)
    pkept, others = lay.over_axes, lay.others
    dx = dscale = doffset = None
    if need_x:
        u = dy if scale is None else dy * _poly.reshape(scale, pkept)
        n = _norm.count(x.shape, axes)
        dx = _norm.input_gradient(u, rs, xh, rs, at.sum(u), at.sum(u * xh), n)
    if need_scale:
        dscale = _norm.param_sum(dy * xh, others, pkept, scale.shape)
    if need_offset:
        doffset = _norm.param_sum(dy, others, pkept, offset.shape)
    return dx, dscale, doffset


def _ln_sample(shape, axis, params):
    def make(rng):
        args = [rng.uniform(-2, 2, shape)]
        args += [None if p is None else rng.uniform(0.5, 2.0, p) for p in params]
        return args, {"axis": axis, "epsilon": 1e-3}

    return Sample(make=make)


@register(
    _ln_sample((3, 4), -1, [(4,), (4,)]),
    _ln_sample((2, 3, 2), (1, 2), [(3, 2), None]),
    _ln_sample((2, 3, 4), 1, [(3,), (1, 3, 1)]),
    second_order=True,
)
def layer_normalization(x, scale, offset, axis=-1, epsilon=1e-3):
    """Normalizes each example over ``axis``, then scales and shifts (Keras's
    ``LayerNormalization``): ``(x - mean) * rsqrt(var + epsilon) * scale + offset``
    with ``mean`` and ``var`` taken over ``axis`` for every other index.

    A fused op: one numpy forward and the closed-form gradient.

    Args:
        x: A floating-point tensor.
        scale: Gamma, of shape ``[x.shape[a] for a in axis]`` or ``x``'s shape with
            the other axes as 1; or None.
        offset: Beta, shaped like ``scale``; or None.
        axis: The int or tuple of ints normalized over (negative counts from the
            end).
        epsilon: Small float added to the variance (Keras's default 1e-3).

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Raises:
        TypeError: If ``x`` is not floating point or a tensor argument has another
            dtype than ``x``.
        ValueError: If ``scale`` or ``offset`` has the wrong shape (both shapes
            are named), or an axis is out of range.

    Examples:
        >>> nnlib.layer_normalization([[1., 3.], [2., 6.]], [1., 2.], [0., 1.],
        ...     epsilon=0.)
        nnlib.Tensor([[-1.  3.]
                      [-1.  3.]], shape=(2, 2), dtype=float32)
    """
    op = "layer_normalization"
    x = _float_input(x, op)
    axes = normalize_axes(axis, x.ndim, op)
    pkept = tuple(d if i in axes else 1 for i, d in enumerate(x.shape))
    shape = tuple(x.shape[a] for a in axes)
    scale = _param(scale, x, "scale", op, shape, pkept, axes)
    offset = _param(offset, x, "offset", op, shape, pkept, axes)
    return LAYER_NORMALIZATION(x, scale, offset, axes=axes, epsilon=float(epsilon))
