"""Adam and its relatives: AdamW, Adamax and Nadam (Keras formulas)."""

import math

import numpy as np

from .._args import boolean
from ._arrays import moving_average, writable
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW", "Adamax", "Nadam"]


class _AdamBase(Optimizer):
    """The hyperparameters Adam, Adamax and Nadam share."""

    _config_keys = ("beta_1", "beta_2", "epsilon")

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs
    ):
        super().__init__(learning_rate, **kwargs)
        self._hyperparameter("beta_1", beta_1, high=1.0, high_open=True)
        self._hyperparameter("beta_2", beta_2, high=1.0, high_open=True)
        self._hyperparameter("epsilon", epsilon)


class Adam(_AdamBase):
    """Adam (Kingma and Ba, 2015) with Keras's placement of ``epsilon``.

    With ``t`` the step (from 1)::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        vhat = max(vhat, v)                       # amsgrad only; then v = vhat
        w -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)

    (PyTorch adds its ``eps`` to ``sqrt(v / (1 - beta_2**t))`` instead.)
    Slots: ``m``, ``v`` and, with ``amsgrad``, ``vhat``.

    An ``IndexedSlices`` gradient is applied as TensorFlow 1's sparse Adam does:
    every row's moments decay and every row moves, only the touched rows' moments
    get the gradient; the result is the dense step's, without building the dense
    gradient. With ``lazy=True`` (TensorFlow Addons' ``LazyAdam``, PyTorch's
    ``SparseAdam``) only the touched rows change, moments and weights alike: a
    step costs those rows rather than the whole table, but a row's moments decay
    only at the steps that touch it, so the result differs from the dense step
    as soon as a step leaves out a row it touched before. The step count of the
    bias correction is the optimizer's, whichever rows a step touches. Dense
    gradients are applied alike either way.

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.001).
        beta_1: Decay of the first moment, in [0, 1).
        beta_2: Decay of the second moment, in [0, 1).
        epsilon: A small constant >= 0 for numerical stability.
        amsgrad: Whether to use the AMSGrad variant (the maximum of past ``v``),
            True or False.
        lazy: Whether an ``IndexedSlices`` gradient updates only the rows it
            names (see above), True or False. A flag rather than a class: the
            slots are Adam's, so a checkpoint restores into either.

    ``beta_1``, ``beta_2`` and ``epsilon`` may be scalar float Variables, read
    at every step (the bias correction uses the values in force at that step).
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Raises:
        ValueError: For a hyperparameter out of its range.
        TypeError: If ``amsgrad`` is not True or False.

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([1.0, 2.0], name="w")
        >>> opt = optimizers.Adam(learning_rate=0.1)
        >>> _ = opt.apply_gradients([(np.array([0.5, -0.5]), w)])
        >>> w.numpy().round(4)   # the first step moves each weight by about lr
        array([0.9, 2.1], dtype=float32)
        >>> [v.name for v in opt.variables()]
        ['Adam/iterations', 'w/Adam/m', 'w/Adam/v']
    """

    _config_keys = _AdamBase._config_keys + ("amsgrad", "lazy")

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        lazy=False,
        **kwargs,
    ):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = boolean(amsgrad, "amsgrad", type(self).__name__)
        self.lazy = boolean(lazy, "lazy", type(self).__name__)
        self._slot_names = ("m", "v", "vhat") if self.amsgrad else ("m", "v")

    def _coefficients(self, step, lr):
        correction = math.sqrt(1.0 - self.beta_2**step) / (1.0 - self.beta_1**step)
        return lr, lr * correction

    def _update(self, var, grad, slots, coefficients):
        self._adam_step(writable(var), grad, slots, coefficients[1])

    def _update_sparse(self, var, grad, slots, coefficients):
        step = self._lazy_adam_step if self.lazy else self._sparse_adam_step
        step(writable(var), grad, slots, coefficients[1])

    def _adam_step(self, w, grad, slots, alpha):
        m, v = writable(slots[0]), writable(slots[1])
        tmp = self._scratch(grad)
        moving_average(m, grad, self.beta_1, tmp)
        moving_average(v, np.multiply(grad, grad, out=tmp), self.beta_2, tmp)
        self._descend(w, m, v, slots, alpha, tmp)

    def _sparse_adam_step(self, w, grad, slots, alpha):
        rows, g = grad.rows, grad.values
        m, v = writable(slots[0]), writable(slots[1])
        m *= self.beta_1
        m[rows] += g * (1.0 - self.beta_1)
        v *= self.beta_2
        v[rows] += g * g * (1.0 - self.beta_2)
        self._descend(w, m, v, slots, alpha, self._scratch(m))

    def _lazy_adam_step(self, w, grad, slots, alpha):
        rows, g = grad.rows, grad.values
        m, v, tmp = writable(slots[0]), writable(slots[1]), np.empty_like(g)
        m_rows, v_rows = m[rows], v[rows]
        moving_average(m_rows, g, self.beta_1, tmp)
        moving_average(v_rows, np.multiply(g, g, out=tmp), self.beta_2, tmp)
        m[rows], v[rows] = m_rows, v_rows
        if self.amsgrad:
            vhat = writable(slots[2])
            v_rows = np.maximum(vhat[rows], v_rows, out=v_rows)
            vhat[rows] = v_rows
        np.sqrt(v_rows, out=tmp)
        tmp += self.epsilon
        np.divide(m_rows, tmp, out=tmp)
        tmp *= alpha
        w[rows] -= tmp

    def _descend(self, w, m, v, slots, alpha, tmp):
        """``w -= alpha * m / (sqrt(v) + epsilon)`` (``v``'s maximum for AMSGrad)."""
        if self.amsgrad:
            vhat = writable(slots[2])
            v = np.maximum(vhat, v, out=vhat)
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        w -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    Each step first shrinks the weights, ``w -= lr * weight_decay * w``, then
    takes an Adam step (see ``Adam``); as Keras and ``torch.optim.AdamW``. An
    ``IndexedSlices`` gradient shrinks every row (the dense result), or with
    ``lazy=True`` only the rows it names.

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.001).
        weight_decay: The decay factor >= 0 (default 0.004, Keras's; PyTorch's
            is 0.01).
        beta_1: As ``Adam``.
        beta_2: As ``Adam``.
        epsilon: As ``Adam``.
        amsgrad: As ``Adam``.
        lazy: As ``Adam``.
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([2.0], name="w")
        >>> opt = optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
        >>> _ = opt.apply_gradients([(np.zeros(1), w)])   # decay only: 2 * (1 - 0.05)
        >>> w.numpy()
        array([1.9], dtype=float32)
    """

    _config_keys = ("weight_decay",) + Adam._config_keys

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        lazy=False,
        **kwargs,
    ):
        super().__init__(
            learning_rate, beta_1, beta_2, epsilon, amsgrad, lazy, **kwargs
        )
        self._hyperparameter("weight_decay", weight_decay)

    def _update(self, var, grad, slots, coefficients):
        w = writable(var)
        if self.weight_decay:
            w *= 1.0 - coefficients[0] * self.weight_decay
        self._adam_step(w, grad, slots, coefficients[1])

    def _update_sparse(self, var, grad, slots, coefficients):
        w = writable(var)
        if self.weight_decay:
            decay = 1.0 - coefficients[0] * self.weight_decay
            if self.lazy:
                w[grad.rows] *= decay
            else:
                w *= decay
        step = self._lazy_adam_step if self.lazy else self._sparse_adam_step
        step(w, grad, slots, coefficients[1])


class Adamax(_AdamBase):
    """Adamax, Adam with the infinity norm (Kingma and Ba, 2015, section 7).

    With ``t`` the step (from 1)::

        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, abs(g))
        w -= lr / (1 - beta_1**t) * m / (u + epsilon)

    Slots: ``m``, ``u``.

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.001).
        beta_1: Decay of the first moment, in [0, 1).
        beta_2: Decay of the infinity norm, in [0, 1).
        epsilon: A small constant >= 0 for numerical stability.
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([1.0], name="w")
        >>> _ = optimizers.Adamax(0.1).apply_gradients([(np.array([2.0]), w)])
        >>> w.numpy()
        array([0.9], dtype=float32)
    """

    _slot_names = ("m", "u")

    def _coefficients(self, step, lr):
        return lr / (1.0 - self.beta_1**step)

    def _update(self, var, grad, slots, rate):
        m, u = writable(slots[0]), writable(slots[1])
        w, tmp = writable(var), self._scratch(grad)
        moving_average(m, grad, self.beta_1, tmp)
        u *= self.beta_2
        np.maximum(u, np.abs(grad, out=tmp), out=u)
        np.add(u, self.epsilon, out=tmp)
        np.divide(m, tmp, out=tmp)
        tmp *= rate
        w -= tmp


class Nadam(_AdamBase):
    """Nadam, Adam with Nesterov momentum (Dozat, 2016), as Keras writes it.

    With ``t`` the step (from 1), ``mu_t = beta_1 * (1 - 0.5 * 0.96**t)`` and
    ``P_t = mu_1 * ... * mu_t``::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        mhat = mu_{t+1} * m / (1 - P_{t+1}) + (1 - mu_t) * g / (1 - P_t)
        w -= lr * mhat / (sqrt(v / (1 - beta_2**t)) + epsilon)

    (This is ``torch.optim.NAdam`` with ``momentum_decay=1``.) Slots: ``m``,
    ``v``. ``P_t`` follows from the step count, so it needs no checkpointing.

    Args:
        learning_rate: A float >= 0 or a schedule (default 0.001).
        beta_1: As ``Adam``.
        beta_2: As ``Adam``.
        epsilon: As ``Adam``.
        **kwargs: ``name``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Examples:
        >>> from nnlib import optimizers
        >>> w = nnlib.Variable([1.0], name="w")
        >>> opt = optimizers.Nadam(0.1)
        >>> _ = opt.apply_gradients([(np.array([2.0]), w)])
        >>> w.numpy()
        array([0.8...], dtype=float32)
    """

    _slot_names = ("m", "v")

    def _mu(self, step):
        return self.beta_1 * (1.0 - 0.5 * 0.96**step)

    def _mu_product(self, step):
        cached = getattr(self, "_mu_cache", None)
        if cached is not None and cached[0] == step:
            return cached[1]
        if cached is not None and cached[0] == step - 1:
            product = cached[1] * self._mu(step)
        else:  # 0.96**i underflows past 1e-16 beyond i = 1000: the rest is beta_1
            product = self.beta_1 ** max(step - 1000, 0)
            for i in range(1, min(step, 1000) + 1):
                product *= self._mu(i)
        self._mu_cache = (step, product)
        return product

    def _coefficients(self, step, lr):
        mu, mu_next = self._mu(step), self._mu(step + 1)
        product = self._mu_product(step)
        return (
            lr * mu_next / (1.0 - product * mu_next),
            lr * (1.0 - mu) / (1.0 - product),
            1.0 / (1.0 - self.beta_2**step),
        )

    def _update(self, var, grad, slots, coefficients):
        m_rate, g_rate, v_scale = coefficients
        m, v = writable(slots[0]), writable(slots[1])
        w, tmp, tmp2 = writable(var), self._scratch(grad), self._scratch(grad, 1)
        moving_average(m, grad, self.beta_1, tmp)
        moving_average(v, np.multiply(grad, grad, out=tmp), self.beta_2, tmp)
        np.multiply(v, v_scale, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        np.reciprocal(tmp, out=tmp)
        np.multiply(m, tmp, out=tmp2)
        tmp2 *= m_rate
        w -= tmp2
        np.multiply(grad, tmp, out=tmp2)
        tmp2 *= g_rate
        w -= tmp2
