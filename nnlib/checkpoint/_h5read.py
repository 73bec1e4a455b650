"""Reading nnlib's HDF5 files: validated, never creating a file (see ``h5io``).

Every h5py failure becomes a typed ``CheckpointError`` naming the path and the
cause; every dataset is checked against its stored dtype, shape and CRC-32.
Before that, ``_h5safe`` refuses links out of the file and sizes the file
declares but does not hold, so nothing is read from elsewhere or allocated
beyond what the file stores.
"""

import contextlib
import errno as _errno
import json
import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np
from h5py import h5a, h5d, h5s

from ._h5safe import SafeFile
from .errors import (
    CheckpointCorruptError,
    CheckpointIsADirectoryError,
    CheckpointLockedError,
    CheckpointNotFoundError,
    CheckpointReadError,
    CheckpointVersionError,
)

__all__ = ["FORMAT_VERSION", "Checksums", "Stored", "checksum", "read"]

FORMAT_VERSION = 1
_THREADED_BYTES = 1 << 18  # smaller arrays are checksummed at once


class Stored:
    """What ``read`` returns: ``arrays`` (``{name: ndarray}``, in saving order),
    ``attrs`` (the root attributes as Python values) and ``path``."""

    def __init__(self, arrays, attrs, path):
        self.arrays = arrays
        self.attrs = attrs
        self.path = path

    def __repr__(self):
        return f"<Stored {self.path!r}: {len(self.arrays)} arrays>"


def checksum(array):
    """The CRC-32 of an array's bytes in C order (as stored in ``crc32``).

    Examples:
        >>> from nnlib.checkpoint import h5io
        >>> h5io.checksum(np.zeros(3, np.float32)) == h5io.checksum(np.zeros(3, np.float32))
        True
    """
    return zlib.crc32(np.asarray(array, order="C").reshape(-1).view(np.uint8))


class Checksums:
    """Runs checksums of large buffers on worker threads, as a context manager.

    zlib releases the GIL, so a CRC-32 runs while h5py reads or writes the
    next array; small ones are computed at once. ``submit`` returns a function
    giving the result.
    """

    def __init__(self):
        self._pool = None

    def submit(self, fn, *args, nbytes):
        if nbytes < _THREADED_BYTES:
            value = fn(*args)
            return lambda: value
        if self._pool is None:
            self._pool = ThreadPoolExecutor(min(4, os.cpu_count() or 1))
        return self._pool.submit(fn, *args).result

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def read(path):
    """Reads and validates a file ``write`` made; never creates a file.

    Every dataset is checked against its stored dtype, shape and checksum.

    Args:
        path: The checkpoint file.

    Returns:
        A ``Stored`` with ``arrays`` (in saving order) and ``attrs``.

    Raises:
        CheckpointNotFoundError: No file at ``path``.
        CheckpointIsADirectoryError: ``path`` is a directory.
        CheckpointCorruptError: Not an HDF5 file, not an nnlib checkpoint,
            truncated, or a dataset fails its checksum.
        CheckpointUnsafeError: The file links to data outside it, or declares
            datasets or attributes larger than it holds (nothing is allocated).
        CheckpointVersionError: Written by a newer nnlib.
        CheckpointLockedError: Another process is writing it.
        CheckpointReadError: Any other reading failure (permission, I/O).

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import h5io
        >>> h5io.read(os.path.join(tempfile.mkdtemp(), "missing.h5"))
        Traceback (most recent call last):
        ...
        nnlib.checkpoint.errors.CheckpointNotFoundError: no checkpoint file at '...missing.h5' (nothing was created)
    """
    path = os.fspath(path)
    _check_is_file(path)
    try:
        f = h5py.File(path, "r")
    except Exception as err:  # noqa: BLE001 - translated, never a raw h5py error
        raise _open_error(path, err) from None
    try:
        safe = SafeFile(f, path, os.path.getsize(path))
        attrs = _root_attrs(f, path, safe)
        safe.check_links()
        arrays = _read_contents(f, path, safe)
    finally:
        # Closing a damaged file may fail too; the first error is the one to see.
        with contextlib.suppress(Exception):
            f.close()
    return Stored(arrays, attrs, path)


def _check_is_file(path):
    if os.path.isdir(path):
        raise CheckpointIsADirectoryError(
            f"'{path}' is a directory, not a checkpoint file (for the newest "
            f"checkpoint in it, use nnlib.latest_checkpoint({path!r}))",
            path=path,
            errno=_errno.EISDIR,
        )
    if not os.path.exists(path):
        hint = ""
        if not path.endswith(".h5") and os.path.isfile(path + ".h5"):
            hint = f"; did you mean '{path}.h5'?"
        raise CheckpointNotFoundError(
            f"no checkpoint file at '{path}' (nothing was created){hint}",
            path=path,
            errno=_errno.ENOENT,
        )


def _open_error(path, err):
    text = str(err)
    if isinstance(err, BlockingIOError) or "unable to lock file" in text:
        return CheckpointLockedError(
            f"cannot read checkpoint '{path}': another process holds it open for "
            f"writing ({_cause(err)}); wait for it to finish",
            path=path,
            errno=getattr(err, "errno", None),
        )
    if isinstance(err, FileNotFoundError):
        return CheckpointNotFoundError(
            f"no checkpoint file at '{path}'", path=path, errno=err.errno
        )
    if isinstance(err, PermissionError):
        return CheckpointReadError(
            f"cannot read checkpoint '{path}': permission denied ({_cause(err)})",
            path=path,
            errno=err.errno,
        )
    match = re.search(r"truncated file: eof = (\d+).*stored_eof = (\d+)", text)
    if match:
        return CheckpointCorruptError(
            f"checkpoint '{path}' is truncated: {match.group(1)} of "
            f"{match.group(2)} bytes (an interrupted copy or download?)",
            path=path,
        )
    if "file signature not found" in text:
        return CheckpointCorruptError(
            f"'{path}' is not an HDF5 file (file signature not found): not an "
            "nnlib checkpoint, or its first bytes are damaged",
            path=path,
        )
    return CheckpointCorruptError(
        f"cannot open checkpoint '{path}': {_cause(err)}", path=path
    )


def _root_attrs(f, path, safe):
    try:
        keys = list(f.attrs)  # the names only: other files' attributes stay unread
        if "format_version" in keys and "names" in keys:
            attrs = {key: _python(safe.attribute(f, key, scalar=True)) for key in keys}
        else:
            attrs = {}
    except CheckpointCorruptError:
        raise
    except Exception as err:  # noqa: BLE001
        raise CheckpointCorruptError(
            f"checkpoint '{path}' is damaged: its attributes cannot be read "
            f"({_cause(err)})",
            path=path,
        ) from None
    version = attrs.get("format_version")
    if not isinstance(version, int) or "names" not in attrs:
        raise CheckpointCorruptError(
            f"'{path}' is an HDF5 file but not an nnlib checkpoint (no "
            "format_version or names attribute) nor a Keras weights file",
            path=path,
        )
    if version > FORMAT_VERSION:
        raise CheckpointVersionError(
            f"checkpoint '{path}' was written by a newer nnlib "
            f"({attrs.get('nnlib_version', '?')}; format {version} > "
            f"{FORMAT_VERSION}): upgrade nnlib to read it",
            path=path,
        )
    return attrs


def _python(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _read_contents(f, path, safe):
    """Every dataset of an open file, checked; ``{name: array}`` in saving order."""
    arrays, checks = {}, []
    with Checksums() as crcs:
        for name in dataset_names(f, path):
            array, stored = _read_dataset(f, name, path, safe)
            arrays[name] = array
            checks.append(
                (name, stored, crcs.submit(checksum, array, nbytes=array.nbytes))
            )
        for name, stored, crc in checks:
            check_crc(path, name, stored, crc())
    return arrays


def dataset_names(f, path):
    """The names the file's index lists, checked against its datasets."""
    try:
        names = json.loads(_python(f.attrs["names"]))
        found = []
        f.visititems(
            lambda name, obj: (
                found.append(name) if isinstance(obj, h5py.Dataset) else None
            )
        )
    except Exception as err:  # noqa: BLE001
        raise CheckpointCorruptError(
            f"checkpoint '{path}' is damaged: its index cannot be read ({_cause(err)})",
            path=path,
        ) from None
    if sorted(found) != sorted(names):
        gone = sorted(set(names) - set(found))
        extra = sorted(set(found) - set(names))
        raise CheckpointCorruptError(
            f"checkpoint '{path}' is damaged: its datasets differ from its index "
            f"(missing {gone}, unlisted {extra})",
            path=path,
        )
    return names


def _read_dataset(f, name, path, safe):
    """The dataset's array and its stored checksum.

    Through h5py's low-level calls: the high-level ones cost about 0.1 ms per
    dataset, which adds up for models of hundreds of arrays. The ``dtype`` and
    ``shape`` attributes describe the file to other tools; the dataset's own
    (metadata checksummed by HDF5) are the ones read, once ``safe`` has
    checked that the file holds the bytes they declare.
    """
    try:
        dataset, stored = open_dataset(f, name)
        safe.check_dataset(dataset, name)
        array = np.empty(dataset.shape, dataset.dtype)
        if array.size:
            dataset.read(h5s.ALL, h5s.ALL, array)
    except CheckpointCorruptError:
        raise
    except Exception as err:  # noqa: BLE001
        raise CheckpointCorruptError(
            f"checkpoint '{path}' is damaged: dataset '{name}' cannot be read "
            f"({_cause(err)})",
            path=path,
        ) from None
    return array, stored


def open_dataset(f, name):
    """The low-level dataset ``name`` of ``f`` and its stored checksum (an int)."""
    dataset = h5d.open(f.id, name.encode("utf-8"))
    crc = h5a.open(dataset, b"crc32")
    stored = np.empty(crc.shape, crc.dtype)
    crc.read(stored)
    return dataset, int(stored)


def check_crc(path, name, stored, crc):
    """Raises ``CheckpointCorruptError`` unless the two checksums agree."""
    if crc != stored:
        raise CheckpointCorruptError(
            f"checkpoint '{path}' is damaged: dataset '{name}' fails its checksum "
            f"(crc32 {crc:#010x}, stored {stored:#010x}); restore it from a backup",
            path=path,
        )


def _cause(err):
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
