"""Replacing a file atomically: a temporary file beside it, renamed over it.

Every file nnlib writes for keeps (checkpoints, the checkpoint index, downloaded
data sets) goes through here, so a crash or an error half way leaves the old
file as it was and no half-written file under the target's name.
"""

import contextlib
import os
import re
import secrets
import stat

try:
    import fcntl
except ImportError:  # Windows: a file in use cannot be removed there anyway
    fcntl = None

__all__ = [
    "TEMP_SUFFIX",
    "create_temp",
    "fsync",
    "fsync_folder",
    "remove_stale_temps",
    "replacing",
    "temp_target",
]

TEMP_SUFFIX = ".tmp"  # temporary files are ".<target>.<random>.tmp"
_TEMP_NAME = re.compile(r"^\.(.+)\.[0-9a-f]{8}" + re.escape(TEMP_SUFFIX) + "$")


def create_temp(path, existed=None):
    """Creates ``.<name>.<random>.tmp`` beside ``path``; returns its path.

    With the permissions a new file gets (``mkstemp`` would make it private),
    or those of the file it replaces.

    Examples:
        >>> import os, tempfile
        >>> from nnlib import _atomic
        >>> temp = _atomic.create_temp(os.path.join(tempfile.mkdtemp(), "w.h5"))
        >>> os.path.basename(temp).startswith(".w.h5."), temp.endswith(".tmp")
        (True, True)
    """
    temp, fd = _create(path, existed)
    os.close(fd)
    return temp


def _create(path, existed):
    """``(temp, fd)``: the new temporary file, and an open descriptor of it that
    holds a shared lock (see ``remove_stale_temps``) until it is closed."""
    existed = os.path.isfile(path) if existed is None else existed
    folder, name = os.path.split(os.path.abspath(path))
    mode = stat.S_IMODE(os.stat(path).st_mode) if existed else 0o666
    while True:
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        try:
            if fcntl is not None:
                # Shared, so that HDF5's own (shared) lock for reading it back
                # goes through; released by the OS when the process dies.
                # Where locks are not supported, in_use says True: kept.
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_SH)
            if existed:
                os.chmod(temp, mode)  # exactly the old file's, whatever the umask
        except BaseException:
            os.close(fd)
            remove_quietly(temp)
            raise
        return temp, fd


def temp_target(filename):
    """The name of the file a temporary file was to replace, or None.

    Examples:
        >>> from nnlib import _atomic
        >>> _atomic.temp_target(".ckpt-3.h5.0badf00d.tmp"), _atomic.temp_target("ckpt-3.h5")
        ('ckpt-3.h5', None)
    """
    match = _TEMP_NAME.match(filename)
    return match.group(1) if match else None


def in_use(path):
    """Whether a save still writes the temporary file ``path`` (it holds the
    lock ``replacing`` takes); False for one a killed process left behind."""
    if fcntl is None:
        return False  # removing it fails while it is open
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True  # gone, or not ours to judge: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the lock taken, if any
    return False


def remove_stale_temps(folder, targets):
    """Removes the temporary files in ``folder`` that killed saves left behind.

    Args:
        folder: Where to look.
        targets: ``targets(name)`` is True for the target names whose
            temporary files may be removed (those of one checkpoint prefix).

    Returns:
        The paths removed.

    Examples:
        >>> import os, tempfile
        >>> from nnlib import _atomic
        >>> folder = tempfile.mkdtemp()
        >>> left = _atomic.create_temp(os.path.join(folder, "w.h5"))  # as if killed
        >>> _atomic.remove_stale_temps(folder, lambda name: name == "w.h5") == [left]
        True
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        target = temp_target(name)
        path = os.path.join(folder, name)
        if target is not None and targets(target) and not in_use(path):
            remove_quietly(path)
            removed.append(path)
    return removed


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

    The block writes the temporary file, syncs and checks it; meanwhile a lock
    marks the file as in use (``remove_stale_temps`` leaves it). When the block
    ends normally the file is renamed over ``path`` and the folder synced; when
    it raises (Ctrl-C included), the temporary file is removed and ``path`` is
    untouched.

    Examples:
        >>> import os, tempfile
        >>> from nnlib import _atomic
        >>> target = os.path.join(tempfile.mkdtemp(), "index.json")
        >>> with _atomic.replacing(target) as temp:
        ...     with open(temp, "w") as f:
        ...         _ = f.write("{}")
        >>> open(target).read(), os.listdir(os.path.dirname(target))
        ('{}', ['index.json'])
    """
    temp, lock = _create(path, existed)
    try:
        try:
            yield temp
            os.replace(temp, path)
        except BaseException:
            remove_quietly(temp)
            raise
    finally:
        os.close(lock)
    fsync_folder(os.path.dirname(os.path.abspath(path)))
