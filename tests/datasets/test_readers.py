"""The file readers: IDX (gzipped or raw), Keras's npz layout, CIFAR-10 batches."""

import gzip
import io
import pickle
import struct
import tarfile

import numpy as np
import pytest

from nnlib.datasets import DatasetCorruptError
from nnlib.datasets._readers import (
    read_cifar_folder,
    read_cifar_tarball,
    read_idx,
    read_idx_split,
    read_npz,
)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip_gzipped_or_raw(tmp_path, make, compress):
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    file = tmp_path / "images"  # no .gz suffix either way: the bytes decide
    file.write_bytes(make.idx_bytes(images, compress))
    out = read_idx(file)
    np.testing.assert_array_equal(out, images)
    assert out.dtype == np.uint8 and out.flags.writeable


def test_idx_reads_big_endian_wider_types(tmp_path):
    values = np.array([[1, -2], [300, 70000]], np.int32)
    file = tmp_path / "ints"
    file.write_bytes(
        struct.pack(">BBBBII", 0, 0, 0x0C, 2, 2, 2) + values.astype(">i4").tobytes()
    )
    out = read_idx(file)
    np.testing.assert_array_equal(out, values)
    assert out.dtype == np.int32 and out.dtype.isnative


@pytest.mark.parametrize(
    "header",
    [b"PK\x03\x04", b"\0\0\x07\x01", b"\0\0\x08\x00", b"<htm", b""],
    ids=["zip", "bad-type", "zero-dims", "html", "empty"],
)
def test_idx_bad_magic_names_the_file(tmp_path, header):
    file = tmp_path / "train-images-idx3-ubyte"
    file.write_bytes(header + bytes(20))
    with pytest.raises(DatasetCorruptError, match="not an IDX file") as info:
        read_idx(file)
    assert str(file) in str(info.value)


def test_idx_size_mismatch_is_reported(tmp_path, make):
    data = make.idx_bytes(np.zeros((3, 28, 28), np.uint8))
    file = tmp_path / "short"
    file.write_bytes(data[:-10])
    with pytest.raises(DatasetCorruptError, match=r"shape \(3, 28, 28\).*2342 bytes"):
        read_idx(file)
    file.write_bytes(data + b"extra")
    with pytest.raises(DatasetCorruptError, match="declares"):
        read_idx(file)


def test_idx_truncated_gzip_is_reported(tmp_path, make):
    data = make.idx_bytes(np.zeros((3, 28, 28), np.uint8), compress=True)
    file = tmp_path / "images.gz"
    file.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetCorruptError, match="gzip") as info:
        read_idx(file)
    assert str(file) in str(info.value)


def test_idx_split_checks_the_pair(tmp_path, make):
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.write_bytes(make.idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    labels.write_bytes(make.idx_bytes(np.array([1, 2], np.uint8)))
    with pytest.raises(DatasetCorruptError, match="3 integer labels for 3 images"):
        read_idx_split(images, labels)
    labels.write_bytes(make.idx_bytes(np.array([1, 2, 10], np.uint8)))
    with pytest.raises(DatasetCorruptError, match=r"outside \[0, 10\)"):
        read_idx_split(images, labels)
    labels.write_bytes(make.idx_bytes(np.array([1, 2, 3], np.uint8)))
    with pytest.raises(
        DatasetCorruptError, match=r"expected images of shape \(32, 32\)"
    ):
        read_idx_split(images, labels, image_shape=(32, 32))
    x, y = read_idx_split(images, labels, image_shape=(28, 28))
    assert x.shape == (3, 28, 28) and y.tolist() == [1, 2, 3]


def test_npz_reader_returns_keras_layout(tmp_path, make):
    arrays = make.mnist_arrays()
    file = tmp_path / "mnist.npz"
    file.write_bytes(make.npz_bytes(arrays))
    (x_train, y_train), (x_test, y_test) = read_npz(file, image_shape=(28, 28))
    keys = ["x_train", "y_train", "x_test", "y_test"]
    for key, value in zip(keys, [x_train, y_train, x_test, y_test]):
        np.testing.assert_array_equal(value, arrays[key])
        assert value.dtype == np.uint8


def test_npz_reader_converts_integer_labels_to_uint8(tmp_path, make):
    arrays = make.mnist_arrays()
    arrays["y_train"] = arrays["y_train"].astype(np.int64)
    file = tmp_path / "labels64.npz"
    file.write_bytes(make.npz_bytes(arrays))
    (_, y_train), _ = read_npz(file)
    assert y_train.dtype == np.uint8


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("y_test"), r"lacks \['y_test'\]"),
        (lambda a: a.update(x_train=a["x_train"] / 255.0), "expected uint8 images"),
        (lambda a: a.update(y_train=a["y_train"][:-1]), "integer labels"),
        (lambda a: a.update(x_test=np.zeros((5, 32, 32), np.uint8)), r"\(28, 28\)"),
    ],
    ids=["missing-key", "float-images", "label-count", "image-shape"],
)
def test_npz_reader_rejects_wrong_contents(tmp_path, make, change, message):
    arrays = make.mnist_arrays()
    change(arrays)
    file = tmp_path / "bad.npz"
    file.write_bytes(make.npz_bytes(arrays))
    with pytest.raises(DatasetCorruptError, match=message) as info:
        read_npz(file, image_shape=(28, 28))
    assert str(file) in str(info.value)


@pytest.mark.parametrize("content", [b"not a zip at all" * 10, b"", "truncate", "npy"])
def test_npz_reader_rejects_files_that_are_not_npz(tmp_path, make, content):
    file = tmp_path / "mnist.npz"
    if content == "truncate":
        data = make.npz_bytes(make.mnist_arrays())
        content = data[: len(data) // 2]
    elif content == "npy":
        buffer = io.BytesIO()
        np.save(buffer, np.zeros(3))
        content = buffer.getvalue()
    file.write_bytes(content)
    with pytest.raises(DatasetCorruptError) as info:
        read_npz(file)
    assert str(file) in str(info.value)


def test_npz_reader_refuses_pickled_object_arrays(tmp_path, make):
    arrays = make.mnist_arrays()
    arrays["y_train"] = np.array([object()] * 12, dtype=object)
    file = tmp_path / "objects.npz"
    np.savez(file, **arrays)
    with pytest.raises(DatasetCorruptError, match="pickle"):
        read_npz(file)


def write_batches(folder, batches, make):
    folder.mkdir(parents=True, exist_ok=True)
    for name, (data, labels) in batches.items():
        (folder / name).write_bytes(make.py2_batch(data, labels))


def expected_cifar(batches):
    """Keras's construction, written independently: reshape, then transpose."""
    parts = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    x_train = np.concatenate([d for d, _ in parts]).reshape(-1, 3, 32, 32)
    y_train = np.concatenate([labels for _, labels in parts]).reshape(-1, 1)
    x_test = batches["test_batch"][0].reshape(-1, 3, 32, 32)
    y_test = np.reshape(batches["test_batch"][1], (-1, 1))
    channels_last = (0, 2, 3, 1)
    train = (x_train.transpose(channels_last), y_train)
    return train, (x_test.transpose(channels_last), y_test)


def assert_cifar_equal(got, want):
    for g, w in zip([*got[0], *got[1]], [*want[0], *want[1]]):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == np.uint8 and g.shape == w.shape


def test_cifar_folder_of_python2_batches(tmp_path, make):
    batches = make.cifar_arrays()
    write_batches(tmp_path, batches, make)
    got = read_cifar_folder(tmp_path)
    assert_cifar_equal(got, expected_cifar(batches))
    (x_train, y_train), _ = got
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1)
    assert x_train.flags.c_contiguous


def test_cifar_channels_are_last(tmp_path, make):
    batches = make.cifar_arrays(per_batch=1)
    data = np.zeros((1, 3072), np.uint8)
    data[0, :1024], data[0, 1024:2048], data[0, 2048:] = 10, 20, 30  # R, G, B planes
    batches["test_batch"] = (data, [4])
    write_batches(tmp_path, batches, make)
    _, (x_test, _) = read_cifar_folder(tmp_path)
    assert x_test[0, 5, 7].tolist() == [10, 20, 30]


def test_cifar_batches_pickled_by_python3_also_load(tmp_path, make):
    batches = make.cifar_arrays()
    for protocol in (3, 4, 5):
        for name, (data, labels) in batches.items():
            batch = {b"data": data, b"labels": labels, "filenames": ["a.png"]}
            (tmp_path / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        assert_cifar_equal(read_cifar_folder(tmp_path), expected_cifar(batches))


def test_cifar_tarball_is_read_without_extracting(tmp_path, make):
    batches = make.cifar_arrays()
    file = tmp_path / "cifar-10-python.tar.gz"
    file.write_bytes(make.cifar_tarball(batches, extra=[("readme.html", b"<html>")]))
    assert_cifar_equal(read_cifar_tarball(file), expected_cifar(batches))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-python.tar.gz"]


def test_cifar_tarball_missing_member(tmp_path, make):
    file = tmp_path / "cifar.tar.gz"
    file.write_bytes(make.cifar_tarball(make.cifar_arrays(), skip=["data_batch_3"]))
    with pytest.raises(DatasetCorruptError, match="lacks.*data_batch_3") as info:
        read_cifar_tarball(file)
    assert str(file) in str(info.value)


def test_cifar_tarball_member_must_be_a_regular_file(tmp_path, make):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    file = tmp_path / "links.tar.gz"
    file.write_bytes(buffer.getvalue())
    with pytest.raises(DatasetCorruptError, match="not a regular file"):
        read_cifar_tarball(file)


@pytest.mark.parametrize("content", [b"garbage" * 100, "truncate"])
def test_cifar_tarball_damaged(tmp_path, make, content):
    if content == "truncate":
        data = make.cifar_tarball(make.cifar_arrays())
        content = data[: len(data) // 2]
    file = tmp_path / "cifar-10-python.tar.gz"
    file.write_bytes(content)
    with pytest.raises(DatasetCorruptError) as info:
        read_cifar_tarball(file)
    assert str(file) in str(info.value)


class _Exploit:
    def __reduce__(self):
        return (print, ("pwned",))  # stands for os.system


def test_cifar_reader_refuses_pickles_that_call_other_functions(tmp_path, make, capsys):
    batches = make.cifar_arrays()
    write_batches(tmp_path, batches, make)
    evil = {b"data": batches["test_batch"][0], b"labels": _Exploit()}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(evil, protocol=4))
    with pytest.raises(DatasetCorruptError, match="refusing to load builtins.print"):
        read_cifar_folder(tmp_path)
    assert "pwned" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "batch, message",
    [
        ([1, 2, 3], "expected a dict"),
        ({b"labels": [1]}, "'data' must be an array"),
        ({b"data": np.zeros((2, 3072), np.float32), b"labels": [1, 2]}, "float32"),
        ({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]}, r"\(2, 100\)"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "labels"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 12]}, "outside"),
    ],
    ids=["not-dict", "no-data", "float", "width", "label-count", "label-range"],
)
def test_cifar_batch_contents_are_checked(tmp_path, make, batch, message):
    write_batches(tmp_path, make.cifar_arrays(), make)
    (tmp_path / "data_batch_2").write_bytes(pickle.dumps(batch, protocol=4))
    with pytest.raises(DatasetCorruptError, match=message) as info:
        read_cifar_folder(tmp_path)
    assert "data_batch_2" in str(info.value)


def test_cifar_truncated_batch(tmp_path, make):
    batches = make.cifar_arrays()
    write_batches(tmp_path, batches, make)
    raw = (tmp_path / "test_batch").read_bytes()
    (tmp_path / "test_batch").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DatasetCorruptError, match="test_batch: not a CIFAR-10"):
        read_cifar_folder(tmp_path)


def test_gzip_helper_matches_the_stdlib(make):
    # The IDX writer used by these tests writes what gzip itself would read.
    array = np.arange(6, dtype=np.uint8)
    assert gzip.decompress(make.idx_bytes(array, True)) == make.idx_bytes(array)
