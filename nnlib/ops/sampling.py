"""Random tensors: ``random_normal``, ``random_uniform``, ``truncated_normal``.

Draws come from ``nnlib.random.get_generator()`` (so ``nnlib.random.set_seed``
makes them reproducible), or, given TensorFlow's ``seed=`` argument, from a
private generator seeded with it: the same seed gives the same values at every
call. Each draw is a standard one, shifted and scaled with ops
(``z * stddev + mean``), so a Tensor ``mean`` or ``stddev`` (``minval``,
``maxval``) gets its gradient: the reparameterization trick.
"""

import numpy as np

from .. import random as _random
from . import arithmetic as _arith
from ._dispatch import Tensor, wrap
from .creation import _dims
from .declare import declare
from .registry import Sample, register
from .shape import cast

__all__ = ["random_normal", "random_uniform", "truncated_normal"]

_FLOAT32 = np.dtype(np.float32)


def _generator(seed, op):
    if seed is None:
        return _random.get_generator()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{op}: seed must be a non-negative int or None, got {seed!r}")
    return np.random.default_rng(int(seed))


def _normal(shape, dtype, seed):
    z = _generator(seed, "random_normal").standard_normal(shape)
    return z.astype(dtype, copy=False)


def _truncated(shape, dtype, seed):
    rng = _generator(seed, "truncated_normal")
    z = rng.standard_normal(shape)
    outside = np.abs(z) > 2.0
    while outside.any():  # about 4.6% per round: a handful of rounds at most
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2.0
    return z.astype(dtype, copy=False)


def _uniform(shape, dtype, seed):
    return _generator(seed, "random_uniform").random(shape).astype(dtype, copy=False)


def _integers(shape, low, high, dtype, seed):
    return _generator(seed, "random_uniform").integers(low, high, shape, dtype=dtype)


# The draws are ops with no inputs, so that a traced function draws afresh at
# each run. The seed is checked before any of them runs.
STANDARD_NORMAL = declare("standard_normal", _normal, random=True)
TRUNCATED_NORMAL = declare("truncated_standard_normal", _truncated, random=True)
UNIFORM = declare("standard_uniform", _uniform, random=True)
INTEGERS = declare("uniform_integers", _integers, random=True)


def _float_dtype(dtype, op):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating-point dtype, got {dtype}")
    return dtype


def _param(value, dtype):
    """A parameter as a Tensor of ``dtype`` (a Tensor of another dtype is cast,
    which keeps its gradient); Python numbers stay numbers."""
    if type(value) in (int, float):
        return value
    if isinstance(value, Tensor):
        return value if value.dtype == dtype else cast(value, dtype)
    return wrap(np.asarray(value, dtype))


def _scaled(y, scale, shift, dtype):
    if not (type(scale) in (int, float) and scale == 1):
        y = _arith.multiply(y, _param(scale, dtype))
    if not (type(shift) in (int, float) and shift == 0):
        y = _arith.add(y, _param(shift, dtype))
    return y


def _location_scale_sample(shape, location, scale):
    def make(rng):
        return [
            shape,
            rng.uniform(-1, 1, location),
            rng.uniform(0.5, 2, scale),
        ], {"dtype": np.float64, "seed": 3}

    return Sample(make=make)


@register(
    _location_scale_sample((3, 4), (4,), (3, 1)),
    second_order=True,
)
def random_normal(shape, mean=0.0, stddev=1.0, dtype=_FLOAT32, seed=None):
    """Draws from the normal distribution ``N(mean, stddev**2)``.

    Args:
        shape: The output's shape: an int or a list of ints.
        mean: The mean: a number, or a tensor that broadcasts to ``shape``.
        stddev: The standard deviation, likewise.
        dtype: A floating-point dtype (float32 by default).
        seed: An int for a private generator (the same values at each call);
            by default nnlib's global generator.

    Returns:
        A Tensor of ``shape`` and ``dtype``.

    Raises:
        ValueError: For a negative size in ``shape`` or a bad ``seed``.
        TypeError: For a ``dtype`` that is not floating point.

    Examples:
        >>> x = nnlib.random_normal((2, 1000), mean=5.0, stddev=0.1, seed=0)
        >>> x.shape, x.dtype, bool(abs(float(nnlib.reduce_mean(x)) - 5) < 0.01)
        ((2, 1000), dtype('float32'), True)
        >>> bool(nnlib.reduce_all(nnlib.random_normal([3], seed=1) ==
        ...                       nnlib.random_normal([3], seed=1)))
        True
    """
    dtype = _float_dtype(dtype, "random_normal")
    shape = _dims(shape, "random_normal")
    _generator(seed, "random_normal")  # checks the seed
    z = STANDARD_NORMAL(shape=shape, dtype=dtype, seed=seed)
    return _scaled(z, stddev, mean, dtype)


@register(
    _location_scale_sample((3, 4), (4,), (3, 1)),
    second_order=True,
)
def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_FLOAT32, seed=None):
    """Draws from ``N(mean, stddev**2)``, redrawing values beyond 2 ``stddev``.

    As TensorFlow's ``truncated_normal``: every value lies within two standard
    deviations of the mean (so its spread is about 0.88 ``stddev``).

    Args:
        shape: The output's shape: an int or a list of ints.
        mean: The mean: a number, or a tensor that broadcasts to ``shape``.
        stddev: The standard deviation of the normal before truncation.
        dtype: A floating-point dtype (float32 by default).
        seed: An int for a private generator; by default nnlib's global one.

    Returns:
        A Tensor of ``shape`` and ``dtype``.

    Raises:
        ValueError: For a negative size in ``shape`` or a bad ``seed``.
        TypeError: For a ``dtype`` that is not floating point.

    Examples:
        >>> x = nnlib.truncated_normal((10000,), stddev=2.0, seed=0)
        >>> float(nnlib.reduce_max(nnlib.abs(x))) <= 4.0
        True
    """
    dtype = _float_dtype(dtype, "truncated_normal")
    shape = _dims(shape, "truncated_normal")
    _generator(seed, "truncated_normal")  # checks the seed
    z = TRUNCATED_NORMAL(shape=shape, dtype=dtype, seed=seed)
    return _scaled(z, stddev, mean, dtype)


@register(
    _location_scale_sample((3, 4), (4,), (3, 1)),
    second_order=True,
)
def random_uniform(shape, minval=0, maxval=None, dtype=_FLOAT32, seed=None):
    """Draws uniformly from ``[minval, maxval)``.

    Args:
        shape: The output's shape: an int or a list of ints.
        minval: The lower bound (a number, or a tensor that broadcasts).
        maxval: The upper bound; default 1 for floating-point dtypes; needed for
            integer dtypes.
        dtype: float32 by default; an integer dtype draws integers.
        seed: An int for a private generator; by default nnlib's global one.

    Returns:
        A Tensor of ``shape`` and ``dtype``.

    Raises:
        ValueError: For an integer dtype without ``maxval`` or with ``maxval <=
            minval``, a negative size in ``shape`` or a bad ``seed``.

    Examples:
        >>> x = nnlib.random_uniform((1000,), minval=-1.0, maxval=1.0, seed=0)
        >>> bool(nnlib.reduce_all(x >= -1.0)), bool(nnlib.reduce_all(x < 1.0))
        (True, True)
        >>> nnlib.random_uniform((3,), maxval=10, dtype="int32", seed=0).dtype
        dtype('int32')
    """
    dtype = np.dtype(dtype)
    shape = _dims(shape, "random_uniform")
    _generator(seed, "random_uniform")  # checks the seed
    if dtype.kind in "iu":
        if maxval is None or not int(maxval) > int(minval):
            raise ValueError(
                f"random_uniform: an integer dtype needs maxval > minval, got "
                f"minval={minval!r}, maxval={maxval!r}"
            )
        return INTEGERS(
            shape=shape, low=int(minval), high=int(maxval), dtype=dtype, seed=seed
        )
    dtype = _float_dtype(dtype, "random_uniform")
    maxval = 1.0 if maxval is None else maxval
    u = UNIFORM(shape=shape, dtype=dtype, seed=seed)
    if type(minval) in (int, float) and type(maxval) in (int, float):
        return _scaled(u, maxval - minval, minval, dtype)
    low = _param(minval, dtype)
    return _scaled(u, _arith.subtract(_param(maxval, dtype), low), low, dtype)
