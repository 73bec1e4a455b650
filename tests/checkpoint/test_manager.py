"""CheckpointManager: numbering, rotation, the index, preserved checkpoints."""

import json
import os

import numpy as np
import pytest

import nnlib
from nnlib.checkpoint import CheckpointWriteError
from nnlib.checkpoint import manager as manager_module


@pytest.fixture
def step():
    return nnlib.Variable(np.int64(0), name="step")


def _files(folder):
    return sorted(os.listdir(folder))


def test_keeps_the_newest_max_to_keep(tmp_path, step):
    folder = str(tmp_path / "ckpts")
    manager = nnlib.CheckpointManager(
        nnlib.Checkpoint(step=step), folder, max_to_keep=3
    )
    assert manager.latest_checkpoint is None and manager.checkpoints == []
    paths = []
    for _ in range(5):
        step.assign_add(1)
        paths.append(manager.save())
    assert [os.path.basename(p) for p in paths] == [f"ckpt-{i}.h5" for i in range(1, 6)]
    assert manager.checkpoints == paths[2:]
    assert manager.latest_checkpoint == paths[-1] == nnlib.latest_checkpoint(folder)
    assert _files(folder) == ["checkpoint", "ckpt-3.h5", "ckpt-4.h5", "ckpt-5.h5"]
    restored = nnlib.Variable(np.int64(0))
    nnlib.Checkpoint(step=restored).restore(nnlib.latest_checkpoint(folder))
    assert int(restored) == 5


def test_the_index_is_json_and_a_new_manager_continues(tmp_path, step):
    folder = str(tmp_path)
    ckpt = nnlib.Checkpoint(step=step)
    first = nnlib.CheckpointManager(ckpt, folder, max_to_keep=2)
    for _ in range(3):
        first.save()
    with open(os.path.join(folder, "checkpoint")) as f:
        index = json.load(f)
    assert index["latest"] == "ckpt-3.h5"
    assert [e["path"] for e in index["checkpoints"]] == ["ckpt-2.h5", "ckpt-3.h5"]
    second = nnlib.CheckpointManager(ckpt, folder, max_to_keep=2)
    assert second.checkpoints == first.checkpoints
    second.save()
    assert _files(folder) == ["checkpoint", "ckpt-3.h5", "ckpt-4.h5"]


def test_max_to_keep_none_keeps_everything_and_numbers_can_be_given(tmp_path, step):
    manager = nnlib.CheckpointManager(
        nnlib.Checkpoint(step=step), str(tmp_path), max_to_keep=None
    )
    for number in (10, 20, 30):
        manager.save(checkpoint_number=number)
    assert [os.path.basename(p) for p in manager.checkpoints] == [
        "ckpt-10.h5",
        "ckpt-20.h5",
        "ckpt-30.h5",
    ]
    manager.save(checkpoint_number=20)  # saved again: now the newest
    assert os.path.basename(manager.latest_checkpoint) == "ckpt-20.h5"
    assert len(manager.checkpoints) == 3


def test_keep_checkpoint_every_n_hours(tmp_path, step, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(manager_module.time, "time", lambda: clock[0])
    manager = nnlib.CheckpointManager(
        nnlib.Checkpoint(step=step),
        str(tmp_path),
        max_to_keep=2,
        keep_checkpoint_every_n_hours=1,
    )
    for _ in range(8):
        clock[0] += 20 * 60  # a save every 20 minutes
        manager.save()
    # Rotating out: ckpt-1 (20 min), 2 (40), 3 (60: preserved), 4, 5, 6 (120:
    # preserved, an hour after 3); the newest two rotate.
    assert _files(str(tmp_path)) == [
        "checkpoint",
        "ckpt-3.h5",
        "ckpt-6.h5",
        "ckpt-7.h5",
        "ckpt-8.h5",
    ]
    assert [os.path.basename(p) for p in manager.checkpoints] == [
        "ckpt-7.h5",
        "ckpt-8.h5",
    ]


def test_old_files_are_deleted_only_after_the_index_is_written(
    tmp_path, step, monkeypatch
):
    manager = nnlib.CheckpointManager(
        nnlib.Checkpoint(step=step), str(tmp_path), max_to_keep=1
    )
    manager.save()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(manager_module.json, "dump", fail)
    with pytest.raises(CheckpointWriteError, match="index"):
        manager.save()
    assert _files(str(tmp_path)) == ["checkpoint", "ckpt-1.h5", "ckpt-2.h5"]
    assert os.path.basename(nnlib.latest_checkpoint(str(tmp_path))) == "ckpt-1.h5"


def test_latest_checkpoint_without_an_index_or_file(tmp_path, step):
    assert nnlib.latest_checkpoint(str(tmp_path / "missing")) is None
    manager = nnlib.CheckpointManager(nnlib.Checkpoint(step=step), str(tmp_path))
    first, second = manager.save(), manager.save()
    os.remove(second)
    assert nnlib.latest_checkpoint(str(tmp_path)) == first
    (tmp_path / "checkpoint").write_text("{not json")
    assert nnlib.latest_checkpoint(str(tmp_path)) is None


def test_restore_or_initialize(tmp_path, step):
    manager = nnlib.CheckpointManager(nnlib.Checkpoint(step=step), str(tmp_path))
    assert manager.restore_or_initialize() is None
    step.assign(7)
    path = manager.save()
    step.assign(0)
    assert manager.restore_or_initialize() == path and int(step) == 7


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_bad_max_to_keep(tmp_path, bad):
    with pytest.raises(ValueError, match="max_to_keep"):
        nnlib.CheckpointManager(nnlib.Checkpoint(), str(tmp_path), max_to_keep=bad)
