"""Fixtures for the dataset tests: an isolated cache, a local HTTP server, file makers.

No test here may reach the network: every source URL is pointed at a closed
local port unless a test points it at the local server it starts.
"""

import gzip
import hashlib
import http.server
import io
import socket
import struct
import tarfile
import threading
import types

import numpy as np
import pytest

from nnlib.datasets import _download, cifar10, fashion_mnist, mnist


def closed_port_url(name):
    """A URL on 127.0.0.1 where nothing listens: connecting fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """NNLIB_DATA and HOME inside tmp_path; every source on a closed port."""
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(_download, "_TIMEOUT", 5.0)
    for module in (mnist, fashion_mnist, cifar10):
        for name, (_, sha256) in list(module._SOURCES.items()):
            monkeypatch.setitem(module._SOURCES, name, (closed_port_url(name), sha256))
    return tmp_path / "cache"


class _Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5  # a stuck client cannot hold the server thread

    def do_GET(self):
        self.server.requests.append(self.path)
        entry = self.server.routes.get(self.path.lstrip("/"))
        if entry is None:
            self.send_error(404)
            return
        data, truncate = entry
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # A truncated reply announces the full length, sends half and hangs up.
        self.wfile.write(data[: len(data) // 2] if truncate else data)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A local HTTP server on 127.0.0.1 (port 0) serving files added to it."""
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.requests = {}, []
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    port = httpd.server_address[1]

    def add(name, data, truncate=False):
        httpd.routes[name] = (data, truncate)
        return f"http://127.0.0.1:{port}/{name}"

    try:
        yield types.SimpleNamespace(add=add, requests=httpd.requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def mnist_arrays(n_train=12, n_test=5, seed=0):
    """Small random arrays in mnist.npz's layout (every label present in train)."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def idx_bytes(array, compress=False):
    """``array`` (uint8) as an IDX file, gzipped if ``compress``."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + np.ascontiguousarray(array, np.uint8).tobytes()
    return gzip.compress(data) if compress else data


def write_idx_set(folder, arrays, compress=True):
    """The four IDX files of ``arrays`` (mnist.npz layout) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    names = {
        "x_train": "train-images-idx3-ubyte",
        "y_train": "train-labels-idx1-ubyte",
        "x_test": "t10k-images-idx3-ubyte",
        "y_test": "t10k-labels-idx1-ubyte",
    }
    for key, stem in names.items():
        (folder / (stem + suffix)).write_bytes(idx_bytes(arrays[key], compress))


def py2_batch(data, labels):
    """A batch pickled as CIFAR-10's were: Python 2 cPickle, protocol 2.

    Written opcode by opcode (Python 3 cannot write Python 2 ``str``), so the
    reader is tested on the published files' exact structure.
    """

    def string(b):  # SHORT_BINSTRING or BINSTRING: a Python 2 str
        if len(b) < 256:
            return b"U" + bytes([len(b)]) + b
        return b"T" + struct.pack("<I", len(b)) + b

    def integer(n):  # BININT
        return b"J" + struct.pack("<i", n)

    out = b"\x80\x02}("  # PROTO 2, EMPTY_DICT, MARK
    out += string(b"batch_label") + string(b"training batch 1 of 5")
    out += string(b"labels") + b"](" + b"".join(map(integer, labels)) + b"e"
    out += string(b"data") + b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
    out += integer(0) + b"\x85" + string(b"b") + b"\x87R"  # _reconstruct(...)
    out += b"(" + integer(1) + integer(len(data)) + integer(3072) + b"\x86"
    out += b"cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1) + b"\x87R"
    out += b"(" + integer(3) + string(b"|") + b"NNN"
    out += integer(-1) + integer(-1) + integer(0) + b"tb"  # dtype.__setstate__
    out += b"\x89" + string(data.tobytes()) + b"tb"  # ndarray.__setstate__
    return out + b"u."  # SETITEMS, STOP


def cifar_arrays(per_batch=3, seed=0):
    """``{batch name: (data (N, 3072) uint8, labels list)}`` for all six batches."""
    rng = np.random.default_rng(seed)
    return {
        name: (
            rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            [int(v) for v in rng.integers(0, 10, per_batch)],
        )
        for name in (*[f"data_batch_{i}" for i in range(1, 6)], "test_batch")
    }


def cifar_tarball(batches, skip=(), extra=()):
    """``cifar-10-python.tar.gz`` bytes holding the py2-pickled ``batches``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        members = [(n, py2_batch(*batches[n])) for n in batches if n not in skip]
        for name, data in [*members, *extra]:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def make():
    """The file makers above, for tests (conftest modules cannot be imported)."""
    return types.SimpleNamespace(
        sha256=sha256,
        mnist_arrays=mnist_arrays,
        npz_bytes=npz_bytes,
        idx_bytes=idx_bytes,
        write_idx_set=write_idx_set,
        py2_batch=py2_batch,
        cifar_arrays=cifar_arrays,
        cifar_tarball=cifar_tarball,
    )
