"""``EarlyStopping``: end ``fit`` when a monitored metric stops improving."""

from .._args import boolean
from .._warn import warn
from . import _monitor
from .callback import Callback

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    At the end of each epoch (from ``start_from_epoch`` on) the monitored value
    is compared with the best so far; an improvement is a change of more than
    ``min_delta`` in the right direction. Each epoch without one adds to a
    counter, and once the counter reaches ``patience`` (never at the first
    epoch) ``model.stop_training`` is set, which ends ``fit`` after this epoch.
    With ``baseline``, an improvement resets the counter only if it also beats
    the baseline, so training stops after ``patience`` epochs unless the model
    gets past the baseline.

    Args:
        monitor: Name of the metric in the epoch logs, e.g. ``"val_loss"``.
        min_delta: Smallest change that counts as an improvement (its sign is
            ignored).
        patience: Epochs without improvement after which training stops.
        verbose: 1 prints a line when training is stopped or weights restored.
        mode: ``"min"``, ``"max"``, or ``"auto"``: maximize names containing
            ``acc`` or ``auc`` (also precision, recall, f1, iou), minimize others.
        baseline: A value the metric must beat for the counter to reset.
        restore_best_weights: Whether to set the model back, at the end of
            training, to the weights of the best epoch (``get_weights`` /
            ``set_weights``), even if training was not stopped early.
        start_from_epoch: Epochs of warm-up during which nothing is monitored.

    Raises:
        ValueError: ``mode`` is not one of the three, or ``patience`` or
            ``start_from_epoch`` is negative.
        TypeError: ``restore_best_weights`` is not True or False.

    Examples:
        >>> import types
        >>> from nnlib import callbacks
        >>> model = types.SimpleNamespace(stop_training=False)
        >>> stopper = callbacks.EarlyStopping(monitor="loss", patience=2)
        >>> stopper.set_model(model)
        >>> stopper.on_train_begin()
        >>> for epoch, loss in enumerate([1.0, 0.8, 0.9, 0.85, 0.7]):
        ...     stopper.on_epoch_end(epoch, {"loss": loss})
        ...     if model.stop_training:
        ...         break
        >>> epoch, stopper.best, stopper.stopped_epoch
        (3, 0.8, 3)
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__()
        if patience < 0 or start_from_epoch < 0:
            raise ValueError(
                "EarlyStopping: patience and start_from_epoch must be >= 0, got "
                f"patience={patience}, start_from_epoch={start_from_epoch}"
            )
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = _monitor.resolve_mode("EarlyStopping", mode, monitor)
        self.baseline = baseline
        self.restore_best_weights = boolean(
            restore_best_weights, "restore_best_weights", "EarlyStopping"
        )
        self.start_from_epoch = start_from_epoch
        self._restored = False
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = _monitor.worst(self.mode)
        self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        # A state given by set_state before fit is the run being resumed.
        if not self._restored:
            self._reset()
        self._restored = False

    def on_epoch_end(self, epoch, logs=None):
        current = _monitor.monitor_value("EarlyStopping", self.monitor, logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the weights we have are the best known.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._improved(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
                return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def _improved(self, current, reference):
        return _monitor.improved(current, reference, self.mode, self.min_delta)

    def get_state(self):
        """The counters as a JSON-able dict (``best`` is ``None`` before any value).

        The best weights are arrays, not part of this dict: ``has_best_weights``
        says whether ``best_weights`` holds some, for a checkpoint to save them
        beside the state and assign ``best_weights`` back.

        Returns:
            Dict with ``monitor``, ``wait``, ``best``, ``best_epoch``,
            ``stopped_epoch`` and ``has_best_weights``.

        Examples:
            >>> from nnlib import callbacks
            >>> stopper = callbacks.EarlyStopping(monitor="loss")
            >>> stopper.get_state()["best"] is None
            True
        """
        return {
            "monitor": self.monitor,
            "wait": int(self.wait),
            "best": _monitor.best_to_state(self.best),
            "best_epoch": int(self.best_epoch),
            "stopped_epoch": int(self.stopped_epoch),
            "has_best_weights": self.best_weights is not None,
        }

    def set_state(self, state):
        """Restores ``get_state``'s dict; the next ``on_train_begin`` keeps it.

        Args:
            state: A dict from ``get_state``.

        Examples:
            >>> from nnlib import callbacks
            >>> a = callbacks.EarlyStopping(monitor="loss", patience=3)
            >>> a.set_model(type("M", (), {"stop_training": False})())
            >>> a.on_epoch_end(0, {"loss": 0.5}); a.on_epoch_end(1, {"loss": 0.6})
            >>> b = callbacks.EarlyStopping(monitor="loss", patience=3)
            >>> b.set_state(a.get_state())
            >>> b.on_train_begin()
            >>> b.wait, b.best
            (1, 0.5)
        """
        if state.get("monitor", self.monitor) != self.monitor:
            warn(
                f"EarlyStopping: restoring a state saved for monitor="
                f"{state['monitor']!r} into one that monitors {self.monitor!r}"
            )
        self.wait = int(state["wait"])
        self.best = _monitor.best_from_state(state["best"], self.mode)
        self.best_epoch = int(state.get("best_epoch", 0))
        self.stopped_epoch = int(state.get("stopped_epoch", 0))
        if not state.get("has_best_weights", False):
            self.best_weights = None
        self._restored = True
