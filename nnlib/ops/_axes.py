"""Axis arguments of the reductions: normalized, and the shape kept by keepdims."""

import numpy as np

from ..engine.tensor import Tensor


def normalize_axes(axis, ndim, op):
    """Returns ``axis`` as a sorted tuple of non-negative ints (all axes for None).

    A scalar accepts axis 0 or -1 (and reduces over nothing), as a one-element
    vector would. An integer Tensor or array stands for its values, as in
    TensorFlow: 0-d for one axis, 1-d for several.

    Raises:
        ValueError: Naming ``op`` when an axis is out of range or repeated.
        TypeError: Naming ``op`` when an axis is not an int.
    """
    if axis is None:
        return tuple(range(ndim))
    rank = max(ndim, 1)
    if isinstance(axis, (int, np.integer)):
        if ndim and -rank <= axis < rank:
            return (int(axis) % rank,)
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = axis
    else:
        return normalize_axes(integer_axes(axis, op), ndim, op)
    result = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(
                f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}"
            )
        if not -rank <= a < rank:
            raise ValueError(
                f"{op}: axis {a} is out of range for a tensor of rank {ndim}"
            )
        result.append(int(a) % rank)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result)) if ndim else ()


def kept_shape(shape, axes):
    """The shape a reduction over ``axes`` has with ``keepdims=True``."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def integer_axes(axis, op):
    """An integer Tensor or array axis as an int (0-d) or a tuple of ints (1-d).

    Raises:
        TypeError: Naming ``op``, for anything else.
    """
    value = axis._value if isinstance(axis, Tensor) else axis
    if (
        isinstance(value, (np.ndarray, np.generic))
        and value.dtype.kind in "iu"
        and value.ndim in (0, 1)
    ):
        return int(value) if value.ndim == 0 else tuple(int(a) for a in value)
    raise TypeError(
        f"{op}: axis must be an int, a tuple of ints, a 0-d or 1-d integer "
        f"tensor, or None; got {axis!r}"
    )
