"""Helpers on element specs: inferring, batching, merging, checking."""

import numpy as np

from . import _nest
from .spec import TensorSpec


def spec_of(element):
    """The spec structure of one element."""
    return _nest.map_structure(TensorSpec.from_value, element)


def batched(spec, size=None):
    """Prepends a batch axis of ``size`` (``None``: varies) to every leaf."""
    return _nest.map_structure(lambda s: TensorSpec((size, *s.shape), s.dtype), spec)


def unbatched(spec, where="unbatch"):
    """Removes the first axis of every leaf (an error for scalars)."""

    def drop(s):
        if not s.shape:
            raise ValueError(f"{where}: cannot unbatch a scalar component ({s})")
        return TensorSpec(s.shape[1:], s.dtype)

    return _nest.map_structure(drop, spec)


def merge(a, b, where):
    """The most specific spec both ``a`` and ``b`` fit, or a ``TypeError``."""
    if not _nest.same_structure(a, b):
        raise TypeError(
            f"{where}: the datasets' elements nest differently: "
            f"{_nest.describe(a)} and {_nest.describe(b)}"
        )
    leaves = []
    for x, y in zip(_nest.flatten(a), _nest.flatten(b)):
        if x.dtype != y.dtype or len(x.shape) != len(y.shape):
            raise TypeError(f"{where}: incompatible components {x} and {y}")
        shape = tuple(p if p == q else None for p, q in zip(x.shape, y.shape))
        leaves.append(TensorSpec(shape, x.dtype))
    return _nest.pack(a, leaves)


def check(element, signature, where):
    """Converts ``element`` to ``signature``'s dtypes, checking its shapes.

    Raises:
        ValueError: If the nesting or a shape does not match, naming both.
        TypeError: If a value cannot be converted to the spec's dtype.
    """
    if not _nest.same_structure(element, signature):
        raise ValueError(
            f"{where}: expected elements nested as {_nest.describe(signature)}, "
            f"got {_nest.describe(element)}"
        )
    out = []
    for path, value, spec in zip(
        _nest.paths(signature), _nest.flatten(element), _nest.flatten(signature)
    ):
        array = np.asarray(value)
        if not spec.shape_compatible(array.shape):
            raise ValueError(
                f"{where}: component {path} has shape {array.shape}, expected "
                f"shape {spec.shape} from output_signature"
            )
        if TensorSpec((), array.dtype).dtype != spec.dtype:
            if not np.can_cast(array.dtype, spec.dtype, "same_kind"):
                raise TypeError(
                    f"{where}: component {path} has dtype {array.dtype}, which "
                    f"does not convert to {spec.dtype} from output_signature"
                )
            array = array.astype(spec.dtype)
        out.append(array[()] if array.ndim == 0 else array)
    return _nest.pack(signature, out)
