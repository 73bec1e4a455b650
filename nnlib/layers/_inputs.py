"""Turning what a layer is called with into Tensors of the layer's dtype."""

import numpy as np

from ..engine import nest
from ..engine.tensor import Tensor, to_array
from ..ops.shape import cast

__all__ = ["convert", "shapes"]


def convert(inputs, dtype, integers=False):
    """Inputs as Tensors. With ``dtype``, floating-point ones are cast to it, as
    Keras does silently; integer ones only with ``integers`` (nnlib's float
    layers), so a user's layer gets the ids it was given. Lists of arrays and
    dicts are converted leaf by leaf."""
    if isinstance(inputs, dict) or (
        isinstance(inputs, (list, tuple))
        and any(isinstance(x, (Tensor, np.ndarray, list, tuple, dict)) for x in inputs)
    ):
        return nest.pack_as(
            inputs, [convert(x, dtype, integers) for x in nest.flatten(inputs)]
        )
    if inputs is None:
        return None
    tensor = inputs if isinstance(inputs, Tensor) else Tensor(to_array(inputs))
    kind = tensor.dtype.kind
    if (
        dtype is not None
        and tensor.dtype != dtype
        and (kind == "f" or (integers and kind in "iu"))
    ):
        tensor = cast(tensor, dtype)
    return tensor


def shapes(outputs):
    """The shape of a Tensor output, or a list of shapes for several outputs."""
    if isinstance(outputs, Tensor):
        return outputs.shape
    if isinstance(outputs, (list, tuple)):
        return [shapes(o) for o in outputs]
    return None
