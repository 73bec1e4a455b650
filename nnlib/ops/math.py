"""Unary elementwise math: exponentials, logarithms, powers, trigonometry, erf.

Each op is one declaration: the numpy forward, the sample inputs its gradient is
checked on, and the gradient rule (``dy``, the input ``x``, the output ``y``),
written with nnlib operators so that it can itself be differentiated.
"""

import numpy as np

from ._dispatch import as_tensor
from .declare import declare
from .elementwise import elementwise
from .registry import Sample, register

__all__ = [
    "abs",
    "cos",
    "erf",
    "erfc",
    "exp",
    "expm1",
    "log",
    "log1p",
    "negative",
    "rsqrt",
    "sign",
    "sin",
    "sqrt",
    "square",
    "tanh",
]

_ANY = Sample(shapes=[(3, 4)])
_POSITIVE = Sample(shapes=[(3, 4)], low=0.2, high=3.0)


@elementwise(np.negative, _ANY, saves="")
def negative(dy, x, y):
    """Returns ``-x``, elementwise.

    Examples:
        >>> nnlib.negative([1., -2.])
        nnlib.Tensor([-1.  2.], shape=(2,), dtype=float32)
    """
    return -dy


@elementwise(np.exp, _ANY, saves="y")
def exp(dy, x, y):
    """Returns ``e ** x``, elementwise.

    Examples:
        >>> nnlib.exp([0., 1.])
        nnlib.Tensor([1.     2.7183], shape=(2,), dtype=float32)
    """
    return dy * y


@elementwise(np.log, _POSITIVE, saves="x")
def log(dy, x, y):
    """Returns the natural logarithm of ``x``, elementwise.

    Examples:
        >>> nnlib.log([1., np.e])
        nnlib.Tensor([0. 1.], shape=(2,), dtype=float32)
    """
    return dy / x


@elementwise(np.tanh, _ANY, saves="y")
def tanh(dy, x, y):
    """Returns the hyperbolic tangent of ``x``, elementwise.

    Examples:
        >>> nnlib.tanh([0., 1.])
        nnlib.Tensor([0.     0.7616], shape=(2,), dtype=float32)
    """
    return dy * (1.0 - y * y)


@elementwise(np.square, _ANY, saves="x")
def square(dy, x, y):
    """Returns ``x * x``, elementwise.

    Examples:
        >>> nnlib.square([2., -3.])
        nnlib.Tensor([4. 9.], shape=(2,), dtype=float32)
    """
    return dy * 2.0 * x


@elementwise(np.sqrt, _POSITIVE, saves="y")
def sqrt(dy, x, y):
    """Returns the square root of ``x``, elementwise.

    Examples:
        >>> nnlib.sqrt([4., 9.])
        nnlib.Tensor([2. 3.], shape=(2,), dtype=float32)
    """
    return dy * 0.5 / y


def _rsqrt(v):
    r = np.sqrt(v)
    # In place when sqrt gave an array (0-d inputs give numpy scalars).
    return np.reciprocal(r, out=r) if isinstance(r, np.ndarray) else np.reciprocal(r)


@elementwise(_rsqrt, _POSITIVE, saves="y")
def rsqrt(dy, x, y):
    """Returns ``1 / sqrt(x)``, elementwise.

    Examples:
        >>> nnlib.rsqrt([4., 0.25])
        nnlib.Tensor([0.5 2. ], shape=(2,), dtype=float32)
    """
    return dy * -0.5 * y * y * y


@elementwise(np.expm1, _ANY, saves="y")
def expm1(dy, x, y):
    """Returns ``exp(x) - 1``, accurate for ``x`` near 0.

    Examples:
        >>> float(nnlib.expm1(np.float64(1e-10)))
        1.00000000005e-10
    """
    return dy * (y + 1.0)


@elementwise(np.log1p, Sample(shapes=[(3, 4)], low=-0.8, high=3.0), saves="x")
def log1p(dy, x, y):
    """Returns ``log(1 + x)``, accurate for ``x`` near 0.

    Examples:
        >>> float(nnlib.log1p(np.float64(1e-10)))
        9.9999999995e-11
    """
    return dy / (x + 1.0)


SIGN = declare("sign", np.sign)  # no gradient rule: piecewise constant


@register(differentiable=False)
def sign(x):
    """Returns -1, 0 or 1 by the sign of ``x``, elementwise (``np.sign``).

    Not differentiable: it is piecewise constant, so gradients stop here.

    Args:
        x: A tensor, array or number.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Examples:
        >>> nnlib.sign([-2., 0., 3.])
        nnlib.Tensor([-1.  0.  1.], shape=(3,), dtype=float32)
    """
    return SIGN(as_tensor(x))


@elementwise(np.abs, Sample(shapes=[(3, 4)], avoid=(0.0,)), saves="x")
def abs(dy, x, y):  # numpy's name; the builtin is not needed in this module
    """Returns ``|x|``, elementwise; ``abs(tensor)`` calls it too.

    The gradient at 0 is 0 (the subgradient ``sign(0)``).

    Examples:
        >>> nnlib.abs([-2., 3.])
        nnlib.Tensor([2. 3.], shape=(2,), dtype=float32)
    """
    return dy * sign(x)


absolute = abs  # numpy's other name; the same registered op


@elementwise(np.sin, _ANY, saves="x")
def sin(dy, x, y):
    """Returns the sine of ``x`` (radians), elementwise.

    Examples:
        >>> nnlib.sin([0., np.pi / 2])
        nnlib.Tensor([0. 1.], shape=(2,), dtype=float32)
    """
    return dy * cos(x)


@elementwise(np.cos, _ANY, saves="x")
def cos(dy, x, y):
    """Returns the cosine of ``x`` (radians), elementwise.

    Examples:
        >>> nnlib.cos([0., np.pi])
        nnlib.Tensor([ 1. -1.], shape=(2,), dtype=float32)
    """
    return -dy * sin(x)


# erf by W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
# approximations for the error function", Math. Comp. 23 (1969) 631-637), with the
# coefficients of his SPECFUN routine CALERF: erf on |x| <= 0.46875, erfc on
# (0.46875, 4] and an asymptotic form beyond; about 1e-16 relative error in float64.
# Branching on |x| keeps each formula in its range, and computing erfc directly
# (not 1 - erf) keeps erfc accurate in the tail.
_ERF_A = (
    3.16112374387056560e00,
    1.13864154151050156e02,
    3.77485237685302021e02,
    3.20937758913846947e03,
    1.85777706184603153e-1,
)
_ERF_B = (
    2.36012909523441209e01,
    2.44024637934444173e02,
    1.28261652607737228e03,
    2.84423683343917062e03,
)
_ERF_C = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
    2.15311535474403846e-8,
)
_ERF_D = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
_ERF_P = (
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
    1.63153871373020978e-2,
)
_ERF_Q = (
    2.56852019228982242e00,
    1.87295284992346725e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)
_ONE_OVER_SQRT_PI = 0.56418958354775628695
_TWO_OVER_SQRT_PI = 1.1283791670955125739


def _rational(t, num, den, steps):
    """Cody's ``(num[-1] t^(n+1) + ...) / (t^(n+1) + ...)`` in Horner form."""
    xnum = t * num[-1]
    xden = t.copy()
    for i in range(steps):  # in place: these loops are most of erf's time
        xnum += num[i]
        xnum *= t
        xden += den[i]
        xden *= t
    xnum += num[steps]
    xden += den[steps]
    xnum /= xden
    return xnum


def _scaled_by_gaussian(y, r):
    """``exp(-y * y) * r`` in place, with y * y split so its rounding stays out."""
    head = y * 16.0
    np.trunc(head, out=head)
    head /= 16.0
    e = head * head
    np.negative(e, out=e)
    r *= np.exp(e, out=e)
    np.subtract(y, head, out=e)
    head += y
    e *= head
    np.negative(e, out=e)
    r *= np.exp(e, out=e)
    return r


def _pick(mask, a, b):
    """``a`` where ``mask``, else ``b``, reusing ``a``: exact for finite values and
    much faster than ``np.where`` when the mask is scattered."""
    a *= mask
    b *= ~mask
    a += b
    return a


def _cody(v, name, complement):
    """erf (or erfc when ``complement``) of an array, in ``v``'s float dtype."""
    if v.dtype.kind == "c":
        raise TypeError(f"{name}: complex inputs are not supported (got {v.dtype})")
    # Narrow floats are computed in float32 (Cody's forms are well conditioned),
    # the rest in float64; integers give float64, as numpy's ufuncs do.
    dtype = v.dtype if v.dtype.kind == "f" else np.dtype(np.float64)
    work = np.float32 if dtype.itemsize <= 4 else np.float64
    x = np.asarray(v, dtype=work).reshape(-1)  # 1-d so out= works; never written
    y = np.abs(x)
    # Every branch runs on all elements with |x| clamped into its own interval, so
    # each stays finite, and _pick blends them (boolean indexing is slower still).
    small = y <= 0.46875
    any_small = small.any()
    if any_small:
        xs = np.clip(x, -0.46875, 0.46875)
        result = _rational(xs * xs, _ERF_A, _ERF_B, 3)
        result *= xs
        if complement:
            np.subtract(1.0, result, out=result)
    if not any_small or not small.all():
        tail = _erfc_of_abs(y)
        if complement:
            negative = x < 0
            tail = _pick(negative, 2.0 - tail, tail)
        else:
            np.subtract(0.5, tail, out=tail)
            tail += 0.5
            np.copysign(tail, x, out=tail)
        result = _pick(small, result, tail) if any_small else tail
    result = result.astype(dtype, copy=False).reshape(v.shape)
    return result[()] if v.ndim == 0 else result


def _erfc_of_abs(y):
    """erfc(y) for y = |x| > 0.46875 (other elements give finite junk)."""
    r = _rational(np.clip(y, 0.46875, 4.0), _ERF_C, _ERF_D, 7)
    large = y > 4.0
    if large.any():
        # erfc(y) is 0 in float64 past 27.3; the cap keeps y * y finite.
        yl = np.clip(y, 4.0, 28.0)
        t = yl * yl
        np.reciprocal(t, out=t)
        r_large = _rational(t, _ERF_P, _ERF_Q, 4)
        r_large *= t
        np.subtract(_ONE_OVER_SQRT_PI, r_large, out=r_large)
        r_large /= yl
        r = _pick(large, r_large, r)
    return _scaled_by_gaussian(np.clip(y, 0.46875, 28.0), r)


def _erf(v):
    return _cody(v, "erf", complement=False)


def _erfc(v):
    return _cody(v, "erfc", complement=True)


@elementwise(_erf, Sample(shapes=[(3, 4)], low=-3.0, high=3.0), saves="x")
def erf(dy, x, y):
    """Returns the error function ``2 / sqrt(pi) * integral_0^x exp(-t^2) dt``.

    Computed with W. J. Cody's rational approximations: about 1e-16 relative
    error in float64; float32 inputs are computed in float32 (a few ulp).

    Raises:
        TypeError: For complex inputs.

    Examples:
        >>> nnlib.erf([0., 1., -np.inf])
        nnlib.Tensor([ 0.      0.8427 -1.    ], shape=(3,), dtype=float32)
    """
    return dy * _TWO_OVER_SQRT_PI * exp(-(x * x))


@elementwise(_erfc, Sample(shapes=[(3, 4)], low=-3.0, high=3.0), saves="x")
def erfc(dy, x, y):
    """Returns the complementary error function ``1 - erf(x)``, elementwise.

    Accurate where ``1 - erf(x)`` would cancel: in float64 ``erfc(10)`` is about
    2e-45, not 0. Same method and dtypes as ``erf``.

    Raises:
        TypeError: For complex inputs.

    Examples:
        >>> nnlib.erfc([0., 1.])
        nnlib.Tensor([1.    0.1573], shape=(2,), dtype=float32)
        >>> float(nnlib.erfc(np.float64(10.)))
        2.088487583762545e-45
    """
    return dy * -_TWO_OVER_SQRT_PI * exp(-(x * x))
