"""Loaders for the standard image datasets, returning what Keras's loaders return.

Each ``load_data`` reads a local copy if there is one (an explicit ``path``, else
the folder named by ``NNLIB_DATA``, else ``~/.nnlib/datasets``) and otherwise
downloads the dataset from its public source, checks its SHA-256 and caches it.
``mnist.load_data(sample=True)`` reads a small real sample shipped with nnlib,
with no download.

Examples:
    >>> from nnlib.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data(sample=True)
    >>> x_train.shape, y_train.dtype
    ((4000, 28, 28), dtype('uint8'))
"""

from . import cifar10, fashion_mnist, mnist
from ._download import ChecksumError, DatasetNotFoundError, DownloadError, data_dir
from ._readers import DatasetCorruptError

__all__ = [
    "ChecksumError",
    "DatasetCorruptError",
    "DatasetNotFoundError",
    "DownloadError",
    "cifar10",
    "data_dir",
    "fashion_mnist",
    "mnist",
]
