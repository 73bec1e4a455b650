"""RMSProp (Tieleman and Hinton, 2012), plain, centered and with momentum."""

import numpy as np

from .._args import boolean
from ._arrays import moving_average, writable
from .optimizer import Optimizer

__all__ = ["RMSProp"]


class RMSProp(Optimizer):
    """RMSProp: divides the gradient by a running root mean square (Keras formulas).

    ::

        velocity = rho * velocity + (1 - rho) * g**2
        average = rho * average + (1 - rho) * g          # centered only
        step = lr * g / sqrt(velocity - average**2 + epsilon)   # average = 0
        moment = momentum * moment + step                # momentum > 0 only
        w -= moment                                      # else w -= step

    (PyTorch adds its ``eps`` outside the square root.) Slots: ``velocity``,
    ``average_gradient`` when centered, ``momentum`` when ``momentum > 0``.

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.001).
        rho: Decay of the running averages, in [0, 1) (PyTorch's ``alpha``).
        momentum: Momentum in [0, 1] (default 0: none).
        epsilon: A small constant >= 0 for numerical stability.
        centered: Whether to divide by the estimated variance of the gradient
            rather than its second moment (True or False).

    ``rho``, ``momentum`` and ``epsilon`` may be scalar float Variables, read at
    every step (a ``momentum`` Variable always gets the ``momentum`` slot).
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Raises:
        ValueError: For a hyperparameter out of its range.
        TypeError: If ``centered`` is not True or False.

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([1.0], name="w")
        >>> opt = optimizers.RMSProp(learning_rate=0.01, rho=0.75)
        >>> _ = opt.apply_gradients([(np.array([3.0]), w)])
        >>> w.numpy()   # 1 - 0.01 * 3 / sqrt(0.25 * 9)
        array([0.98], dtype=float32)
    """

    _config_keys = ("rho", "momentum", "epsilon", "centered")

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        **kwargs,
    ):
        super().__init__(learning_rate, **kwargs)
        self._hyperparameter("rho", rho, high=1.0, high_open=True)
        self._hyperparameter("momentum", momentum, high=1.0)
        self._hyperparameter("epsilon", epsilon)
        self.centered = boolean(centered, "centered", "RMSProp")
        # A momentum Variable may grow from 0 later: it gets its slot now.
        self._has_momentum = "momentum" in self._hyper_variables or self.momentum > 0
        self._slot_names = (
            ("velocity",)
            + (("average_gradient",) if self.centered else ())
            + (("momentum",) if self._has_momentum else ())
        )

    def _update(self, var, grad, slots, lr):
        velocity = writable(slots[0])
        w, tmp = writable(var), self._scratch(grad)
        moving_average(velocity, np.multiply(grad, grad, out=tmp), self.rho, tmp)
        if self.centered:
            average = writable(slots[1])
            moving_average(average, grad, self.rho, tmp)
            np.multiply(average, average, out=tmp)
            np.subtract(velocity, tmp, out=tmp)
            tmp += self.epsilon
        else:
            np.add(velocity, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grad, tmp, out=tmp)
        tmp *= lr
        if self._has_momentum:
            moment = writable(slots[-1])
            moment *= self.momentum
            moment += tmp
            tmp = moment
        w -= tmp
