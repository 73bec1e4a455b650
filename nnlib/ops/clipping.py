"""Clipping: ``clip_by_value``, with gradients to the input and to the bounds,
and ``clip_by_global_norm``, a composition of ops."""

import numpy as np

from . import arithmetic as _arith
from . import math as _math
from . import poly as _poly
from ._dispatch import Tensor, as_tensor, wrap
from .declare import declare
from .reduction import reduce_sum
from .registry import Sample, register

__all__ = ["clip_by_global_norm", "clip_by_value"]


def _clip_samples(rng, python_bounds=False):
    # Inputs in three bands kept 0.3 away from the bounds, where clip has kinks.
    x = rng.uniform(-0.4, 0.4, (3, 4)) + rng.choice([-1.8, 0.0, 1.8], (3, 4))
    if python_bounds:
        return [x], {"clip_value_min": -1.0, "clip_value_max": 1.0}
    return [x, rng.uniform(-1.1, -0.9, (4,)), rng.uniform(0.9, 1.1, (3, 1))], {}


_NUMBERS = (int, float, bool)


def _bound(value, x, name):
    """A bound as a weak Python number or a Tensor of ``x``'s dtype."""
    if type(value) in _NUMBERS:
        return value
    if isinstance(value, Tensor):
        if value.dtype != x.dtype:
            raise TypeError(
                f"clip_by_value: {name} has dtype {value.dtype} but x has "
                f"{x.dtype}; cast it with nnlib.cast"
            )
        bound = value
    else:
        array = np.asarray(value)
        try:
            bound = wrap(array.astype(x.dtype, casting="same_kind", copy=False))
        except TypeError:
            raise TypeError(
                f"clip_by_value: cannot convert {name} of dtype "
                f"{array.dtype} to x's dtype {x.dtype}"
            ) from None
    try:
        fits = np.broadcast_shapes(bound.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"clip_by_value: {name} of shape {bound.shape} does not "
            f"broadcast to x's shape {x.shape}"
        )
    return bound


def _clip_forward(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


CLIP_BY_VALUE = declare("clip_by_value", _clip_forward, broadcasts=True, saves="x")


@CLIP_BY_VALUE.gradient
def _(g):
    x, lo, hi = g.inputs
    below, above = x < lo, x > hi
    inside = _poly.logical_not(below) * _poly.logical_not(above)
    # Python-number bounds (see _bound) get no gradient: no products for them.
    dlo = None if type(lo) in _NUMBERS else g.dy * below
    dhi = None if type(hi) in _NUMBERS else g.dy * above
    return g.dy * inside, dlo, dhi


@register(
    Sample(make=_clip_samples),
    Sample(make=lambda rng: _clip_samples(rng, python_bounds=True)),
    second_order=True,
)
def clip_by_value(x, clip_value_min, clip_value_max):
    """Clips ``x`` elementwise to ``[clip_value_min, clip_value_max]``.

    The gradient passes to ``x`` where it lies within the bounds (ties included,
    as in TensorFlow), and to a bound where that bound was applied.

    Args:
        x: A tensor, array or number.
        clip_value_min: The lower bound: a number, or a tensor or array that
            broadcasts to ``x``'s shape. Must not exceed ``clip_value_max``
            (where it does, the result is ``clip_value_max``).
        clip_value_max: The upper bound, likewise.

    Returns:
        A Tensor of ``x``'s shape (and dtype, unless Python float bounds promote
        an integer ``x`` to float, as in numpy).

    Raises:
        ValueError: If a bound does not broadcast to ``x``'s shape.
        TypeError: If a tensor bound has another dtype than ``x``.

    Examples:
        >>> nnlib.clip_by_value([-2., 0.5, 3.], -1., 1.)
        nnlib.Tensor([-1.   0.5  1. ], shape=(3,), dtype=float32)
    """
    x = as_tensor(x)
    lo = _bound(clip_value_min, x, "clip_value_min")
    hi = _bound(clip_value_max, x, "clip_value_max")
    return CLIP_BY_VALUE(x, lo, hi)


def _is_slices(t):
    """An ``IndexedSlices`` (a sparse gradient), recognized by what it holds."""
    return all(hasattr(t, a) for a in ("values", "indices", "dense_shape"))


@register(
    Sample(shapes=[(3, 4), (5,)], kwargs={"clip_norm": 1.0}),
    Sample(shapes=[(3, 4), (5,)], kwargs={"clip_norm": 100.0}),
    Sample(shapes=[(2, 3)], kwargs={"clip_norm": 0.5}),
    second_order=True,
    takes_list=True,
)
def clip_by_global_norm(t_list, clip_norm, use_norm=None):
    """Scales tensors together so that their joint L2 norm is at most ``clip_norm``.

    As TensorFlow's: with ``global_norm = sqrt(sum(sum(t ** 2) for t in
    t_list))``, each tensor becomes ``t * clip_norm / max(global_norm,
    clip_norm)`` (unchanged when the norm is within the bound). Gradients flow
    through the norm too. None entries stay None; an ``IndexedSlices`` counts
    by its values and comes back as one. A non-finite norm makes every entry
    NaN, as in TensorFlow.

    Args:
        t_list: A list (or tuple) of tensors, arrays, ``IndexedSlices`` or None.
        clip_norm: The largest joint norm, a number > 0.
        use_norm: Optional precomputed global norm to use instead.

    Returns:
        ``(clipped, global_norm)``: the list of scaled tensors, and the joint
        norm before clipping as a scalar Tensor.

    Raises:
        TypeError: If ``t_list`` is not a list or tuple.
        ValueError: If ``clip_norm`` is not a positive number.

    Examples:
        >>> clipped, norm = nnlib.clip_by_global_norm([[3., 0.], [0., 4.]], 1.0)
        >>> norm
        nnlib.Tensor(5., shape=(), dtype=float32)
        >>> clipped[1]
        nnlib.Tensor([0.  0.8], shape=(2,), dtype=float32)
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(
            f"clip_by_global_norm: t_list must be a list or tuple of tensors, got "
            f"{type(t_list).__name__}"
        )
    if isinstance(clip_norm, Tensor):
        clip_norm = float(clip_norm)
    if not (isinstance(clip_norm, (int, float, np.number)) and clip_norm > 0):
        raise ValueError(
            f"clip_by_global_norm: clip_norm must be a number > 0, got {clip_norm!r}"
        )
    parts = [
        None if t is None else as_tensor(t.values if _is_slices(t) else t)
        for t in t_list
    ]
    norm = use_norm
    if norm is None:
        squares = [reduce_sum(_math.square(p)) for p in parts if p is not None]
        total = squares[0] if squares else as_tensor(0.0)
        for square in squares[1:]:
            total = total + square
        norm = _math.sqrt(total)
    norm = as_tensor(norm)
    scale = clip_norm / _arith.maximum(norm, float(clip_norm))
    if not np.isfinite(norm._value).all():  # TensorFlow's rule: all NaN
        scale = scale + float("nan")
    clipped = []
    for t, p in zip(t_list, parts):
        if p is None:
            clipped.append(None)
        elif _is_slices(t):
            clipped.append(type(t)(p * scale, t.indices, t.dense_shape))
        else:
            clipped.append(p * scale)
    return clipped, norm
