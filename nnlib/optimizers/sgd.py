"""Gradient descent, plain and with (Nesterov) momentum."""

import numpy as np

from .._args import boolean
from ._arrays import writable
from .optimizer import Optimizer

__all__ = ["GradientDescent", "Momentum"]


class GradientDescent(Optimizer):
    """Plain gradient descent: ``w -= learning_rate * g``.

    An ``IndexedSlices`` gradient updates only the rows it names (repeated rows
    add up): the same result as its dense gradient, at the cost of those rows.

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.01).
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``
            (see ``Optimizer``).

    Examples:
        >>> from nnlib import optimizers
        >>> vx = nnlib.Variable(1.0, name="vx")
        >>> _, grads_and_vars = nnlib.implicit_value_and_gradients(lambda: 2 * vx)()
        >>> _ = optimizers.GradientDescent(learning_rate=0.1).apply_gradients(
        ...     grads_and_vars)
        >>> float(vx)
        0.8
    """

    def __init__(self, learning_rate=0.01, **kwargs):
        super().__init__(learning_rate, **kwargs)

    def _update(self, var, grad, slots, lr):
        w = writable(var)
        w -= np.multiply(grad, lr, out=self._scratch(grad))

    def _update_sparse(self, var, grad, slots, lr):
        w = writable(var)
        w[grad.rows] -= grad.values * lr


class Momentum(Optimizer):
    """Gradient descent with momentum, in Keras's convention.

    ``velocity = momentum * velocity - learning_rate * g``, then
    ``w += velocity``; with ``nesterov=True``,
    ``w += momentum * velocity - learning_rate * g``. (PyTorch keeps
    ``velocity`` without the learning rate; for a constant rate the two agree.)
    Slot: ``velocity``.

    An ``IndexedSlices`` gradient updates only the rows it names, velocity and
    weights alike, as TensorFlow's sparse momentum does: a row's velocity
    decays only at the steps that touch it, and a row no step touches does not
    move. (Dense, every row's velocity decays and moves its weights at every
    step; the two agree while the same rows are touched at every step.)

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.01).
        momentum: The decay of the velocity, in [0, 1] (default 0.9), or a
            scalar float Variable read at every step.
        nesterov: Whether to use Nesterov momentum (True or False).
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Raises:
        ValueError: If ``momentum`` is outside [0, 1].
        TypeError: If ``nesterov`` is not True or False.

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([1.0], name="w")
        >>> opt = optimizers.Momentum(0.1, momentum=0.5)
        >>> for _ in range(2):
        ...     _ = opt.apply_gradients([(np.array([1.0]), w)])
        >>> w.numpy()   # 1 - 0.1 - (0.5 * 0.1 + 0.1)
        array([0.75], dtype=float32)
    """

    _slot_names = ("velocity",)
    _config_keys = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.9, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self._hyperparameter("momentum", momentum, high=1.0)
        self.nesterov = boolean(nesterov, "nesterov", "Momentum")

    def _update(self, var, grad, slots, lr):
        (velocity,) = slots
        v, w = writable(velocity), writable(var)
        step = np.multiply(grad, lr, out=self._scratch(grad))
        v *= self.momentum
        v -= step
        if self.nesterov:
            w -= step
            w += np.multiply(v, self.momentum, out=step)
        else:
            w += v

    def _update_sparse(self, var, grad, slots, lr):
        rows = grad.rows
        v, w = writable(slots[0]), writable(var)
        step = grad.values * lr
        velocity = v[rows]
        velocity *= self.momentum
        velocity -= step
        v[rows] = velocity
        weights = w[rows]
        if self.nesterov:
            weights -= step
            weights += np.multiply(velocity, self.momentum, out=step)
        else:
            weights += velocity
        w[rows] = weights
