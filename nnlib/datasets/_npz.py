"""The reader of Keras's ``.npz`` layout, sized before anything is inflated.

An ``.npz`` is a zip archive of ``.npy`` files. ``np.load`` trusts what each
member declares: a compressed member of zeros inflates a thousand times, and
a ``.npy`` header declaring a huge shape is allocated before its data turn
out missing. Here every member's declared size is checked against the
archive's (``_checks.inflated_limit``) and each ``.npy`` header's shape
against its member's bytes before an array is allocated; each array is then
read straight into its own memory, once. Pickled (object) arrays are refused.
"""

import math
import os
import zipfile
import zlib

import numpy as np

from ._checks import (
    MAX_INFLATION,
    DatasetCorruptError,
    check_split,
    inflated_limit,
    read_into,
)

__all__ = ["SPLIT_KEYS", "read_npz"]

SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_npz(file, where=None, image_shape=None, num_classes=10):
    """Read a dataset stored in Keras's ``mnist.npz`` layout.

    Args:
        file: A path or a seekable binary file object.
        where: How errors name the file; default ``str(file)``.
        image_shape: If given, the shape each image must have, e.g. ``(28, 28)``.
        num_classes: Labels must lie in ``[0, num_classes)``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images and uint8 labels.

    Raises:
        DatasetCorruptError: Not an npz file, a key missing, members that
            would inflate beyond ``MAX_INFLATION`` times the archive's size
            (at least 16 MiB), an array header declaring more than its member
            holds, pickled objects, or arrays of the wrong dtype, shape or
            label range.

    Examples:
        >>> import io
        >>> from nnlib.datasets._readers import read_npz
        >>> buffer = io.BytesIO()
        >>> x, y = np.zeros((3, 28, 28), np.uint8), np.array([0, 1, 2], np.uint8)
        >>> np.savez(buffer, x_train=x, y_train=y, x_test=x[:1], y_test=y[:1])
        >>> _ = buffer.seek(0)
        >>> (x_train, y_train), (x_test, y_test) = read_npz(buffer)
        >>> x_train.shape, y_test
        ((3, 28, 28), array([0], dtype=uint8))
    """
    where = str(file) if where is None else where
    try:
        with zipfile.ZipFile(file) as archive:
            arrays = _read_arrays(archive, where, _size(file))
    except zipfile.BadZipFile as err:
        raise DatasetCorruptError(_not_npz(file, where, err)) from None
    except (ValueError, EOFError, OSError, zlib.error) as err:
        if isinstance(err, (DatasetCorruptError, FileNotFoundError, PermissionError)):
            raise
        raise DatasetCorruptError(f"{where}: not a readable npz file ({err})") from err
    x_train, y_train, x_test, y_test = arrays
    return (
        check_split(x_train, y_train, f"{where} (train)", image_shape, num_classes),
        check_split(x_test, y_test, f"{where} (test)", image_shape, num_classes),
    )


def _size(file):
    if isinstance(file, (str, bytes, os.PathLike)):
        return os.path.getsize(file)
    here = file.tell()
    end = file.seek(0, os.SEEK_END)
    file.seek(here)
    return end


def _not_npz(file, where, err):
    head = b""
    if isinstance(file, (str, bytes, os.PathLike)):
        with open(file, "rb") as stream:
            head = stream.read(6)
    kind = "a single .npy array, not an npz" if head == b"\x93NUMPY" else "not a zip"
    return (
        f"{where}: not an npz archive ({kind}; expected a zip of the .npy arrays "
        f"{', '.join(SPLIT_KEYS)}, as Keras's mnist.npz) ({err})"
    )


def _read_arrays(archive, where, size):
    members = {info.filename: info for info in archive.infolist()}
    missing = [key for key in SPLIT_KEYS if key + ".npy" not in members]
    if missing:
        held = sorted(name.removesuffix(".npy") for name in members)
        raise DatasetCorruptError(
            f"{where}: the npz file lacks {missing}; it holds {held}, expected "
            f"{list(SPLIT_KEYS)}"
        )
    infos = [members[key + ".npy"] for key in SPLIT_KEYS]
    limit = inflated_limit(size)
    declared = sum(info.file_size for info in infos)
    if declared > limit:
        biggest = max(infos, key=lambda info: info.file_size)
        raise DatasetCorruptError(
            f"{where}: its arrays would inflate to {_mib(declared)} ({biggest.filename} "
            f"alone {_mib(biggest.file_size)}) from a {size}-byte file, more than "
            f"{MAX_INFLATION} times its size: a damaged file or a decompression bomb"
        )
    return [_read_member(archive, info, where) for info in infos]


def _read_member(archive, info, where):
    """One ``.npy`` member, its header checked against its size first."""
    name = f"{where}: {info.filename}"
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        if dtype.hasobject:
            raise DatasetCorruptError(
                f"{name} holds Python objects (dtype {dtype}), which would need "
                "unpickling; expected numbers"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        held = info.file_size - stream.tell()
        if nbytes != held:
            raise DatasetCorruptError(
                f"{name} declares shape {shape} {dtype} ({_mib(nbytes)}) but holds "
                f"{held} bytes of data"
            )
        flat = read_into(
            stream,
            shape,
            dtype,
            lambda done: DatasetCorruptError(f"{name} is truncated at byte {done}"),
        )
    return flat.reshape(shape, order="F" if fortran else "C")


def _mib(nbytes):
    return f"{nbytes / (1 << 20):.1f} MiB"
