"""CheckpointManager: numbering, rotation, the index, preserved checkpoints."""

import json
import os

import numpy as np
import pytest

import nnlib
from nnlib import _atomic
from nnlib.checkpoint import CheckpointWriteError
from nnlib.checkpoint import _index as index_module
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


def test_a_failed_index_rewrite_removes_the_new_file_and_keeps_the_old(
    tmp_path, step, monkeypatch
):
    manager = nnlib.CheckpointManager(
        nnlib.Checkpoint(step=step), str(tmp_path), max_to_keep=1
    )
    manager.save()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index_module.json, "dump", fail)
    with pytest.raises(CheckpointWriteError, match="index") as caught:
        manager.save()
    assert "previous checkpoints are intact" in str(caught.value)
    # Nothing unlisted is left behind, and the old file was not rotated out.
    assert _files(str(tmp_path)) == ["checkpoint", "ckpt-1.h5"]
    assert os.path.basename(nnlib.latest_checkpoint(str(tmp_path))) == "ckpt-1.h5"
    monkeypatch.undo()
    assert os.path.basename(manager.save()) == "ckpt-2.h5"
    assert _files(str(tmp_path)) == ["checkpoint", "ckpt-2.h5"]


def _plant(folder, name, source):
    with open(source, "rb") as f, open(os.path.join(folder, name), "wb") as out:
        out.write(f.read())


def test_a_save_sweeps_unlisted_files_and_stale_temporaries_of_its_prefix(
    tmp_path, step
):
    folder = str(tmp_path)
    manager = nnlib.CheckpointManager(nnlib.Checkpoint(step=step), folder)
    first = manager.save()
    # Left by killed processes: a file rotated out of the index but not yet
    # deleted, an index-less save, temporaries of saves and of the index.
    stale = ["ckpt-0.h5", ".ckpt-2.h5.0badf00d.tmp", ".checkpoint.12345678.tmp"]
    # Not the manager's: another prefix, its temporary, a user's file.
    others = ["other-1.h5", ".other-1.h5.0badf00d.tmp", "ckpt-notes.txt", "ckpt.h5"]
    for name in stale + others:
        _plant(folder, name, first)
    path = manager.save()
    assert os.path.basename(path) == "ckpt-2.h5"
    assert _files(folder) == sorted(["checkpoint", "ckpt-1.h5", "ckpt-2.h5", *others])


def test_a_temporary_file_in_use_is_not_swept(tmp_path, step):
    folder = str(tmp_path)
    manager = nnlib.CheckpointManager(nnlib.Checkpoint(step=step), folder)
    manager.save()
    with _atomic.replacing(os.path.join(folder, "ckpt-9.h5")) as temp:
        manager.save()  # another save under way (here: in this process)
        assert os.path.exists(temp)
        with open(temp, "wb") as f:
            f.write(b"done")
    assert "ckpt-9.h5" in _files(folder)


def test_files_an_older_index_does_not_know_are_kept(tmp_path, step):
    folder = str(tmp_path)
    ckpt = nnlib.Checkpoint(step=step)
    manager = nnlib.CheckpointManager(ckpt, folder)
    manager.save()
    manager.save()
    # An index of an older nnlib: no list of preserved files. A file it does not
    # list may be one it preserved: never swept, kept for good.
    index_path = os.path.join(folder, "checkpoint")
    with open(index_path) as f:
        index = json.load(f)
    del index["preserved"]
    index["checkpoints"] = index["checkpoints"][1:]
    with open(index_path, "w") as f:
        json.dump(index, f)
    again = nnlib.CheckpointManager(ckpt, folder, max_to_keep=1)
    again.save()
    again.save()
    assert _files(folder) == ["checkpoint", "ckpt-1.h5", "ckpt-4.h5"]


def test_an_unreadable_index_warns_and_nothing_is_swept(tmp_path, step):
    folder = str(tmp_path)
    ckpt = nnlib.Checkpoint(step=step)
    nnlib.CheckpointManager(ckpt, folder).save()
    (tmp_path / "checkpoint").write_text("{not json")
    with pytest.warns(UserWarning, match="unreadable"):
        assert nnlib.latest_checkpoint(folder) is None
    with pytest.warns(UserWarning, match="unreadable"):
        again = nnlib.CheckpointManager(ckpt, folder)
    with pytest.warns(UserWarning, match="unreadable"):
        again.save()  # reads it again, then replaces it
    assert _files(folder) == ["checkpoint", "ckpt-1.h5", "ckpt-2.h5"]


def test_latest_checkpoint_without_an_index_or_file(tmp_path, step):
    assert nnlib.latest_checkpoint(str(tmp_path / "missing")) is None
    manager = nnlib.CheckpointManager(nnlib.Checkpoint(step=step), str(tmp_path))
    first, second = manager.save(), manager.save()
    os.remove(second)
    assert nnlib.latest_checkpoint(str(tmp_path)) == first
    (tmp_path / "checkpoint").write_text("{not json")
    with pytest.warns(UserWarning, match="unreadable"):
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


def test_a_manager_made_first_keeps_what_checkpoint_save_records(tmp_path, step):
    folder = str(tmp_path)
    ckpt = nnlib.Checkpoint(step=step)
    manager = nnlib.CheckpointManager(ckpt, folder, max_to_keep=3)
    first = ckpt.save(os.path.join(folder, "ckpt"))
    manager.save()
    assert _files(folder) == ["checkpoint", "ckpt-1.h5", "ckpt-2.h5"]
    assert manager.checkpoints[0] == first
