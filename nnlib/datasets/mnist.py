"""MNIST handwritten digits, as ``keras.datasets.mnist`` returns them."""

from importlib import resources
from pathlib import Path

from . import _download, _readers
from ._download import DatasetNotFoundError

__all__ = ["load_data"]

# name -> (url, sha256). The URL and hash are Keras's (keras/src/datasets/mnist.py).
_SOURCES = {
    "mnist.npz": (
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    ),
}
IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_SAMPLE = "data/mnist_sample.npz"
_SHAPE = (28, 28)


def load_data(path=None, sample=False):
    """Load MNIST: 60,000 training and 10,000 test digits of 28x28 pixels.

    The data are looked for, in order, at:

    1. ``path``, if given: an ``.npz`` file in Keras's layout, or a folder that
       holds ``mnist.npz`` or the four original IDX files
       (``train-images-idx3-ubyte[.gz]`` and so on). Nothing is downloaded
       when ``path`` is given; a missing file is an error.
    2. The same names in :func:`nnlib.datasets.data_dir` (the folder named by
       ``NNLIB_DATA``, else ``~/.nnlib/datasets``).
    3. Otherwise ``mnist.npz`` is downloaded from Keras's public copy, checked
       against its SHA-256 and cached in that folder.

    Args:
        path: An optional file or folder, as above.
        sample: Load the small real sample shipped with nnlib instead (4,000
            training and 1,000 test digits, a seeded subset stratified by label
            of the full set; no file or network needed).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        ``(N, 28, 28)`` with values 0-255, and uint8 labels 0-9 of shape ``(N,)``.

    Raises:
        ValueError: Both ``path`` and ``sample`` given.
        DatasetNotFoundError: Nothing at ``path``; or no local copy and no way
            to download one (the message says where to put the file).
        DownloadError: The download failed or its checksum did not match.
        DatasetCorruptError: A file is damaged or is not MNIST, or declares
            more data than it holds (compressed data may inflate at most 100
            times; checked before anything is allocated).

    Examples:
        >>> from nnlib.datasets import mnist
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data(sample=True)
        >>> x_train.shape, x_train.dtype, y_train.shape, x_test.shape
        ((4000, 28, 28), dtype('uint8'), (4000,), (1000, 28, 28))
        >>> sorted(set(y_test.tolist()))
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    if sample:
        if path is not None:
            raise ValueError("mnist.load_data: pass either path or sample=True")
        sample_file = resources.files(__package__).joinpath(_SAMPLE)
        with sample_file.open("rb") as stream:
            return _readers.read_npz(stream, "nnlib's MNIST sample", _SHAPE)
    if path is not None:
        path = Path(path).expanduser()
        if path.is_file():
            return _readers.read_npz(path, image_shape=_SHAPE)
        found = _read_folder(path) if path.is_dir() else None
        if found is None:
            raise DatasetNotFoundError(
                f"mnist.load_data: no MNIST data at {str(path)!r}: expected an npz "
                f"file, or a folder holding 'mnist.npz' or the IDX files {IDX_STEMS} "
                "(each optionally ending in .gz)"
            )
        return found
    found = _read_folder(_download.data_dir())
    if found is not None:
        return found
    file = _download.fetch("mnist.npz", _SOURCES["mnist.npz"])
    return _readers.read_npz(file, image_shape=_SHAPE)


def _read_folder(folder):
    """The splits from ``mnist.npz`` or the IDX files in ``folder``, else None."""
    if (folder / "mnist.npz").is_file():
        return _readers.read_npz(folder / "mnist.npz", image_shape=_SHAPE)
    files = _readers.find_idx_files(folder, IDX_STEMS)
    if files is None:
        return None
    return (
        _readers.read_idx_split(files[0], files[1], _SHAPE),
        _readers.read_idx_split(files[2], files[3], _SHAPE),
    )
