"""Hostile dataset files: bombs, declared sizes, crafted pickles, wrong files.

Each is refused with a ``DatasetCorruptError`` naming the file before it costs
memory: peak allocations are measured with tracemalloc (numpy reports to it).
"""

import gzip
import io
import pickle
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from nnlib.datasets import DatasetCorruptError, mnist
from nnlib.datasets._readers import read_cifar_folder, read_idx, read_npz

MIB = 1 << 20
BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _peak(fn):
    """``(peak bytes traced while fn ran, the exception it raised or None)``."""
    tracemalloc.start()
    try:
        fn()
        error = None
    except Exception as err:  # noqa: BLE001 - the test inspects it
        error = err
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, error


# -- npz -------------------------------------------------------------------------


def test_an_npz_bomb_is_refused_before_inflating(tmp_path):
    path = tmp_path / "mnist.npz"
    x = np.zeros((32 * MIB // 784, 28, 28), np.uint8)  # compresses ~1000 times
    y = np.zeros(len(x), np.uint8)
    np.savez_compressed(path, x_train=x, y_train=y, x_test=x[:1], y_test=y[:1])
    del x, y
    assert path.stat().st_size < MIB
    peak, error = _peak(lambda: mnist.load_data(path=path))
    assert isinstance(error, DatasetCorruptError), error
    message = str(error)
    assert str(path) in message and "x_train.npy" in message and "inflate" in message
    assert peak < 2 * MIB


def test_an_npz_array_declaring_more_than_its_member_holds_allocates_nothing(tmp_path):
    path = tmp_path / "mnist.npz"
    header = io.BytesIO()
    declared = {
        "descr": "|u1",
        "fortran_order": False,
        "shape": (256 * MIB // 784, 28, 28),
    }
    np.lib.format.write_array_header_1_0(header, declared)
    small = io.BytesIO()
    np.save(small, np.zeros(1, np.uint8))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", header.getvalue() + bytes(16))
        for key in ("y_train", "x_test", "y_test"):
            archive.writestr(key + ".npy", small.getvalue())
    peak, error = _peak(lambda: read_npz(path))
    assert isinstance(error, DatasetCorruptError), error
    assert "x_train.npy" in str(error) and "256.0 MiB" in str(error)
    assert peak < 2 * MIB


def test_a_text_file_given_as_npz_says_what_was_expected(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_text("this is not an npz file\n" * 4)
    with pytest.raises(DatasetCorruptError) as caught:
        mnist.load_data(path=path)
    message = str(caught.value)
    assert str(path) in message and "not an npz archive" in message
    assert "x_train" in message and "pickle" not in message


def test_a_npy_file_given_as_npz_says_what_was_expected(tmp_path):
    path = tmp_path / "mnist.npz"
    np.save(path.with_suffix(".npy"), np.zeros(3))
    path.with_suffix(".npy").rename(path)
    with pytest.raises(DatasetCorruptError, match="a single .npy array, not an npz"):
        mnist.load_data(path=path)


def test_an_npz_of_python_objects_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    objects = np.array([{"a": 1}], dtype=object)
    buffer = io.BytesIO()
    np.save(buffer, objects, allow_pickle=True)
    with zipfile.ZipFile(path, "w") as archive:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            archive.writestr(key + ".npy", buffer.getvalue())
    with pytest.raises(DatasetCorruptError, match="x_train.npy.*Python objects"):
        read_npz(path)


def test_a_real_compressed_npz_still_loads(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 50).astype(np.uint8)
    path = tmp_path / "mnist.npz"
    np.savez_compressed(path, x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    (x_train, y_train), (x_test, _) = mnist.load_data(path=path)
    assert np.array_equal(x_train, x) and np.array_equal(y_train, y)
    assert x_test.flags.writeable and x_test.shape == (5, 28, 28)
    fortran = np.asfortranarray(rng.integers(0, 256, (6, 28, 28), dtype=np.uint8))
    np.savez(path, x_train=fortran, y_train=y[:6], x_test=x[:1], y_test=y[:1])
    (x_train, _), _ = read_npz(path)
    assert np.array_equal(x_train, fortran)


# -- IDX -------------------------------------------------------------------------


def _idx_header(count):
    return struct.pack(">IIII", 0x803, count, 28, 28)


def test_an_idx_gzip_bomb_is_refused_before_inflating(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    count = 32 * MIB // 784
    with gzip.open(path, "wb") as stream:
        stream.write(_idx_header(count) + bytes(count * 784))
    assert path.stat().st_size < MIB
    peak, error = _peak(lambda: read_idx(path))
    assert isinstance(error, DatasetCorruptError), error
    assert str(path) in str(error) and f"({count}, 28, 28)" in str(error)
    assert peak < 2 * MIB


def test_an_idx_gzip_with_more_data_than_declared_stops_early(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as stream:
        stream.write(_idx_header(2) + bytes(32 * MIB))
    peak, error = _peak(lambda: read_idx(path))
    assert isinstance(error, DatasetCorruptError), error
    assert "more data than" in str(error)
    assert peak < 4 * MIB


def test_an_idx_header_whose_size_overflows_is_a_clear_error(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    big = 2**32 - 1
    path.write_bytes(struct.pack(">IIIII", 0x804, big, big, big, big) + bytes(16))
    with pytest.raises(DatasetCorruptError) as caught:
        read_idx(path)
    message = str(caught.value)
    assert str(path) in message and f"{big**4} bytes" in message
    assert "holds 16 bytes" in message


# -- CIFAR pickles ---------------------------------------------------------------


class _Uninitialised:
    """Pickles as ``numpy.ndarray((2, 3072), uint8)``: memory, not data."""

    def __reduce__(self):
        return (np.ndarray, ((2, 3072), np.dtype(np.uint8)))


def _crafted_batch():
    # __reduce__ names numpy.ndarray itself: the pickle calls it on loading.
    return pickle.dumps({b"data": _Uninitialised(), b"labels": [0, 1]}, protocol=4)


def test_a_cifar_pickle_of_uninitialised_memory_is_refused(tmp_path):
    raw = _crafted_batch()
    assert b"numpy" in raw and b"ndarray" in raw
    for name in BATCHES:
        (tmp_path / name).write_bytes(raw)
    with pytest.raises(DatasetCorruptError, match="data_batch_1.*numpy.ndarray") as e:
        read_cifar_folder(tmp_path)
    assert "the file's own bytes" in str(e.value)


def test_a_cifar_pickle_reconstructing_a_big_empty_array_is_refused(tmp_path):
    reconstruct = np.empty(0).__reduce__()[0]

    class Big:
        def __reduce__(self):
            return (reconstruct, (np.ndarray, (2, 3072), b"B"))

    raw = pickle.dumps({b"data": Big(), b"labels": [0, 1]}, protocol=4)
    for name in BATCHES:
        (tmp_path / name).write_bytes(raw)
    with pytest.raises(DatasetCorruptError, match="data_batch_1"):
        read_cifar_folder(tmp_path)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_numpy_pickles_of_every_protocol_still_load(tmp_path, protocol):
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    raw = pickle.dumps({b"data": data, b"labels": [3, 8]}, protocol=protocol)
    for name in BATCHES:
        (tmp_path / name).write_bytes(raw)
    (x_train, y_train), (x_test, _) = read_cifar_folder(tmp_path)
    assert x_train.shape == (10, 32, 32, 3) and y_train.ravel().tolist() == [3, 8] * 5
    assert np.array_equal(x_test, data.reshape(2, 3, 32, 32).transpose(0, 2, 3, 1))
