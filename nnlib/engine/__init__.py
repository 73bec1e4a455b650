"""The eager engine: tensors, variables, the tape and the gradient functions.

Nothing here imports the ops layer; ``nnlib.ops`` attaches Tensor's operators.
"""

from .backprop import (
    gradients_function,
    implicit_gradients,
    implicit_value_and_gradients,
    value_and_gradients_function,
)
from .custom_gradient import custom_gradient, stop_gradient
from .gradient_tape import GradientTape
from .indexed_slices import IndexedSlices
from .numerics import geterr, seterr
from .tensor import Tensor, constant, convert_to_tensor
from .variable import Variable

__all__ = [
    "GradientTape",
    "IndexedSlices",
    "Tensor",
    "Variable",
    "constant",
    "convert_to_tensor",
    "custom_gradient",
    "geterr",
    "gradients_function",
    "implicit_gradients",
    "implicit_value_and_gradients",
    "seterr",
    "stop_gradient",
    "value_and_gradients_function",
]
