"""Adagrad and Adadelta: per-coordinate rates from accumulated squares."""

import numpy as np

from ._arrays import check_number, moving_average, writable
from .optimizer import Optimizer

__all__ = ["Adadelta", "Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as Keras writes it.

    ::

        accumulator += g**2
        w -= lr * g / sqrt(accumulator + epsilon)

    (PyTorch adds its ``eps`` outside the square root.) Slot: ``accumulator``,
    starting at ``initial_accumulator_value``. An ``IndexedSlices`` gradient
    updates only the rows it names (TensorFlow's sparse Adagrad): the same
    result as its dense gradient, whose other rows add 0 and move by 0.

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.001).
        initial_accumulator_value: The accumulator's starting value, >= 0.
        epsilon: A small constant >= 0 for numerical stability, or a scalar
            float Variable read at every step.
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Raises:
        ValueError: For a hyperparameter out of its range.

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([1.0], name="w")
        >>> opt = optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.)
        >>> _ = opt.apply_gradients([(np.array([4.0]), w)])
        >>> w.numpy()   # 1 - 0.1 * 4 / sqrt(16)
        array([0.9], dtype=float32)
    """

    _slot_names = ("accumulator",)
    _config_keys = ("initial_accumulator_value", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        **kwargs,
    ):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_number(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value
        )
        self._hyperparameter("epsilon", epsilon)

    def _slot_initial(self, slot, var):
        return np.full_like(var._value, self.initial_accumulator_value)

    def _update(self, var, grad, slots, lr):
        accumulator = writable(slots[0])
        w, tmp = writable(var), self._scratch(grad)
        accumulator += np.multiply(grad, grad, out=tmp)
        np.add(accumulator, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grad, tmp, out=tmp)
        tmp *= lr
        w -= tmp

    def _update_sparse(self, var, grad, slots, lr):
        rows, g = grad.rows, grad.values
        accumulator, w = writable(slots[0]), writable(var)
        summed = accumulator[rows]
        summed += g * g
        accumulator[rows] = summed
        step = summed + self.epsilon
        np.sqrt(step, out=step)
        np.divide(g, step, out=step)
        step *= lr
        w[rows] -= step


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), as Keras and PyTorch write it.

    With ``rms(x) = sqrt(x + epsilon)``::

        accumulated_grad = rho * accumulated_grad + (1 - rho) * g**2
        delta = rms(accumulated_delta) / rms(accumulated_grad) * g
        accumulated_delta = rho * accumulated_delta + (1 - rho) * delta**2
        w -= lr * delta

    Slots: ``accumulated_grad``, ``accumulated_delta``.

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.001; the paper and
            PyTorch use 1.0).
        rho: Decay of the running averages, in [0, 1).
        epsilon: A small constant >= 0 for numerical stability.

    ``rho`` and ``epsilon`` may be scalar float Variables, read at every step.
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Raises:
        ValueError: For a hyperparameter out of its range.

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([1.0], name="w")
        >>> opt = optimizers.Adadelta(learning_rate=1.0, rho=0.5, epsilon=0.25)
        >>> _ = opt.apply_gradients([(np.array([1.5]), w)])
        >>> w.numpy()   # 1 - sqrt(0.25) / sqrt(0.5 * 2.25 + 0.25) * 1.5
        array([0.3604...], dtype=float32)
    """

    _slot_names = ("accumulated_grad", "accumulated_delta")
    _config_keys = ("rho", "epsilon")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self._hyperparameter("rho", rho, high=1.0, high_open=True)
        self._hyperparameter("epsilon", epsilon)

    def _update(self, var, grad, slots, lr):
        grads, deltas = writable(slots[0]), writable(slots[1])
        w, tmp, delta = writable(var), self._scratch(grad), self._scratch(grad, 1)
        moving_average(grads, np.multiply(grad, grad, out=tmp), self.rho, tmp)
        np.add(deltas, self.epsilon, out=delta)
        np.add(grads, self.epsilon, out=tmp)
        np.divide(delta, tmp, out=delta)
        np.sqrt(delta, out=delta)
        delta *= grad
        moving_average(deltas, np.multiply(delta, delta, out=tmp), self.rho, tmp)
        delta *= lr
        w -= delta
