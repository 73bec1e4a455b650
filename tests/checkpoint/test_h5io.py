"""The HDF5 format: contents, attributes, and every way a file can be bad."""

import json
import os

import h5py
import numpy as np
import pytest

import nnlib
from nnlib.checkpoint import (
    CheckpointCorruptError,
    CheckpointIsADirectoryError,
    CheckpointNotFoundError,
    CheckpointVersionError,
    h5io,
)

ARRAYS = {
    "net/dense/kernel": np.arange(12, dtype=np.float32).reshape(3, 4),
    "net/dense/bias": np.zeros(4, np.float64),
    "step": np.array(7, np.int64),
    "flags": np.array([True, False]),
    "empty": np.zeros((0, 3), np.float16),
}


@pytest.fixture
def saved(tmp_path):
    path = str(tmp_path / "arrays.h5")
    h5io.write(path, ARRAYS, {"model_name": "net"})
    return path


def test_round_trip_keeps_values_dtypes_shapes_and_order(saved):
    stored = h5io.read(saved)
    assert list(stored.arrays) == list(ARRAYS)
    for name, array in ARRAYS.items():
        got = stored.arrays[name]
        assert got.dtype == array.dtype and got.shape == array.shape
        np.testing.assert_array_equal(got, array)
    assert stored.attrs["format_version"] == 1
    assert stored.attrs["nnlib_version"] == nnlib.__version__
    assert stored.attrs["model_name"] == "net"


def test_layout_is_plain_hdf5_with_groups_and_attributes(saved):
    with h5py.File(saved, "r") as f:
        dataset = f["net"]["dense"]["kernel"]
        assert dataset.attrs["dtype"].decode() == "<f4"
        assert list(dataset.attrs["shape"]) == [3, 4]
        assert dataset.attrs["crc32"] == h5io.checksum(ARRAYS["net/dense/kernel"])
        assert json.loads(f.attrs["names"]) == list(ARRAYS)


def test_bad_names_and_dtypes_are_refused_before_writing(tmp_path):
    path = str(tmp_path / "bad.h5")
    with pytest.raises(ValueError, match="both"):
        h5io.write(path, {"a": np.ones(1), "a/b": np.ones(1)})
    with pytest.raises(ValueError, match="name"):
        h5io.write(path, {"a//b": np.ones(1)})
    with pytest.raises(TypeError, match="dtype"):
        h5io.write(path, {"s": np.array(["x"])})
    assert os.listdir(tmp_path) == []


def test_missing_file_is_not_created(tmp_path):
    path = str(tmp_path / "missing.h5")
    with pytest.raises(CheckpointNotFoundError, match="missing.h5") as caught:
        h5io.read(path)
    assert isinstance(caught.value, FileNotFoundError)
    assert not os.path.exists(path)
    model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
    with pytest.raises(CheckpointNotFoundError):
        model.load_weights(path)
    assert not os.path.exists(path)


def test_missing_extension_is_suggested(saved):
    with pytest.raises(CheckpointNotFoundError, match="did you mean"):
        h5io.read(saved[: -len(".h5")])


def test_a_directory(tmp_path):
    with pytest.raises(CheckpointIsADirectoryError, match="directory") as caught:
        h5io.read(str(tmp_path))
    assert isinstance(caught.value, IsADirectoryError)
    assert "latest_checkpoint" in str(caught.value)


@pytest.mark.parametrize("content", [b"hello, not hdf5\n", b"PK\x03\x04zip" * 100])
def test_a_text_or_zip_file_named_h5(tmp_path, content):
    path = tmp_path / "fake.h5"
    path.write_bytes(content)
    with pytest.raises(CheckpointCorruptError, match="not an HDF5 file") as caught:
        h5io.read(str(path))
    assert str(path) in str(caught.value)


def test_a_truncated_file(saved):
    size = os.path.getsize(saved)
    with open(saved, "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(CheckpointCorruptError) as caught:
        h5io.read(saved)
    assert f"truncated: {size // 2} of {size} bytes" in str(caught.value)
    assert saved in str(caught.value)


def _flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_a_flipped_byte_in_raw_data_fails_the_checksum(saved):
    with h5py.File(saved, "r") as f:
        offset = f["net/dense/kernel"].id.get_offset()
    _flip(saved, offset + 5)
    with pytest.raises(CheckpointCorruptError, match="checksum") as caught:
        h5io.read(saved)
    assert "'net/dense/kernel'" in str(caught.value) and saved in str(caught.value)


@pytest.mark.parametrize("offset", [0, 3, 9])
def test_a_flipped_byte_in_the_header(saved, offset):
    _flip(saved, offset)
    with pytest.raises(CheckpointCorruptError, match="arrays.h5"):
        h5io.read(saved)


_SCAN = """
import sys, numpy as np
from nnlib.checkpoint import h5io, CheckpointError
path = sys.argv[1]
good = h5io.read(path).arrays
data = open(path, "rb").read()
for offset in range(0, len(data), 3):
    damaged = bytearray(data)
    damaged[offset] ^= 0xFF
    with open(path + ".x", "wb") as f:
        f.write(damaged)
    try:
        got = h5io.read(path + ".x").arrays
    except CheckpointError:
        continue
    # A flip that reads back fine must have hit unused bytes: same values.
    assert list(got) == list(good), offset
    assert all(np.array_equal(got[k], good[k]) for k in good), offset
print("scanned")
"""


def test_a_flipped_byte_anywhere_is_detected_or_harmless(saved, helpers):
    # In a subprocess: damaged HDF5 metadata can hang the C library, and a
    # hang must fail this test rather than the whole suite.
    assert helpers.run_script(_SCAN, saved, timeout=300).strip() == "scanned"


def test_a_newer_format_version(saved):
    with h5py.File(saved, "a") as f:
        f.attrs["format_version"] = 2
    with pytest.raises(CheckpointVersionError, match=r"newer nnlib .*format 2 > 1"):
        h5io.read(saved)


def test_an_hdf5_file_that_is_not_a_checkpoint(tmp_path):
    path = str(tmp_path / "keras.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("model_weights/dense/kernel:0", data=np.ones(2))
    with pytest.raises(CheckpointCorruptError, match="not an nnlib checkpoint"):
        h5io.read(path)


def test_a_dataset_missing_from_the_file(saved):
    with h5py.File(saved, "a") as f:
        del f["step"]
    with pytest.raises(CheckpointCorruptError, match="missing"):
        h5io.read(saved)


def test_writing_leaves_no_temporary_file(saved, tmp_path):
    h5io.write(saved, {"x": np.ones(3)})
    assert sorted(os.listdir(tmp_path)) == ["arrays.h5"]
    assert list(h5io.read(saved).arrays) == ["x"]


def test_new_files_get_ordinary_permissions_and_keep_old_ones(tmp_path):
    path = str(tmp_path / "perm.h5")
    h5io.write(path, {"x": np.ones(2)})
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    os.chmod(path, 0o640)
    h5io.write(path, {"x": np.zeros(2)})
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_every_dtype_and_layout_round_trips(tmp_path):
    # The datasets' bytes are written by nnlib, not HDF5 (see _h5image): each
    # dtype's bytes must be what HDF5 reads back, for any byte order and shape.
    rng = np.random.default_rng(0)
    arrays = {
        "big_endian_f4": np.arange(6, dtype=">f4").reshape(2, 3),
        "big_endian_i2": np.arange(-3, 3, dtype=">i2"),
        "complex64": (rng.normal(size=5) + 1j * rng.normal(size=5)).astype("c8"),
        "complex128": np.array([1 + 2j, -3j]),
        "uint8": np.arange(256, dtype=np.uint8),
        "int8": np.arange(-5, 5, dtype=np.int8),
        "float16": rng.normal(size=(3, 2)).astype(np.float16),
        "bool2d": rng.normal(size=(4, 4)) > 0,
        "scalar_f32": np.array(2.5, np.float32),
        "scalar_bool": np.array(True),
        "transposed": np.arange(12.0).reshape(3, 4).T,
        "large": rng.normal(size=(300, 500)).astype(np.float32),
        "empty": np.zeros((2, 0)),
    }
    path = str(tmp_path / "dtypes.h5")
    h5io.write(path, arrays)
    stored = h5io.read(path)
    for name, array in arrays.items():
        got = stored.arrays[name]
        assert got.dtype == array.dtype and got.shape == array.shape, name
        np.testing.assert_array_equal(got, array, err_msg=name)
    with h5py.File(path, "r") as f:  # and through plain h5py
        np.testing.assert_array_equal(f["big_endian_f4"][()], arrays["big_endian_f4"])
        assert f["scalar_f32"][()] == 2.5
