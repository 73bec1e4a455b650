"""Indexing: numpy-style ``x[key]`` (basic, boolean-mask and integer-array)."""

import numpy as np

from ._dispatch import ACTIVE, Tensor, as_tensor, record, wrap
from .registry import Sample, register

__all__ = ["getitem"]


def _plain_key(key):
    """Turns Tensors inside an index into numpy arrays; lists into arrays."""
    if isinstance(key, tuple):
        return tuple(_plain_key(k) for k in key)
    if isinstance(key, Tensor):
        return key._value
    if isinstance(key, list):
        return np.asarray(key)
    return key


def _has_integer_array(key):
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, np.ndarray) and k.dtype.kind in "iu" for k in parts)


def _getitem_samples(rng):
    return [rng.uniform(-2, 2, (4, 5))], {"key": (slice(1, 3), [0, 2, 2])}


@register(Sample(shapes=[(4, 5)], kwargs={"key": (slice(1, None), 2)}),
          Sample(shapes=[(4, 5)], kwargs={"key": (Ellipsis, None, slice(None, None, -2))}),
          Sample(make=_getitem_samples),
          Sample(make=lambda rng: ([rng.uniform(-2, 2, (3, 4))],
                                   {"key": rng.random((3, 4)) > 0.4})),
          second_order=True)
def getitem(x, key):
    """Returns ``x[key]`` with numpy's indexing rules; this is what ``x[key]`` calls.

    Basic indexing (ints, slices, ``None``, ``...``), boolean masks and integer
    arrays (repeated indices add their gradients) are all differentiable.

    Args:
        x: A tensor.
        key: An index as numpy accepts it; tensors inside it are allowed.

    Returns:
        A Tensor.

    Raises:
        IndexError: If an index is out of range, naming the shape.

    Example:
        >>> x = nnlib.constant([[1., 2., 3.], [4., 5., 6.]])
        >>> x[:, 1]
        nnlib.Tensor([2. 5.], shape=(2,), dtype=float32)
        >>> x[x > 3.]
        nnlib.Tensor([4. 5. 6.], shape=(3,), dtype=float32)
    """
    x = as_tensor(x)
    key = _plain_key(key)
    try:
        y = wrap(x._value[key])
    except IndexError as err:
        raise IndexError(f"index {key!r} is invalid for a tensor of shape {x.shape}: {err}") from None
    if ACTIVE:
        x_shape = x.shape
        record("getitem", (x,), y, lambda dy: (_scatter_add(dy, key, x_shape),))
    return y


def _scatter_add(dy, key, shape):
    """The gradient of ``getitem``: ``dy`` added into zeros of ``shape`` at ``key``."""
    dx = np.zeros(shape, dy.dtype)
    if _has_integer_array(key):
        np.add.at(dx, key, dy._value)
    else:
        dx[key] = dy._value
    out = wrap(dx)
    if ACTIVE:
        record("scatter_add", (dy,), out, lambda ddx: (getitem(ddx, key),))
    return out
