"""What every dataset reader shares: its error, its size limits and the check of
a decoded split."""

import math

import numpy as np

__all__ = [
    "MAX_INFLATION",
    "MIN_INFLATED_LIMIT",
    "DatasetCorruptError",
    "check_split",
    "inflated_limit",
    "read_into",
]

# Compressed data (an npz member, a gzipped IDX file) may declare at most this
# many times the compressed file's size once inflated, or MIN_INFLATED_LIMIT
# bytes, whichever is more: MNIST's files inflate about 5 times, a
# decompression bomb about 1000 times. Checked before anything is inflated.
MAX_INFLATION = 100
MIN_INFLATED_LIMIT = 16 << 20


def inflated_limit(compressed_size):
    """The most bytes data compressed into ``compressed_size`` bytes may declare.

    Examples:
        >>> from nnlib.datasets._checks import inflated_limit
        >>> inflated_limit(1 << 30) == 100 << 30, inflated_limit(1) == 16 << 20
        (True, True)
    """
    return max(MAX_INFLATION * compressed_size, MIN_INFLATED_LIMIT)


class DatasetCorruptError(ValueError):
    """A data file is damaged, truncated, or not in the expected format."""


_CHUNK = 1 << 20


def read_into(stream, shape, dtype, short):
    """Reads a flat array of ``shape`` and ``dtype`` from ``stream`` a chunk at a time.

    The caller has checked the declared size; reading in chunks straight into the
    array means a stream that ends early (or a bomb that inflates further) costs
    no more than the array itself. ``short(done)`` gives the error to raise when
    the stream ends after ``done`` bytes.

    Examples:
        >>> import io
        >>> from nnlib.datasets._checks import read_into
        >>> read_into(io.BytesIO(bytes([1, 2, 3])), (3,), np.uint8, None)
        array([1, 2, 3], dtype=uint8)
    """
    flat = np.empty(math.prod(shape), dtype)
    view = memoryview(flat.view(np.uint8))
    done = 0
    while done < flat.nbytes:
        got = stream.readinto(view[done : done + _CHUNK])
        if not got:
            raise short(done)
        done += got
    return flat


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
