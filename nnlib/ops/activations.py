"""Neural-network activation functions, elementwise.

Ops with a delicate forward (``sigmoid``, ``softplus``, ``gelu``) run it on numpy
arrays and state their gradient rule with nnlib ops, so it can be differentiated
again; the rest (``selu``, ``silu``, ``softsign``, ``hard_sigmoid``) are
compositions and need no gradient code.

Masks in the rules (where ``relu`` passes a gradient) are comparisons of the
saved values: numpy's on the array fast path, recorded (non-differentiable) ops
when the rule runs on Tensors, so that a traced gradient compares the values of
each call rather than freezing the mask of the first. Rules apply them as
``dy * mask`` (TensorFlow's ReluGrad does the same): with a random mask
``np.where`` is about twenty times slower than a multiply.
"""

import numpy as np

from . import math as _math
from . import poly as _poly
from ._dispatch import Tensor, as_tensor
from .declare import declare
from .elementwise import elementwise
from .math import _erfc
from .registry import Sample, register

__all__ = [
    "elu",
    "gelu",
    "hard_sigmoid",
    "leaky_relu",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softplus",
    "softsign",
    "swish",
]

_ANY = Sample(shapes=[(3, 4)])
_KINK_AT_0 = Sample(shapes=[(3, 4)], avoid=(0.0,))
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_HALF = 0.70710678118654752440
_ONE_OVER_SQRT_2PI = 0.39894228040143267794
_GELU_C = 0.79788456080286535588  # sqrt(2 / pi), the tanh approximation's scale
_GELU_K = 0.044715


def _sigmoid(v):
    # exp(min(x, 0)) / (1 + exp(-|x|)): both exponents are <= 0, so nothing
    # overflows, and it needs no branch (np.where) to be stable on both sides.
    numerator = np.exp(np.minimum(v, 0))
    denominator = np.exp(-np.abs(v))
    denominator += 1.0
    numerator /= denominator
    return numerator


@elementwise(_sigmoid, _ANY, saves="y")
def sigmoid(dy, x, y):
    """Returns the logistic function ``1 / (1 + exp(-x))``, elementwise.

    Stable for any ``x``: no overflow, results in ``[0, 1]``.

    Examples:
        >>> nnlib.sigmoid([-1e4, 0., 1e4])
        nnlib.Tensor([0.  0.5 1. ], shape=(3,), dtype=float32)
    """
    return dy * y * (1.0 - y)


def _relu(v):
    return np.maximum(v, 0)


@elementwise(_relu, _KINK_AT_0, saves="y")
def relu(dy, x, y):
    """Returns ``max(x, 0)``, elementwise.

    The gradient at exactly 0 is 0 (the subgradient TensorFlow and PyTorch use).

    Examples:
        >>> nnlib.relu([-1., 0., 2.])
        nnlib.Tensor([0. 0. 2.], shape=(3,), dtype=float32)
    """
    return dy * (y > 0)


def _relu6(v):
    return np.minimum(np.maximum(v, 0), 6)


@elementwise(
    _relu6, Sample(shapes=[(4, 5)], low=-2.0, high=8.0, avoid=(0.0, 6.0)), saves="y"
)
def relu6(dy, x, y):
    """Returns ``min(max(x, 0), 6)``, elementwise.

    The gradient is 1 strictly between 0 and 6, and 0 at both kinks.

    Examples:
        >>> nnlib.relu6([-1., 3., 8.])
        nnlib.Tensor([0. 3. 6.], shape=(3,), dtype=float32)
    """
    return dy * ((y > 0) * (y < 6))


def _scalar_parameter(value, name, op):
    """A parameter as a Python float, so numpy keeps it weakly typed."""
    if np.ndim(value) != 0 or isinstance(value, (str, bytes)):
        raise ValueError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def _positive(g):
    """Where ``x > 0``: read from ``y`` when ``alpha >= 0`` (the same sign)."""
    return (g.outputs[0] if g.attrs["alpha"] >= 0 else g.inputs[0]) > 0


def _leaky_relu(x, alpha):
    # max(x, alpha x) is x for x > 0 exactly when alpha <= 1; min(...) otherwise.
    return (np.maximum if alpha <= 1 else np.minimum)(x, x * alpha)


# Saves x as well as y: with alpha < 0 the sign of x is not that of y.
LEAKY_RELU = declare("leaky_relu", _leaky_relu)


@LEAKY_RELU.gradient
def _(g):
    positive, alpha = _positive(g), g.attrs["alpha"]
    if isinstance(positive, Tensor):
        return (g.dy * (_poly.cast(positive, g.dy.dtype) * (1.0 - alpha) + alpha),)
    slope = positive.astype(g.dy.dtype)  # in place: a third of the passes
    slope *= 1.0 - alpha
    slope += alpha
    return (g.dy * slope,)


@register(
    _KINK_AT_0,
    Sample(shapes=[(3, 4)], kwargs={"alpha": 0.5}, avoid=(0.0,)),
    second_order=True,
)
def leaky_relu(x, alpha=0.2):
    """Returns ``x`` where ``x > 0`` and ``alpha * x`` elsewhere.

    The default ``alpha=0.2`` is ``tf.nn.leaky_relu``'s (the Keras ``LeakyReLU``
    layer defaults to 0.3). The gradient at exactly 0 is ``alpha``.

    Args:
        x: A tensor, array or number.
        alpha: The slope for ``x <= 0``, a number.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Raises:
        ValueError: If ``alpha`` is not a number.

    Examples:
        >>> nnlib.leaky_relu([-1., 2.])
        nnlib.Tensor([-0.2  2. ], shape=(2,), dtype=float32)
    """
    alpha = _scalar_parameter(alpha, "alpha", "leaky_relu")
    return LEAKY_RELU(as_tensor(x), alpha=alpha)


def _elu(x, alpha):
    # expm1 sees min(x, 0) only, so it cannot overflow.
    return np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0))


ELU = declare("elu", _elu)


@ELU.gradient
def _(g):
    # For x <= 0 the derivative alpha * exp(x) is y + alpha: no exp again.
    positive = _positive(g)
    below = _poly.logical_not(positive)
    return (g.dy * ((g.outputs[0] + g.attrs["alpha"]) * below + positive),)


@register(
    _KINK_AT_0,
    Sample(shapes=[(3, 4)], kwargs={"alpha": 0.5}, low=-4.0, avoid=(0.0,)),
    second_order=True,
)
def elu(x, alpha=1.0):
    """The exponential linear unit: ``x`` if ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Args:
        x: A tensor, array or number.
        alpha: The saturation value for negative inputs, a number.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Raises:
        ValueError: If ``alpha`` is not a number.

    Examples:
        >>> nnlib.elu([-1., 2.])
        nnlib.Tensor([-0.6321  2.    ], shape=(2,), dtype=float32)
    """
    alpha = _scalar_parameter(alpha, "alpha", "elu")
    return ELU(as_tensor(x), alpha=alpha)


@register(Sample(shapes=[(3, 4)], low=-4.0, avoid=(0.0,)), second_order=True)
def selu(x):
    """The scaled exponential linear unit ``scale * elu(x, alpha)``.

    Uses the constants of Klambauer et al. (2017): ``alpha = 1.6732632423543772``
    and ``scale = 1.0507009873554805``.

    Args:
        x: A tensor, array or number.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Examples:
        >>> nnlib.selu([-1., 1.])
        nnlib.Tensor([-1.1113  1.0507], shape=(2,), dtype=float32)
    """
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def _gelu_tanh(v):
    # 0.5 * (1 + tanh(z)) is sigmoid(2 z), which does not cancel to 0 for x << 0.
    # Past |x| = 25 that sigmoid is exactly 0 or 1; the clip keeps x^3 finite.
    u = np.clip(v, -25, 25)
    return v * _sigmoid(2.0 * _GELU_C * u * (1.0 + _GELU_K * u * u))


def _gelu(x, approximate=False):
    if approximate:
        return _gelu_tanh(x)
    # Phi(x) as erfc(-x / sqrt 2) / 2, not (1 + erf) / 2: no cancellation.
    return 0.5 * x * _erfc(x * -_SQRT_HALF)


GELU = declare("gelu", _gelu, saves="x")


@GELU.gradient
def _(g):
    rule = _gelu_tanh_rule if g.attrs["approximate"] else _gelu_rule
    return (rule(g.dy, g.inputs[0]),)


@register(
    Sample(shapes=[(3, 4)], low=-3.0, high=3.0),
    Sample(shapes=[(3, 4)], kwargs={"approximate": True}, low=-3.0, high=3.0),
    second_order=True,
)
def gelu(x, approximate=False):
    """The Gaussian error linear unit ``x * P(X <= x)`` for ``X ~ N(0, 1)``.

    Exactly ``0.5 * x * (1 + erf(x / sqrt(2)))``, or with ``approximate=True``
    the tanh approximation ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))``
    of Hendrycks and Gimpel (2016). Both are computed in forms that keep their
    relative accuracy for large negative ``x`` (``erfc`` and a sigmoid).

    Args:
        x: A tensor, array or number.
        approximate: Use the tanh approximation.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Examples:
        >>> nnlib.gelu([-1., 0., 1.])
        nnlib.Tensor([-0.1587  0.      0.8413], shape=(3,), dtype=float32)
        >>> nnlib.gelu([1.], approximate=True)
        nnlib.Tensor([0.8412], shape=(1,), dtype=float32)
    """
    return GELU(as_tensor(x), approximate=bool(approximate))


def _gelu_rule(dy, x):
    # d/dx x * Phi(x) = Phi(x) + x * phi(x)
    cdf = 0.5 * _poly.erfc(x * -_SQRT_HALF)
    return dy * (cdf + x * _ONE_OVER_SQRT_2PI * _poly.exp(-0.5 * x * x))


def _gelu_tanh_rule(dy, x):
    # d/dx x * s(2 z) = s + x * s * (1 - s) * 2 z', with s = sigmoid(2 z)
    x2 = x * x
    s = _poly.sigmoid((2.0 * _GELU_C) * x * (1.0 + _GELU_K * x2))
    slope = (2.0 * _GELU_C) * (1.0 + 3.0 * _GELU_K * x2)
    return dy * (s + x * s * (1.0 - s) * slope)


def _softplus(v):
    # log(1 + e^x) = log1p(e^-|x|) + max(x, 0): exp never sees a large argument.
    return np.log1p(np.exp(-np.abs(v))) + np.maximum(v, 0)


@elementwise(_softplus, Sample(shapes=[(3, 4)], low=-4.0, high=4.0), saves="x")
def softplus(dy, x, y):
    """Returns ``log(1 + exp(x))``, stable for any ``x``.

    Examples:
        >>> nnlib.softplus([0., 1e4])
        nnlib.Tensor([6.931e-01 1.000e+04], shape=(2,), dtype=float32)
    """
    return dy * sigmoid(x)


@register(Sample(shapes=[(3, 4)], low=-3.0, high=3.0, avoid=(0.0,)), second_order=True)
def softsign(x):
    """Returns ``x / (1 + |x|)``, elementwise.

    Args:
        x: A tensor, array or number.

    Returns:
        A Tensor of ``x``'s shape and dtype, with values in ``(-1, 1)``.

    Examples:
        >>> nnlib.softsign([-1., 3.])
        nnlib.Tensor([-0.5   0.75], shape=(2,), dtype=float32)
    """
    x = as_tensor(x)
    return x / (1.0 + _math.abs(x))


@register(_ANY, second_order=True)
def silu(x):
    """The sigmoid linear unit ``x * sigmoid(x)``, also called swish.

    Args:
        x: A tensor, array or number.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Examples:
        >>> nnlib.silu([-1., 0., 1.])
        nnlib.Tensor([-0.2689  0.      0.7311], shape=(3,), dtype=float32)
        >>> nnlib.swish is nnlib.silu
        True
    """
    x = as_tensor(x)
    return x * sigmoid(x)


swish = silu


@register(
    Sample(shapes=[(4, 5)], low=-5.0, high=5.0, avoid=(-3.0, 3.0)), second_order=True
)
def hard_sigmoid(x):
    """A piecewise-linear sigmoid, ``relu6(x + 3) / 6`` (Keras 3's definition).

    0 for ``x <= -3``, 1 for ``x >= 3`` and ``x / 6 + 0.5`` between.

    Args:
        x: A tensor, array or number.

    Returns:
        A Tensor of ``x``'s shape and dtype.

    Examples:
        >>> nnlib.hard_sigmoid([-4., 0., 1.5, 4.])
        nnlib.Tensor([0.   0.5  0.75 1.  ], shape=(4,), dtype=float32)
    """
    return relu6(as_tensor(x) + 3.0) / 6.0
