"""Reductions over axes: sums, means, products, statistics.

Scans and index-valued reductions (cumsum, argmax, reduce_any) are in ``scan.py``;
maxima, minima and logsumexp in ``extrema.py`` (importable from here as well).

Every reduction takes ``axis`` (an int, a tuple of ints, or None for all axes;
negative axes count from the end) and ``keepdims``. Derived reductions (mean,
variance, std) are compositions and need no gradient rule of their own.
"""

import math

import numpy as np

from . import math as _math
from . import poly as _poly
from . import shape as _shape
from ._axes import kept_shape, normalize_axes
from ._dispatch import Tensor, as_tensor
from .declare import declare

# Re-exported (not in __all__, which would list them twice in nnlib.ops and the
# API reference) so ``from nnlib.ops.reduction import ...`` keeps working.
from .extrema import reduce_logsumexp, reduce_max, reduce_min  # noqa: F401
from .registry import Sample, register

__all__ = [
    "reduce_mean",
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


def _expand(dy, shape, axes):
    """Broadcasts a reduction's upstream gradient back to the input's shape.

    Works on Tensors and on numpy arrays (see ``nnlib.ops.poly``).
    """
    if len(axes) < len(shape):  # a full reduction's 0-d dy broadcasts as it is
        dy = _poly.reshape(dy, kept_shape(shape, axes))
    return _poly.broadcast_to(dy, shape)


def sum_axes(x, axis=None, keepdims=False):
    """``np.add.reduce``, with leading-axis sums of large arrays run in BLAS.

    Summing the leading axes of a large float array (a bias gradient) as
    ``ones @ rows`` is several times faster than ``np.add.reduce`` on short
    rows. ``reduce_sum`` and ``poly.sum_to_shape`` (a broadcast gradient
    summed back) both use this, so a gradient is the same bits whether its
    rule ran on arrays or on Tensors (traced). The ufunc's ``reduce`` skips
    ``np.sum``'s Python wrapper: about half the cost on 8x8.

    Examples:
        >>> sum_axes(np.ones((2, 3)), axis=(0,))
        array([2., 2., 2.])
    """
    if (
        type(axis) is tuple
        and not keepdims
        and 0 < len(axis) < x.ndim
        and x.size >= 16384
        and x.dtype.kind == "f"
        and x.flags.c_contiguous
        and axis == tuple(range(len(axis)))
    ):
        kept = x.shape[len(axis) :]
        rows = x.reshape(-1, math.prod(kept))
        return np.dot(np.ones(rows.shape[0], x.dtype), rows).reshape(kept)
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


# The rule reads the input's shape only, but a rule sees no shapes of inputs it
# does not save.
REDUCE_SUM = declare("reduce_sum", sum_axes, saves="x")


@REDUCE_SUM.gradient
def _(g):
    shape, axis = g.inputs[0].shape, g.attrs["axis"]
    if axis is None:  # a full reduction's dy broadcasts as it is
        return (_poly.broadcast_to(g.dy, shape),)
    return (_expand(g.dy, shape, axis),)


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

    Examples:
        >>> nnlib.reduce_sum([[1., 2.], [3., 4.]], axis=0)
        nnlib.Tensor([4. 6.], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    if axis is not None:
        axis = normalize_axes(axis, x._value.ndim, "reduce_sum")
    return REDUCE_SUM(x, axis=axis, keepdims=keepdims)


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

    Examples:
        >>> nnlib.reduce_mean([[1., 2.], [3., 5.]], axis=-1)
        nnlib.Tensor([1.5 4. ], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "reduce_mean")
    count = 1
    for a in axes:
        count *= x.shape[a]
    return reduce_sum(x, axes, keepdims) / count


def _prod_samples(rng):
    x = rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))
    x[0, 1] = 0.0  # one zero in a row: only that element gets a gradient
    x[1, 0] = x[1, 3] = 0.0  # two zeros: every gradient in the row is 0
    return [x], {"axis": 1}


REDUCE_PROD = declare("reduce_prod", np.multiply.reduce, saves="x")


@REDUCE_PROD.gradient
def _(g):
    (x,), axes = g.inputs, g.attrs["axis"]
    dy = _poly.reshape(g.dy, kept_shape(x.shape, axes))
    return (dy * _others_along(x, axes),)


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

    Examples:
        >>> nnlib.reduce_prod([[1., 2.], [3., 0.]], axis=1)
        nnlib.Tensor([2. 0.], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "reduce_prod")
    return REDUCE_PROD(x, axis=axes, keepdims=keepdims)


def _others_along(x, axes):
    """For each element, the product of the other elements of its reduced slice.

    Works on Tensors and on numpy arrays (see ``nnlib.ops.poly``).
    """
    keep = [i for i in range(x.ndim) if i not in axes]
    perm = keep + list(axes)
    moved = _poly.transpose(x, perm) if perm != sorted(perm) else x
    count = int(np.prod([x.shape[a] for a in axes]))
    flat = _poly.reshape(moved, moved.shape[: len(keep)] + (count,))
    others = _poly.reshape(_others(flat), moved.shape)
    return _poly.transpose(others, np.argsort(perm)) if moved is not x else others


def _others(x):
    """``_prod_of_others`` on a Tensor (recorded), its forward on an array."""
    return PROD_OF_OTHERS(x) if isinstance(x, Tensor) else _others_forward(x)


def _others_forward(x):
    n = x.shape[-1]
    if n == 0:
        return x.copy()
    ones = np.ones(x.shape[:-1] + (1,), x.dtype)
    left = np.cumprod(np.concatenate((ones, x[..., :-1]), -1), -1)
    right = np.cumprod(np.concatenate((ones, x[..., :0:-1]), -1), -1)[..., ::-1]
    return left * right


PROD_OF_OTHERS = declare("prod_of_others", _others_forward, saves="x")


@PROD_OF_OTHERS.gradient
def _(g):
    # d out_i / d x_j = product of all but x_i and x_j: the products of the others
    # of rows where x_j is replaced by 1 (O(n^2) memory, second order only).
    (x,), dy = g.inputs, g.dy
    n = x.shape[-1]
    eye = np.eye(n, dtype=bool)
    rows = _poly.where(eye, 1.0, _poly.reshape(x, x.shape[:-1] + (1, n)))
    terms = _poly.reshape(dy, dy.shape[:-1] + (1, n)) * _others(rows)
    return (_poly.reduce_sum(_poly.where(eye, 0.0, terms), -1),)


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
    return PROD_OF_OTHERS(as_tensor(x))


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

    Examples:
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

    Examples:
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

    Examples:
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
