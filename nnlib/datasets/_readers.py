"""Readers for the files the image datasets come in, each checking what it reads.

- Keras's ``.npz`` layout (arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``),
  read with pickling disabled and every size checked first (``_npz.py``);
- the original IDX files of MNIST and Fashion-MNIST, gzipped or not (told apart
  by their first bytes, not their names);
- the CIFAR-10 "python version": pickled batches, in the published tarball or
  in an extracted folder (read by ``_cifar.py``, importable from here as well).

A damaged or unexpected file raises :class:`DatasetCorruptError` naming the file.
"""

import gzip
import math
import os
import struct
import zlib

import numpy as np

from ._checks import (
    MAX_INFLATION,
    DatasetCorruptError,
    check_split,
    inflated_limit,
    read_into,
)

# Re-exported so that every reader, and the CIFAR names cifar10.py reads from
# here, are still found in this module.
from ._cifar import (  # noqa: F401
    CIFAR_BATCHES,
    CIFAR_FOLDER,
    read_cifar_folder,
    read_cifar_tarball,
)
from ._npz import SPLIT_KEYS, read_npz  # noqa: F401

__all__ = [
    "DatasetCorruptError",
    "find_idx_files",
    "read_cifar_folder",
    "read_cifar_tarball",
    "read_idx",
    "read_idx_split",
    "read_npz",
]


# IDX type codes (the third magic byte) and the big-endian dtypes they name.
_IDX_TYPES = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_idx(path):
    """Read one IDX file (the format of the original MNIST files).

    The file may be gzipped or not, whatever its name. The magic number, the
    dimensions and the amount of data are checked against each other before
    the array is allocated: a raw file must hold exactly what its header
    declares; a gzipped one may declare at most ``MAX_INFLATION`` times its
    own size (or 16 MiB), and is read incrementally, so a decompression bomb
    stops at the first byte past the declared size.

    Args:
        path: The file's path.

    Returns:
        A writable numpy array in native byte order, with the dtype and shape
        the header declares.

    Raises:
        DatasetCorruptError: A bad magic number, a truncated file or gzip stream,
            or data of a different size than the header declares.

    Examples:
        >>> import struct, tempfile
        >>> from pathlib import Path
        >>> from nnlib.datasets._readers import read_idx
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     file = Path(folder, "labels-idx1-ubyte")
        ...     _ = file.write_bytes(struct.pack(">IIBBB", 0x801, 3, 7, 2, 1))
        ...     print(read_idx(file))
        [7 2 1]
    """
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        if not gzipped:
            return _read_idx_stream(raw, path, size, size)
        try:
            with gzip.GzipFile(fileobj=raw) as stream:
                return _read_idx_stream(stream, path, size, inflated_limit(size))
        except (OSError, EOFError, zlib.error) as err:
            raise DatasetCorruptError(
                f"{path}: damaged or truncated gzip data ({err})"
            ) from err


def _read_idx_stream(stream, path, size, limit):
    """The array of an IDX stream holding at most ``limit`` bytes of it."""
    magic = _read_up_to(stream, 4)
    if (
        len(magic) < 4
        or magic[:2] != b"\0\0"
        or magic[2] not in _IDX_TYPES
        or not magic[3]
    ):
        shown = magic.hex() or "empty"
        raise DatasetCorruptError(
            f"{path}: not an IDX file (magic number 0x{shown}; expected 0x0000TTNN "
            "with data type TT in 08-0E and NN dimensions). Is it a partial "
            "download or an HTML error page?"
        )
    ndim, dtype = magic[3], np.dtype(_IDX_TYPES[magic[2]])
    dims = _read_up_to(stream, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise DatasetCorruptError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", dims)
    header = 4 + 4 * ndim
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    declared = f"the header declares shape {shape} ({nbytes} bytes of {dtype.name})"
    if limit == size and nbytes != size - header:  # raw: the size is known
        raise DatasetCorruptError(
            f"{path}: {declared} but the file holds {size - header} bytes of data"
        )
    if nbytes > limit:
        raise DatasetCorruptError(
            f"{path}: {declared}, more than {MAX_INFLATION} times the {size} bytes "
            "of the gzipped file: a damaged file or a decompression bomb"
        )
    flat = read_into(
        stream,
        shape,
        dtype,
        lambda done: DatasetCorruptError(
            f"{path}: {declared} but the file holds {done} bytes of data"
        ),
    )
    if stream.read(1):
        raise DatasetCorruptError(
            f"{path}: {declared} but the file holds more data than that"
        )
    if not dtype.isnative:
        flat = flat.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return flat.reshape(shape)


def _read_up_to(stream, count):
    data = b""
    while len(data) < count:
        more = stream.read(count - len(data))
        if not more:
            break
        data += more
    return data


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

    Examples:
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
