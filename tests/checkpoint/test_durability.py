"""Saves are durable: the new file is on the disk before it replaces the old one,
and the rename is on the disk before the save returns.

The atomic protocol (a temporary file renamed over the target) keeps a crash in
the middle of a save from leaving a half-written file under the target's name
only if the temporary file's data is fsynced before the rename (otherwise a
power cut can leave the renamed file empty), and the rename itself survives
only once the folder is fsynced after it. Neither is visible in the files a
save leaves, so these tests watch the calls: ``os.fsync`` (each descriptor
named by the path it is open on) and ``os.replace``/``os.rename``, in order.
"""

import os
import sys

import numpy as np
import pytest

import nnlib
from nnlib.checkpoint import _index

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="names a descriptor's file through /proc/self/fd (Linux)",
)


@pytest.fixture
def calls(monkeypatch):
    """The ``("fsync", path)`` and ``("replace", source, target)`` calls made,
    in order; every module calls them through the ``os`` module."""
    log = []
    real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename

    def fsync(fd):
        fd = fd if isinstance(fd, int) else fd.fileno()
        log.append(("fsync", os.path.realpath(os.readlink(f"/proc/self/fd/{fd}"))))
        return real_fsync(fd)

    def renamer(real):
        def rename(src, dst, **kwargs):
            log.append(("replace", os.path.realpath(src), os.path.realpath(dst)))
            return real(src, dst, **kwargs)

        return rename

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", renamer(real_replace))
    monkeypatch.setattr(os, "rename", renamer(real_rename))
    return log


def assert_durable(log, target):
    """``target`` was renamed into place once, from a temporary file in its folder
    fsynced before the rename, and the folder was fsynced after it."""
    target = os.path.realpath(target)
    folder = os.path.dirname(target)
    renames = [i for i, call in enumerate(log) if call[0] == "replace"]
    into_target = [i for i in renames if log[i][2] == target]
    assert len(into_target) == 1, f"{target} not renamed into place once: {log}"
    i = into_target[0]
    temp = log[i][1]
    assert os.path.dirname(temp) == folder, f"renamed from another folder: {temp}"
    assert ("fsync", temp) in log[:i], (
        f"the temporary file was not fsynced before it replaced {target}: {log}"
    )
    assert ("fsync", folder) in log[i + 1 :], (
        f"the folder {folder} was not fsynced after the rename: {log}"
    )


def _model():
    model = nnlib.Sequential([nnlib.layers.Dense(3, input_shape=(4,))])
    model(np.zeros((1, 4), np.float32))
    return model


# Each returns a function that saves and returns the paths it wrote.


def _save_weights(model, folder):
    path = os.path.join(folder, "weights.h5")
    return lambda: [model.save_weights(path) or path]


def _save_model(model, folder):
    path = os.path.join(folder, "model.h5")
    return lambda: [model.save(path) or path]


def _checkpoint(model, folder):
    ckpt = nnlib.Checkpoint(model=model)
    index = os.path.join(folder, "ckpts", _index.INDEX_NAME)
    return lambda: [ckpt.save(os.path.join(folder, "ckpts", "run")), index]


def _safetensors(model, folder):
    pytest.importorskip("safetensors")
    path = os.path.join(folder, "model.safetensors")
    return lambda: [nnlib.checkpoint.save_safetensors(path, model.layers[0])]


_SAVES = [
    pytest.param(_save_weights, id="save_weights"),
    pytest.param(_save_model, id="model.save"),
    pytest.param(_checkpoint, id="Checkpoint.save"),
    pytest.param(_safetensors, id="save_safetensors"),
]


@pytest.mark.parametrize("saver", _SAVES)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_a_save_fsyncs_the_file_before_the_rename_and_the_folder_after(
    saver, existing, calls, tmp_path
):
    save = saver(_model(), str(tmp_path))
    if existing:  # the file (for a Checkpoint, the index) is replaced
        save()
        calls.clear()
    for path in save():
        assert_durable(calls, path)


def test_the_check_sees_a_missing_sync(calls, tmp_path):
    """The checker itself: it fails without either fsync, passes with both."""
    target = os.path.realpath(tmp_path / "f")
    temp = os.path.realpath(tmp_path / ".f.0badf00d.tmp")
    folder = os.path.realpath(tmp_path)
    rename = ("replace", temp, target)
    assert_durable([("fsync", temp), rename, ("fsync", folder)], target)
    for log in (
        [rename, ("fsync", temp), ("fsync", folder)],  # file synced too late
        [("fsync", temp), ("fsync", folder), rename],  # folder synced too early
        [("fsync", temp), rename],
    ):
        with pytest.raises(AssertionError, match="not fsynced"):
            assert_durable(log, target)
