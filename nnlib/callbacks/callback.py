"""The ``Callback`` base class, and the helpers callbacks share for logs.

``CallbackList`` (``callback_list.py``) fans each hook out to the callbacks.
"""

import math
import numbers

import numpy as np

__all__ = ["Callback"]


def to_python(value):
    """``value`` as a Python float when it is a numeric scalar, else unchanged.

    Tensors, numpy scalars and 0-d arrays become floats, so that logs written by
    ``History`` and ``CSVLogger`` are plain, JSON-able numbers.
    """
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):  # numpy cannot read it: keep it
        return value
    if array.ndim == 0 and array.dtype.kind in "fiu":
        return float(array)
    return value


def is_finite_number(value):
    """Whether ``value`` is a real scalar that is neither NaN nor infinite."""
    value = to_python(value)
    return isinstance(value, float) and math.isfinite(value)


class Callback:
    """Base class of objects that act at points of ``fit``, ``evaluate``, ``predict``.

    Subclasses override the hooks they need; every hook does nothing by default.
    Epoch and batch indices are 0-based. ``logs`` is a dict of metric name to
    value: at the end of a training batch the running averages of the epoch so
    far, at the end of an epoch the epoch's results including ``val_`` entries.

    Attributes:
        model: The model being trained, set by ``set_model`` (``None`` before).
        params: Dict with keys ``"epochs"``, ``"steps"`` (steps per epoch,
            ``None`` when unknown) and ``"verbose"``, set by ``set_params``.
        resume_epoch: ``None`` (the default), or the epoch (0-based) at which
            ``fit`` goes on: a callback that restores an interrupted run sets
            it in ``on_train_begin`` (``BackupAndRestore`` does), and ``fit``
            starts at the largest of its ``initial_epoch`` and the callbacks'
            ``resume_epoch``.

    Examples:
        >>> from nnlib import callbacks
        >>> class Count(callbacks.Callback):
        ...     def on_train_begin(self, logs=None):
        ...         self.seen = 0
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         self.seen += 1
        >>> cb = Count()
        >>> cb.on_train_begin()
        >>> for epoch in range(3):
        ...     cb.on_epoch_end(epoch, {"loss": 0.5})
        >>> cb.seen
        3
    """

    resume_epoch = None

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        """Records the model the callback acts on (``self.model``)."""
        self.model = model

    def set_params(self, params):
        """Records the run's parameters (``self.params``): epochs, steps, verbose."""
        self.params = dict(params or {})

    def get_state(self):
        """The callback's resumable state as a JSON-able dict (empty by default).

        Returns:
            A dict of plain Python values; ``set_state`` accepts it back.
        """
        return {}

    def set_state(self, state):
        """Restores what ``get_state`` returned (nothing to restore by default).

        Args:
            state: A dict from ``get_state``.
        """
        del state

    def on_train_begin(self, logs=None):
        """Called once at the start of ``fit``."""

    def on_train_end(self, logs=None):
        """Called once at the end of ``fit``; ``logs`` are the last epoch's."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of epoch ``epoch`` with its results (and ``val_`` ones)."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before training batch ``batch``; calls ``on_batch_begin``."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after training batch ``batch``; by default calls ``on_batch_end``."""
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):
        """Older name for ``on_train_batch_begin``, kept for Keras-style code."""

    def on_batch_end(self, batch, logs=None):
        """Older name for ``on_train_batch_end``, kept for Keras-style code."""

    def on_test_begin(self, logs=None):
        """Called at the start of ``evaluate`` and of validation in ``fit``."""

    def on_test_end(self, logs=None):
        """Called at the end of ``evaluate`` and of validation in ``fit``."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before evaluation batch ``batch``."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after evaluation batch ``batch`` with the running metrics."""

    def on_predict_begin(self, logs=None):
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs=None):
        """Called at the end of ``predict``."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before prediction batch ``batch``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after prediction batch ``batch``."""
