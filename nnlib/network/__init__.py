"""Networks: models made of tracked layers, and functional models."""

from .functional import Model
from .network import Network
from .sequential import Sequential

__all__ = ["Model", "Network", "Sequential"]
