"""Neural-network functions: the softmax family, l2_loss, bias_add and dropout.

The softmax family is fused: the forward shifts by the maximum so ``exp`` never
overflows, and the ops (declared in ``_softmax.py``, which the cross-entropies
share) have gradient rules that work on Tensors, so they can be differentiated
again.
The cross-entropies from logits are in ``cross_entropy.py`` (and importable from
here as well).
"""

import numpy as np

from .. import random as _random
from .._warn import warn
from . import math as _math
from . import shape as _shape
from ._dispatch import as_tensor
from ._softmax import LOG_SOFTMAX, SOFTMAX, class_axis, float_logits

# Re-exported (not in __all__, which would list them twice in nnlib.ops and the
# API reference) so ``from nnlib.ops.nn import ...`` keeps working.
from .cross_entropy import (  # noqa: F401
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
)
from .declare import declare
from .reduction import reduce_sum
from .registry import Sample, register

__all__ = [
    "bias_add",
    "dropout",
    "l2_loss",
    "log_softmax",
    "softmax",
]


_CLASSES = (
    Sample(shapes=[(3, 4)]),
    Sample(shapes=[(2, 3, 4)], kwargs={"axis": 1}),
    Sample(shapes=[(5,)], low=-4.0, high=4.0),
)


@register(*_CLASSES, second_order=True)
def softmax(logits, axis=-1):
    """Normalizes ``logits`` into probabilities: ``exp(x) / sum(exp(x), axis)``.

    Computed stably (shifted by the maximum), so large logits do not overflow.

    Args:
        logits: A floating-point tensor.
        axis: The class axis (an int, negative counts from the end).

    Returns:
        A Tensor of ``logits``' shape and dtype whose slices along ``axis`` sum to 1.

    Raises:
        TypeError: If ``logits`` is not floating point.
        ValueError: If ``axis`` is out of range.

    Examples:
        >>> nnlib.softmax([1., 2., 3.])
        nnlib.Tensor([0.09   0.2447 0.6652], shape=(3,), dtype=float32)
        >>> nnlib.softmax([1e4, 0.])
        nnlib.Tensor([1. 0.], shape=(2,), dtype=float32)
    """
    logits = float_logits(logits, "softmax")
    axis = class_axis(axis, logits, "softmax")
    return SOFTMAX(logits, axis=axis)


@register(*_CLASSES, second_order=True)
def log_softmax(logits, axis=-1):
    """Log-probabilities ``x - log(sum(exp(x)))`` along ``axis``, computed stably.

    Exact and finite for logits far apart: ``log_softmax([1e4, 0])`` is
    ``[0, -1e4]``, where ``log(softmax(x))`` would give ``-inf``.

    Args:
        logits: A floating-point tensor.
        axis: The class axis (an int, negative counts from the end).

    Returns:
        A Tensor of ``logits``' shape and dtype.

    Raises:
        TypeError: If ``logits`` is not floating point.
        ValueError: If ``axis`` is out of range.

    Examples:
        >>> nnlib.log_softmax([0., 1.])
        nnlib.Tensor([-1.3133 -0.3133], shape=(2,), dtype=float32)
        >>> nnlib.log_softmax([1e4, 0.])
        nnlib.Tensor([     0. -10000.], shape=(2,), dtype=float32)
    """
    logits = float_logits(logits, "log_softmax")
    axis = class_axis(axis, logits, "log_softmax")
    return LOG_SOFTMAX(logits, axis=axis)


@register(Sample(shapes=[(3, 4)]), second_order=True)
def l2_loss(t):
    """Half the squared L2 norm, ``sum(t ** 2) / 2`` (TensorFlow's ``l2_loss``).

    Args:
        t: A floating-point tensor.

    Returns:
        A scalar Tensor of ``t``'s dtype.

    Examples:
        >>> nnlib.l2_loss([1., 2., 3.])
        nnlib.Tensor(7., shape=(), dtype=float32)
    """
    return reduce_sum(_math.square(t)) * 0.5


_CHANNELS_FIRST = ("channels_first", "NCHW", "NCW", "NCDHW", "NC...")
_CHANNELS_LAST = (None, "channels_last", "NHWC", "NWC", "NDHWC", "N...C")


@register(
    Sample(shapes=[(3, 4), (4,)]),
    Sample(shapes=[(2, 3, 2, 4), (3,)], kwargs={"data_format": "NCHW"}),
    second_order=True,
)
def bias_add(value, bias, data_format=None):
    """Adds a 1-D ``bias`` along the channel axis of ``value`` (``tf.nn.bias_add``).

    Unlike ``value + bias``, which broadcasts anything, the bias must have
    exactly one entry per channel.

    Args:
        value: A tensor of rank >= 2.
        bias: A 1-D tensor with one entry per channel.
        data_format: Where the channels are: last (None, ``"channels_last"``,
            ``"NHWC"`` and the other ``"N...C"`` forms) or second
            (``"channels_first"``, ``"NCHW"``, ``"NC..."``).

    Returns:
        A Tensor of ``value``'s shape.

    Raises:
        ValueError: If ``bias`` is not 1-D with one entry per channel, or
            ``data_format`` is unknown.

    Examples:
        >>> nnlib.bias_add([[1., 2.], [3., 4.]], [10., 20.])
        nnlib.Tensor([[11. 22.]
                      [13. 24.]], shape=(2, 2), dtype=float32)
    """
    value, bias = as_tensor(value), as_tensor(bias)
    if data_format not in _CHANNELS_FIRST + _CHANNELS_LAST:
        raise ValueError(
            f"bias_add: data_format must be None, 'channels_last', "
            f"'channels_first' or a form such as 'NHWC'/'NCHW', got {data_format!r}"
        )
    first = data_format in _CHANNELS_FIRST
    axis = 1 if first else -1
    if value.ndim < 2 or bias.ndim != 1 or bias.shape[0] != value.shape[axis]:
        raise ValueError(
            f"bias_add: bias must be 1-D with one entry per channel (axis {axis}) "
            f"of a value of rank >= 2; got value shape {value.shape}, bias shape "
            f"{bias.shape}"
        )
    if first:
        bias = _shape.reshape(bias, (bias.shape[0],) + (1,) * (value.ndim - 2))
    return value + bias


def _noise_shape(noise_shape, shape):
    if noise_shape is None:
        return shape
    noise = tuple(d if n is None else int(n) for n, d in zip(noise_shape, shape))
    fits = len(noise_shape) == len(shape)
    if not fits or any(n not in (1, d) for n, d in zip(noise, shape)):
        raise ValueError(
            f"dropout: noise_shape {tuple(noise_shape)} must have one "
            f"entry per axis of x, each 1 or x's size, for x of shape "
            f"{shape}"
        )
    return noise


def _dropout(x, rate, noise_shape, seed=None):
    # Drawn when run, so every call (and every replay of a traced graph) draws
    # afresh; with a seed, from a private generator seeded with it each time.
    rng = np.random.default_rng(seed) if seed is not None else _random.get_generator()
    keep = rng.random(noise_shape) >= rate
    mask = (keep * (1.0 / (1.0 - rate))).astype(x.dtype)
    return x * mask, mask


# The scaled mask is a hidden output: the rule reads it, a tracer sees it.
DROPOUT = declare("dropout", _dropout, hidden=1, saves="", random=True)


@DROPOUT.gradient
def _(g):
    return (g.dy * g.outputs[1],)


@register(
    Sample(shapes=[(3, 4)], kwargs={"rate": 0.5, "seed": 1}),
    Sample(
        shapes=[(2, 3, 4)], kwargs={"rate": 0.25, "noise_shape": (2, 1, 4), "seed": 2}
    ),
    second_order=True,
)
def dropout(x, rate=None, training=True, noise_shape=None, seed=None, keep_prob=None):
    """Zeroes elements with probability ``rate``, scales the rest by ``1 / (1 - rate)``.

    Inverted dropout: the expected output equals ``x``, so nothing changes at
    inference. The gradient is ``dy`` times the same scaled mask.

    The second argument is the drop rate, as in TensorFlow 2 (TensorFlow 1 and
    tfe passed the keep probability there: port ``tf.nn.dropout(x, 0.9)`` as
    ``dropout(x, 0.1)``). ``keep_prob=`` is accepted as a keyword, with a
    ``DeprecationWarning``.

    Args:
        x: A floating-point tensor.
        rate: The probability of dropping an element, in ``[0, 1)``.
        training: When False, ``x`` is returned unchanged.
        noise_shape: Shape of the random mask, broadcast to ``x``'s shape: one entry
            per axis, each 1 (share the draw along that axis), ``x``'s size or None.
        seed: An int for a private generator; by default the mask is drawn from
            ``nnlib.random.get_generator()``, which ``nnlib.random.set_seed`` seeds.
        keep_prob: Deprecated (tfe's argument): the probability of keeping an
            element, in ``(0, 1]``; ``rate = 1 - keep_prob``.

    Returns:
        A Tensor of ``x``'s shape and dtype (``x`` itself when not training or
        ``rate`` is 0).

    Raises:
        ValueError: If ``rate`` is outside ``[0, 1)``, ``keep_prob`` outside
            ``(0, 1]`` or ``noise_shape`` does not fit.
        TypeError: If ``x`` is not floating point, or neither or both of ``rate``
            and ``keep_prob`` are given.

    Examples:
        >>> y = nnlib.dropout(np.ones((2, 4), np.float32), rate=0.5, seed=0)
        >>> sorted(set(y.numpy().ravel().tolist()))
        [0.0, 2.0]
        >>> x = nnlib.constant([1., 2.])
        >>> nnlib.dropout(x, 0.5, training=False) is x
        True
    """
    if keep_prob is not None or rate is None:
        rate = _rate_of_keep_prob(rate, keep_prob)
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise TypeError(f"dropout: rate must be a number, got {rate!r}") from None
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: x must be floating point, got {x.dtype}")
    if not training or rate == 0.0:
        return x
    shape = _noise_shape(noise_shape, x.shape)
    return DROPOUT(x, rate=rate, noise_shape=shape, seed=seed)


def _rate_of_keep_prob(rate, keep_prob):
    if keep_prob is None:
        raise TypeError(
            "dropout: missing rate (the probability of dropping an element)"
        )
    if rate is not None:
        raise TypeError(
            f"dropout: pass rate or keep_prob, not both; got rate={rate!r} and "
            f"keep_prob={keep_prob!r}"
        )
    warn(
        "dropout: keep_prob is deprecated (TensorFlow 1's argument); pass "
        f"rate=1 - keep_prob (here rate={1 - float(keep_prob):g}) instead",
        DeprecationWarning,
    )
    if not 0.0 < float(keep_prob) <= 1.0:
        raise ValueError(f"dropout: keep_prob must be in (0, 1], got {keep_prob}")
    return 1.0 - float(keep_prob)
