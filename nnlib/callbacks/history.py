"""``History``: what ``fit`` returns, every epoch's logs gathered by name."""

from .callback import Callback, to_python

__all__ = ["History"]


class History(Callback):
    """Records each epoch's logs; ``fit`` returns this object.

    Records accumulate over the ``fit`` calls that share one ``History``, with
    ``epoch`` holding the (0-based) epoch indices as ``fit`` numbered them, so a
    run resumed with ``initial_epoch`` continues the lists. A metric missing
    from some epochs (validation every few epochs) has a shorter list.

    Attributes:
        history: Dict of metric name (``"loss"``, ``"val_loss"``...) to the list
            of its values, one per epoch, as Python floats where numeric.
        epoch: List of the epoch indices recorded.

    Examples:
        >>> from nnlib import callbacks
        >>> history = callbacks.History()
        >>> history.on_train_begin()
        >>> history.on_epoch_end(0, {"loss": 0.9, "val_loss": 1.0})
        >>> history.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.7})
        >>> history.epoch, history.history["val_loss"]
        ([0, 1], [1.0, 0.7])
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        """Appends ``epoch`` and each value of ``logs`` to its list."""
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(to_python(value))

    def get_state(self):
        """The epochs and values recorded so far (for ``BackupAndRestore``).

        Returns:
            Dict with ``epoch`` and ``history`` (copies).

        Examples:
            >>> from nnlib import callbacks
            >>> history = callbacks.History()
            >>> history.on_epoch_end(0, {"loss": 0.5})
            >>> callbacks.History().get_state()["epoch"], history.get_state()["history"]
            ([], {'loss': [0.5]})
        """
        return {
            "epoch": list(self.epoch),
            "history": {name: list(values) for name, values in self.history.items()},
        }

    def set_state(self, state):
        """Replaces the records with ``get_state``'s dict: a resumed run's
        ``History`` then covers the epochs before the interruption too.

        Args:
            state: A dict from ``get_state``.
        """
        self.epoch = list(state["epoch"])
        self.history = {name: list(values) for name, values in state["history"].items()}

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"
