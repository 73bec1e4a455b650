"""Unary elementwise math: exponentials, logarithms, powers, trigonometry.

Each op is one declaration: the numpy forward, the sample inputs its gradient is
checked on, and the gradient rule (``dy``, the input ``x``, the output ``y``),
written with nnlib operators so that it can itself be differentiated.
"""

import numpy as np

from ._dispatch import elementwise
from .registry import Sample

__all__ = ["exp", "log", "negative", "sqrt", "square", "tanh"]

_ANY = Sample(shapes=[(3, 4)])
_POSITIVE = Sample(shapes=[(3, 4)], low=0.2, high=3.0)


@elementwise(np.negative, _ANY, saves="")
def negative(dy, x, y):
    """Returns ``-x``, elementwise.

    Example:
        >>> nnlib.negative([1., -2.])
        nnlib.Tensor([-1.  2.], shape=(2,), dtype=float32)
    """
    return -dy


@elementwise(np.exp, _ANY, saves="y")
def exp(dy, x, y):
    """Returns ``e ** x``, elementwise.

    Example:
        >>> nnlib.exp([0., 1.])
        nnlib.Tensor([1.     2.7183], shape=(2,), dtype=float32)
    """
    return dy * y


@elementwise(np.log, _POSITIVE, saves="x")
def log(dy, x, y):
    """Returns the natural logarithm of ``x``, elementwise.

    Example:
        >>> nnlib.log([1., np.e])
        nnlib.Tensor([0. 1.], shape=(2,), dtype=float32)
    """
    return dy / x


@elementwise(np.tanh, _ANY, saves="y")
def tanh(dy, x, y):
    """Returns the hyperbolic tangent of ``x``, elementwise.

    Example:
        >>> nnlib.tanh([0., 1.])
        nnlib.Tensor([0.     0.7616], shape=(2,), dtype=float32)
    """
    return dy * (1.0 - y * y)


@elementwise(np.square, _ANY, saves="x")
def square(dy, x, y):
    """Returns ``x * x``, elementwise.

    Example:
        >>> nnlib.square([2., -3.])
        nnlib.Tensor([4. 9.], shape=(2,), dtype=float32)
    """
    return dy * 2.0 * x


@elementwise(np.sqrt, _POSITIVE, saves="y")
def sqrt(dy, x, y):
    """Returns the square root of ``x``, elementwise.

    Example:
        >>> nnlib.sqrt([4., 9.])
        nnlib.Tensor([2. 3.], shape=(2,), dtype=float32)
    """
    return dy * 0.5 / y
