"""The save protocol every checkpoint file follows, and its errors.

``save_atomically`` runs RELIABILITY.md's protocol around a format's writer:
the writer fills (and syncs and verifies) a temporary file beside the target,
which then replaces the target; any failure leaves the old file intact, removes
the temporary one and raises a ``CheckpointError`` naming the path and the
cause (disk full, permission, missing folder, lock).
"""

import errno as _errno
import os
import re

from .. import _atomic
from ._h5read import _cause
from .errors import CheckpointError, CheckpointLockedError, CheckpointWriteError

__all__ = ["save_atomically", "write_error"]


def save_atomically(path, fill, make_dirs=False, check=None, what="checkpoint"):
    """Writes ``path`` through ``fill(temp)``, atomically; returns ``path``.

    Args:
        path: The target file.
        fill: Writes, syncs and verifies the temporary file it is given;
            raises if anything is wrong.
        make_dirs: Create the target's folder when missing.
        check: Called before writing and again just before the rename (a
            lock check); raises to stop the save.
        what: The kind of file, for messages.

    Raises:
        CheckpointWriteError: For any failure; the old file is intact.
        CheckpointLockedError: When ``check`` or the OS finds the file locked.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint._save import save_atomically
        >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> def fill(temp):
        ...     with open(temp, "w") as f:
        ...         _ = f.write("hi")
        >>> save_atomically(path, fill) == path
        True
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    existed = os.path.isfile(path)
    if os.path.isdir(path):
        raise CheckpointWriteError(
            f"cannot save {what} '{path}': it is a directory", path=path
        )
    try:
        if check is not None:
            check()  # fail fast; checked again before the rename
        if make_dirs:
            os.makedirs(folder, exist_ok=True)
        with _atomic.replacing(path, existed) as temp:
            fill(temp)
            if check is not None:
                check()
    except BaseException as err:
        if isinstance(err, CheckpointError) or not isinstance(err, Exception):
            raise
        raise write_error(path, folder, existed, err) from err
    return path


def _errno_in_chain(err):
    """The first errno found in ``err``, its causes or its message."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        number = getattr(err, "errno", None)
        if number:
            return number
        match = re.search(r"errno = (\d+)", str(err))
        if match:
            return int(match.group(1))
        err = err.__cause__ or err.__context__
    return None


def write_error(path, folder, existed, err):
    """The ``CheckpointError`` for a failed save of ``path``: disk full, quota,
    permission, missing folder, lock, or the cause as it is."""
    number = _errno_in_chain(err)
    kept = "the previous checkpoint is intact" if existed else "no file was written"
    if number in (_errno.ENOSPC, getattr(_errno, "EDQUOT", -1)):
        what = "disk full" if number == _errno.ENOSPC else "disk quota exceeded"
        message = f"{what} while saving '{path}'; {kept} (free some space and retry)"
    elif number in (_errno.EACCES, _errno.EPERM, _errno.EROFS):
        message = (
            f"permission denied while saving '{path}' (folder '{folder}': "
            f"{_cause(err)}); {kept}"
        )
    elif number == _errno.ENOENT and not os.path.isdir(folder):
        message = (
            f"cannot save '{path}': the folder '{folder}' does not exist "
            "(create it first)"
        )
    elif isinstance(err, BlockingIOError) or number == _errno.EAGAIN:
        return CheckpointLockedError(
            f"cannot save '{path}': the file is locked ({_cause(err)}); {kept}",
            path=path,
            errno=number,
        )
    else:
        message = f"could not save '{path}': {_cause(err)}; {kept}"
    return CheckpointWriteError(message, path=path, errno=number)
