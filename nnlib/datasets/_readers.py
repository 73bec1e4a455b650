"""Readers for the files the image datasets come in, each checking what it reads.

- Keras's ``.npz`` layout (arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``),
  read with pickling disabled;
- the original IDX files of MNIST and Fashion-MNIST, gzipped or not (told apart
  by their first bytes, not their names);
- the CIFAR-10 "python version": pickled batches, in the published tarball or
  in an extracted folder.

The CIFAR batches are pickles, and unpickling can run arbitrary code. They are
read with an unpickler that resolves only the few numpy names needed to rebuild
an array (any other global, such as ``os.system``, is refused), from members
whose names are checked first, and the result must then be a dict holding a
uint8 ``data`` array and integer ``labels``. A full pickle-free parser would
need most of the pickle machine for no gain in safety over that whitelist.

A damaged or unexpected file raises :class:`DatasetCorruptError` naming the file.
"""

import gzip
import io
import pickle
import tarfile
import zipfile
import zlib

import numpy as np

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
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)

# IDX type codes (the third magic byte) and the big-endian dtypes they name.
_IDX_TYPES = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
# A real batch is 30.7 MB; anything far larger is not one (or is a zip bomb).
_MAX_BATCH_BYTES = 64 << 20

# Taken from numpy's own reductions rather than imported from numpy.core, which
# numpy 2 renamed (both spellings occur in pickles, depending on who wrote them).
_RECONSTRUCT = np.empty(0).__reduce__()[0]
_FROMBUFFER = np.empty(0).__reduce_ex__(5)[0]
_PICKLE_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
}


class DatasetCorruptError(ValueError):
    """A data file is damaged, truncated, or not in the expected format."""


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


def check_split(x, y, where, image_shape=None, num_classes=10):
    """``(x, y)`` with uint8 labels, or DatasetCorruptError saying what is wrong."""
    if x.dtype != np.uint8 or x.ndim < 3:
        raise DatasetCorruptError(
            f"{where}: expected uint8 images of shape (N, rows, cols[, channels]), "
            f"got {x.dtype} array of shape {x.shape}"
        )
    if image_shape is not None and x.shape[1:] != tuple(image_shape):
        raise DatasetCorruptError(
            f"{where}: expected images of shape {tuple(image_shape)}, got "
            f"{x.shape[1:]} (array shape {x.shape}); is it another dataset?"
        )
    if not np.issubdtype(y.dtype, np.integer) or y.shape[0:1] != x.shape[:1]:
        raise DatasetCorruptError(
            f"{where}: expected {len(x)} integer labels for {len(x)} images, got "
            f"{y.dtype} array of shape {y.shape}"
        )
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise DatasetCorruptError(
            f"{where}: labels outside [0, {num_classes}) (min {y.min()}, max {y.max()})"
        )
    return x, y.astype(np.uint8, copy=False)


def read_cifar_tarball(path):
    """Read CIFAR-10 from ``cifar-10-python.tar.gz`` without extracting it.

    Only the six batch members (``cifar-10-batches-py/data_batch_1`` to ``_5``
    and ``test_batch``) are read, and only if they are regular files of a
    plausible size; nothing is written to disk.

    Args:
        path: The tarball's path.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as :func:`read_cifar_folder`.

    Raises:
        DatasetCorruptError: Not a tar archive, a member missing or malformed.

    Example:
        >>> import io, pickle, tarfile, tempfile
        >>> from pathlib import Path
        >>> from nnlib.datasets._readers import read_cifar_tarball
        >>> batch = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8),
        ...                       b"labels": [3, 8]})
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder, "cifar-10-python.tar.gz")
        ...     with tarfile.open(path, "w:gz") as tar:
        ...         for name in ["data_batch_1", "data_batch_2", "data_batch_3",
        ...                      "data_batch_4", "data_batch_5", "test_batch"]:
        ...             info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
        ...             info.size = len(batch)
        ...             tar.addfile(info, io.BytesIO(batch))
        ...     (x_train, y_train), (x_test, y_test) = read_cifar_tarball(path)
        >>> x_train.shape, y_train.shape, y_test.ravel()
        ((10, 32, 32, 3), (10, 1), array([3, 8], dtype=uint8))
    """
    wanted = {f"{CIFAR_FOLDER}/{name}": name for name in CIFAR_BATCHES}
    found = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            # One pass in archive order: a gzip stream cannot seek backwards cheaply.
            for member in tar:
                name = wanted.get(member.name.removeprefix("./"))
                if name is None:
                    continue
                if not member.isreg() or member.size > _MAX_BATCH_BYTES:
                    raise DatasetCorruptError(
                        f"{path}: member {member.name!r} is not a regular file of "
                        f"at most {_MAX_BATCH_BYTES} bytes"
                    )
                found[name] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error) as err:
        raise DatasetCorruptError(
            f"{path}: not a readable tar archive ({err})"
        ) from err
    except OSError as err:
        if isinstance(err, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise DatasetCorruptError(f"{path}: damaged archive ({err})") from err
    missing = [f"{CIFAR_FOLDER}/{n}" for n in CIFAR_BATCHES if n not in found]
    if missing:
        raise DatasetCorruptError(f"{path}: the archive lacks {missing}")
    return _assemble({name: (found[name], f"{path}:{name}") for name in found})


def read_cifar_folder(folder):
    """Read CIFAR-10 from an extracted ``cifar-10-batches-py`` folder.

    Args:
        folder: The folder holding ``data_batch_1`` ... ``data_batch_5`` and
            ``test_batch``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        ``(N, 32, 32, 3)`` (channels last, as Keras returns them) and uint8
        labels of shape ``(N, 1)``.

    Raises:
        FileNotFoundError: A batch file is missing.
        DatasetCorruptError: A batch is malformed.

    Example:
        >>> import pickle, tempfile
        >>> from pathlib import Path
        >>> from nnlib.datasets._readers import read_cifar_folder
        >>> batch = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8),
        ...                       b"labels": [3, 8]})
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     for name in ["data_batch_1", "data_batch_2", "data_batch_3",
        ...                  "data_batch_4", "data_batch_5", "test_batch"]:
        ...         _ = Path(folder, name).write_bytes(batch)
        ...     (x_train, y_train), (x_test, y_test) = read_cifar_folder(folder)
        >>> x_train.shape, x_test.shape
        ((10, 32, 32, 3), (2, 32, 32, 3))
    """
    batches = {}
    for name in CIFAR_BATCHES:
        file = f"{folder}/{name}"
        with open(file, "rb") as stream:
            batches[name] = (stream.read(), file)
    return _assemble(batches)


def _assemble(batches):
    """Both splits from ``{name: (pickled bytes, where)}``, filled in place."""
    parsed = {name: _parse_batch(raw, where) for name, (raw, where) in batches.items()}
    train = [parsed[name] for name in CIFAR_BATCHES[:-1]]
    x_train = np.empty((sum(len(x) for x, _ in train), 32, 32, 3), np.uint8)
    start = 0
    for x, _ in train:
        # Channels last, as Keras returns CIFAR, but contiguous (Keras's is a view).
        x_train[start : start + len(x)] = x.transpose(0, 2, 3, 1)
        start += len(x)
    y_train = np.concatenate([y for _, y in train])[:, None]
    x_test, y_test = parsed[CIFAR_BATCHES[-1]]
    x_test = np.ascontiguousarray(x_test.transpose(0, 2, 3, 1))
    return (x_train, y_train), (x_test, y_test[:, None])


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _PICKLE_GLOBALS[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR batch holds only "
                "numpy arrays, lists and strings"
            ) from None


def _parse_batch(raw, where):
    """``(x (N, 3, 32, 32) uint8, y (N,) uint8)`` from one pickled batch."""
    try:
        # encoding="bytes": the batches were pickled by Python 2 (str keys).
        batch = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as err:  # a damaged pickle fails in many ways
        raise DatasetCorruptError(
            f"{where}: not a CIFAR-10 python batch ({type(err).__name__}: {err})"
        ) from err
    if not isinstance(batch, dict):
        raise DatasetCorruptError(f"{where}: expected a dict, got {type(batch)}")
    batch = {
        key.decode("latin-1") if isinstance(key, bytes) else key: value
        for key, value in batch.items()
    }
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray):
        raise DatasetCorruptError(f"{where}: 'data' must be an array, got {type(data)}")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetCorruptError(
            f"{where}: 'data' must be a uint8 array of shape (N, 3072), got "
            f"{data.dtype} {data.shape}"
        )
    try:
        labels = np.asarray(labels)
    except Exception as err:
        raise DatasetCorruptError(f"{where}: unreadable 'labels' ({err})") from err
    x = data.reshape(len(data), 3, 32, 32)
    return check_split(x, labels, where, num_classes=10)
