"""Checkpoint: model, optimizer slots and step together; exact resume elsewhere."""

import os
import warnings

import numpy as np
import pytest

import nnlib
from nnlib import layers
from nnlib.checkpoint import CheckpointMismatchError

# Trains a model with BatchNormalization and Dropout (nnlib.random masks) and Adam.
#   straight <out> <steps>            : train <steps> steps, write the final state
#   first <dir> <steps>               : train, save a checkpoint with a manager
#   resume <dir> <steps> <out>        : restore the newest checkpoint, train more
_TRAIN = """
import sys
import numpy as np
import nnlib
from nnlib import layers

class Net(nnlib.Network):
    def __init__(self):
        super().__init__(name="net")
        self.hidden = layers.Dense(16, activation="relu")
        self.norm = layers.BatchNormalization()
        self.drop = layers.Dropout(0.3)
        self.out = layers.Dense(3)

    def call(self, x, training=False):
        h = self.norm(self.hidden(x), training=training)
        return self.out(self.drop(h, training=training))

nnlib.random.set_seed(0)
rng = np.random.default_rng(1)
x = rng.normal(size=(64, 8)).astype(np.float32)
y = rng.integers(0, 3, size=64)
model = Net()
opt = nnlib.optimizers.Adam(1e-2)
step = nnlib.Variable(np.int64(0), name="step", trainable=False)
ckpt = nnlib.Checkpoint(model=model, optimizer=opt, step=step)

def train_step():
    start = int(step.numpy()) * 16 % 64
    xb, yb = x[start:start + 16], y[start:start + 16]
    loss_fn = lambda: nnlib.losses.sparse_categorical_crossentropy(
        yb, model(xb, training=True), from_logits=True)
    loss, grads_and_vars = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_mean(loss_fn()))()
    opt.apply_gradients(grads_and_vars)
    step.assign_add(1)

mode, where, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "resume":
    model(np.zeros((1, 8), np.float32))  # build first: initializers draw randoms
    manager = nnlib.CheckpointManager(ckpt, where)
    ckpt.restore(manager.latest_checkpoint).assert_consumed()
for _ in range(steps):
    train_step()
if mode == "first":
    nnlib.CheckpointManager(ckpt, where).save()
else:
    out = where if mode == "straight" else sys.argv[4]
    state = [v.numpy() for v in model.variables + opt.variables() + [step]]
    state.append(nnlib.random.get_generator().random(3))
    np.savez(out, *state)
"""


def test_resume_in_a_fresh_process_is_bit_identical(tmp_path, helpers):
    straight = str(tmp_path / "straight.npz")
    resumed = str(tmp_path / "resumed.npz")
    folder = str(tmp_path / "ckpts")
    helpers.run_script(_TRAIN, "straight", straight, 7)
    helpers.run_script(_TRAIN, "first", folder, 4)
    helpers.run_script(_TRAIN, "resume", folder, 3, resumed)
    a, b = np.load(straight), np.load(resumed)
    assert len(a.files) == len(b.files) > 10
    for key in a.files:
        assert a[key].dtype == b[key].dtype
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _trained():
    model = nnlib.Sequential(
        [
            layers.Dense(4, input_shape=(3,)),
            layers.BatchNormalization(),
            layers.Dense(2),
        ]
    )
    opt = nnlib.optimizers.Adam(0.05)
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    for _ in range(3):
        opt.minimize(lambda: nnlib.reduce_sum(model(x, training=True) ** 2))
    return model, opt


def _slot_values(opt, model):
    return [
        opt.get_slot(v, s).numpy()
        for v in model.trainable_variables
        for s in opt.get_slot_names()
    ]


def test_deferred_restore_of_model_and_optimizer_slots(tmp_path, helpers):
    model, opt = _trained()
    step = nnlib.Variable(np.int64(3), name="step")
    path = nnlib.Checkpoint(model=model, optimizer=opt, step=step).save(
        str(tmp_path / "ckpt")
    )
    fresh = nnlib.Sequential(
        [layers.Dense(4), layers.BatchNormalization(), layers.Dense(2)]
    )
    fresh_opt, fresh_step = nnlib.optimizers.Adam(0.05), nnlib.Variable(np.int64(0))
    status = nnlib.Checkpoint(
        model=fresh, optimizer=fresh_opt, step=fresh_step
    ).restore(path)
    assert int(fresh_step) == 3 and int(fresh_opt.iterations) == 3
    assert "model/dense/kernel" in status.pending
    with pytest.raises(AssertionError, match="not created yet"):
        status.assert_consumed()
    status.assert_existing_objects_matched()
    fresh(np.zeros((1, 3), np.float32))  # variables and slots appear, restored
    assert status.pending == []
    status.assert_consumed()
    assert helpers.same(helpers.values(fresh), helpers.values(model))
    assert helpers.same(_slot_values(fresh_opt, fresh), _slot_values(opt, model))


def test_restore_into_built_objects_builds_the_optimizer_slots(tmp_path, helpers):
    model, opt = _trained()
    path = nnlib.Checkpoint(model=model, optimizer=opt).write(str(tmp_path / "c.h5"))
    fresh, _ = _trained()
    helpers.scramble(fresh)
    fresh_opt = nnlib.optimizers.Adam(0.05)
    nnlib.Checkpoint(model=fresh, optimizer=fresh_opt).restore(path).assert_consumed()
    assert helpers.same(helpers.values(fresh), helpers.values(model))
    assert helpers.same(_slot_values(fresh_opt, fresh), _slot_values(opt, model))


def test_file_layout_names_objects_and_slots_by_key(tmp_path):
    model, opt = _trained()
    path = nnlib.Checkpoint(model=model, optimizer=opt).write(str(tmp_path / "c.h5"))
    names = list(nnlib.checkpoint.h5io.read(path).arrays)
    assert "model/dense/kernel" in names and "optimizer/iterations" in names
    assert "optimizer/slots/m/model/dense/kernel" in names


def test_partial_restore_and_its_assertions(tmp_path):
    model, opt = _trained()
    path = nnlib.Checkpoint(model=model, optimizer=opt).write(str(tmp_path / "c.h5"))
    fresh, _ = _trained()
    status = nnlib.Checkpoint(model=fresh).restore(path)
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="optimizer/iterations"):
        status.assert_consumed()
    with pytest.warns(UserWarning, match="expect_partial"):
        del status  # the unused optimizer values are pointed out
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nnlib.Checkpoint(model=fresh).restore(path).expect_partial()


def test_objects_missing_from_the_file(tmp_path):
    model, _ = _trained()
    path = nnlib.Checkpoint(model=model).write(str(tmp_path / "c.h5"))
    extra = nnlib.Variable(1.0, name="extra")
    status = nnlib.Checkpoint(model=model, extra=extra).restore(path)
    with pytest.raises(AssertionError, match="extra"):
        status.assert_existing_objects_matched()


def test_a_shape_mismatch_raises_and_changes_nothing(tmp_path, helpers):
    model, _ = _trained()
    step = nnlib.Variable(np.int64(9))
    path = nnlib.Checkpoint(model=model, step=step).write(str(tmp_path / "c.h5"))
    other = nnlib.Sequential(
        [
            layers.Dense(5, input_shape=(3,)),
            layers.BatchNormalization(),
            layers.Dense(2),
        ]
    )
    before, other_step = helpers.values(other), nnlib.Variable(np.int64(0))
    with pytest.raises(
        CheckpointMismatchError, match=r"model/dense/kernel +\(3, 4\) +\(3, 5\)"
    ):
        nnlib.Checkpoint(model=other, step=other_step).restore(path)
    assert helpers.same(helpers.values(other), before) and int(other_step) == 0


def test_nested_checkpoints_and_state_objects(tmp_path):
    model, _ = _trained()
    stopper = nnlib.callbacks.EarlyStopping(patience=3)
    stopper.wait, stopper.best = 2, 0.5
    step = nnlib.Variable(np.int64(4))
    ckpt = nnlib.Checkpoint(
        inner=nnlib.Checkpoint(model=model, step=step), stopper=stopper
    )
    path = ckpt.save(str(tmp_path / "nested"))
    fresh_stopper = nnlib.callbacks.EarlyStopping(patience=3)
    fresh_step = nnlib.Variable(np.int64(0))
    fresh = nnlib.Checkpoint(
        inner=nnlib.Checkpoint(model=model, step=fresh_step), stopper=fresh_stopper
    )
    fresh.restore(path).assert_consumed()
    assert (
        int(fresh_step) == 4 and fresh_stopper.wait == 2 and fresh_stopper.best == 0.5
    )
    assert int(fresh.save_counter) == 1  # numbering continues after a restore
    assert os.path.basename(fresh.save(str(tmp_path / "nested"))) == "nested-2.h5"


def test_random_state_is_restored(tmp_path):
    ckpt = nnlib.Checkpoint(step=nnlib.Variable(np.int64(0)))
    path = ckpt.save(str(tmp_path / "r"))
    expected = nnlib.random.get_generator().random(4)
    ckpt.restore(path)
    np.testing.assert_array_equal(nnlib.random.get_generator().random(4), expected)
    nnlib.random.set_seed(5)
    ckpt.restore(path, random_state=False)
    nnlib.random.set_seed(5)
    a = nnlib.random.get_generator().random(4)
    assert not np.array_equal(a, expected)


def test_a_changed_learning_rate_is_restored_but_not_a_schedule(tmp_path):
    opt = nnlib.optimizers.Adam(0.01)
    opt.learning_rate = 0.0025  # as ReduceLROnPlateau does
    path = nnlib.Checkpoint(optimizer=opt).save(str(tmp_path / "lr"))
    other = nnlib.optimizers.Adam(0.01)
    nnlib.Checkpoint(optimizer=other).restore(path).expect_partial()
    assert other.learning_rate == 0.0025
    schedule = nnlib.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    scheduled = nnlib.optimizers.Adam(schedule)
    nnlib.Checkpoint(optimizer=scheduled).restore(path).expect_partial()
    assert scheduled.learning_rate == pytest.approx(0.1)  # its own, at step 0


def test_bad_objects_and_keys():
    with pytest.raises(TypeError, match="cannot save model=str"):
        nnlib.Checkpoint(model="oops")
    with pytest.raises(ValueError, match="save_counter"):
        nnlib.Checkpoint(save_counter=nnlib.Variable(0))


def test_a_weights_file_is_not_a_checkpoint(tmp_path):
    model, _ = _trained()
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    with pytest.raises(CheckpointMismatchError, match="load_weights"):
        nnlib.Checkpoint(model=model).restore(path)


# -- Checkpoint.save records its file in the folder's index ------------------------


def test_save_records_the_file_where_latest_checkpoint_looks(tmp_path):
    folder = str(tmp_path / "ckpts")
    step = nnlib.Variable(np.int64(1), name="step")
    ckpt = nnlib.Checkpoint(step=step)
    first = ckpt.save(os.path.join(folder, "run"))
    assert nnlib.latest_checkpoint(folder) == first
    step.assign(2)
    second = ckpt.save(os.path.join(folder, "run"))
    assert nnlib.latest_checkpoint(folder) == second
    # The resume idiom: a new Checkpoint restores the newest file.
    resumed = nnlib.Variable(np.int64(0), name="step")
    restored = nnlib.Checkpoint(step=resumed)
    restored.restore(nnlib.latest_checkpoint(folder)).assert_consumed()
    assert int(resumed) == 2 and int(restored.save_counter) == 2
    third = restored.save(os.path.join(folder, "run"))
    assert os.path.basename(third) == "run-3.h5"
    assert nnlib.latest_checkpoint(folder) == third
    assert sorted(os.listdir(folder)) == [
        "checkpoint",
        "run-1.h5",
        "run-2.h5",
        "run-3.h5",
    ]


def test_save_removes_temporaries_that_killed_saves_left(tmp_path):
    ckpt = nnlib.Checkpoint(step=nnlib.Variable(np.int64(1)))
    stale = [".run-4.h5.0badf00d.tmp", ".checkpoint.0badf00d.tmp"]
    others = [".other-1.h5.0badf00d.tmp", ".run.h5.0badf00d.tmp"]
    for name in stale + others:
        (tmp_path / name).write_bytes(b"half")
    ckpt.save(str(tmp_path / "run"))
    assert sorted(os.listdir(tmp_path)) == sorted(["checkpoint", "run-1.h5", *others])


def test_write_does_not_touch_the_index(tmp_path):
    ckpt = nnlib.Checkpoint(step=nnlib.Variable(np.int64(1)))
    ckpt.write(str(tmp_path / "exact.h5"))
    assert os.listdir(tmp_path) == ["exact.h5"]
    assert nnlib.latest_checkpoint(str(tmp_path)) is None


def test_a_new_checkpoint_never_overwrites_an_earlier_save(tmp_path):
    prefix = str(tmp_path / "run")
    step = nnlib.Variable(np.int64(1), name="step")
    ckpt = nnlib.Checkpoint(step=step)
    ckpt.save(prefix)
    step.assign(2)
    ckpt.save(prefix)
    # Another process (here: new objects) saves without restoring first.
    fresh = nnlib.Checkpoint(step=nnlib.Variable(np.int64(7), name="step"))
    with pytest.warns(UserWarning, match="not restored .*run-3.h5.*latest_checkpoint"):
        path = fresh.save(prefix)
    assert os.path.basename(path) == "run-3.h5" and int(fresh.save_counter) == 3
    for number, value in ((1, 1), (2, 2), (3, 7)):
        check = nnlib.Variable(np.int64(0), name="step")
        nnlib.Checkpoint(step=check).restore(f"{prefix}-{number}.h5")
        assert int(check) == value
    assert nnlib.latest_checkpoint(str(tmp_path)) == path


def test_a_failed_index_update_removes_the_new_file(tmp_path, monkeypatch):
    from nnlib.checkpoint import CheckpointWriteError, _index

    prefix = str(tmp_path / "run")
    ckpt = nnlib.Checkpoint(step=nnlib.Variable(np.int64(1)))
    first = ckpt.save(prefix)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_index.json, "dump", full)
    with pytest.raises(CheckpointWriteError, match="index") as caught:
        ckpt.save(prefix)
    message = str(caught.value)
    assert "run-2.h5" in message and "previous checkpoints are intact" in message
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "run-1.h5"]
    assert nnlib.latest_checkpoint(str(tmp_path)) == first
    assert int(ckpt.save_counter) == 1
    assert os.path.basename(ckpt.save(prefix)) == "run-2.h5"


def test_checkpoint_save_and_a_manager_share_one_index(tmp_path):
    folder = str(tmp_path)
    step = nnlib.Variable(np.int64(0), name="step")
    ckpt = nnlib.Checkpoint(step=step)
    ckpt.save(os.path.join(folder, "ckpt"))
    ckpt.save(os.path.join(folder, "ckpt"))
    manager = nnlib.CheckpointManager(ckpt, folder, max_to_keep=2)
    assert [os.path.basename(p) for p in manager.checkpoints] == [
        "ckpt-1.h5",
        "ckpt-2.h5",
    ]
    manager.save()
    assert sorted(os.listdir(folder)) == ["checkpoint", "ckpt-2.h5", "ckpt-3.h5"]
    ckpt.save(os.path.join(folder, "ckpt"))  # recorded beside the manager's
    assert os.path.basename(nnlib.latest_checkpoint(folder)) == "ckpt-4.h5"
    manager.save()  # rotation sees the file Checkpoint.save recorded
    assert sorted(os.listdir(folder)) == ["checkpoint", "ckpt-4.h5", "ckpt-5.h5"]


def test_restore_none_says_nothing_was_restored():
    step = nnlib.Variable(np.int64(0), name="step")
    status = nnlib.Checkpoint(step=step).restore(None)
    assert status.path is None and status.pending == []
    assert "nothing was restored" in str(status) and "nothing" in repr(status)
    with pytest.raises(AssertionError, match="nothing was restored"):
        status.assert_consumed()
    with pytest.raises(AssertionError, match="nothing was restored"):
        status.assert_existing_objects_matched()
    assert status.expect_partial() is status
