"""Lion, the sign-momentum optimizer found by program search (Chen et al., 2023)."""

import numpy as np

from ._arrays import moving_average, writable
from .optimizer import Optimizer

__all__ = ["Lion"]


class Lion(Optimizer):
    """Lion: steps by the sign of an interpolated momentum (Keras formulas).

    ::

        w -= lr * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    Every coordinate moves by exactly ``lr`` (or 0), so Lion usually wants a
    learning rate 3 to 10 times smaller than Adam's. Slot: ``m``.

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.001).
        beta_1: Weight of the momentum in the step's direction, in [0, 1].
        beta_2: Decay of the momentum, in [0, 1].

    ``beta_1`` and ``beta_2`` may be scalar float Variables, read at every step.
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Raises:
        ValueError: For a hyperparameter out of its range.

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([1.0, 1.0], name="w")
        >>> _ = optimizers.Lion(0.1).apply_gradients([(np.array([5.0, -0.1]), w)])
        >>> w.numpy()
        array([0.9, 1.1], dtype=float32)
    """

    _slot_names = ("m",)
    _config_keys = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self._hyperparameter("beta_1", beta_1, high=1.0)
        self._hyperparameter("beta_2", beta_2, high=1.0)

    def _update(self, var, grad, slots, lr):
        m = writable(slots[0])
        w, direction = writable(var), self._scratch(grad)
        np.subtract(grad, m, out=direction)
        direction *= 1.0 - self.beta_1
        direction += m
        np.sign(direction, out=direction)
        direction *= lr
        w -= direction
        moving_average(m, grad, self.beta_2, direction)
