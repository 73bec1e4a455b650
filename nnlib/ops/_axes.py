"""Axis arguments of the reductions: normalized, and the shape kept by keepdims."""

import numpy as np


def normalize_axes(axis, ndim, op):
    """Returns ``axis`` as a sorted tuple of non-negative ints (all axes for None).

    A scalar accepts axis 0 or -1 (and reduces over nothing), as a one-element
    vector would.

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
    elif isinstance(axis, (tuple, list, np.ndarray)):
        axes = axis
    else:
        raise TypeError(
            f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}"
        )
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
