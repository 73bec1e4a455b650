"""Nothing on disk is lost: disk full, crashes, permissions, locks (RELIABILITY.md)."""

import errno
import glob
import os
import signal
import subprocess
import sys
import time

import h5py
import pytest

import nnlib
from nnlib import _atomic
from nnlib.checkpoint import (
    CheckpointLockedError,
    CheckpointWriteError,
    _h5image,
    h5io,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def good(tmp_path, make_mlp, helpers):
    """A model and a good checkpoint of it; the model then changes."""
    model = make_mlp()
    path = str(tmp_path / "model.h5")
    model.save_weights(path)
    saved = helpers.values(model)
    helpers.scramble(model, seed=5)
    return model, path, saved


def _intact(path, saved, make_mlp, helpers):
    other = make_mlp()
    other.load_weights(path)
    assert helpers.same(helpers.values(other), saved)
    assert [os.path.basename(p) for p in glob.glob(os.path.dirname(path) + "/.*")] == []


def _disk_full_after(monkeypatch, limit):
    """Makes the writes of a save fail with ENOSPC after ``limit`` bytes."""
    written = [0]
    real = _h5image._pwrite

    def pwrite(fd, data, offset):
        written[0] += len(memoryview(data).cast("B"))
        if written[0] > limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, data, offset)

    monkeypatch.setattr(_h5image, "_pwrite", pwrite)


def test_disk_full_in_the_writer_keeps_the_previous_checkpoint(
    good, monkeypatch, make_mlp, helpers
):
    _, path, saved = good
    bigger = make_mlp(hidden=400)  # its raw data reaches the disk mid-save
    _disk_full_after(monkeypatch, 2000)
    with pytest.raises(CheckpointWriteError) as caught:
        bigger.save_weights(path)
    message = str(caught.value)
    assert message.startswith(f"disk full while saving '{path}'")
    assert "the previous checkpoint is intact" in message
    assert caught.value.errno == errno.ENOSPC and caught.value.path == path
    monkeypatch.undo()
    _intact(path, saved, make_mlp, helpers)


def test_disk_full_half_way_through_the_datasets(good, monkeypatch, make_mlp, helpers):
    model, path, saved = good
    real = h5io._write_file

    def half(temp, entries, attrs):
        real(temp, entries[:2], attrs)
        raise OSError(errno.ENOSPC, "No space left on device", temp)

    monkeypatch.setattr(h5io, "_write_file", half)
    with pytest.raises(
        CheckpointWriteError, match="disk full .* previous checkpoint is intact"
    ):
        model.save_weights(path)
    _intact(path, saved, make_mlp, helpers)


def test_disk_full_reported_by_hdf5_on_close(good, monkeypatch, make_mlp, helpers):
    model, path, saved = good

    def fsync(path):
        # HDF5's own wording, with the errno only inside the message.
        raise OSError("file write failed: errno = 28, error message = 'No space left'")

    monkeypatch.setattr(h5io, "_fsync", fsync)
    with pytest.raises(CheckpointWriteError, match="disk full"):
        model.save_weights(path)
    _intact(path, saved, make_mlp, helpers)


def test_a_failed_verification_keeps_the_previous_checkpoint(
    good, monkeypatch, make_mlp, helpers
):
    model, path, saved = good
    real = h5io._write_file

    def damaging(temp, entries, attrs):
        real(temp, entries, attrs)
        with h5py.File(temp, "r") as f:
            offset = f[entries[0][0]].id.get_offset()
        with open(temp, "r+b") as f:
            f.seek(offset)
            f.write(b"\xff\xff\xff\xff")

    monkeypatch.setattr(h5io, "_write_file", damaging)
    with pytest.raises(CheckpointWriteError, match="verification .* checksum"):
        model.save_weights(path)
    _intact(path, saved, make_mlp, helpers)


def test_read_only_folder(good, monkeypatch, make_mlp, helpers):
    model, path, saved = good

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", os.path.dirname(path))

    monkeypatch.setattr(_atomic, "_create", refuse)
    with pytest.raises(CheckpointWriteError, match="permission denied") as caught:
        model.save_weights(path)
    assert isinstance(caught.value.__cause__, PermissionError)
    assert path in str(caught.value)
    monkeypatch.undo()
    _intact(path, saved, make_mlp, helpers)


def test_permission_error_from_h5py(good, monkeypatch, make_mlp, helpers):
    model, path, saved = good
    real = h5py.File

    def fake(name, mode="r", **kwargs):
        if mode == "w":
            raise PermissionError(errno.EACCES, "Unable to create file", name)
        return real(name, mode, **kwargs)

    monkeypatch.setattr(h5py, "File", fake)
    with pytest.raises(CheckpointWriteError, match="permission denied.*intact"):
        model.save_weights(path)
    monkeypatch.undo()
    _intact(path, saved, make_mlp, helpers)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_really_read_only_folder(good):
    model, path, _ = good
    os.chmod(os.path.dirname(path), 0o500)
    try:
        with pytest.raises(CheckpointWriteError, match="permission denied"):
            model.save_weights(path)
    finally:
        os.chmod(os.path.dirname(path), 0o700)


def test_missing_folder(tmp_path, make_mlp):
    path = str(tmp_path / "nope" / "model.h5")
    with pytest.raises(CheckpointWriteError, match="does not exist") as caught:
        make_mlp().save_weights(path)
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert not os.path.exists(os.path.dirname(path))


def test_saving_onto_a_directory(tmp_path, make_mlp):
    with pytest.raises(CheckpointWriteError, match="directory"):
        make_mlp().save_weights(str(tmp_path))


_HOLD = """
import sys, h5py
f = h5py.File(sys.argv[1], "a")
print("ready", flush=True)
sys.stdin.read()
"""


def test_a_file_locked_by_another_writer(good, make_mlp, helpers):
    model, path, saved = good
    env = dict(os.environ, PYTHONPATH=ROOT)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(CheckpointLockedError, match="another process") as caught:
            make_mlp().load_weights(path)
        assert path in str(caught.value)
        with pytest.raises(CheckpointLockedError, match="another process"):
            model.save_weights(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    _intact(path, saved, make_mlp, helpers)


_SAVE_FOREVER = """
import sys, numpy as np, nnlib
model = nnlib.Sequential([nnlib.layers.Dense(3000, input_shape=(3000,))])
print("ready", flush=True)
while True:
    model.save_weights(sys.argv[1])
"""


def test_a_crash_mid_save_leaves_the_previous_file_loadable(good, make_mlp, helpers):
    _, path, saved = good
    folder = os.path.dirname(path)
    env = dict(os.environ, PYTHONPATH=ROOT)
    saver = subprocess.Popen(
        [sys.executable, "-c", _SAVE_FOREVER, path],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert saver.stdout.readline().strip() == "ready"
        deadline = time.time() + 60
        # Kill the moment a temporary file exists: the save is under way.
        while not glob.glob(os.path.join(folder, ".model.h5.*")):
            assert time.time() < deadline and saver.poll() is None
            time.sleep(0.001)
        time.sleep(0.02)
        saver.send_signal(signal.SIGKILL)
    finally:
        saver.kill()
        saver.wait()
    leftovers = glob.glob(os.path.join(folder, ".*"))
    assert leftovers and all(p.endswith(h5io.TEMP_SUFFIX) for p in leftovers)
    stored = h5io.read(path)  # every checksum verified
    if list(stored.arrays) == ["dense/kernel", "dense/bias"] and stored.arrays[
        "dense/kernel"
    ].shape == (3000, 3000):
        pass  # a save before the killed one completed: whole and valid
    else:
        other = make_mlp()
        other.load_weights(path)
        assert helpers.same(helpers.values(other), saved)
    assert nnlib.latest_checkpoint(folder) is None  # temporaries are never taken
