"""Readers for the files the image datasets come in, each checking what it reads.

- Keras's ``.npz`` layout (arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``),
  read with pickling disabled;
- the original IDX files of MNIST and Fashion-MNIST, gzipped or not (told apart
  by their first bytes, not their names);
- the CIFAR-10 "python version": pickled batches, in the published tarball or
  in an extracted folder (read by ``_cifar.py``, importable from here as well).

A damaged or unexpected file raises :class:`DatasetCorruptError` naming the file.
"""

import gzip
import zipfile
import zlib

import numpy as np

from ._checks import DatasetCorruptError, check_split

# Re-exported so that every reader, and the CIFAR names cifar10.py reads from
# here, are still found in this module.
from ._cifar import (  # noqa: F401
    CIFAR_BATCHES,
    CIFAR_FOLDER,
    read_cifar_folder,
    read_cifar_tarball,
)

__all__ = [
    "DatasetCorruptError",
    "find_idx_files",
    "read_cifar_folder",
    "read_cifar_tarball",
    "read_idx",
    "read_idx_split",
    "read_npz",
]

SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")

# IDX type codes (the third magic byte) and the big-endian dtypes they name.
_IDX_TYPES = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_npz(file, where=None, image_shape=None, num_classes=10):
    """Read a dataset stored in Keras's ``mnist.npz`` layout.

    Args:
        file: A path or a binary file object.
        where: How errors name the file; default ``str(file)``.
        image_shape: If given, the shape each image must have, e.g. ``(28, 28)``.
        num_classes: Labels must lie in ``[0, num_classes)``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images and uint8 labels.

    Raises:
        DatasetCorruptError: Not an npz file, a key missing, or arrays of the
            wrong dtype, shape or label range.

    Example:
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
        with np.load(file, allow_pickle=False) as archive:
            missing = [key for key in SPLIT_KEYS if key not in archive.files]
            if missing:
                raise DatasetCorruptError(
                    f"{where}: the npz file lacks {missing}; it holds "
                    f"{archive.files}, expected {list(SPLIT_KEYS)}"
                )
            arrays = [archive[key] for key in SPLIT_KEYS]
    except (AttributeError, TypeError) as err:
        # np.load returned a plain array: a .npy file, not an .npz archive.
        raise DatasetCorruptError(f"{where}: not an npz archive") from err
    except (ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        if isinstance(err, DatasetCorruptError):
            raise
        raise DatasetCorruptError(f"{where}: not a readable npz file ({err})") from err
    x_train, y_train, x_test, y_test = arrays
    return (
        check_split(x_train, y_train, f"{where} (train)", image_shape, num_classes),
        check_split(x_test, y_test, f"{where} (test)", image_shape, num_classes),
    )


def read_idx(path):
    """Read one IDX file (the format of the original MNIST files).

    The file may be gzipped or not, whatever its name. The magic number, the
    dimensions and the amount of data are checked against each other.

    Args:
        path: The file's path.

    Returns:
        A writable numpy array in native byte order, with the dtype and shape
        the header declares.

    Raises:
        DatasetCorruptError: A bad magic number, a truncated file or gzip stream,
            or data of a different size than the header declares.

    Example:
        >>> import struct, tempfile
        >>> from pathlib import Path
        >>> from nnlib.datasets._readers import read_idx
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     file = Path(folder, "labels-idx1-ubyte")
        ...     _ = file.write_bytes(struct.pack(">IIBBB", 0x801, 3, 7, 2, 1))
        ...     print(read_idx(file))
        [7 2 1]
    """
    with open(path, "rb") as stream:
        raw = stream.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DatasetCorruptError(
                f"{path}: damaged or truncated gzip data ({err})"
            ) from err
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_TYPES or not raw[3]:
        magic = raw[:4].hex() or "empty"
        raise DatasetCorruptError(
            f"{path}: not an IDX file (magic number 0x{magic}; expected 0x0000TTNN "
            "with data type TT in 08-0E and NN dimensions). Is it a partial "
            "download or an HTML error page?"
        )
    ndim, dtype = raw[3], np.dtype(_IDX_TYPES[raw[2]])
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetCorruptError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DatasetCorruptError(
            f"{path}: the header declares shape {shape} ({expected} bytes of "
            f"{dtype.name}) but the file holds {len(raw) - header} bytes of data"
        )
    array = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def read_idx_split(images_path, labels_path, image_shape=None, num_classes=10):
    """Read an IDX images file and its labels file as one split.

    Args:
        images_path: The ``*-images-idx3-ubyte[.gz]`` file.
        labels_path: The ``*-labels-idx1-ubyte[.gz]`` file.
        image_shape: If given, the shape each image must have.
        num_classes: Labels must lie in ``[0, num_classes)``.

    Returns:
        ``(x, y)``: uint8 images ``(N, rows, cols)`` and uint8 labels ``(N,)``.

    Raises:
        DatasetCorruptError: As :func:`read_idx`, or if the two files disagree.

    Example:
        >>> import struct, tempfile
        >>> from pathlib import Path
        >>> from nnlib.datasets._readers import read_idx_split
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     images, labels = Path(folder, "images"), Path(folder, "labels")
        ...     _ = images.write_bytes(struct.pack(">IIII", 0x803, 2, 2, 2) + bytes(8))
        ...     _ = labels.write_bytes(struct.pack(">IIBB", 0x801, 2, 4, 9))
        ...     x, y = read_idx_split(images, labels)
        >>> x.shape, y
        ((2, 2, 2), array([4, 9], dtype=uint8))
    """
    x, y = read_idx(images_path), read_idx(labels_path)
    where = f"{images_path} and {labels_path}"
    return check_split(x, y, where, image_shape, num_classes)


def find_idx_files(folder, stems):
    """The paths of the IDX files named ``stems`` (``.gz`` or raw), or None."""
    files = []
    for stem in stems:
        options = [folder / (stem + ".gz"), folder / stem]
        found = [file for file in options if file.is_file()]
        if not found:
            return None
        files.append(found[0])
    return files
