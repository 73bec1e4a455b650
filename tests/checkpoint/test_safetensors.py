"""save_safetensors / load_safetensors: round trips, atomic writes, typed errors."""

import json
import os
import struct
import sys

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.checkpoint import (
    CheckpointCorruptError,
    CheckpointIsADirectoryError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CheckpointWriteError,
    load_safetensors,
    load_safetensors_weights,
    safetensors_io,
    save_safetensors,
)

st_numpy = pytest.importorskip("safetensors.numpy")


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "weights.safetensors")


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "dense/kernel": rng.normal(size=(3, 4)).astype(np.float32),
        "z/bias": rng.normal(size=(4,)),  # float64
        "a/steps": np.arange(6, dtype=np.int64).reshape(2, 3),
        "mask": np.array([True, False]),
        "half": np.ones(2, np.float16),
        "scalar": np.array(3.5, np.float32),
    }


def test_round_trip_keeps_values_dtypes_names_and_order(path):
    arrays = _arrays()
    assert save_safetensors(path, arrays, metadata={"epoch": "3"}) == path
    loaded, metadata = load_safetensors(path, with_metadata=True)
    assert list(loaded) == list(arrays)  # the saving order, not sorted
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
    assert metadata == {"epoch": "3"}  # nnlib's own key is not shown
    # Any safetensors reader reads the file.
    plain = st_numpy.load_file(path)
    np.testing.assert_array_equal(plain["a/steps"], arrays["a/steps"])


def test_files_of_other_writers_load_sorted_by_name(path):
    st_numpy.save_file({"b": np.ones(2, np.float32), "a": np.zeros(1)}, path)
    loaded, metadata = load_safetensors(path, with_metadata=True)
    assert list(loaded) == ["a", "b"] and metadata == {}


def test_bfloat16_loads_as_float32(path):
    values = np.array([1.0, -2.5, 0.15625], np.float32)
    raw = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = json.dumps({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}})
    header = header.encode().ljust(-(-len(header) // 8) * 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + raw)
    loaded = load_safetensors(path)["w"]
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, values)  # exactly representable


def test_a_layer_saves_by_relative_names_and_loads_back(path):
    model = nnlib.Sequential(
        [layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2)]
    )
    x = np.random.default_rng(1).normal(size=(2, 3)).astype(np.float32)
    expected = model(x).numpy()
    save_safetensors(path, model)
    assert list(load_safetensors(path)) == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    other = nnlib.Sequential(
        [layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2)]
    )
    report = load_safetensors_weights(other, path)
    assert len(report.matched) == 4 and not report.mismatched
    np.testing.assert_array_equal(other(x).numpy(), expected)
    small = nnlib.Sequential([layers.Dense(4, input_shape=(3,))])
    with pytest.raises(CheckpointMismatchError, match="2 unexpected"):
        load_safetensors_weights(small, path)


def test_unbuilt_layer_and_bad_inputs_are_refused(path):
    with pytest.raises(ValueError, match="no variables yet"):
        save_safetensors(path, layers.Dense(2))
    with pytest.raises(ValueError, match="no variables yet"):
        load_safetensors_weights(layers.Dense(2), path)
    with pytest.raises(TypeError, match="'s'.*dtype"):
        save_safetensors(path, {"s": np.array(["text"])})
    with pytest.raises(ValueError, match="reserved"):
        save_safetensors(path, {"a": np.ones(1)}, metadata={"nnlib": "x"})
    with pytest.raises(TypeError, match="str to str"):
        save_safetensors(path, {"a": np.ones(1)}, metadata={"epoch": 3})
    with pytest.raises(ValueError, match="name ''"):
        save_safetensors(path, {"": np.ones(1)})
    assert not os.path.exists(path)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _leftovers(folder):
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


def test_a_failure_mid_write_keeps_the_old_file(path, monkeypatch):
    save_safetensors(path, {"w": np.ones(3)})
    before = _read(path)

    def failing(temp, head, arrays):
        with open(temp, "wb") as f:
            f.write(head[: len(head) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors_io, "_write_file", failing)
    with pytest.raises(CheckpointWriteError, match="disk full.*intact") as info:
        save_safetensors(path, {"w": np.zeros(3)})
    assert info.value.path == path
    assert _read(path) == before
    assert _leftovers(os.path.dirname(path)) == []


def test_a_write_that_reads_back_wrong_is_not_renamed_into_place(path, monkeypatch):
    save_safetensors(path, {"w": np.ones(3)})
    real = safetensors_io._write_file

    def flipped(temp, head, arrays):  # the last byte reaches the disk wrong
        real(temp, head, arrays)
        with open(temp, "r+b") as f:
            f.seek(-1, os.SEEK_END)
            last = f.read(1)
            f.seek(-1, os.SEEK_END)
            f.write(bytes([last[0] ^ 0xFF]))

    monkeypatch.setattr(safetensors_io, "_write_file", flipped)
    with pytest.raises(CheckpointWriteError, match="verification"):
        save_safetensors(path, {"w": np.full(3, 2.0)})
    np.testing.assert_array_equal(load_safetensors(path)["w"], np.ones(3))
    assert _leftovers(os.path.dirname(path)) == []


def test_missing_folder_and_make_dirs(tmp_path):
    target = str(tmp_path / "new" / "w.safetensors")
    with pytest.raises(CheckpointWriteError, match="does not exist"):
        save_safetensors(target, {"w": np.ones(1)})
    save_safetensors(target, {"w": np.ones(1)}, make_dirs=True)
    assert list(load_safetensors(target)) == ["w"]


def test_missing_and_directory_paths(tmp_path):
    missing = str(tmp_path / "nothing.safetensors")
    with pytest.raises(CheckpointNotFoundError, match="nothing.safetensors") as info:
        load_safetensors(missing)
    assert isinstance(info.value, FileNotFoundError) and info.value.path == missing
    assert not os.path.exists(missing)  # reading creates nothing
    with pytest.raises(CheckpointIsADirectoryError):
        load_safetensors(str(tmp_path))
    with pytest.raises(CheckpointWriteError, match="directory"):
        save_safetensors(str(tmp_path), {"w": np.ones(1)})


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-3],  # truncated
        lambda data: b"not a safetensors file",
        lambda data: data[:8] + b"[" + data[9:],  # a broken header
        lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]),  # a flipped data byte
    ],
    ids=["truncated", "garbage", "header", "data"],
)
def test_corrupt_files_raise_naming_the_path(path, damage):
    save_safetensors(path, {"w": np.arange(4.0), "v": np.ones(2, np.float32)})
    _write(path, damage(_read(path)))
    with pytest.raises(CheckpointCorruptError, match="weights.safetensors") as info:
        load_safetensors(path)
    assert info.value.path == path and isinstance(info.value, OSError)


def test_missing_package_says_how_to_install(path, monkeypatch):
    save_safetensors(path, {"w": np.ones(1)})
    for name in [m for m in sys.modules if m.startswith("safetensors")]:
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    monkeypatch.setitem(sys.modules, "safetensors", None)
    hint = r'pip install "nnlib\[safetensors\]"'
    with pytest.raises(ImportError, match=hint):
        save_safetensors(path, {"w": np.zeros(1)})
    with pytest.raises(ImportError, match=hint):
        load_safetensors(path)


def test_torch_tensors_save_in_their_order(path):
    torch = pytest.importorskip("torch")
    state = {
        "1.weight": torch.ones(2, 3),
        "0.weight": torch.zeros(3, 3, dtype=torch.float64),
        "bf": torch.tensor([1.5], dtype=torch.bfloat16),
    }
    save_safetensors(path, state)
    loaded = load_safetensors(path)
    assert list(loaded) == ["1.weight", "0.weight", "bf"]
    assert loaded["0.weight"].dtype == np.float64
    assert loaded["bf"].dtype == np.float32 and loaded["bf"][0] == 1.5


def test_edge_arrays_are_written_as_the_package_reads_them(path):
    arrays = {
        "big_endian": np.arange(6, dtype=">f4").reshape(2, 3),
        "scalar_bool": np.array(True),
        "empty": np.zeros((0, 3), np.int16),
        "half": np.arange(3, dtype=np.float16),
        "bytes": np.arange(4, dtype=np.uint8),
    }
    save_safetensors(path, arrays)
    plain = st_numpy.load_file(path)  # the package's own parser
    for name, array in arrays.items():
        assert plain[name].shape == array.shape
        np.testing.assert_array_equal(plain[name], array)
    assert list(load_safetensors(path)) == list(arrays)  # saving order kept
    with pytest.raises(TypeError, match="dtype float128 are not supported"):
        save_safetensors(path, {"x": np.zeros(2, np.longdouble)})


# -- what nnlib's record covers (issue 11, item 9) --------------------------------


def _edit_header(path, edit):
    """Rewrites the JSON header of ``path`` through ``edit(header dict)``."""
    data = _read(path)
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    edit(header)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    _write(path, struct.pack("<Q", len(text)) + text + data[8 + size :])


def _edit_record(path, edit):
    def change(header):
        record = json.loads(header["__metadata__"]["nnlib"])
        edit(record)
        header["__metadata__"]["nnlib"] = json.dumps(record)

    _edit_header(path, change)


def test_a_dtype_changed_in_the_header_is_detected(path):
    save_safetensors(path, {"fc.weight": np.full((3, 2), 0.5, np.float32)})
    _edit_header(path, lambda h: h["fc.weight"].update(dtype="I32"))
    with pytest.raises(CheckpointCorruptError) as caught:
        load_safetensors(path)
    message = str(caught.value)
    assert "'fc.weight'" in message and "I32" in message and "F32" in message


def test_a_shape_changed_in_the_header_is_detected(path):
    save_safetensors(path, {"w": np.arange(6, dtype=np.float32).reshape(3, 2)})
    _edit_header(path, lambda h: h["w"].update(shape=[2, 3]))
    with pytest.raises(CheckpointCorruptError, match=r"'w'.*\[2, 3\].*\[3, 2\]"):
        load_safetensors(path)


@pytest.mark.parametrize("key", ["crc32", "dtypes", "shapes"])
def test_a_record_shorter_than_the_names_is_an_error(path, key):
    save_safetensors(path, {"a": np.ones(2), "b": np.zeros(3)})
    _edit_record(path, lambda record: record[key].pop())
    with pytest.raises(CheckpointCorruptError, match=f"{key}.*'b'"):
        load_safetensors(path)


@pytest.mark.parametrize("key", ["crc32", "dtypes"])
def test_a_record_without_its_checks_is_an_error(path, key):
    save_safetensors(path, {"a": np.ones(2)})
    _edit_record(path, lambda record: record.pop(key))
    with pytest.raises(CheckpointCorruptError, match=key):
        load_safetensors(path)


def test_an_integer_tensor_for_a_float_variable_is_refused(path):
    dense = layers.Dense(2)
    dense(np.ones((1, 3), np.float32))
    st_numpy.save_file(  # another writer: nothing recorded to check against
        {"kernel": np.ones((3, 2), np.int32), "bias": np.zeros(2, np.float32)}, path
    )
    before = dense.kernel.numpy().copy()
    with pytest.raises(CheckpointMismatchError) as caught:
        load_safetensors_weights(dense, path)
    message = str(caught.value)
    assert "kernel" in message and "int32" in message and "float32" in message
    assert np.array_equal(dense.kernel.numpy(), before)


def test_an_integer_array_is_refused_when_assigned_on_creation_too(tmp_path):
    """A deferred load (before the first call) checks dtypes as variables appear."""
    from nnlib.checkpoint import h5io

    path = str(tmp_path / "w.h5")
    h5io.write(path, {"kernel": np.ones((3, 2), np.int64), "bias": np.zeros(2)})
    dense = layers.Dense(2)
    dense.load_weights(path)
    with pytest.raises(CheckpointMismatchError, match="kernel.*int64.*float32"):
        dense(np.ones((1, 3), np.float32))
