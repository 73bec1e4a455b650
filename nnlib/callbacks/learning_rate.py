"""Callbacks that change the optimizer's learning rate between epochs."""

import inspect
import math
import numbers

from .._warn import warn
from . import _monitor
from .callback import Callback, to_python

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


def get_learning_rate(owner, model):
    """``model.optimizer.learning_rate`` as a float, or an error saying the fix."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(
            f"{owner} needs model.optimizer: compile the model with an optimizer "
            "before fit"
        )
    rate = getattr(optimizer, "learning_rate", None)
    # A real optimizer's ``learning_rate`` evaluates its schedule to a float:
    # look at what it holds, so a schedule is refused rather than replaced.
    rate = getattr(optimizer, "_learning_rate", rate)
    value = None if callable(rate) or isinstance(rate, bool) else to_python(rate)
    if not isinstance(value, float):
        raise TypeError(
            f"{owner} needs a float learning rate to change, but "
            f"{type(optimizer).__name__}.learning_rate is {type(rate).__name__} "
            f"({rate!r}); give the optimizer a float learning_rate, or use the "
            "schedule alone without this callback"
        )
    return value


def _call_schedule(schedule, epoch, rate):
    """``schedule(epoch, rate)``, or ``schedule(epoch)`` for a one-argument schedule."""
    try:
        params = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: try the full one
        return schedule(epoch, rate)
    positional = [
        p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    takes_varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    if len(positional) >= 2 or takes_varargs:
        return schedule(epoch, rate)
    return schedule(epoch)


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch from ``schedule``.

    The rate in use is added to the epoch logs as ``"learning_rate"``.

    Args:
        schedule: A function ``schedule(epoch, lr) -> new_lr`` taking the
            0-based epoch index and the current learning rate (a float) and
            returning the new one; ``schedule(epoch)`` is accepted too.
        verbose: 1 prints the new rate each epoch.

    Raises:
        TypeError: (during ``fit``) the optimizer's learning rate is a
            schedule (it must be a float, or a float ``Variable``, which is
            then assigned into), or ``schedule`` returned a non-number.
        ValueError: (during ``fit``) the schedule returned NaN or infinity.

    Examples:
        >>> import types
        >>> from nnlib import callbacks
        >>> model = types.SimpleNamespace(
        ...     optimizer=types.SimpleNamespace(learning_rate=0.1))
        >>> halve = callbacks.LearningRateScheduler(
        ...     lambda epoch, lr: lr if epoch < 2 else lr / 2)
        >>> halve.set_model(model)
        >>> for epoch in range(4):
        ...     halve.on_epoch_begin(epoch)
        >>> model.optimizer.learning_rate
        0.025
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                f"LearningRateScheduler: schedule must be callable, got {schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        rate = get_learning_rate("LearningRateScheduler", self.model)
        new_rate = to_python(_call_schedule(self.schedule, epoch, rate))
        if not isinstance(new_rate, float):
            raise TypeError(
                "LearningRateScheduler: the schedule must return a float, got "
                f"{new_rate!r} at epoch {epoch}"
            )
        if not math.isfinite(new_rate):
            raise ValueError(
                f"LearningRateScheduler: the schedule returned {new_rate} at "
                f"epoch {epoch}"
            )
        self.model.optimizer.learning_rate = new_rate
        if self.verbose > 0:
            print(
                f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate "
                f"to {new_rate}."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = get_learning_rate(
                "LearningRateScheduler", self.model
            )


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when a metric stops improving.

    After ``patience`` epochs without an improvement of more than ``min_delta``
    the rate becomes ``max(lr * factor, min_lr)``, then ``cooldown`` epochs pass
    before waiting starts again. The rate used in each epoch is added to its
    logs as ``"learning_rate"`` (so ``History`` records it).

    Args:
        monitor: Name of the metric in the epoch logs.
        factor: Multiplier of the learning rate, in (0, 1).
        patience: Epochs without improvement before a reduction.
        verbose: 1 prints a line at each reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (decided from the name as in
            ``EarlyStopping``).
        min_delta: Smallest change that counts as an improvement.
        cooldown: Epochs after a reduction during which nothing is counted.
        min_lr: Lower bound of the learning rate.

    Raises:
        ValueError: ``factor`` is not in (0, 1), or ``mode`` is unknown.
        TypeError: (during ``fit``) the optimizer's learning rate is a
            schedule (it must be a float, or a float ``Variable``, which is
            then assigned into).

    Examples:
        >>> import types
        >>> from nnlib import callbacks
        >>> model = types.SimpleNamespace(
        ...     optimizer=types.SimpleNamespace(learning_rate=1.0))
        >>> reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5,
        ...                                      patience=1)
        >>> reduce.set_model(model)
        >>> reduce.on_train_begin()
        >>> rates = []
        >>> for epoch, loss in enumerate([1.0, 1.0, 1.0, 0.5]):
        ...     logs = {"loss": loss}
        ...     reduce.on_epoch_end(epoch, logs)
        ...     rates.append(logs["learning_rate"])
        >>> rates, model.optimizer.learning_rate
        ([1.0, 1.0, 0.5, 0.25], 0.25)
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0,
    ):
        super().__init__()
        if not isinstance(factor, numbers.Real) or not 0 < factor < 1:
            raise ValueError(
                f"ReduceLROnPlateau: factor must be in (0, 1), got factor={factor}"
            )
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = patience
        self.verbose = verbose
        self.mode = _monitor.resolve_mode("ReduceLROnPlateau", mode, monitor)
        self.min_delta = abs(min_delta)
        self.cooldown = cooldown
        self.min_lr = float(min_lr)
        self._restored = False
        self._reset()

    def _reset(self):
        self.wait = 0
        self.cooldown_counter = 0
        self.best = _monitor.worst(self.mode)

    def in_cooldown(self):
        """Whether a reduction happened fewer than ``cooldown`` epochs ago."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        # A state given by set_state before fit is the run being resumed.
        if not self._restored:
            self._reset()
        self._restored = False

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        rate = get_learning_rate("ReduceLROnPlateau", self.model)
        logs["learning_rate"] = rate
        current = _monitor.monitor_value("ReduceLROnPlateau", self.monitor, logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if _monitor.improved(current, self.best, self.mode, self.min_delta):
            self.best = current
            self.wait = 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait >= self.patience and rate > self.min_lr:
            new_rate = max(rate * self.factor, self.min_lr)
            self.model.optimizer.learning_rate = new_rate
            if self.verbose > 0:
                print(
                    f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                    f"to {new_rate}."
                )
            self.cooldown_counter = self.cooldown
            self.wait = 0

    def get_state(self):
        """The counters as a JSON-able dict (``best`` is ``None`` before any value).

        Returns:
            Dict with ``monitor``, ``wait``, ``best`` and ``cooldown_counter``.

        Examples:
            >>> from nnlib import callbacks
            >>> callbacks.ReduceLROnPlateau().get_state()
            {'monitor': 'val_loss', 'wait': 0, 'best': None, 'cooldown_counter': 0}
        """
        return {
            "monitor": self.monitor,
            "wait": int(self.wait),
            "best": _monitor.best_to_state(self.best),
            "cooldown_counter": int(self.cooldown_counter),
        }

    def set_state(self, state):
        """Restores ``get_state``'s dict; the next ``on_train_begin`` keeps it.

        Args:
            state: A dict from ``get_state``.

        Examples:
            >>> from nnlib import callbacks
            >>> reduce = callbacks.ReduceLROnPlateau()
            >>> reduce.set_state({"wait": 2, "best": 0.3, "cooldown_counter": 1})
            >>> reduce.on_train_begin()
            >>> reduce.wait, reduce.best, reduce.in_cooldown()
            (2, 0.3, True)
        """
        if state.get("monitor", self.monitor) != self.monitor:
            warn(
                f"ReduceLROnPlateau: restoring a state saved for monitor="
                f"{state['monitor']!r} into one that monitors {self.monitor!r}"
            )
        self.wait = int(state["wait"])
        self.best = _monitor.best_from_state(state["best"], self.mode)
        self.cooldown_counter = int(state.get("cooldown_counter", 0))
        self._restored = True
