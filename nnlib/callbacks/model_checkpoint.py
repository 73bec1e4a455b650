"""``ModelCheckpoint``: save the model (or its weights) during ``fit``."""

import os

from .._args import boolean
from ..checkpoint.errors import CheckpointWriteError
from . import _monitor
from .callback import Callback, to_python

__all__ = ["ModelCheckpoint"]


def check_writable(filepath):
    """Raises ``CheckpointWriteError`` if no file can ever be saved at ``filepath``.

    Cheap and without side effects (nothing is created): the path must not be an
    existing folder, and the nearest existing folder above it (up to the first
    ``{field}`` of the template) must be a folder, not a file.
    """
    static = filepath.split("{", 1)[0]
    if static == filepath and os.path.isdir(filepath):
        raise CheckpointWriteError(
            f"ModelCheckpoint: cannot save to '{filepath}': it is a folder; give "
            "a file name, such as 'ckpt/epoch-{epoch}.h5'",
            path=filepath,
        )
    folder = os.path.dirname(static if static != filepath else filepath)
    while folder and not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if folder and not os.path.isdir(folder):
        raise CheckpointWriteError(
            f"ModelCheckpoint: cannot save to '{filepath}': '{folder}' is a file, "
            "not a folder, so the folders of the path cannot be created",
            path=filepath,
        )


class ModelCheckpoint(Callback):
    """Saves the model or its weights every epoch (or every N batches).

    ``filepath`` is a template filled with ``epoch`` (1-based), ``batch``
    (1-based, when saving every N batches) and the logs' values, e.g.
    ``"ckpt/{epoch:02d}-{val_loss:.3f}.h5"``; missing folders are created.
    Files are written atomically through ``nnlib.checkpoint``: an interrupted
    save never damages a file saved earlier.

    Args:
        filepath: Path template of the HDF5 file.
        monitor: Metric that decides what is best, e.g. ``"val_loss"``; read
            only with ``save_best_only`` (as Keras: without it every file is
            written, whatever the logs hold). With ``save_best_only`` and the
            metric missing from an epoch's logs, the file is saved anyway,
            with Keras 3's warning ("Can save best model only with val_loss
            available.") followed by the metrics available.
        verbose: 1 prints a line for each save (and each skipped save).
        save_best_only: Save only when ``monitor`` improves on the best so far
            (with a fixed ``filepath``, the file always holds the best model).
        save_weights_only: Save ``model.save_weights`` files instead of whole
            models (``model.save``, loadable with ``nnlib.load_model``).
        mode: ``"min"``, ``"max"``, or ``"auto"`` (from the metric's name).
        save_freq: ``"epoch"``, or an int: save every that many batches.
        initial_value_threshold: With ``save_best_only``, the value the metric
            must beat for the first save.

    Raises:
        ValueError: For a bad ``mode`` or ``save_freq``.
        TypeError: If ``save_best_only`` or ``save_weights_only`` is not True or
            False.
        CheckpointWriteError: (at the start of ``fit``, before the first step)
            if ``filepath`` names a folder, or lies under a file, so that no
            checkpoint could ever be written there.

    Examples:
        >>> import os, tempfile
        >>> from nnlib import callbacks
        >>> folder = tempfile.mkdtemp()
        >>> model = nnlib.Sequential([nnlib.layers.Dense(1, input_shape=(2,))])
        >>> model.compile("sgd", loss="mse")
        >>> save = callbacks.ModelCheckpoint(
        ...     os.path.join(folder, "ckpt", "{epoch:02d}-{loss:.2f}.h5"),
        ...     monitor="loss", save_weights_only=True)
        >>> _ = model.fit(np.ones((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0,
        ...               callbacks=[save])
        >>> len(os.listdir(os.path.join(folder, "ckpt")))
        2
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__()
        if save_freq != "epoch" and not (
            isinstance(save_freq, int)
            and not isinstance(save_freq, bool)
            and save_freq > 0
        ):
            raise ValueError(
                f"ModelCheckpoint: save_freq must be 'epoch' or a positive number "
                f"of batches, got {save_freq!r}"
            )
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        owner = "ModelCheckpoint"
        self.save_best_only = boolean(save_best_only, "save_best_only", owner)
        self.save_weights_only = boolean(save_weights_only, "save_weights_only", owner)
        self.mode = _monitor.resolve_mode("ModelCheckpoint", mode, monitor)
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self.best = (
            _monitor.worst(self.mode)
            if initial_value_threshold is None
            else float(initial_value_threshold)
        )
        self._epoch = 0
        self._batches_seen = 0
        self.last_saved = None  # the path of the latest file written

    def on_train_begin(self, logs=None):
        check_writable(self.filepath)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save(self, epoch, batch, logs):
        logs = {name: to_python(value) for name, value in (logs or {}).items()}
        path = self._filepath(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                # As Keras 3 (3.15): warn, word for word, then save anyway; a
                # misspelt monitor must not leave a run with no checkpoint.
                _monitor.warn_missing(
                    "ModelCheckpoint",
                    self.monitor,
                    logs,
                    f"Can save best model only with {self.monitor} available. ",
                )
                self._say(epoch, f"{self.monitor} is missing; saving model to {path}")
            elif not _monitor.improved(current, self.best, self.mode, 0):
                self._say(epoch, f"{self.monitor} did not improve from {self.best:.5f}")
                return
            else:
                self._say(
                    epoch,
                    f"{self.monitor} improved from {self.best:.5f} to "
                    f"{current:.5f}, saving model to {path}",
                )
                self.best = current
        else:
            self._say(epoch, f"saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        self.last_saved = path

    def _filepath(self, epoch, batch, logs):
        fields = dict(logs, epoch=epoch + 1)
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(
                f"ModelCheckpoint: filepath {self.filepath!r} names {error.args[0]!r}, "
                f"which is not in this epoch's logs (available: "
                f"{', '.join(sorted(fields))}); validation metrics need "
                "validation data in fit"
            ) from None

    def _say(self, epoch, message):
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {message}")

    def get_state(self):
        """The best value and batch count, for ``BackupAndRestore``.

        Returns:
            Dict with ``monitor``, ``best`` (None before any) and ``batches_seen``.

        Examples:
            >>> from nnlib import callbacks
            >>> callbacks.ModelCheckpoint("m.h5").get_state()
            {'monitor': 'val_loss', 'best': None, 'batches_seen': 0}
        """
        return {
            "monitor": self.monitor,
            "best": _monitor.best_to_state(self.best),
            "batches_seen": self._batches_seen,
        }

    def set_state(self, state):
        """Restores ``get_state``'s dict.

        Args:
            state: A dict from ``get_state``.

        Examples:
            >>> from nnlib import callbacks
            >>> save = callbacks.ModelCheckpoint("m.h5", save_best_only=True)
            >>> save.set_state({"best": 0.25, "batches_seen": 10})
            >>> save.best
            0.25
        """
        self.best = _monitor.best_from_state(state["best"], self.mode)
        self._batches_seen = int(state.get("batches_seen", 0))
