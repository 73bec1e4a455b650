"""Hyperparameters given as a ``Variable``: checked once, then read at every step.

TF 1.x and tfe optimizers read a learning rate (or momentum, beta_1, ...) held in
a variable at each step, so assigning the variable anneals it; ported code
depends on that. ``Optimizer`` keeps the Variable and calls ``read`` once per
step (not once per updated variable), which validates the value it finds.
"""

import numpy as np

from ..engine import Variable
from ._arrays import check_number

__all__ = ["Hyperparameters", "check_scalar_variable", "is_variable", "read"]


def check_scalar_variable(owner, name, var):
    """Raises unless ``var`` is a floating-point scalar Variable.

    Raises:
        TypeError: For an integer (or other non-float) dtype: assigning 0.5 to it
            would store 0.
        ValueError: For a shape other than ``()``.
    """
    if var.dtype.kind != "f":
        raise TypeError(
            f"{owner}: {name} Variable '{var.name}' has dtype {var.dtype}; expected "
            f"a floating-point scalar, such as nnlib.Variable(0.1, name='{name}')"
        )
    if var.shape != ():
        raise ValueError(
            f"{owner}: {name} Variable '{var.name}' has shape {var.shape}; "
            "expected a scalar (shape ())"
        )


def read(owner, name, var, bounds):
    """The Variable's value as a float, checked against ``bounds`` (check_number's).

    Raises:
        ValueError: If the value is out of range or not finite, naming the Variable.

    Examples:
        >>> import nnlib
        >>> lr = nnlib.Variable(-1.0, name="lr")
        >>> read("SGD", "learning_rate", lr, {})
        Traceback (most recent call last):
        ...
        ValueError: SGD: learning_rate must be a finite number >= 0.0, got -1.0 (read from Variable 'lr')
    """
    value = float(np.asarray(var._value))
    try:
        return check_number(owner, name, value, **bounds)
    except ValueError as error:
        raise ValueError(f"{error} (read from Variable '{var.name}')") from None


def is_variable(value):
    """Whether ``value`` is a Variable (a hyperparameter read at every step)."""
    return isinstance(value, Variable)


class Hyperparameters:
    """The optimizer's per-step hyperparameters, numbers or Variables.

    A subclass sets each one with ``_hyperparameter`` in its constructor (after
    ``Optimizer.__init__``, which creates ``_hyper_variables``). The attribute
    (``self.momentum``) always holds the float the next step uses, so the
    updates read plain attributes; ``_read_hyperparameters`` refreshes those
    held in Variables once per step. Assigning a number to such an attribute
    writes it into its Variable.
    """

    def _hyperparameter(self, name, value, **bounds):
        """Sets hyperparameter ``name`` from a number or a Variable read every step.

        ``bounds`` are ``check_number``'s (``low``, ``high``, ``high_open``).
        The attribute always holds a float, the value the next step uses.
        """
        if is_variable(value):
            check_scalar_variable(self._owner, name, value)
            self._hyper_variables[name] = (value, bounds)
            value = read(self._owner, name, value, bounds)
        else:
            self._hyper_variables.pop(name, None)
            value = check_number(self._owner, name, value, **bounds)
        object.__setattr__(self, name, value)
        return value

    def __setattr__(self, name, value):
        hypers = self.__dict__.get("_hyper_variables")
        if hypers and name in hypers:
            var, bounds = hypers[name]
            if not is_variable(value):  # write into the Variable
                var.assign(check_number(self._owner, name, value, **bounds))
            self._hyperparameter(name, value if is_variable(value) else var, **bounds)
            return
        object.__setattr__(self, name, value)

    def _read_hyperparameters(self):
        """Reads every Variable hyperparameter (all checked before any is set)."""
        values = {
            name: read(self._owner, name, var, bounds)
            for name, (var, bounds) in self._hyper_variables.items()
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _config_value(self, name):
        """A hyperparameter for ``get_config``: a Variable's current value."""
        held = self._hyper_variables.get(name)
        return float(held[0].numpy()) if held else getattr(self, name)
