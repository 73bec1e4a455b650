"""CIFAR-10 small colour images, as ``keras.datasets.cifar10`` returns them."""

from pathlib import Path

from . import _download, _readers
from ._download import DatasetNotFoundError

__all__ = ["load_data"]

TARBALL = "cifar-10-python.tar.gz"
# name -> (url, sha256). The URL and hash are Keras's (keras/src/datasets/cifar10.py).
_SOURCES = {
    TARBALL: (
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    ),
}


def load_data(path=None):
    """Load CIFAR-10: 50,000 training and 10,000 test 32x32 colour images.

    Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog,
    7 horse, 8 ship, 9 truck.

    The data are looked for, in order, at:

    1. ``path``, if given: the ``cifar-10-python.tar.gz`` tarball, or a folder
       holding it, or holding the extracted batches (``data_batch_1`` ...
       ``data_batch_5``, ``test_batch``) directly or in a ``cifar-10-batches-py``
       subfolder. Nothing is downloaded when ``path`` is given.
    2. The same names in :func:`nnlib.datasets.data_dir`.
    3. Otherwise the tarball (163 MB) is downloaded from the CIFAR home page,
       checked against its SHA-256 and cached in that folder.

    The batches are Python pickles; they are read with an unpickler that can
    only rebuild numpy arrays (see ``nnlib/datasets/_cifar.py``).

    Args:
        path: An optional file or folder, as above.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        ``(N, 32, 32, 3)`` (channels last, like Keras) and uint8 labels 0-9 of
        shape ``(N, 1)`` (a column, like Keras).

    Raises:
        DatasetNotFoundError: Nothing at ``path``; or no local copy and no way
            to download one (the message says where to put the file).
        DownloadError: The download failed or its checksum did not match.
        DatasetCorruptError: The archive or a batch is damaged or not CIFAR-10,
            or a batch builds an array from anything but its own bytes.

    Examples:
        >>> import pickle, tempfile
        >>> from pathlib import Path
        >>> from nnlib.datasets import cifar10
        >>> batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 8]}
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     for name in ["data_batch_1", "data_batch_2", "data_batch_3",
        ...                  "data_batch_4", "data_batch_5", "test_batch"]:
        ...         _ = Path(folder, name).write_bytes(pickle.dumps(batch))
        ...     (x_train, y_train), (x_test, y_test) = cifar10.load_data(folder)
        >>> x_train.shape, y_train.shape, y_test.ravel()
        ((10, 32, 32, 3), (10, 1), array([3, 8], dtype=uint8))

        Without ``path`` it reads or downloads the real files:

        >>> (x_train, y_train), _ = cifar10.load_data()  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (50000, 32, 32, 3)
    """
    if path is not None:
        path = Path(path).expanduser()
        if path.is_file():
            return _readers.read_cifar_tarball(path)
        found = _read_folder(path) if path.is_dir() else None
        if found is None:
            raise DatasetNotFoundError(
                f"cifar10.load_data: no CIFAR-10 data at {str(path)!r}: expected "
                f"{TARBALL!r}, or a folder holding it or the extracted batches "
                f"{list(_readers.CIFAR_BATCHES)} (directly or in "
                f"{_readers.CIFAR_FOLDER!r})"
            )
        return found
    found = _read_folder(_download.data_dir())
    if found is not None:
        return found
    return _readers.read_cifar_tarball(_download.fetch(TARBALL, _SOURCES[TARBALL]))


def _read_folder(folder):
    """The splits from the tarball or the extracted batches in ``folder``."""
    if (folder / TARBALL).is_file():
        return _readers.read_cifar_tarball(folder / TARBALL)
    for batches in (folder, folder / _readers.CIFAR_FOLDER):
        if all((batches / name).is_file() for name in _readers.CIFAR_BATCHES):
            return _readers.read_cifar_folder(batches)
    return None
