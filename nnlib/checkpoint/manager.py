"""CheckpointManager: numbered checkpoints in a folder, the newest N kept.

The folder holds ``<name>-<n>.h5`` files and an index named ``checkpoint``
(JSON: the newest file, the files kept and when each was written), itself
written to a temporary file and renamed into place. Old files are deleted only
after the new checkpoint and the rewritten index are in place, so a crash at
any moment leaves a loadable newest checkpoint that the index points to.
"""

import json
import os
import time

from .. import _atomic
from . import h5io
from .errors import CheckpointWriteError

__all__ = ["INDEX_NAME", "CheckpointManager", "latest_checkpoint"]

INDEX_NAME = "checkpoint"


def latest_checkpoint(directory):
    """The path of the newest checkpoint a ``CheckpointManager`` wrote there.

    Args:
        directory: The manager's folder.

    Returns:
        The path, or None when the folder, its index or the file is missing
        (an older file the index lists is returned if the newest was removed).

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> nnlib.latest_checkpoint(folder) is None
        True
        >>> manager = nnlib.CheckpointManager(nnlib.Checkpoint(), folder)
        >>> path = manager.save()
        >>> nnlib.latest_checkpoint(folder) == path
        True
    """
    index = _read_index(os.fspath(directory))
    for entry in reversed(index["checkpoints"]):
        path = os.path.join(directory, entry["path"])
        if os.path.isfile(path):
            return path
    return None


def _read_index(directory):
    try:
        with open(os.path.join(directory, INDEX_NAME), encoding="utf-8") as f:
            index = json.load(f)
        entries = [
            {"path": str(e["path"]), "time": float(e["time"])}
            for e in index["checkpoints"]
        ]
        return {
            "checkpoints": entries,
            "last_preserved": float(index.get("last_preserved", 0.0)),
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {"checkpoints": [], "last_preserved": 0.0}


class CheckpointManager:
    """Saves numbered checkpoints into a folder and keeps the newest few.

    Args:
        checkpoint: The ``Checkpoint`` to save.
        directory: The folder (created at the first save).
        max_to_keep: How many recent checkpoints to keep (>= 1), or None for all.
        keep_checkpoint_every_n_hours: Also keep, for good, one checkpoint per
            this many hours among those rotating out.
        checkpoint_name: The files' prefix (``"ckpt"`` gives ``ckpt-3.h5``).

    Raises:
        ValueError: For ``max_to_keep < 1`` or a non-positive hour count.

    Example:
        >>> import os, tempfile
        >>> step = nnlib.Variable(np.int64(0), name="step")
        >>> manager = nnlib.CheckpointManager(
        ...     nnlib.Checkpoint(step=step), tempfile.mkdtemp(), max_to_keep=2)
        >>> for _ in range(3):
        ...     _ = step.assign_add(1)
        ...     _ = manager.save()
        >>> [os.path.basename(p) for p in manager.checkpoints]
        ['ckpt-2.h5', 'ckpt-3.h5']
    """

    def __init__(
        self,
        checkpoint,
        directory,
        max_to_keep=5,
        keep_checkpoint_every_n_hours=None,
        checkpoint_name="ckpt",
    ):
        if max_to_keep is not None and (
            isinstance(max_to_keep, bool)
            or int(max_to_keep) != max_to_keep
            or max_to_keep < 1
        ):
            raise ValueError(
                f"CheckpointManager: max_to_keep must be an int >= 1 or None, got "
                f"{max_to_keep!r}"
            )
        hours = keep_checkpoint_every_n_hours
        if hours is not None and not hours > 0:
            raise ValueError(
                "CheckpointManager: keep_checkpoint_every_n_hours must be > 0, "
                f"got {hours!r}"
            )
        self.checkpoint = checkpoint
        self.directory = os.fspath(directory)
        self.max_to_keep = max_to_keep
        self.keep_checkpoint_every_n_hours = hours
        self.checkpoint_name = checkpoint_name
        index = _read_index(self.directory)
        self._entries = [
            e
            for e in index["checkpoints"]
            if os.path.isfile(os.path.join(self.directory, e["path"]))
        ]
        # As TensorFlow: hours count from the last preserved file, else from now.
        self._last_preserved = index["last_preserved"] or time.time()

    @property
    def checkpoints(self):
        """The kept checkpoints' paths, oldest first (preserved ones excluded)."""
        return [os.path.join(self.directory, e["path"]) for e in self._entries]

    @property
    def latest_checkpoint(self):
        """The newest checkpoint's path, or None before the first save."""
        return self.checkpoints[-1] if self._entries else None

    def save(self, checkpoint_number=None):
        """Saves a new checkpoint, rewrites the index, then removes old files.

        Args:
            checkpoint_number: The file's number; default the checkpoint's
                ``save_counter`` after this save.

        Returns:
            The new file's path.

        Raises:
            CheckpointWriteError: If saving fails; kept files are intact.
        """
        prefix = os.path.join(self.directory, self.checkpoint_name)
        if checkpoint_number is None:
            path = self.checkpoint.save(prefix)
        else:
            counter = self.checkpoint.save_counter
            path = self.checkpoint.write(f"{prefix}-{int(checkpoint_number)}.h5")
            counter.assign(int(counter.numpy()) + 1)
        now = time.time()
        name = os.path.basename(path)
        entries = [e for e in self._entries if e["path"] != name]
        entries.append({"path": name, "time": now})
        doomed = []
        while self.max_to_keep is not None and len(entries) > self.max_to_keep:
            old = entries.pop(0)
            if self._preserve(old):
                continue
            doomed.append(old["path"])
        self._write_index(entries)
        self._entries = entries
        for old in doomed:
            try:
                os.remove(os.path.join(self.directory, old))
            except FileNotFoundError:
                pass
        return path

    def restore_or_initialize(self):
        """Restores the newest checkpoint if there is one.

        Returns:
            Its path, or None when there was nothing to restore.
        """
        path = self.latest_checkpoint
        if path is not None:
            self.checkpoint.restore(path)
        return path

    def _preserve(self, entry):
        hours = self.keep_checkpoint_every_n_hours
        if hours is not None and entry["time"] - self._last_preserved >= hours * 3600:
            self._last_preserved = entry["time"]
            return True
        return False

    def _write_index(self, entries):
        index = {
            "format_version": h5io.FORMAT_VERSION,
            "latest": entries[-1]["path"],
            "checkpoints": entries,
            "last_preserved": self._last_preserved,
        }
        target = os.path.join(self.directory, INDEX_NAME)
        try:
            # The file closes first, then replaces the index (exits run inner first).
            with (
                _atomic.replacing(target) as temp,
                open(temp, "w", encoding="utf-8") as f,
            ):
                json.dump(index, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
        except OSError as err:
            raise CheckpointWriteError(
                f"could not update the checkpoint index '{target}': {err}; the "
                "checkpoint files are intact",
                path=target,
                errno=err.errno,
            ) from err

    def __repr__(self):
        return (
            f"CheckpointManager({self.directory!r}, max_to_keep={self.max_to_keep}, "
            f"{len(self._entries)} checkpoints)"
        )
