"""Fashion-MNIST (Zalando's clothing images), as Keras's loader returns it."""

from pathlib import Path

from . import _download, _readers
from ._download import DatasetNotFoundError
from ._readers import find_idx_files
from .mnist import IDX_STEMS

__all__ = ["load_data"]

# Downloads live in a subfolder: the file names are the same as MNIST's.
SUBDIR = "fashion-mnist"
_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# name -> (url, sha256), Keras's URLs; the hashes agree with torchvision's and
# tensorflow-datasets' pinned values for Zalando's published files.
_SOURCES = {
    "train-images-idx3-ubyte.gz": (
        _BASE + "train-images-idx3-ubyte.gz",
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    "train-labels-idx1-ubyte.gz": (
        _BASE + "train-labels-idx1-ubyte.gz",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ),
    "t10k-images-idx3-ubyte.gz": (
        _BASE + "t10k-images-idx3-ubyte.gz",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        _BASE + "t10k-labels-idx1-ubyte.gz",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
}
_SHAPE = (28, 28)


def load_data(path=None):
    """Load Fashion-MNIST: 60,000 training and 10,000 test 28x28 clothing images.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
    6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.

    The data are looked for, in order, at:

    1. ``path``, if given: an ``.npz`` file in Keras's ``mnist.npz`` layout, or
       a folder holding the four IDX files (``train-images-idx3-ubyte[.gz]``,
       ``train-labels-idx1-ubyte[.gz]``, ``t10k-...``), directly or in a
       ``fashion-mnist`` subfolder. Nothing is downloaded when ``path`` is given.
    2. The ``fashion-mnist`` subfolder of :func:`nnlib.datasets.data_dir`.
    3. Otherwise the missing ``.gz`` files are downloaded from Keras's public
       copies, checked against their SHA-256 and cached in that subfolder.

    Args:
        path: An optional file or folder, as above.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        ``(N, 28, 28)`` and uint8 labels 0-9 of shape ``(N,)``.

    Raises:
        DatasetNotFoundError: Nothing at ``path``; or no local copy and no way
            to download one (the message says where to put the files).
        DownloadError: A download failed or its checksum did not match.
        DatasetCorruptError: A file is damaged or is not in the expected format,
            or declares more data than it holds (compressed data may inflate
            at most 100 times; checked before anything is allocated).

    Examples:
        >>> import os, tempfile
        >>> from nnlib.datasets import fashion_mnist
        >>> x, y = np.zeros((6, 28, 28), np.uint8), np.arange(6, dtype=np.uint8)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     file = os.path.join(folder, "fashion.npz")
        ...     np.savez(file, x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
        ...     (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(file)
        >>> x_train.shape, y_test
        ((6, 28, 28), array([0, 1], dtype=uint8))

        Without ``path`` it reads or downloads the real files:

        >>> (x_train, y_train), _ = fashion_mnist.load_data()  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    if path is not None:
        path = Path(path).expanduser()
        if path.is_file():
            return _readers.read_npz(path, image_shape=_SHAPE)
        files = None
        if path.is_dir():
            files = find_idx_files(path, IDX_STEMS) or find_idx_files(
                path / SUBDIR, IDX_STEMS
            )
        if files is None:
            raise DatasetNotFoundError(
                f"fashion_mnist.load_data: no Fashion-MNIST data at {str(path)!r}: "
                f"expected an npz file, or a folder (or its {SUBDIR!r} subfolder) "
                f"holding the IDX files {IDX_STEMS} (each optionally ending in .gz)"
            )
    else:
        folder = _download.data_dir() / SUBDIR
        files = find_idx_files(folder, IDX_STEMS) or [
            _cached_or_fetched(folder, stem) for stem in IDX_STEMS
        ]
    return (
        _readers.read_idx_split(files[0], files[1], _SHAPE),
        _readers.read_idx_split(files[2], files[3], _SHAPE),
    )


def _cached_or_fetched(folder, stem):
    for file in (folder / (stem + ".gz"), folder / stem):
        if file.is_file():
            return file
    return _download.fetch(stem + ".gz", _SOURCES[stem + ".gz"], subdir=SUBDIR)
