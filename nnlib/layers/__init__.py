"""The standard layers, grouped by kind, and the ``Layer`` base class."""

from .base import InputSpec, Layer, get_layer_class
from .core import Activation, Dense, Dropout, Flatten, Lambda, Permute, Reshape

__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "Flatten",
    "InputSpec",
    "Lambda",
    "Layer",
    "Permute",
    "Reshape",
    "get_layer_class",
]
