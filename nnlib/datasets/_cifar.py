"""The CIFAR-10 reader: pickled batches, from the tarball or an extracted folder.

This is the dataset's "python version", read from the published tarball without
extracting it, or from its extracted ``cifar-10-batches-py`` folder.

The batches are pickles, and unpickling can run arbitrary code. They are read
with an unpickler that resolves only the few names numpy's own pickles use to
rebuild an array (any other global, such as ``os.system``, is refused), from
members whose names are checked first, and the result must then be a dict
holding a uint8 ``data`` array and integer ``labels``. Even numpy's names are
given guarded stand-ins: ``numpy.ndarray`` is not callable (called, it would
hand back uninitialised process memory as images), ``_reconstruct`` only makes
the empty array numpy's pickles then fill from their own bytes, and
``_frombuffer`` only reads bytes of the pickle. So every array holds the
file's own bytes. A full pickle-free parser would need most of the pickle
machine for no gain in safety over that whitelist.

A damaged or unexpected file raises :class:`DatasetCorruptError` naming the file.
"""

import io
import pickle
import tarfile
import zlib

import numpy as np

from ._checks import DatasetCorruptError, check_split

__all__ = [
    "CIFAR_BATCHES",
    "CIFAR_FOLDER",
    "read_cifar_folder",
    "read_cifar_tarball",
]

CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)

# A real batch is 30.7 MB; anything far larger is not one (or is a zip bomb).
_MAX_BATCH_BYTES = 64 << 20

# Taken from numpy's own reductions rather than imported from numpy.core, which
# numpy 2 renamed (both spellings occur in pickles, depending on who wrote them).
_RECONSTRUCT = np.empty(0).__reduce__()[0]
_FROMBUFFER = np.empty(0).__reduce_ex__(5)[0]


class _NdarrayName:
    """What ``numpy.ndarray`` resolves to: only ``_reconstruct``'s subtype.

    Calling it is refused: ``numpy.ndarray(shape, dtype)`` in a pickle would
    allocate an array of whatever the process's memory held.
    """

    def __repr__(self):
        return "numpy.ndarray"

    def __call__(self, *args, **kwargs):
        raise pickle.UnpicklingError(
            "it calls numpy.ndarray(shape, dtype), which allocates uninitialised "
            "memory; an array must hold the file's own bytes"
        )


_NDARRAY = _NdarrayName()


def _reconstruct(subtype, shape, dtype):
    """numpy's ``_reconstruct(ndarray, (0,), b"b")``: the empty array that the
    pickle's state (its own bytes, size-checked by numpy) then fills."""
    if subtype is not _NDARRAY or tuple(shape) != (0,):
        raise pickle.UnpicklingError(
            f"_reconstruct({subtype!r}, {shape!r}, ...) would allocate an array "
            "not filled from the file's own bytes; numpy's pickles ask for "
            "_reconstruct(numpy.ndarray, (0,), ...)"
        )
    return _RECONSTRUCT(np.ndarray, (0,), dtype)


def _frombuffer(buffer, dtype, shape, order):
    """numpy's protocol-5 rebuild, from bytes that are part of the pickle."""
    if not isinstance(buffer, (bytes, bytearray, pickle.PickleBuffer)):
        raise pickle.UnpicklingError(
            f"_frombuffer of a {type(buffer).__name__}: expected the file's own bytes"
        )
    return _FROMBUFFER(buffer, dtype, shape, order)


def _latin1(text, encoding):
    """``_codecs.encode``, as Python 3's protocol-2 pickles store bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode(..., {encoding!r})")
    return text.encode("latin-1")


_PICKLE_GLOBALS = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("_codecs", "encode"): _latin1,
}


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

    Examples:
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

    Examples:
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
    """Resolves only ``_PICKLE_GLOBALS``; out-of-band buffers are refused (no
    ``buffers`` argument), so protocol-5 data is the pickle's own too."""

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
