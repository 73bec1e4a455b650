"""Replacing a file atomically: a temporary file beside it, renamed over it.

Every file nnlib writes for keeps (checkpoints, the checkpoint index, downloaded
data sets) goes through here, so a crash or an error half way leaves the old
file as it was and no half-written file under the target's name.
"""

import contextlib
import os
import secrets
import stat

__all__ = ["TEMP_SUFFIX", "create_temp", "fsync", "fsync_folder", "replacing"]

TEMP_SUFFIX = ".tmp"  # temporary files are ".<target>.<random>.tmp"


def create_temp(path, existed=None):
    """Creates ``.<name>.<random>.tmp`` beside ``path``; returns its path.

    With the permissions a new file gets (``mkstemp`` would make it private),
    or those of the file it replaces.

    Example:
        >>> import os, tempfile
        >>> from nnlib import _atomic
        >>> temp = _atomic.create_temp(os.path.join(tempfile.mkdtemp(), "w.h5"))
        >>> os.path.basename(temp).startswith(".w.h5."), temp.endswith(".tmp")
        (True, True)
    """
    existed = os.path.isfile(path) if existed is None else existed
    folder, name = os.path.split(os.path.abspath(path))
    mode = stat.S_IMODE(os.stat(path).st_mode) if existed else 0o666
    while True:
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        os.close(fd)
        if existed:
            os.chmod(temp, mode)  # exactly the old file's, whatever the umask
        return temp


def fsync(path):
    """Flushes a closed file's data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder):
    """Makes a rename in ``folder`` durable (where a folder can be opened: not
    on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_quietly(path):
    """Removes ``path`` if it can; never raises."""
    try:
        os.remove(path)
    except OSError:
        pass


@contextlib.contextmanager
def replacing(path, existed=None):
    """Yields a temporary path beside ``path`` that replaces it when the block ends.

    The block writes the temporary file, syncs and checks it. When the block
    ends normally the file is renamed over ``path`` and the folder synced; when
    it raises (Ctrl-C included), the temporary file is removed and ``path`` is
    untouched.

    Example:
        >>> import os, tempfile
        >>> from nnlib import _atomic
        >>> target = os.path.join(tempfile.mkdtemp(), "index.json")
        >>> with _atomic.replacing(target) as temp:
        ...     with open(temp, "w") as f:
        ...         _ = f.write("{}")
        >>> open(target).read(), os.listdir(os.path.dirname(target))
        ('{}', ['index.json'])
    """
    temp = create_temp(path, existed)
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        remove_quietly(temp)
        raise
    fsync_folder(os.path.dirname(os.path.abspath(path)))
