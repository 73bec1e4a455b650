"""``BackupAndRestore``: an interrupted ``fit`` resumes from its last finished epoch."""

import json
import os

from .._args import boolean
from .._warn import warn
from ..checkpoint import Checkpoint, CheckpointMismatchError, h5io, named_variables
from ..engine import Variable
from .callback import Callback

__all__ = ["BackupAndRestore"]

_FILE = "backup.h5"


class BackupAndRestore(Callback):
    """Backs up the training state every epoch; a new ``fit`` resumes from it.

    At the end of each epoch it writes (atomically) one checkpoint holding the
    model, its optimizer (step count, slots, learning rate), the epoch number,
    nnlib's random state and the state of the other callbacks of the run
    (``EarlyStopping``'s best value, wait count and best weights,
    ``ReduceLROnPlateau``'s counters, ``ModelCheckpoint``'s best, the
    ``History`` so far). When ``fit`` starts and a backup exists, everything is
    restored and training goes on at the epoch after the one backed up, so an
    interrupted run (a crash, a killed job) ends as the uninterrupted run would
    have (the callback's ``resume_epoch`` tells ``fit`` where to go on). When
    ``fit`` finishes, the backup is deleted.

    Exactness needs the data order to be reproducible too: arrays given to
    ``fit`` and unseeded ``Dataset.shuffle`` draw their orders from
    ``nnlib.random`` (restored); a ``shuffle(seed=...)`` restarts its sequence
    of orders in a new pipeline, so the resumed epochs see other orders.

    Args:
        backup_dir: Folder of the backup file (created when needed). Use one
            folder per training run.
        save_freq: ``"epoch"``: only whole epochs are backed up, so that a
            resumed run repeats exactly what the interrupted one would have done.
        delete_checkpoint: Delete the backup when ``fit`` ends normally.

    Raises:
        ValueError: For another ``save_freq``, or an empty ``backup_dir``.
        TypeError: If ``delete_checkpoint`` is not True or False.

    Examples:
        >>> import tempfile
        >>> from nnlib import callbacks
        >>> backup = callbacks.BackupAndRestore(tempfile.mkdtemp())
        >>> model = nnlib.Sequential([nnlib.layers.Dense(1, input_shape=(2,))])
        >>> model.compile("sgd", loss="mse")
        >>> history = model.fit(np.ones((4, 2)), np.zeros((4, 1)), epochs=3,
        ...                     verbose=0, callbacks=[backup])
        >>> history.epoch
        [0, 1, 2]
    """

    # CallbackList runs this callback's on_train_begin first, so that the
    # states it restores are in place before the other callbacks start.
    _restores_state = True

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir must name a folder")
        if save_freq != "epoch":
            raise ValueError(
                "BackupAndRestore: only save_freq='epoch' is supported (a resumed "
                f"run restarts at an epoch boundary), got {save_freq!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = boolean(
            delete_checkpoint, "delete_checkpoint", "BackupAndRestore"
        )
        self.restored_epoch = None  # the epoch a run resumed after, if any
        self.resume_epoch = None  # the epoch fit goes on at: restored_epoch + 1

    @property
    def backup_path(self):
        """The backup file: ``<backup_dir>/backup.h5``."""
        return os.path.join(self.backup_dir, _FILE)

    def on_train_begin(self, logs=None):
        self.restored_epoch = self.resume_epoch = None
        if not os.path.exists(self.backup_path):
            return
        stored = h5io.read(self.backup_path)
        self._build_model(json.loads(stored.attrs.get("states", "{}")))
        self._check_fits(stored)
        checkpoint, epoch, best_weights = self._checkpoint()
        # Callbacks added or removed since the backup are no error: expect_partial.
        checkpoint._restore(stored, random_state=True).expect_partial()
        for key, callback in best_weights.items():
            prefix = f"best_weights/{key}/"
            arrays = [a for n, a in stored.arrays.items() if n.startswith(prefix)]
            callback.best_weights = arrays or None
        self.restored_epoch = int(epoch.numpy())
        self.resume_epoch = self.restored_epoch + 1
        if self.params.get("verbose"):
            print(
                f"BackupAndRestore: resuming after epoch {self.restored_epoch + 1} "
                f"from {self.backup_path}"
            )

    def _check_fits(self, stored):
        missing = [
            name
            for name in named_variables(self.model)
            if f"model/{name}" not in stored.arrays
        ]
        if missing:
            raise CheckpointMismatchError(
                f"backup '{stored.path}' does not fit model '{self.model.name}': it "
                f"has no value for {missing[:5]}; it was written by another model "
                f"(delete '{self.backup_dir}' to start training afresh)",
                path=stored.path,
            )

    def _build_model(self, states):
        # Variables created after the restore would draw their initial values
        # from the restored random stream and shift it: build the model first.
        shape = states.get("model_input_shape", {}).get("input_shape")
        if self.model.built or shape is None:
            return
        try:
            self.model.build(_tuples(shape))
        except Exception as error:  # noqa: BLE001 (a model build() cannot do)
            warn(
                f"BackupAndRestore: could not build '{self.model.name}' before "
                f"restoring ({error}); the run resumes, but its random numbers "
                "(dropout, shuffling) differ from an uninterrupted run"
            )

    def on_epoch_end(self, epoch, logs=None):
        checkpoint, counter, _ = self._checkpoint(with_best_weights=True)
        counter.assign(epoch)
        checkpoint.write(self.backup_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_path):
            os.remove(self.backup_path)
            try:
                os.rmdir(self.backup_dir)  # only if nothing else is in it
            except OSError:
                pass

    def _checkpoint(self, with_best_weights=False):
        """The Checkpoint of the run, its epoch Variable, and the callbacks
        (by key) whose ``best_weights`` arrays are saved beside their state."""
        epoch = Variable(-1, dtype="int64", name="epoch", trainable=False)
        objects = {
            "model": self.model,
            "epoch": epoch,
            "model_input_shape": _InputShape(self.model),
        }
        if getattr(self.model, "optimizer", None) is not None:
            objects["optimizer"] = self.model.optimizer
        states, best_weights = {}, {}
        for callback in getattr(self, "_peers", ()):
            if callback is self or type(callback).get_state is Callback.get_state:
                continue
            # By class and rank among its class: other callbacks may come and go.
            key = base = type(callback).__name__
            k = 0
            while key in states:
                k += 1
                key = f"{base}_{k}"
            states[key] = callback
            if hasattr(callback, "best_weights"):
                best_weights[key] = callback
        if states:
            objects["callbacks"] = _nested(**states)
        if with_best_weights:
            saved = {
                key: _nested(
                    **{
                        str(i): Variable(w, trainable=False)
                        for i, w in enumerate(callback.best_weights)
                    }
                )
                for key, callback in best_weights.items()
                if callback.best_weights is not None
            }
            if saved:
                objects["best_weights"] = _nested(**saved)
        return _nested(**objects), epoch, best_weights


class _InputShape:
    """The shape the model was built for, saved as a checkpoint state."""

    def __init__(self, model):
        self.model = model

    def get_state(self):
        return {"input_shape": getattr(self.model, "_build_input_shape", None)}

    def set_state(self, state):
        pass  # used by BackupAndRestore._build_model, before the restore


def _tuples(shape):
    """JSON lists back to the tuples of a (possibly nested) shape."""
    if isinstance(shape, list):
        return tuple(_tuples(s) for s in shape)
    return shape


def _nested(**objects):
    return Checkpoint(**objects)
