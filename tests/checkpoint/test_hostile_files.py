"""Hostile HDF5 and .keras files: links out of the file, declared sizes it does
not hold, compression bombs and oversized attributes.

Every importer (nnlib's own files, Keras legacy ``.h5``, ``.weights.h5``,
``.keras`` archives) refuses them with a typed error before reading outside the
file or allocating what the file does not hold; peak memory is measured with
tracemalloc (numpy reports its allocations to it).
"""

import os
import subprocess
import sys
import tracemalloc
import zipfile

import h5py
import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.checkpoint import (
    CheckpointCorruptError,
    CheckpointUnsafeError,
    h5io,
    keras_h5,
)

from .conftest import ROOT

MIB = 1 << 20


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


def _legacy(path, kernel=None):
    """A tf.keras ``save_weights`` file of one Dense(2) on 3 features.

    ``kernel(group, name)`` creates the kernel entry (default: real data).
    """
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        group = f.create_group("dense")
        group.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        group.create_group("dense")
        if kernel is None:
            group["dense/kernel:0"] = np.ones((3, 2), np.float32)
        else:
            kernel(group, "dense/kernel:0")
        group["dense/bias:0"] = np.zeros(2, np.float32)
    return str(path)


def _keras3(path, kernel=None):
    """A Keras 3 ``.weights.h5`` file of one Dense(2) on 3 features."""
    with h5py.File(path, "w") as f:
        group = f.create_group("layers/dense/vars")
        if kernel is None:
            group["0"] = np.ones((3, 2), np.float32)
        else:
            kernel(group, "0")
        group["1"] = np.zeros(2, np.float32)
        f.create_group("optimizer/vars")
    return str(path)


def _archive(path, weights_file, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", "{}")
        archive.write(weights_file, "model.weights.h5")
    return str(path)


def _model():
    model = nnlib.Sequential([layers.Dense(2, input_shape=(3,))])
    model(np.zeros((1, 3), np.float32))
    return model


def _secret(tmp_path):
    other = str(tmp_path / "secret.h5")
    with h5py.File(other, "w") as f:
        f["data"] = np.full((3, 2), 1234.0, np.float32)
    return other


# -- links and storage outside the file (issue 11, item 10) ----------------------


@pytest.mark.parametrize("layout", ["legacy", "keras3", "archive"])
def test_an_external_link_to_another_file_is_refused(tmp_path, layout):
    other = _secret(tmp_path)

    def link(group, name):
        group[name] = h5py.ExternalLink(other, "/data")

    if layout == "legacy":
        path = _legacy(tmp_path / "w.h5", link)
    else:
        path = _keras3(tmp_path / "w.weights.h5", link)
        if layout == "archive":
            path = _archive(tmp_path / "m.keras", path)
    model = _model()
    before = [v.numpy().copy() for v in model.variables]
    with pytest.raises(CheckpointUnsafeError) as caught:
        model.load_weights(path)
    message = str(caught.value)
    assert "external link" in message and "secret.h5" in message
    assert "kernel:0" in message or "vars/0" in message
    assert caught.value.path == path
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.variables))
    with pytest.raises(CheckpointUnsafeError):
        keras_h5.read_keras_file(path)


def test_an_external_link_in_an_nnlib_file_is_refused(tmp_path):
    model = _model()
    path = model.save_weights(str(tmp_path / "w.h5"))
    other = _secret(tmp_path)
    with h5py.File(path, "a") as f:
        f.move("dense/kernel", "dense/kernel_moved")
        f["dense/kernel"] = h5py.ExternalLink(other, "/data")
    with pytest.raises(CheckpointUnsafeError, match="external link 'dense/kernel'"):
        h5io.read(path)


_FIFO_SCRIPT = """
import sys, nnlib, numpy as np
model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
try:
    model.load_weights(sys.argv[1])
except nnlib.checkpoint.CheckpointUnsafeError as err:
    print("REFUSED", err)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
@pytest.mark.parametrize("layout", ["legacy", "keras3"])
def test_an_external_link_to_a_fifo_fails_fast(tmp_path, layout):
    fifo = str(tmp_path / "pipe.h5")
    os.mkfifo(fifo)

    def link(group, name):
        group[name] = h5py.ExternalLink(fifo, "/data")

    make = _legacy if layout == "legacy" else _keras3
    path = make(tmp_path / "w.h5", link)
    env = dict(
        os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", _FIFO_SCRIPT, path],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("loading a file that links to a FIFO hung (killed after 60 s)")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "REFUSED" in done.stdout and "pipe.h5" in done.stdout


def test_a_keras3_group_that_is_an_external_link_is_refused_fast(tmp_path):
    """Telling the format apart must not follow links (a FIFO would hang it)."""
    other = str(tmp_path / "other.weights.h5")
    _keras3(other)
    path = str(tmp_path / "w.weights.h5")
    with h5py.File(path, "w") as f:
        f["layers"] = h5py.ExternalLink(other, "/layers")
        f.create_group("vars")
    assert keras_h5.keras_format(path) == "keras3"
    with pytest.raises(CheckpointUnsafeError, match="external link 'layers'"):
        keras_h5.read_keras_file(path)


def test_external_storage_is_refused(tmp_path):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.full((3, 2), 7.0, np.float32).tobytes())

    def external(group, name):
        group.create_dataset(name, (3, 2), np.float32, external=[(str(raw), 0, 24)])

    path = _legacy(tmp_path / "w.h5", external)
    with pytest.raises(CheckpointUnsafeError, match="external storage.*raw.bin"):
        keras_h5.read_keras_file(path)


def test_a_virtual_dataset_is_refused(tmp_path):
    other = _secret(tmp_path)

    def virtual(group, name):
        layout = h5py.VirtualLayout((3, 2), np.float32)
        layout[:] = h5py.VirtualSource(other, "data", shape=(3, 2))
        group.create_virtual_dataset(name, layout)

    path = _legacy(tmp_path / "w.h5", virtual)
    with pytest.raises(CheckpointUnsafeError, match="virtual dataset"):
        keras_h5.read_keras_file(path)


def test_a_soft_link_inside_the_file_still_loads(tmp_path):
    def soft(group, name):
        group.file["elsewhere"] = np.full((3, 2), 2.0, np.float32)
        group[name] = h5py.SoftLink("/elsewhere")

    path = _legacy(tmp_path / "w.h5", soft)
    model = _model()
    model.load_weights(path)
    assert model.layers[0].kernel.numpy().tolist() == [[2.0, 2.0]] * 3


# -- sizes the file declares but does not hold (issue 11, item 14) ---------------


def _unwritten(group, name, shape=(16 * MIB,)):
    group.create_dataset(name, shape, np.float32)  # no data: allocated lazily


def test_an_nnlib_file_declaring_an_unwritten_dataset_allocates_nothing(tmp_path):
    path = str(tmp_path / "w.h5")
    h5io.write(path, {"w": np.zeros(3, np.float32)})
    with h5py.File(path, "a") as f:
        crc = f["w"].attrs["crc32"]
        del f["w"]
        _unwritten(f, "w")
        f["w"].attrs["crc32"] = crc
    assert os.path.getsize(path) < 16 * 1024
    peak, error = _peak(lambda: h5io.read(path))
    assert isinstance(error, CheckpointUnsafeError), error
    assert "dataset 'w'" in str(error) and "64.0 MiB" in str(error)
    assert "stores 0 bytes" in str(error)
    assert peak < 2 * MIB


@pytest.mark.parametrize("layout", ["legacy", "keras3"])
def test_a_keras_file_declaring_an_unwritten_kernel_allocates_nothing(tmp_path, layout):
    make = _legacy if layout == "legacy" else _keras3
    path = make(tmp_path / "w.h5", _unwritten)
    assert os.path.getsize(path) < 32 * 1024
    peak, error = _peak(lambda: keras_h5.read_keras_file(path))
    assert isinstance(error, CheckpointUnsafeError), error
    assert "64.0 MiB" in str(error) and path in str(error)
    assert peak < 2 * MIB


def test_a_chunked_dataset_with_unwritten_chunks_is_refused(tmp_path):
    def partial(group, name):
        dataset = group.create_dataset(name, (1024, 2), np.float32, chunks=(256, 2))
        dataset[:256] = 1.0  # three of the four chunks never written

    path = _legacy(tmp_path / "w.h5", partial)
    with pytest.raises(CheckpointUnsafeError, match="stores 2048 bytes"):
        keras_h5.read_keras_file(path)


def test_a_compressed_kernel_loads(tmp_path):
    def compressed(group, name):
        group.create_dataset(
            name, data=np.full((3, 2), 3.0, np.float32), compression="gzip"
        )

    model = _model()
    model.load_weights(_legacy(tmp_path / "w.h5", compressed))
    assert model.layers[0].kernel.numpy().tolist() == [[3.0, 3.0]] * 3


def test_a_compression_bomb_dataset_is_refused(tmp_path):
    def bomb(group, name):
        group.create_dataset(
            name, data=np.zeros((8 * MIB,), np.float32), compression="gzip", chunks=True
        )

    path = _legacy(tmp_path / "w.h5", bomb)
    assert os.path.getsize(path) < MIB
    peak, error = _peak(lambda: keras_h5.read_keras_file(path))
    assert isinstance(error, CheckpointUnsafeError), error
    assert "compressed" in str(error)
    assert peak < 2 * MIB


def test_a_keras_archive_that_inflates_far_beyond_its_size_is_refused(tmp_path):
    def zeros(group, name):
        group[name] = np.zeros(8 * MIB, np.float32)  # compresses about 1000 times

    member = _keras3(tmp_path / "big.weights.h5", zeros)
    path = _archive(tmp_path / "bomb.keras", member)
    os.unlink(member)
    assert os.path.getsize(path) < MIB
    model = _model()
    peak, error = _peak(lambda: model.load_weights(path))
    assert isinstance(error, CheckpointUnsafeError), error
    assert "model.weights.h5" in str(error) and "declares 32.0 MiB" in str(error)
    assert peak < 2 * MIB


def test_a_keras_archive_is_inflated_once_and_not_into_memory(tmp_path):
    weights = np.random.default_rng(0).normal(size=(1024, 1024)).astype(np.float32)

    def big(group, name):
        group[name] = weights

    member = _keras3(tmp_path / "w.weights.h5", big)
    path = _archive(tmp_path / "m.keras", member, zipfile.ZIP_STORED)
    peak, error = _peak(lambda: keras_h5.read_keras_file(path))
    assert error is None
    # The arrays themselves (4 MiB), not the inflated file on top of them.
    assert peak < weights.nbytes * 1.5
    assert keras_h5.keras_format(path) == "keras3"


def test_a_huge_root_attribute_of_an_nnlib_file_is_refused(tmp_path):
    path = str(tmp_path / "w.h5")
    h5io.write(path, {"w": np.zeros(3, np.float32)})
    with h5py.File(path, "a", libver="latest") as f:
        f.attrs["junk"] = np.zeros(16 * MIB, np.int8)
    peak, error = _peak(lambda: h5io.read(path))
    assert isinstance(error, CheckpointCorruptError), error
    assert "attribute 'junk'" in str(error) and "(16777216,)" in str(error)
    assert peak < 2 * MIB


def test_a_keras_name_list_longer_than_the_file_is_refused_fast(tmp_path):
    path = str(tmp_path / "w.h5")
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs["layer_names"] = np.full(16 * MIB, b"d", "S1")
        f.create_group("d")
    peak, error = _peak(lambda: keras_h5.read_keras_file(path))
    assert isinstance(error, CheckpointCorruptError), error
    assert "layer_names" in str(error) and "16777216" in str(error)
    assert peak < 2 * MIB


def test_text_state_in_a_keras3_file_is_passed_over(tmp_path):
    path = _keras3(tmp_path / "w.weights.h5")
    with h5py.File(path, "a") as f:
        f["layers/lookup/vars/0"] = np.array([b"cat", b"dog"])
    model = _model()
    assert model.load_weights(path, strict=False).matched == [
        "dense/kernel",
        "dense/bias",
    ]


def test_real_files_still_load(tmp_path):
    """The checks refuse hostile files only: real files load as before."""
    arrays = {"a": np.arange(6, dtype=np.float32), "b/c": np.zeros((0, 3))}
    path = h5io.write(str(tmp_path / "ok.h5"), arrays, {"note": "x" * 1000})
    stored = h5io.read(path)
    assert stored.attrs["note"] == "x" * 1000
    assert np.array_equal(stored.arrays["a"], arrays["a"])
    assert stored.arrays["b/c"].shape == (0, 3)
