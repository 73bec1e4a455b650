"""Reductions over axes: sums, means, extrema, products, statistics.

Scans and index-valued reductions (cumsum, argmax, reduce_any) are in ``scan.py``.

Every reduction takes ``axis`` (an int, a tuple of ints, or None for all axes;
negative axes count from the end) and ``keepdims``. Derived reductions (mean,
variance, std) are compositions and need no gradient rule of their own.
"""

import numpy as np

from . import arithmetic as _arith
from . import math as _math
from . import poly as _poly
from . import shape as _shape
from ._dispatch import ACTIVE, as_tensor, record, wrap
from .registry import Sample, register

__all__ = [
    "reduce_logsumexp",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_prod",
    "reduce_std",
    "reduce_sum",
    "reduce_variance",
    "sum_to_shape",
]

_SAMPLES = (
    Sample(shapes=[(3, 4)]),
    Sample(shapes=[(2, 3, 4)], kwargs={"axis": (0, 2)}),
    Sample(shapes=[(3, 4)], kwargs={"axis": -1, "keepdims": True}),
)


def normalize_axes(axis, ndim, op):
    """Returns ``axis`` as a sorted tuple of non-negative ints (all axes for None).

    A scalar accepts axis 0 or -1 (and reduces over nothing), as a one-element
    vector would.

    Raises:
        ValueError: Naming ``op`` when an axis is out of range or repeated.
        TypeError: Naming ``op`` when an axis is not an int.
    """
    if axis is None:
        return tuple(range(ndim))
    rank = max(ndim, 1)
    if isinstance(axis, (int, np.integer)):
        if ndim and -rank <= axis < rank:
            return (int(axis) % rank,)
        axes = (axis,)
    elif isinstance(axis, (tuple, list, np.ndarray)):
        axes = axis
    else:
        raise TypeError(
            f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}"
        )
    result = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(
                f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}"
            )
        if not -rank <= a < rank:
            raise ValueError(
                f"{op}: axis {a} is out of range for a tensor of rank {ndim}"
            )
        result.append(int(a) % rank)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result)) if ndim else ()


def kept_shape(shape, axes):
    """The shape a reduction over ``axes`` has with ``keepdims=True``."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _expand(dy, shape, axes):
    """Broadcasts a reduction's upstream gradient back to the input's shape.

    Works on Tensors and on numpy arrays (see ``nnlib.ops.poly``).
    """
    if len(axes) < len(shape):  # a full reduction's 0-d dy broadcasts as it is
        dy = _poly.reshape(dy, kept_shape(shape, axes))
    return _poly.broadcast_to(dy, shape)


@register(*_SAMPLES, second_order=True)
def reduce_sum(x, axis=None, keepdims=False):
    """Sums the elements of ``x`` over ``axis``.

    Args:
        x: A tensor, array or number.
        axis: An int, a tuple of ints, or None for all axes. Negative axes count
            from the end.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A Tensor of ``x``'s dtype (small integers and bools sum as int64).

    Raises:
        ValueError: If an axis is out of range.

    Example:
        >>> nnlib.reduce_sum([[1., 2.], [3., 4.]], axis=0)
        nnlib.Tensor([4. 6.], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    value = x._value
    # The ufunc's reduce skips np.sum's Python wrapper: about half the cost on 8x8.
    if axis is None:
        axes = tuple(range(value.ndim))
        y = wrap(np.add.reduce(value, axis=None, keepdims=keepdims))
    else:
        axes = normalize_axes(axis, value.ndim, "reduce_sum")
        y = wrap(np.add.reduce(value, axis=axes, keepdims=keepdims))
    if ACTIVE:
        x_shape = value.shape
        record(
            "reduce_sum", (x,), y, lambda dy: (_expand(dy, x_shape, axes),), raw=True
        )
    return y


@register(*_SAMPLES, second_order=True)
def reduce_mean(x, axis=None, keepdims=False):
    """Averages the elements of ``x`` over ``axis`` (``reduce_sum / count``).

    Args:
        x: A tensor, array or number; integers average as float64, like numpy.
        axis: An int, a tuple of ints, or None for all axes.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A Tensor.

    Raises:
        ValueError: If an axis is out of range.

    Example:
        >>> nnlib.reduce_mean([[1., 2.], [3., 5.]], axis=-1)
        nnlib.Tensor([1.5 4. ], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "reduce_mean")
    count = 1
    for a in axes:
        count *= x.shape[a]
    return reduce_sum(x, axes, keepdims) / count


def _extremum(ufunc, name, x, axis, keepdims):
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, name)
    xv = x._value
    try:
        y = wrap(ufunc.reduce(xv, axis=axes, keepdims=keepdims))
    except ValueError:
        raise ValueError(
            f"{name}: cannot reduce a tensor of shape {x.shape} over "
            f"axes {axes}: a reduced slice is empty"
        ) from None
    if ACTIVE:
        kept = kept_shape(xv.shape, axes)

        def backward(dy):
            # Ties share the gradient equally (TensorFlow's rule); the share is
            # piecewise constant in x, so it can stay a constant.
            hit = (xv == np.reshape(y._value, kept)).astype(xv.dtype)
            share = hit / np.add.reduce(hit, axis=axes, keepdims=True)
            return (_shape.reshape(dy, kept) * wrap(share),)

        record(name, (x,), y, backward)
    return y


@register(*_SAMPLES, second_order=True)
def reduce_max(x, axis=None, keepdims=False):
    """The largest element of ``x`` over ``axis``.

    The gradient is split evenly among tied maxima, as in TensorFlow.

    Args:
        x: A tensor, array or number.
        axis: An int, a tuple of ints, or None for all axes.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A Tensor of ``x``'s dtype.

    Raises:
        ValueError: If an axis is out of range or a reduced slice is empty.

    Example:
        >>> nnlib.reduce_max([[1., 5.], [3., 2.]], axis=1)
        nnlib.Tensor([5. 3.], shape=(2,), dtype=float32)
    """
    return _extremum(np.maximum, "reduce_max", x, axis, keepdims)


@register(*_SAMPLES, second_order=True)
def reduce_min(x, axis=None, keepdims=False):
    """The smallest element of ``x`` over ``axis``; ties share the gradient evenly.

    Args and errors are those of ``reduce_max``.

    Example:
        >>> nnlib.reduce_min([[1., 5.], [3., 2.]], axis=0)
        nnlib.Tensor([1. 2.], shape=(2,), dtype=float32)
    """
    return _extremum(np.minimum, "reduce_min", x, axis, keepdims)


def _prod_samples(rng):
    x = rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))
    x[0, 1] = 0.0  # one zero in a row: only that element gets a gradient
    x[1, 0] = x[1, 3] = 0.0  # two zeros: every gradient in the row is 0
    return [x], {"axis": 1}


@register(*_SAMPLES, Sample(make=_prod_samples), second_order=True)
def reduce_prod(x, axis=None, keepdims=False):
    """Multiplies the elements of ``x`` over ``axis``.

    The gradient of each element is the product of the others (never ``y / x``),
    so it is exact when ``x`` holds zeros.

    Args:
        x: A tensor, array or number.
        axis: An int, a tuple of ints, or None for all axes.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A Tensor of ``x``'s dtype.

    Raises:
        ValueError: If an axis is out of range.

    Example:
        >>> nnlib.reduce_prod([[1., 2.], [3., 0.]], axis=1)
        nnlib.Tensor([2. 0.], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "reduce_prod")
    y = wrap(np.multiply.reduce(x._value, axis=axes, keepdims=keepdims))
    if ACTIVE:
        kept = kept_shape(x.shape, axes)

        def backward(dy):
            return (_shape.reshape(dy, kept) * _others_along(x, axes),)

        record("reduce_prod", (x,), y, backward)
    return y


def _others_along(x, axes):
    """For each element, the product of the other elements of its reduced slice."""
    keep = [i for i in range(x.ndim) if i not in axes]
    perm = keep + list(axes)
    moved = _shape.transpose(x, perm) if perm != sorted(perm) else x
    count = int(np.prod([x.shape[a] for a in axes]))
    others = _prod_of_others(_shape.reshape(moved, moved.shape[: len(keep)] + (count,)))
    others = _shape.reshape(others, moved.shape)
    return _shape.transpose(others, np.argsort(perm)) if moved is not x else others


def _others_sample(rng):
    x = rng.uniform(0.5, 1.5, (2, 4))
    x[0, 2] = 0.0
    return [x], {}


@register(
    Sample(shapes=[(2, 3)]),
    Sample(make=_others_sample),
    second_order=True,
    name="_prod_of_others",
)
def _prod_of_others(x):
    """``out[..., j] = prod(x[..., k] for k != j)``, by exclusive cumprods."""
    xv = x._value
    n = xv.shape[-1]
    if n == 0:
        y = wrap(xv.copy())
    else:
        ones = np.ones(xv.shape[:-1] + (1,), xv.dtype)
        left = np.cumprod(np.concatenate((ones, xv[..., :-1]), -1), -1)
        right = np.cumprod(np.concatenate((ones, xv[..., :0:-1]), -1), -1)[..., ::-1]
        y = wrap(left * right)
    if ACTIVE:

        def backward(dy):
            # d out_i / d x_j = product of all but x_i and x_j: the products of the
            # others of rows where x_j is replaced by 1 (O(n^2) memory, second order
            # only).
            eye = np.eye(n, dtype=bool)
            rows = _arith.where(eye, 1.0, _shape.reshape(x, x.shape[:-1] + (1, n)))
            terms = _shape.reshape(dy, dy.shape[:-1] + (1, n)) * _prod_of_others(rows)
            return (reduce_sum(_arith.where(eye, 0.0, terms), -1),)

        record("prod_of_others", (x,), y, backward)
    return y


@register(*_SAMPLES, second_order=True)
def reduce_logsumexp(x, axis=None, keepdims=False):
    """Computes ``log(sum(exp(x)))`` over ``axis`` without overflow.

    The maximum is subtracted before exponentiating (a slice whose maximum is
    infinite is not shifted). The gradient is the softmax of ``x`` over ``axis``.

    Args:
        x: A tensor, array or number; integers are computed in float64.
        axis: An int, a tuple of ints, or None for all axes.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A floating-point Tensor.

    Raises:
        ValueError: If an axis is out of range.

    Example:
        >>> nnlib.reduce_logsumexp([10000., 10000.])
        nnlib.Tensor(10000.693, shape=(), dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "reduce_logsumexp")
    xv = x._value if x.dtype.kind in "fc" else x._value.astype(np.float64)
    shift = np.maximum.reduce(xv, axis=axes, keepdims=True, initial=-np.inf)
    shift = np.where(np.isfinite(shift), shift, 0)
    total = np.add.reduce(np.exp(xv - shift), axis=axes, keepdims=True)
    yv = np.log(total) + shift
    if not keepdims:
        yv = yv.reshape(tuple(d for i, d in enumerate(xv.shape) if i not in axes))
    y = wrap(yv)
    if ACTIVE:
        kept = kept_shape(x.shape, axes)

        def backward(dy):
            softmax = _math.exp(x - _shape.reshape(y, kept))
            return (_shape.reshape(dy, kept) * softmax,)

        record("reduce_logsumexp", (x,), y, backward)
    return y


@register(*_SAMPLES, second_order=True)
def reduce_variance(x, axis=None, keepdims=False):
    """The population variance ``mean((x - mean(x)) ** 2)`` over ``axis``.

    Divides by the count, not ``count - 1``, as TensorFlow and ``np.var`` do.

    Args:
        x: A tensor, array or number.
        axis: An int, a tuple of ints, or None for all axes.
        keepdims: Keep reduced axes with length 1.

    Returns:
        A Tensor.

    Raises:
        ValueError: If an axis is out of range.

    Example:
        >>> nnlib.reduce_variance([[1., 3.], [2., 2.]], axis=1)
        nnlib.Tensor([1. 0.], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "reduce_variance")
    centered = x - reduce_mean(x, axes, keepdims=True)
    return reduce_mean(_math.square(centered), axes, keepdims)


@register(*_SAMPLES, second_order=True)
def reduce_std(x, axis=None, keepdims=False):
    """The population standard deviation, ``sqrt(reduce_variance(x))``.

    Its gradient is infinite where the variance is 0 (a constant slice).

    Args and errors are those of ``reduce_variance``.

    Example:
        >>> nnlib.reduce_std([[1., 3.], [2., 2.]], axis=1)
        nnlib.Tensor([1. 0.], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "reduce_std")
    return _math.sqrt(reduce_variance(x, axes, keepdims))


@register(
    Sample(shapes=[(2, 3, 4)], kwargs={"shape": (3, 1)}),
    Sample(shapes=[(3, 4)], kwargs={"shape": (3, 4)}),
    second_order=True,
)
def sum_to_shape(x, shape):
    """Sums a broadcast gradient back down to ``shape`` (undoes broadcasting).

    Example:
        >>> nnlib.sum_to_shape(nnlib.constant(np.ones((2, 3), np.float32)), (3,))
        nnlib.Tensor([2. 2. 2.], shape=(3,), dtype=float32)
    """
    x = as_tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and x.shape[lead + i] != 1
    )
    if axes:
        x = reduce_sum(x, axis=axes)
    return x if x.shape == shape else _shape.reshape(x, shape)
