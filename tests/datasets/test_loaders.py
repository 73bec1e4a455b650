"""The loaders: where they look, in which order, and what they return."""

import importlib.util
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from nnlib.datasets import (
    DatasetCorruptError,
    DatasetNotFoundError,
    cifar10,
    data_dir,
    fashion_mnist,
    mnist,
)

ROOT = Path(__file__).resolve().parents[2]
FULL_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a URL fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected network access: {args}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def assert_same(splits, arrays):
    (x_train, y_train), (x_test, y_test) = splits
    for got, key in zip([x_train, y_train, x_test, y_test], arrays):
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8


def test_sample_loads_offline_with_mnist_shapes(offline):
    (x_train, y_train), (x_test, y_test) = mnist.load_data(sample=True)
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert x_train.max() == 255 and x_train.min() == 0
    # Stratified: each digit keeps its MNIST share (0.09 for 5, 0.11 for 1).
    shares = np.bincount(y_train) / len(y_train)
    assert 0.085 < shares.min() and shares.max() < 0.115


def test_sample_file_is_small():
    sample = Path(mnist.__file__).parent / "data" / "mnist_sample.npz"
    assert sample.stat().st_size < 1_000_000


@pytest.mark.skipif(not FULL_MNIST.is_file(), reason=f"needs {FULL_MNIST}")
def test_sample_is_reproduced_by_its_script():
    spec = importlib.util.spec_from_file_location(
        "make_mnist_sample", ROOT / "scripts" / "make_mnist_sample.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert_same(mnist.load_data(sample=True), script.make_sample(FULL_MNIST))


def test_sample_and_path_together_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="either path or sample"):
        mnist.load_data(tmp_path, sample=True)


def test_data_dir_is_nnlib_data_else_home(monkeypatch, tmp_path):
    assert data_dir() == tmp_path / "cache"
    monkeypatch.delenv("NNLIB_DATA")
    assert data_dir() == tmp_path / "home" / ".nnlib" / "datasets"


def test_mnist_npz_in_nnlib_data(offline, isolated, make):
    arrays = make.mnist_arrays()
    isolated.mkdir()
    (isolated / "mnist.npz").write_bytes(make.npz_bytes(arrays))
    assert_same(mnist.load_data(), arrays)


def test_mnist_in_the_default_folder(offline, monkeypatch, tmp_path, make):
    monkeypatch.delenv("NNLIB_DATA")
    folder = tmp_path / "home" / ".nnlib" / "datasets"
    folder.mkdir(parents=True)
    arrays = make.mnist_arrays()
    (folder / "mnist.npz").write_bytes(make.npz_bytes(arrays))
    assert_same(mnist.load_data(), arrays)


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_idx_files_in_nnlib_data(offline, isolated, make, compress):
    arrays = make.mnist_arrays()
    make.write_idx_set(isolated, arrays, compress)
    assert_same(mnist.load_data(), arrays)


def test_explicit_path_wins_over_nnlib_data(offline, isolated, tmp_path, make):
    isolated.mkdir()
    (isolated / "mnist.npz").write_bytes(make.npz_bytes(make.mnist_arrays(seed=1)))
    arrays = make.mnist_arrays(seed=2)
    file = tmp_path / "my-copy.npz"
    file.write_bytes(make.npz_bytes(arrays))
    assert_same(mnist.load_data(file), arrays)
    assert_same(mnist.load_data(str(file)), arrays)


def test_explicit_folder_with_npz_or_idx(offline, tmp_path, make):
    with_npz, with_idx = tmp_path / "npz", tmp_path / "idx"
    with_npz.mkdir()
    npz_arrays, idx_arrays = make.mnist_arrays(seed=3), make.mnist_arrays(seed=4)
    (with_npz / "mnist.npz").write_bytes(make.npz_bytes(npz_arrays))
    make.write_idx_set(with_idx, idx_arrays)
    assert_same(mnist.load_data(with_npz), npz_arrays)
    assert_same(mnist.load_data(with_idx), idx_arrays)


@pytest.mark.parametrize("module", [mnist, fashion_mnist, cifar10])
def test_explicit_path_without_data_is_an_error_not_a_download(
    offline, tmp_path, module
):
    for path in (tmp_path / "missing", tmp_path):
        with pytest.raises(DatasetNotFoundError) as info:
            module.load_data(path)
        assert str(path) in str(info.value)


def test_corrupt_cached_file_is_reported_not_replaced(offline, isolated):
    isolated.mkdir()
    (isolated / "mnist.npz").write_bytes(b"<html>Service unavailable</html>")
    with pytest.raises(DatasetCorruptError) as info:
        mnist.load_data()
    assert str(isolated / "mnist.npz") in str(info.value)


def test_mnist_loader_rejects_another_datasets_file(offline, tmp_path, make):
    arrays = make.mnist_arrays()
    arrays["x_train"] = np.zeros((12, 32, 32), np.uint8)
    file = tmp_path / "not-mnist.npz"
    file.write_bytes(make.npz_bytes(arrays))
    with pytest.raises(DatasetCorruptError, match=r"\(28, 28\)"):
        mnist.load_data(file)


def test_fashion_mnist_from_folder_subfolder_and_npz(offline, tmp_path, make):
    arrays = make.mnist_arrays(seed=5)
    make.write_idx_set(tmp_path / "flat", arrays, compress=False)
    make.write_idx_set(tmp_path / "nested" / "fashion-mnist", arrays)
    (tmp_path / "fashion.npz").write_bytes(make.npz_bytes(arrays))
    for path in (tmp_path / "flat", tmp_path / "nested", tmp_path / "fashion.npz"):
        assert_same(fashion_mnist.load_data(path), arrays)


def test_fashion_mnist_in_nnlib_data_is_not_confused_with_mnist(
    offline, isolated, make
):
    fashion, digits = make.mnist_arrays(seed=6), make.mnist_arrays(seed=7)
    make.write_idx_set(isolated / "fashion-mnist", fashion)
    make.write_idx_set(isolated, digits)
    assert_same(fashion_mnist.load_data(), fashion)
    assert_same(mnist.load_data(), digits)


def test_fashion_mnist_downloads_only_missing_files(
    server, monkeypatch, isolated, tmp_path, make
):
    arrays = make.mnist_arrays(seed=8)
    make.write_idx_set(tmp_path / "src", arrays)
    make.write_idx_set(isolated / "fashion-mnist", arrays)
    for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
        (isolated / "fashion-mnist" / name).unlink()
        data = (tmp_path / "src" / name).read_bytes()
        monkeypatch.setitem(
            fashion_mnist._SOURCES, name, (server.add(name, data), make.sha256(data))
        )
    assert_same(fashion_mnist.load_data(), arrays)
    assert sorted(server.requests) == [
        "/t10k-images-idx3-ubyte.gz",
        "/t10k-labels-idx1-ubyte.gz",
    ]


def test_cifar10_from_tarball_folder_and_extracted_batches(offline, tmp_path, make):
    batches = make.cifar_arrays()
    tarball = tmp_path / "t" / "cifar-10-python.tar.gz"
    tarball.parent.mkdir()
    tarball.write_bytes(make.cifar_tarball(batches))
    extracted = tmp_path / "e" / "cifar-10-batches-py"
    extracted.mkdir(parents=True)
    for name, (data, labels) in batches.items():
        (extracted / name).write_bytes(make.py2_batch(data, labels))
    want = cifar10.load_data(tarball)
    (x_train, y_train), (x_test, y_test) = want
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1)
    assert x_test.shape == (3, 32, 32, 3) and y_test.shape == (3, 1)
    np.testing.assert_array_equal(y_test.ravel(), batches["test_batch"][1])
    for path in (tarball.parent, extracted.parent, extracted):
        got = cifar10.load_data(path)
        for g, w in zip([*got[0], *got[1]], [*want[0], *want[1]]):
            np.testing.assert_array_equal(g, w)


def test_cifar10_in_nnlib_data(offline, isolated, make):
    isolated.mkdir()
    batches = make.cifar_arrays()
    (isolated / "cifar-10-python.tar.gz").write_bytes(make.cifar_tarball(batches))
    _, (_, y_test) = cifar10.load_data()
    assert y_test.ravel().tolist() == batches["test_batch"][1]
