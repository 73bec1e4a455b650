"""HDF5 reading and writing of plain ``{name: array}`` mappings, safely.

The format: one dataset per array under its ``/``-separated name (groups follow
the path), each with attributes ``dtype``, ``shape`` and ``crc32`` (HDF5 does
not checksum raw data, so a flipped byte would otherwise load silently); root
attributes ``format_version``, ``nnlib_version``, ``names`` (a JSON list in
saving order) and whatever the caller adds. Nothing here knows about layers.
Files use the HDF5 1.8 format (readable by HDF5 >= 1.8), whose metadata blocks
carry checksums, and fixed-length strings: damage anywhere in a file is detected
(or harmless), never misread and never an endless loop in the HDF5 library.

Writing follows the protocol of RELIABILITY.md: a temporary file in the target's
folder, written by nnlib from an image HDF5 builds in memory (``_h5image``:
HDF5 never writes to the disk, where a full disk can crash it) and the arrays
themselves; fsynced while it is reopened read-only and verified
(names, shapes, and checksums of the bytes on disk); renamed over the target
with ``os.replace``; the folder fsynced. On any failure the temporary file is
removed, the old file is untouched, and a ``CheckpointError`` names the path and
the cause. Reading never creates a file (mode ``"r"``) and turns every h5py
failure into a typed error.
"""

import json
import mmap
import os
import zlib

import h5py
import numpy as np

from .._atomic import TEMP_SUFFIX
from .._atomic import fsync as _fsync  # a seam the tests patch (disk full)
from .._version import __version__
from . import _h5image
from ._h5read import (
    FORMAT_VERSION,
    Checksums,
    Stored,
    _cause,
    check_crc,
    checksum,
    dataset_names,
    open_dataset,
    read,
)
from ._save import save_atomically
from .errors import (
    CheckpointCorruptError,
    CheckpointLockedError,
)

__all__ = ["FORMAT_VERSION", "TEMP_SUFFIX", "Stored", "checksum", "read", "write"]

_RESERVED = ("format_version", "nnlib_version", "names")


# -- writing ----------------------------------------------------------------------


def write(path, arrays, attrs=None, make_dirs=False):
    """Writes ``{name: array}`` and root attributes to ``path``, atomically.

    Args:
        path: The target file (replaced only once the new file is verified).
        arrays: A mapping of ``/``-separated names to numpy arrays (or anything
            ``np.asarray`` takes); saved in its iteration order.
        attrs: Optional root attributes: str, int, float or bool values.
        make_dirs: Create the target's folder when missing (otherwise a missing
            folder is an error).

    Returns:
        ``path``.

    Raises:
        ValueError: For an invalid name, or a name that is also a group (``"a"``
            beside ``"a/b"``), before anything is written.
        TypeError: For an array of strings or objects.
        CheckpointWriteError: When saving fails (disk full, permission, missing
            folder); the temporary file is removed and the old file kept.
        CheckpointLockedError: If another process holds ``path`` open for writing.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import h5io
        >>> path = os.path.join(tempfile.mkdtemp(), "arrays.h5")
        >>> _ = h5io.write(path, {"dense/kernel": np.ones((2, 3))}, {"note": "hi"})
        >>> stored = h5io.read(path)
        >>> stored.arrays["dense/kernel"].shape, stored.attrs["note"]
        ((2, 3), 'hi')
    """
    path = os.fspath(path)
    entries = _prepared(arrays)
    attrs = _checked_attrs(attrs or {})

    def fill(temp):
        with Checksums() as crcs:  # computed while the file is written
            checked = [
                (name, array, crcs.submit(checksum, array, nbytes=array.nbytes))
                for name, array in entries
            ]
            _write_file(temp, checked, attrs)
            # The fsync (on a thread: it releases the GIL) runs during the check.
            synced = crcs.submit(
                _fsync, temp, nbytes=sum(a.nbytes for _, a, _ in checked)
            )
            _verify(temp, checked)
            synced()

    return save_atomically(path, fill, make_dirs, check=lambda: _check_not_locked(path))


def _prepared(arrays):
    entries, groups = [], set()
    for name, value in arrays.items():
        if (
            not isinstance(name, str)
            or not name
            or name.startswith("/")
            or name.endswith("/")
            or any(part in ("", ".", "..") for part in name.split("/"))
        ):
            raise ValueError(f"cannot save array under the name {name!r}")
        array = np.asarray(value)
        if array.dtype.kind in "OSUV":
            raise TypeError(
                f"cannot save '{name}': arrays of dtype {array.dtype} are not "
                "supported (numbers and booleans only)"
            )
        parts = name.split("/")
        groups.update("/".join(parts[:i]) for i in range(1, len(parts)))
        entries.append((name, np.asarray(array, order="C")))
    for name, _ in entries:
        if name in groups:
            raise ValueError(
                f"cannot save '{name}' beside names below it ('{name}/...'): HDF5 "
                "groups follow the '/' path, so a name cannot be both"
            )
    return entries


def _checked_attrs(attrs):
    for key, value in attrs.items():
        if key in _RESERVED:
            raise ValueError(f"the root attribute {key!r} is reserved")
        if not isinstance(value, (str, int, float, bool, np.number)):
            raise TypeError(
                f"root attribute {key!r} must be a str or a number, got "
                f"{type(value).__name__} (store structures as JSON strings)"
            )
    return attrs


def _write_file(temp, entries, attrs):
    """Writes the HDF5 file itself (the seam tests use to inject failures).

    HDF5 builds the file in memory and never touches the disk (see
    ``_h5image``): its failures at a full disk could crash the process later.
    """
    image = _h5image.MetadataImage()
    # The 1.8 format (readable by HDF5 >= 1.8) checksums every metadata block,
    # so damaged metadata is detected instead of misread.
    with h5py.File(image, "w", libver=("v108", "v108")) as f:
        datasets, placed = [], []
        for name, array, _ in entries:
            dataset, where = _h5image.create_dataset(f, name, array)
            dataset.attrs["dtype"] = _text(array.dtype.str)
            dataset.attrs["shape"] = np.array(array.shape, np.int64)
            datasets.append(dataset)
            placed.append(where)
        fd = os.open(temp, os.O_WRONLY)
        try:
            # The arrays' bytes first, while the checksums run on other threads.
            _h5image.write_arrays(fd, placed)
            for dataset, (_, _, crc) in zip(datasets, entries):
                dataset.attrs["crc32"] = np.int64(crc())
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["nnlib_version"] = _text(__version__)
            f.attrs["names"] = _text(json.dumps([name for name, _, _ in entries]))
            for key, value in attrs.items():
                f.attrs[key] = _text(value) if isinstance(value, str) else value
            f.close()  # in memory: completes the image
            image.write_to(fd)
        finally:
            os.close(fd)


def _text(value):
    # Fixed-length, so strings sit in checksummed object headers: HDF5 keeps
    # variable-length ones in an unchecksummed heap that damage can send into
    # an endless loop.
    return np.bytes_(value.encode("utf-8"))


def _verify(temp, entries):
    """Reopens the file read-only; checks names, dtypes, shapes and checksums.

    The checksums are recomputed from the bytes in the file, read through a
    memory map at each dataset's offset (no copy) on worker threads.
    """
    try:
        with h5py.File(temp, "r") as f, open(temp, "rb") as raw:
            if dataset_names(f, temp) != [name for name, _, _ in entries]:
                raise OSError(f"the names read back from '{temp}' differ")
            with mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                _verify_datasets(f, temp, entries, mapped)
    except CheckpointCorruptError as err:
        raise OSError(f"verification of the written file failed: {err}") from None


def _verify_datasets(f, temp, entries, mapped):
    checks = []
    with Checksums() as crcs:
        for name, array, crc in entries:
            dataset, stored = open_dataset(f, name)
            if dataset.shape != array.shape or dataset.dtype != array.dtype:
                raise OSError(f"'{name}' reads back from '{temp}' changed")
            check_crc(temp, name, crc(), stored)
            offset = dataset.get_offset()
            if offset is None:  # no storage allocated: read it the usual way
                found = crcs.submit(checksum, f[name][()], nbytes=0)
            else:
                found = crcs.submit(
                    _crc_at, mapped, offset, array.nbytes, nbytes=array.nbytes
                )
            checks.append((name, crc(), found))
        for name, expected, found in checks:
            check_crc(temp, name, expected, found())


def _crc_at(mapped, offset, size):
    with memoryview(mapped) as whole, whole[offset : offset + size] as part:
        return zlib.crc32(part)


def _check_not_locked(path):
    """Raises if another process holds ``path`` open for writing.

    Renaming over a file that a writer holds would succeed and silently drop
    that writer's work, so ask HDF5's lock first (readers do not block).
    """
    if not os.path.isfile(path):
        return
    try:
        probe = h5py.File(path, "r")
    except BlockingIOError as err:
        raise CheckpointLockedError(
            f"cannot save checkpoint '{path}': another process holds it open for "
            f"writing ({_cause(err)}); close it there and save again; the file "
            "was not changed",
            path=path,
            errno=err.errno,
        ) from None
    except Exception:  # noqa: BLE001 - an unreadable old file is simply replaced
        return
    probe.close()
