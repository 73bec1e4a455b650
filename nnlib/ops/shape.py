"""Shape ops: reshaping, broadcasting, transposing, casting."""

import numpy as np

from . import reduction as _reduction
from ._dispatch import ACTIVE, as_tensor, record, wrap
from .registry import Sample, register

__all__ = ["broadcast_to", "cast", "reshape", "transpose"]


@register(Sample(shapes=[(3, 4)], kwargs={"shape": (2, 6)}),
          Sample(shapes=[(2, 3, 2)], kwargs={"shape": (-1,)}), second_order=True)
def reshape(x, shape):
    """Returns ``x`` with a new shape holding the same elements.

    Args:
        x: A tensor, array or number.
        shape: The new shape; one entry may be -1 (inferred).

    Returns:
        A Tensor.

    Raises:
        ValueError: If the element counts differ.

    Example:
        >>> nnlib.reshape([1., 2., 3., 4.], (2, 2))
        nnlib.Tensor([[1. 2.]
                      [3. 4.]], shape=(2, 2), dtype=float32)
    """
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        y = wrap(np.reshape(x._value, shape))
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into shape {shape}") from None
    if ACTIVE:
        x_shape = x.shape
        record("reshape", (x,), y, lambda dy: (reshape(dy, x_shape),))
    return y


@register(Sample(shapes=[(3,)], kwargs={"shape": (2, 3)}),
          Sample(shapes=[(2, 1)], kwargs={"shape": (4, 2, 3)}), second_order=True)
def broadcast_to(x, shape):
    """Broadcasts ``x`` to ``shape`` with numpy's rules.

    Raises:
        ValueError: If ``x``'s shape cannot broadcast to ``shape``.

    Example:
        >>> nnlib.broadcast_to([1., 2.], (2, 2))
        nnlib.Tensor([[1. 2.]
                      [1. 2.]], shape=(2, 2), dtype=float32)
    """
    x = as_tensor(x)
    shape = tuple(shape)
    try:
        y = wrap(np.broadcast_to(x._value, shape))
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    if ACTIVE:
        x_shape = x.shape
        record("broadcast_to", (x,), y, lambda dy: (_reduction.sum_to_shape(dy, x_shape),))
    return y


@register(Sample(shapes=[(3, 4)]), Sample(shapes=[(2, 3, 4)], kwargs={"perm": (1, 2, 0)}),
          second_order=True)
def transpose(x, perm=None):
    """Permutes the axes of ``x`` (reverses them when ``perm`` is None).

    Raises:
        ValueError: If ``perm`` is not a permutation of ``x``'s axes.

    Example:
        >>> nnlib.transpose(nnlib.zeros((2, 3, 4)), perm=(2, 0, 1)).shape
        (4, 2, 3)
    """
    x = as_tensor(x)
    perm = tuple(range(x.ndim))[::-1] if perm is None else tuple(int(p) % max(x.ndim, 1) for p in perm)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: perm {perm} is not a permutation of the "
                         f"{x.ndim} axes of a tensor of shape {x.shape}")
    y = wrap(np.transpose(x._value, perm))
    if ACTIVE:
        inverse = tuple(np.argsort(perm))
        record("transpose", (x,), y, lambda dy: (transpose(dy, inverse),))
    return y


# float64 -> float64 only: a float32 round trip would defeat the float64 check.
@register(Sample(shapes=[(3, 4)], kwargs={"dtype": "float64"}), second_order=True)
def cast(x, dtype):
    """Converts ``x`` to ``dtype``.

    Casting between floating-point dtypes is differentiable; casting to an
    integer or boolean dtype is not (no gradient flows through it).

    Example:
        >>> nnlib.cast([1.7, -1.2], "int32")
        nnlib.Tensor([ 1 -1], shape=(2,), dtype=int32)
    """
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    y = wrap(x._value.astype(dtype))
    if ACTIVE:
        source = x.dtype
        differentiable = dtype.kind in "fc" and source.kind in "fc"
        record("cast", (x,), y, (lambda dy: (cast(dy, source),)) if differentiable else None)
    return y
