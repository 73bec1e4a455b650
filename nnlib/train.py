"""``tf.train``'s names, for code ported from TensorFlow: the global step and
checkpoints.

The global step is one int64 scalar Variable named ``"global_step"`` per
session: ``get_or_create_global_step()`` makes it (at the root scope, whatever
scope is open) and returns the same one afterwards, until
``nnlib.clear_session()``. ``optimizer.apply_gradients(grads_and_vars,
global_step=step)`` adds 1 to it after each update, as TensorFlow 1 did;
``nnlib.Checkpoint(..., global_step=step)`` saves and restores it. Optimizers
count their own steps too (``optimizer.iterations``).

Examples:
    >>> nnlib.clear_session()
    >>> step = nnlib.train.get_or_create_global_step()
    >>> w = nnlib.Variable([1.0], name="w")
    >>> opt = nnlib.optimizers.GradientDescent(0.1)
    >>> _ = opt.apply_gradients([(np.ones(1), w)], global_step=step)
    >>> step
    <nnlib.Variable 'global_step' shape=() dtype=int64, numpy=1>
"""

import numpy as np

from . import variable_scope as _scopes
from .checkpoint import Checkpoint, CheckpointManager, latest_checkpoint

__all__ = [
    "Checkpoint",
    "CheckpointManager",
    "get_global_step",
    "get_or_create_global_step",
    "latest_checkpoint",
]

_NAME = "global_step"


def get_global_step():
    """Returns the global step Variable, or None before it is created.

    Raises:
        TypeError: If a variable named ``"global_step"`` exists but is not an
            integer scalar (made by ``get_variable``, not by this module).

    Examples:
        >>> nnlib.clear_session()
        >>> nnlib.train.get_global_step() is None
        True
    """
    step = _scopes._STORE.get(_NAME)
    if step is not None and (step.shape != () or step.dtype.kind not in "iu"):
        raise TypeError(
            f"the variable 'global_step' is not a global step: it must be an "
            f"integer scalar, got shape {step.shape} and dtype {step.dtype}"
        )
    return step


def get_or_create_global_step():
    """Returns the global step, creating it (an int64 0) the first time.

    It is a non-trainable scalar Variable named ``"global_step"``, at the root
    scope whatever scope is open, kept until ``nnlib.clear_session()``.

    Returns:
        The global step Variable.

    Raises:
        TypeError: As ``get_global_step``.

    Examples:
        >>> nnlib.clear_session()
        >>> step = nnlib.train.get_or_create_global_step()
        >>> step.name, step.dtype, step.trainable, int(step)
        ('global_step', dtype('int64'), False, 0)
        >>> nnlib.train.get_or_create_global_step() is step
        True
    """
    step = get_global_step()
    if step is not None:
        return step
    with _scopes.variable_scope(_scopes.VariableScope("", reuse=_scopes.AUTO_REUSE)):
        return _scopes.get_variable(
            _NAME, shape=(), dtype=np.int64, initializer="zeros", trainable=False
        )
