"""Downloading: checksums, atomic caching, failures, progress, against a local server."""

import errno
import http.client
import io
import re
import types
import urllib.request

import numpy as np
import pytest

from nnlib.datasets import (
    ChecksumError,
    DatasetNotFoundError,
    DownloadError,
    _download,
    cifar10,
    fashion_mnist,
    mnist,
)

# The real sources, read before the conftest points them at a closed port.
PINNED = {m.__name__: dict(m._SOURCES) for m in (mnist, fashion_mnist, cifar10)}


def serve_mnist(server, make, monkeypatch, arrays=None, **kwargs):
    data = make.npz_bytes(arrays or make.mnist_arrays())
    url = server.add("mnist.npz", data, **kwargs)
    monkeypatch.setitem(mnist._SOURCES, "mnist.npz", (url, make.sha256(data)))
    return data


def test_good_checksum_downloads_caches_and_loads(server, make, monkeypatch, isolated):
    arrays = make.mnist_arrays()
    data = serve_mnist(server, make, monkeypatch, arrays)
    (x_train, _), (_, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert (isolated / "mnist.npz").read_bytes() == data
    assert sorted(p.name for p in isolated.iterdir()) == ["mnist.npz"]


def test_cached_copy_is_used_without_a_request(server, make, monkeypatch):
    serve_mnist(server, make, monkeypatch)
    mnist.load_data()
    mnist.load_data()
    assert server.requests == ["/mnist.npz"]


def test_bad_checksum_raises_and_caches_nothing(server, make, monkeypatch, isolated):
    url = server.add("mnist.npz", make.npz_bytes(make.mnist_arrays()))
    monkeypatch.setitem(mnist._SOURCES, "mnist.npz", (url, "0" * 64))
    with pytest.raises(ChecksumError, match="SHA-256") as info:
        mnist.load_data()
    assert isinstance(info.value, DownloadError)
    assert "0" * 64 in str(info.value) and url in str(info.value)
    assert list(isolated.iterdir()) == []


def test_interrupted_transfer_leaves_no_cache_or_temp_file(
    server, make, monkeypatch, isolated
):
    serve_mnist(server, make, monkeypatch, truncate=True)
    with pytest.raises(DownloadError, match=r"stopped after \d+ of \d+ bytes"):
        mnist.load_data()
    assert list(isolated.iterdir()) == []


def test_keyboard_interrupt_mid_transfer_leaves_no_temp_file(
    server, make, monkeypatch, isolated
):
    serve_mnist(server, make, monkeypatch)

    def interrupt(self, received):
        raise KeyboardInterrupt

    monkeypatch.setattr(_download._Progress, "update", interrupt)
    with pytest.raises(KeyboardInterrupt):
        mnist.load_data()
    assert list(isolated.iterdir()) == []


def test_failed_download_keeps_an_existing_target(server, make, tmp_path):
    target = tmp_path / "kept.bin"
    target.write_bytes(b"old")
    url = server.add("kept.bin", b"new data")
    with pytest.raises(ChecksumError):
        _download.download(url, target, "f" * 64, stream=io.StringIO())
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.bin"]


class _BrokenResponse(io.BytesIO):
    headers = types.MappingProxyType({"Content-Length": "1000"})

    def read(self, size=-1):
        if self.tell() >= 300:
            raise http.client.IncompleteRead(b"")
        return super().read(100)


def test_connection_lost_mid_body_leaves_no_file(monkeypatch, isolated):
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, timeout: _BrokenResponse(bytes(1000))
    )
    with pytest.raises(DownloadError, match="broke after 300 bytes of 1000"):
        _download.download("http://example.invalid/f", isolated / "f", "0" * 64)
    assert list(isolated.iterdir()) == []


class _FullDisk:
    def __init__(self, file):
        self.file = file

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_is_reported_and_leaves_no_file(server, make, monkeypatch, isolated):
    serve_mnist(server, make, monkeypatch)

    def full_disk_open(path, mode):
        return _FullDisk(open(path, mode))

    # The module's own name `open` shadows the builtin for its file writes.
    monkeypatch.setattr(_download, "open", full_disk_open, raising=False)
    with pytest.raises(DownloadError, match="No space left on device") as info:
        mnist.load_data()
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.ENOSPC
    assert list(isolated.iterdir()) == []


def test_http_error_is_a_download_error(server, isolated):
    url = server.add("present", b"x").replace("present", "absent")
    with pytest.raises(DownloadError, match="HTTP 404"):
        _download.download(url, isolated / "absent", "0" * 64)
    assert not isolated.exists() or list(isolated.iterdir()) == []


def test_no_network_error_names_folder_file_and_url(isolated):
    url = mnist._SOURCES["mnist.npz"][0]  # a closed local port (conftest)
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    assert repr(str(isolated)) in message
    assert "'mnist.npz'" in message
    assert url in message
    assert "NNLIB_DATA" in message
    assert not isolated.exists() or list(isolated.iterdir()) == []


def test_progress_is_plain_lines_when_not_a_terminal(server, make, monkeypatch, capsys):
    data = serve_mnist(server, make, monkeypatch)
    mnist.load_data()
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert lines[0].startswith("Downloading mnist.npz from http://127.0.0.1:")
    mb = len(data) / 1e6
    assert lines[-2] == f"mnist.npz: 100% ({mb:.1f} of {mb:.1f} MB)"
    assert lines[-1].startswith("Saved ") and lines[-1].endswith("mnist.npz")


def test_progress_lines_come_once_per_tenth(server, tmp_path, make, monkeypatch):
    data = bytes(range(256)) * 1024  # 256 KiB: four 64 KiB chunks
    url = server.add("big.bin", data)
    out = io.StringIO()
    _download.download(url, tmp_path / "big.bin", make.sha256(data), stream=out)
    percents = re.findall(r"big.bin: (\d+)%", out.getvalue())
    assert percents == ["25", "50", "75", "100"]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_one_redrawn_bar_on_a_terminal(server, tmp_path, make):
    data = b"x" * 200_000
    url = server.add("bar.bin", data)
    out = _Terminal()
    _download.download(url, tmp_path / "bar.bin", make.sha256(data), stream=out)
    text = out.getvalue()
    assert "\r[" + "=" * 30 + "] bar.bin: 100%" in text
    assert text.count("\n") == 3  # "Downloading", the finished bar, "Saved"


def test_fashion_mnist_downloads_its_four_files_into_a_subfolder(
    server, make, monkeypatch, isolated, tmp_path
):
    arrays = make.mnist_arrays(seed=1)
    make.write_idx_set(tmp_path / "src", arrays, compress=True)
    for name in fashion_mnist._SOURCES:
        data = (tmp_path / "src" / name).read_bytes()
        url = server.add(name, data)
        monkeypatch.setitem(fashion_mnist._SOURCES, name, (url, make.sha256(data)))
    (x_train, _), (_, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    cached = sorted(p.name for p in (isolated / "fashion-mnist").iterdir())
    assert cached == sorted(fashion_mnist._SOURCES)
    assert not (isolated / "mnist.npz").exists()


def test_cifar10_downloads_the_tarball(server, make, monkeypatch, isolated):
    batches = make.cifar_arrays()
    data = make.cifar_tarball(batches)
    url = server.add(cifar10.TARBALL, data)
    monkeypatch.setitem(cifar10._SOURCES, cifar10.TARBALL, (url, make.sha256(data)))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1)
    assert x_test.shape == (3, 32, 32, 3) and y_test.shape == (3, 1)
    assert (isolated / cifar10.TARBALL).read_bytes() == data


@pytest.mark.parametrize("module", [mnist, fashion_mnist, cifar10])
def test_pinned_sources_are_https_with_sha256(module):
    for url, sha256 in PINNED[module.__name__].values():
        assert url.startswith("https://")
        assert re.fullmatch(r"[0-9a-f]{64}", sha256)
