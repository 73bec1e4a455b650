"""The errors of nnlib's checkpoint code: typed, naming the file and the cause.

Each is a ``CheckpointError`` and also the builtin a caller would otherwise catch
(``FileNotFoundError``, ``OSError``, ``BlockingIOError``, ``ValueError``), so
code written against h5py's errors keeps working.
"""

__all__ = [
    "CheckpointConfigError",
    "CheckpointCorruptError",
    "CheckpointError",
    "CheckpointIsADirectoryError",
    "CheckpointLockedError",
    "CheckpointMismatchError",
    "CheckpointNotFoundError",
    "CheckpointReadError",
    "CheckpointUnsafeError",
    "CheckpointVersionError",
    "CheckpointWriteError",
]


class CheckpointError(Exception):
    """The base of every checkpoint error; ``path`` names the file (or None).

    Args:
        message: The whole message (path, cause and likely fix).
        path: The checkpoint file concerned.
        errno: The operating-system error number of the cause, if any.

    Examples:
        >>> from nnlib.checkpoint import errors
        >>> err = errors.CheckpointNotFoundError("no file", path="w.h5")
        >>> isinstance(err, FileNotFoundError), err.path
        (True, 'w.h5')
    """

    def __init__(self, message, path=None, errno=None):
        # One argument only: OSError reads two as (errno, strerror).
        super().__init__(message)
        self.path = path
        if isinstance(self, OSError):
            self.errno = errno
            self.filename = path

    def __str__(self):
        # OSError would print "[Errno n] strerror: filename"; the message says more.
        return str(self.args[0]) if self.args else ""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No checkpoint file at the path (nothing is created when loading)."""


class CheckpointIsADirectoryError(CheckpointNotFoundError, IsADirectoryError):
    """The path names a directory, not a checkpoint file."""


class CheckpointReadError(CheckpointError, OSError):
    """The file exists but cannot be read (permission, I/O error)."""


class CheckpointCorruptError(CheckpointError, OSError):
    """The file is not an nnlib checkpoint, is truncated, or fails a checksum."""


class CheckpointUnsafeError(CheckpointCorruptError):
    """The file asks for what nnlib refuses to do, and nothing was read or allocated.

    Data outside the file (HDF5 external links, external raw storage, virtual
    datasets), a size it declares but does not hold (an unwritten dataset, a
    compression bomb, an attribute or name list bigger than the file allows),
    or a model config nested too deeply or asking for variables larger than
    the weights it stores. nnlib and Keras never write such files.

    Examples:
        >>> from nnlib.checkpoint import errors
        >>> err = errors.CheckpointUnsafeError("external link", path="w.h5")
        >>> isinstance(err, errors.CheckpointCorruptError), err.path
        (True, 'w.h5')
    """


class CheckpointConfigError(CheckpointError, ValueError):
    """A model file's architecture cannot be rebuilt: its class is unknown, or
    ``load_model(safe_mode=True)`` refused a class from outside nnlib that
    ``custom_objects`` did not name. The message says what to pass."""


class CheckpointVersionError(CheckpointCorruptError):
    """The file was written by a newer nnlib, in a format this one cannot read."""


class CheckpointWriteError(CheckpointError, OSError):
    """Saving failed (disk full, permission, missing folder); the old file is intact."""


class CheckpointLockedError(CheckpointError, BlockingIOError):
    """Another process holds the file open for writing."""


class CheckpointMismatchError(CheckpointError, ValueError):
    """A checkpoint does not fit the model; ``report`` lists every difference.

    Raised before any variable changes, so the model is left as it was.

    Args:
        message: The message, ending with the report's table.
        report: The ``RestoreReport``.
        path: The checkpoint file.
    """

    def __init__(self, message, report=None, path=None):
        super().__init__(message, path=path)
        self.report = report
