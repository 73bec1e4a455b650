"""Linear algebra: matrix products and friends."""

import numpy as np

from ..engine.tape import needs_gradient
from ._dispatch import ACTIVE, as_tensor, record, wrap
from .reduction import sum_to_shape
from .registry import Sample, register
from .shape import reshape

__all__ = ["matmul"]


def _t(v, flag):
    if not flag:
        return v
    return v.T if v.ndim == 2 else np.swapaxes(v, -1, -2)


@register(Sample(shapes=[(3, 4), (4, 2)]),
          Sample(shapes=[(2, 3, 4), (4, 5)]),
          Sample(shapes=[(2, 1, 3, 4), (3, 4, 2)]),
          Sample(shapes=[(4, 3), (2, 4)], kwargs={"transpose_a": True, "transpose_b": True}),
          Sample(shapes=[(4,), (4, 3)]),
          second_order=True)
def matmul(a, b, transpose_a=False, transpose_b=False):
    """Matrix product ``a @ b``, batched over leading axes with broadcasting.

    Args:
        a: A tensor of rank >= 1 (a vector is treated as one row).
        b: A tensor of rank >= 1 (a vector is treated as one column).
        transpose_a: Use the transpose of ``a``'s last two axes.
        transpose_b: Use the transpose of ``b``'s last two axes.

    Returns:
        A Tensor of shape ``batch + (rows of a, columns of b)``.

    Raises:
        ValueError: If the inner dimensions differ or batch shapes do not broadcast.

    Example:
        >>> a = nnlib.constant([[1., 2.], [3., 4.]])
        >>> nnlib.matmul(a, a)
        nnlib.Tensor([[ 7. 10.]
                      [15. 22.]], shape=(2, 2), dtype=float32)
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have rank >= 1, got shapes {a.shape} and {b.shape}")
    if a.ndim == 1 or b.ndim == 1:
        return _vector_matmul(a, b, transpose_a, transpose_b)
    av, bv = a._value, b._value
    try:
        y = wrap(np.matmul(_t(av, transpose_a), _t(bv, transpose_b)))
    except ValueError:
        raise ValueError(
            f"matmul: cannot multiply shapes {a.shape}{'^T' if transpose_a else ''} and "
            f"{b.shape}{'^T' if transpose_b else ''}: inner dimensions or batch shapes "
            "do not match") from None
    if ACTIVE:
        need_a, need_b = needs_gradient(a), needs_gradient(b)

        def backward(dy):
            da = db = None
            if need_a:
                if transpose_a:
                    da = matmul(b, dy, transpose_a=transpose_b, transpose_b=True)
                else:
                    da = matmul(dy, b, transpose_b=not transpose_b)
                da = sum_to_shape(da, a.shape)
            if need_b:
                if transpose_b:
                    db = matmul(dy, a, transpose_a=True, transpose_b=transpose_a)
                else:
                    db = matmul(a, dy, transpose_a=not transpose_a)
                db = sum_to_shape(db, b.shape)
            return da, db

        record("matmul", (a, b), y, backward)
    return y


def _vector_matmul(a, b, transpose_a, transpose_b):
    """numpy's vector rules, by reshaping to matrices (so the gradient comes free)."""
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    y = matmul(a2, b2, transpose_a=transpose_a and a.ndim > 1,
               transpose_b=transpose_b and b.ndim > 1)
    shape = y.shape
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return reshape(y, shape)
