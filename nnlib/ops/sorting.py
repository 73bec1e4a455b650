"""Ordering along the last axis: ``top_k``.

The values are a ``gather`` of the input at the winning indices, so their
gradient (``dy`` scattered back to the winners) comes from ``gather``'s, to any
order; the indices have none.
"""

import operator

import numpy as np

from ._dispatch import as_tensor
from .declare import declare
from .indexing import gather
from .registry import Sample, register

__all__ = ["top_k"]


def _top_k_indices(x, k):
    keys = x.astype(np.int64) if x.dtype.kind in "ub" else x
    # A stable sort of the negated values keeps ties in index order.
    return np.argsort(-keys, axis=-1, kind="stable")[..., :k].astype(np.int32)


# Indices have no gradient; the values' gradient is gather's.
TOP_K_INDICES = declare("top_k_indices", _top_k_indices)


@register(
    Sample(shapes=[(6,)], kwargs={"k": 3}),
    Sample(shapes=[(2, 3, 5)], kwargs={"k": 2}),
    Sample(shapes=[(3, 4)], kwargs={"k": 4, "sorted": False}),
    second_order=True,
)
def top_k(x, k=1, sorted=True):  # TensorFlow's argument names
    """The ``k`` largest entries along the last axis, and their indices.

    As TensorFlow's ``top_k``: largest first, and of equal entries the one with
    the lower index first. The entries come sorted whatever ``sorted`` says
    (TensorFlow leaves the order unspecified for ``sorted=False``).

    Args:
        x: A tensor of rank >= 1.
        k: How many entries to keep, ``0 <= k <= x.shape[-1]``.
        sorted: Accepted for TensorFlow's signature.

    Returns:
        ``(values, indices)``: Tensors of shape ``x.shape[:-1] + (k,)``, the
        values of ``x``'s dtype and the indices int32 (TensorFlow's).

    Raises:
        ValueError: If ``x`` is a scalar or ``k`` is out of range.

    Examples:
        >>> values, indices = nnlib.top_k([1., 5., 3., 5.], k=3)
        >>> values
        nnlib.Tensor([5. 5. 3.], shape=(3,), dtype=float32)
        >>> indices
        nnlib.Tensor([1 3 2], shape=(3,), dtype=int32)
    """
    x = as_tensor(x)
    k = operator.index(k)
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(
            f"top_k: k must be in [0, {x.shape[-1] if x.ndim else 0}] (the last "
            f"axis of x of shape {x.shape}), got {k}"
        )
    indices = TOP_K_INDICES(x, k=k)
    values = gather(x, indices, axis=x.ndim - 1, batch_dims=x.ndim - 1)
    return values, indices
