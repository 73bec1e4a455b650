"""Neural-network functions: the softmax family, l2_loss and dropout.

The softmax family is fused: the forward shifts by the maximum so ``exp`` never
overflows, and the gradient rules (in ``_softmax.py``, shared with the
cross-entropies) are written with nnlib ops so they can be differentiated again.
The cross-entropies from logits are in ``cross_entropy.py`` (and importable from
here as well).
"""

import numpy as np

from .. import random as _random
from . import math as _math
from ._dispatch import ACTIVE, as_tensor, record, wrap
from ._softmax import class_axis, connected, float_logits, shifted_exp

# Re-exported (not in __all__, which would list them twice in nnlib.ops and the
# API reference) so ``from nnlib.ops.nn import ...`` keeps working.
from .cross_entropy import (  # noqa: F401
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
)
from .reduction import reduce_sum
from .registry import Sample, register

__all__ = [
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
    _, e, total = shifted_exp(logits._value, axis)
    return connected("softmax", logits, e / total, axis)


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
    shifted, _, total = shifted_exp(logits._value, axis)
    return connected("log_softmax", logits, shifted - np.log(total), axis)


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


@register(
    Sample(shapes=[(3, 4)], kwargs={"rate": 0.5, "seed": 1}),
    Sample(
        shapes=[(2, 3, 4)], kwargs={"rate": 0.25, "noise_shape": (2, 1, 4), "seed": 2}
    ),
    second_order=True,
)
def dropout(x, rate, training=True, noise_shape=None, seed=None):
    """Zeroes elements with probability ``rate``, scales the rest by ``1 / (1 - rate)``.

    Inverted dropout: the expected output equals ``x``, so nothing changes at
    inference. The gradient is ``dy`` times the same scaled mask.

    Args:
        x: A floating-point tensor.
        rate: The probability of dropping an element, in ``[0, 1)``.
        training: When False, ``x`` is returned unchanged.
        noise_shape: Shape of the random mask, broadcast to ``x``'s shape: one entry
            per axis, each 1 (share the draw along that axis), ``x``'s size or None.
        seed: An int for a private generator; by default the mask is drawn from
            ``nnlib.random.get_generator()``, which ``nnlib.random.set_seed`` seeds.

    Returns:
        A Tensor of ``x``'s shape and dtype (``x`` itself when not training or
        ``rate`` is 0).

    Raises:
        ValueError: If ``rate`` is outside ``[0, 1)`` or ``noise_shape`` does not fit.
        TypeError: If ``x`` is not floating point.

    Examples:
        >>> y = nnlib.dropout(np.ones((2, 4), np.float32), rate=0.5, seed=0)
        >>> sorted(set(y.numpy().ravel().tolist()))
        [0.0, 2.0]
        >>> x = nnlib.constant([1., 2.])
        >>> nnlib.dropout(x, 0.5, training=False) is x
        True
    """
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
    rng = np.random.default_rng(seed) if seed is not None else _random.get_generator()
    keep = rng.random(shape) >= rate
    mask = (keep * (1.0 / (1.0 - rate))).astype(x.dtype)
    y = wrap(x._value * mask)
    if ACTIVE:
        scale = wrap(mask)
        record("dropout", (x,), y, lambda dy: (dy * scale,))
    return y
