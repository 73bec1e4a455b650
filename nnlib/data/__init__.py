"""Input pipelines: ``Dataset`` sources and transformations, on numpy.

Build a dataset from arrays, a generator or files, chain transformations, and
iterate it: elements are numpy arrays (numpy scalars for scalar components),
nested like the source (a tuple stays a tuple, a dict a dict). This layer uses
numpy only (plus ``nnlib.random`` for unseeded shuffles).

Examples:
    >>> from nnlib.data import Dataset
    >>> x = np.arange(12, dtype=np.float32).reshape(6, 2)
    >>> y = np.arange(6)
    >>> ds = Dataset.from_tensor_slices((x, y)).shuffle(6, seed=0).batch(4)
    >>> for xb, yb in ds:
    ...     print(xb.shape, yb.shape)
    (4, 2) (4,)
    (2, 2) (2,)
"""

from ._generator import TextLineDataset
from .dataset import Dataset
from .spec import AUTOTUNE, INFINITE, UNKNOWN, DatasetError, TensorSpec

__all__ = [
    "AUTOTUNE",
    "INFINITE",
    "UNKNOWN",
    "Dataset",
    "DatasetError",
    "TensorSpec",
    "TextLineDataset",
]
