"""Networks: models made of tracked layers."""

from .network import Network
from .sequential import Sequential

__all__ = ["Network", "Sequential"]
