"""The checkpoint index: one file per folder saying which checkpoints it holds.

``Checkpoint.save`` and ``CheckpointManager`` both keep it, so
``latest_checkpoint(folder)`` finds what either saved. It is JSON, named
``checkpoint`` (as TensorFlow's), written to a temporary file and renamed
into place::

    {"format_version": 1, "latest": "ckpt-3.h5",
     "checkpoints": [{"path": "ckpt-2.h5", "time": 1700000000.0}, ...],
     "preserved": ["ckpt-1.h5"], "last_preserved": 1700000000.0}

``checkpoints`` lists the files oldest first, by name relative to the
folder; ``preserved`` those a manager keeps for good
(``keep_checkpoint_every_n_hours``). A checkpoint file in neither list is an
orphan that a killed or failed save left behind, which the manager removes.
"""

import errno
import json
import os
import re

from .. import _atomic
from .._warn import warn
from ._h5read import FORMAT_VERSION
from .errors import CheckpointWriteError

__all__ = [
    "INDEX_NAME",
    "Index",
    "latest",
    "numbered",
    "numbers",
    "read",
    "record",
    "remove_stale_temps",
    "write",
]

INDEX_NAME = "checkpoint"


class Index:
    """What ``read`` found.

    Attributes:
        entries: ``[{"path": name, "time": seconds}]``, oldest first.
        preserved: The names kept for good, or None when that is unknown (no
            index, an unreadable one, or one older nnlib wrote): files the
            index does not list may then be kept ones.
        last_preserved: When the newest preserved file was written (0: never).
        found: ``"ok"``, ``"missing"`` or ``"unreadable"``.
    """

    def __init__(self, entries=(), preserved=None, last_preserved=0.0, found="ok"):
        self.entries = list(entries)
        self.preserved = None if preserved is None else list(preserved)
        self.last_preserved = last_preserved
        self.found = found

    @property
    def names(self):
        """Every file the index lists (kept and preserved)."""
        return {e["path"] for e in self.entries} | set(self.preserved or ())


def read(directory):
    """The index of ``directory``; an empty ``Index`` when there is none.

    An index that exists but cannot be read is reported with a warning (then
    nothing is found in it) rather than passing for a first run.
    """
    path = os.path.join(os.fspath(directory), INDEX_NAME)
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except FileNotFoundError:
        return Index(found="missing")
    except (OSError, ValueError) as err:
        return _unreadable(path, err)
    try:
        entries = [
            {"path": str(e["path"]), "time": float(e["time"])}
            for e in index["checkpoints"]
        ]
        preserved = index.get("preserved")
        if preserved is not None:
            preserved = [str(name) for name in preserved]
        last = float(index.get("last_preserved", 0.0))
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        return _unreadable(path, err)
    return Index(entries, preserved, last)


def _unreadable(path, err):
    warn(
        f"the checkpoint index '{path}' is unreadable ({err}); no checkpoint is "
        "found through it, and no file in its folder is deleted until a save "
        "rewrites it"
    )
    return Index(found="unreadable")


def write(directory, entries, preserved=None, last_preserved=0.0):
    """Replaces the index of ``directory`` atomically.

    Args:
        directory: The folder.
        entries: ``[{"path": name, "time": seconds}]``, oldest first.
        preserved: The names kept for good; None when unknown (the key is
            then left out, so that files the index does not list are kept).
        last_preserved: When the newest preserved file was written.

    Raises:
        CheckpointWriteError: If it cannot be written (the old index is intact).
    """
    index = {
        "format_version": FORMAT_VERSION,
        "latest": entries[-1]["path"] if entries else None,
        "checkpoints": list(entries),
        "last_preserved": last_preserved,
    }
    if preserved is not None:
        index["preserved"] = list(preserved)
    target = os.path.join(os.fspath(directory), INDEX_NAME)
    try:
        # The file closes first, then replaces the index (exits run inner first).
        with _atomic.replacing(target) as temp, open(temp, "w", encoding="utf-8") as f:
            json.dump(index, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
    except OSError as err:
        full = {errno.ENOSPC: "disk full", getattr(errno, "EDQUOT", -1): "quota full"}
        if err.errno in full:
            message = (
                f"{full[err.errno]} while updating the checkpoint index '{target}'"
            )
        else:
            message = f"could not update the checkpoint index '{target}': {err}"
        raise CheckpointWriteError(message, path=target, errno=err.errno) from err


def record(directory, name, now):
    """Adds ``name`` (saved at ``now``) as the newest entry of the index.

    Entries whose files are gone are dropped; nothing is deleted.

    Raises:
        CheckpointWriteError: If the index cannot be written.
    """
    index = read(directory)
    entries = [
        e
        for e in index.entries
        if e["path"] != name and os.path.isfile(os.path.join(directory, e["path"]))
    ]
    entries.append({"path": name, "time": now})
    # An unknown list of preserved files stays unknown: a manager then keeps
    # the files that the index does not list (they may be such files).
    write(directory, entries, index.preserved, index.last_preserved)


def latest(directory):
    """The path of the newest listed checkpoint that exists, or None."""
    directory = os.fspath(directory)
    for entry in reversed(read(directory).entries):
        path = os.path.join(directory, entry["path"])
        if os.path.isfile(path):
            return path
    return None


def numbers(directory, name):
    """``{number: file name}`` of the ``<name>-<number>.h5`` files in ``directory``.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import _index
        >>> folder = tempfile.mkdtemp()
        >>> for file in ("run-1.h5", "run-12.h5", "run-x.h5", "other-3.h5"):
        ...     open(os.path.join(folder, file), "w").close()
        >>> sorted(_index.numbers(folder, "run"))
        [1, 12]
    """
    try:
        files = os.listdir(directory)
    except OSError:
        return {}
    found = {}
    for file in files:
        number = numbered(file, name)
        if number is not None:
            found[number] = file
    return found


def remove_stale_temps(directory, name):
    """Removes the temporary files that killed saves of ``<name>-<n>.h5``
    files, or of the index, left in ``directory`` (not those still written)."""

    def ours(target):
        return target == INDEX_NAME or numbered(target, name) is not None

    return _atomic.remove_stale_temps(directory, ours)


def numbered(file, name):
    """The number of a ``<name>-<number>.h5`` file name, else None."""
    match = re.fullmatch(re.escape(name) + r"-(\d+)\.h5", file)
    return int(match.group(1)) if match else None
