"""Training: compile/fit/evaluate/predict on top of ``train_step``.

The ``Trainer`` mixin gives ``Network`` its training methods; it needs nothing
from the network package, which builds on it.
"""

from .trainer import Trainer

__all__ = ["Trainer"]
