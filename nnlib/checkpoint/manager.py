"""CheckpointManager: numbered checkpoints in a folder, the newest N kept.

The folder holds ``<name>-<n>.h5`` files and the index ``checkpoint`` (see
``_index``: the files kept, oldest first, and those preserved for good),
which ``Checkpoint.save`` keeps too. Old files are deleted only after the new
checkpoint and the rewritten index are in place, so a crash at any moment
leaves a loadable newest checkpoint that the index points to. Each save also
removes what killed or failed saves left behind: ``<name>-<n>.h5`` files the
index does not list, and temporary files no save is writing any more.
"""

import os
import time

from .. import _atomic
from . import _index
from ._index import INDEX_NAME
from .errors import CheckpointWriteError

__all__ = ["INDEX_NAME", "CheckpointManager", "latest_checkpoint"]


def latest_checkpoint(directory):
    """The path of the newest checkpoint ``Checkpoint.save`` or a
    ``CheckpointManager`` wrote there.

    Args:
        directory: The folder.

    Returns:
        The path, or None when the folder, its index or the file is missing
        (an older file the index lists is returned if the newest was removed).
        An index that exists but cannot be read gives None with a warning.

    Examples:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> nnlib.latest_checkpoint(folder) is None
        True
        >>> manager = nnlib.CheckpointManager(nnlib.Checkpoint(), folder)
        >>> path = manager.save()
        >>> nnlib.latest_checkpoint(folder) == path
        True
    """
    return _index.latest(directory)


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

    Examples:
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
        self._entries, self._preserved = [], []
        index = _index.read(self.directory)
        self._adopt(index)
        # As TensorFlow: hours count from the last preserved file, else from now.
        self._last_preserved = index.last_preserved or time.time()

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

        Before writing, temporary files of this prefix that killed saves left
        behind are removed; after the index is in place, the files rotated
        out, and ``<name>-<n>.h5`` files the index does not list (left by a
        save killed or failed between its steps).

        Args:
            checkpoint_number: The file's number; default the checkpoint's
                ``save_counter`` after this save (never a file already there).

        Returns:
            The new file's path.

        Raises:
            CheckpointWriteError: If saving fails; kept files are intact, and
                no new file is left that the index does not list.
        """
        prefix = os.path.join(self.directory, self.checkpoint_name)
        _index.remove_stale_temps(self.directory, self.checkpoint_name)
        index = _index.read(self.directory)
        if index.found == "ok":  # files Checkpoint.save recorded count too
            self._adopt(index)
        listed_before = {e["path"] for e in self._entries}
        counter = self.checkpoint.save_counter
        if checkpoint_number is None:
            path, number = self.checkpoint._save_numbered(prefix)
        else:
            path = self.checkpoint.write(f"{prefix}-{int(checkpoint_number)}.h5")
            number = int(counter.numpy()) + 1
        name = os.path.basename(path)
        entries = [e for e in self._entries if e["path"] != name]
        entries.append({"path": name, "time": time.time()})
        doomed, preserved, last_preserved = [], list(self._preserved), None
        while self.max_to_keep is not None and len(entries) > self.max_to_keep:
            old = entries.pop(0)
            if self._preserve(old, last_preserved):
                last_preserved = old["time"]
                preserved.append(old["path"])
            else:
                doomed.append(old["path"])
        if last_preserved is None:
            last_preserved = self._last_preserved
        try:
            _index.write(self.directory, entries, preserved, last_preserved)
        except CheckpointWriteError as err:
            if name not in listed_before and name not in preserved:
                _atomic.remove_quietly(path)  # unlisted: nothing would find it
                fate = f"the new checkpoint '{path}' was removed"
            else:
                fate = f"'{path}' holds the new checkpoint"
            raise CheckpointWriteError(
                f"{err}; {fate}, the previous checkpoints are intact",
                path=err.path,
                errno=err.errno,
            ) from err
        counter.assign(number)
        self._entries, self._preserved = entries, preserved
        self._last_preserved = last_preserved
        for old in doomed:
            _atomic.remove_quietly(os.path.join(self.directory, old))
        self._sweep()
        return path

    def _adopt(self, index):
        """Takes the index's lists (of files that exist) as this manager's."""
        self._entries = [
            e
            for e in index.entries
            if os.path.isfile(os.path.join(self.directory, e["path"]))
        ]
        preserved = index.preserved
        if preserved is None:
            # No list of preserved files (a missing, unreadable or older index):
            # files of this prefix that the index does not list may be such
            # files, so they are kept for good rather than swept.
            listed = {e["path"] for e in self._entries}
            found = _index.numbers(self.directory, self.checkpoint_name).values()
            preserved = sorted((set(found) | set(self._preserved)) - listed)
        self._preserved = list(preserved)

    def _sweep(self):
        """Removes this prefix's files that the index does not list."""
        kept = {e["path"] for e in self._entries} | set(self._preserved)
        for file in _index.numbers(self.directory, self.checkpoint_name).values():
            if file not in kept:
                _atomic.remove_quietly(os.path.join(self.directory, file))

    def restore_or_initialize(self):
        """Restores the newest checkpoint if there is one.

        Returns:
            Its path, or None when there was nothing to restore.
        """
        path = self.latest_checkpoint
        if path is not None:
            self.checkpoint.restore(path)
        return path

    def _preserve(self, entry, last):
        hours = self.keep_checkpoint_every_n_hours
        since = self._last_preserved if last is None else last
        return hours is not None and entry["time"] - since >= hours * 3600

    def __repr__(self):
        return (
            f"CheckpointManager({self.directory!r}, max_to_keep={self.max_to_keep}, "
            f"{len(self._entries)} checkpoints)"
        )
