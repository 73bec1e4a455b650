"""BackupAndRestore: an interrupted fit resumes exactly where it stopped."""

import os
import textwrap

import numpy as np
import pytest

import nnlib
from nnlib import callbacks, layers
from nnlib.checkpoint import CheckpointMismatchError


class Interrupted(Exception):
    pass


class Crash(callbacks.Callback):
    """Raises at the start of epoch ``at`` (the previous epochs are backed up)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise Interrupted(f"killed at epoch {epoch}")


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    return x, (x[:, :3] > 0).sum(1) % 3


def _model(seed, input_shape=(4,)):
    nnlib.clear_session()
    nnlib.random.set_seed(seed)
    first = layers.Dense(
        16, activation="relu", **({"input_shape": input_shape} if input_shape else {})
    )
    model = nnlib.Sequential(
        [first, layers.BatchNormalization(), layers.Dropout(0.3), layers.Dense(3)]
    )
    model.compile(
        nnlib.optimizers.Adam(0.02),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _callbacks():
    return [
        callbacks.EarlyStopping("val_loss", patience=50, restore_best_weights=True),
        callbacks.ReduceLROnPlateau("val_loss", factor=0.5, patience=1),
    ]


def _fit(model, backup_dir, extra=(), epochs=6):
    x, y = _data()
    own = _callbacks()
    history = model.fit(
        x,
        y,
        batch_size=16,
        epochs=epochs,
        verbose=0,
        validation_split=0.25,
        callbacks=[callbacks.BackupAndRestore(backup_dir), *own, *extra],
    )
    return history, own


def _same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b)) and len(a) == len(b)


@pytest.mark.parametrize("input_shape", [(4,), None], ids=["built", "lazy"])
def test_a_resumed_fit_ends_bit_identical_to_an_uninterrupted_one(
    tmp_path, input_shape
):
    whole = _model(1, input_shape)
    expected, (stopper, reducer) = _fit(whole, str(tmp_path / "a"))
    assert not os.path.exists(tmp_path / "a" / "backup.h5")  # deleted when done

    first = _model(1, input_shape)
    with pytest.raises(Interrupted):
        _fit(first, str(tmp_path / "b"), extra=[Crash(at=3)])
    assert os.path.exists(tmp_path / "b" / "backup.h5")

    resumed = _model(99, input_shape)  # other initial values and random state
    backup = callbacks.BackupAndRestore(str(tmp_path / "b"))
    x, y = _data()
    own = _callbacks()
    history = resumed.fit(
        x,
        y,
        batch_size=16,
        epochs=6,
        verbose=0,
        validation_split=0.25,
        callbacks=[backup, *own],
    )
    assert backup.restored_epoch == 2
    assert _same(resumed.get_weights(), whole.get_weights())
    assert int(resumed.optimizer.iterations) == int(whole.optimizer.iterations) == 18
    assert resumed.optimizer.learning_rate == whole.optimizer.learning_rate
    assert history.epoch == expected.epoch == list(range(6))
    assert history.history == expected.history
    assert own[0].get_state() == stopper.get_state()
    assert _same(own[0].best_weights, stopper.best_weights)
    assert own[1].get_state() == reducer.get_state()


def test_an_unseeded_dataset_shuffle_resumes_exactly(tmp_path):
    # Unseeded shuffles draw each pass's order from nnlib.random, which the
    # backup restores (a seeded one would restart its sequence of orders).
    x, y = _data()

    def fit(model, backup_dir, extra=()):
        data = nnlib.data.Dataset.from_tensor_slices((x, y)).shuffle(48).batch(16)
        return model.fit(
            data,
            epochs=4,
            verbose=0,
            callbacks=[callbacks.BackupAndRestore(backup_dir), *extra],
        )

    whole = _model(1)
    fit(whole, str(tmp_path / "a"))
    with pytest.raises(Interrupted):
        fit(_model(1), str(tmp_path / "b"), extra=[Crash(at=2)])
    resumed = _model(7)
    fit(resumed, str(tmp_path / "b"))
    assert _same(resumed.get_weights(), whole.get_weights())


def test_early_stopping_state_carries_over(tmp_path):
    backup_dir = str(tmp_path / "run")
    model = _model(3)
    x, y = _data()
    stop = callbacks.EarlyStopping("loss", patience=100)
    with pytest.raises(Interrupted):
        model.fit(
            x,
            y,
            epochs=5,
            verbose=0,
            callbacks=[callbacks.BackupAndRestore(backup_dir), stop, Crash(at=2)],
        )
    saved = stop.get_state()
    again = callbacks.EarlyStopping("loss", patience=100)
    probe = callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append(again.get_state())
    )
    seen = []
    model = _model(4)
    model.fit(
        x,
        y,
        epochs=3,
        verbose=0,
        callbacks=[probe, again, callbacks.BackupAndRestore(backup_dir)],
    )
    assert seen == [saved]  # restored before the others start, whatever the order


def test_a_backup_of_another_architecture_is_refused(tmp_path):
    backup_dir = str(tmp_path / "run")
    x, y = _data()
    with pytest.raises(Interrupted):
        _model(1).fit(
            x,
            y,
            epochs=3,
            verbose=0,
            callbacks=[callbacks.BackupAndRestore(backup_dir), Crash(at=1)],
        )
    backup = (tmp_path / "run" / "backup.h5").read_bytes()
    wider = nnlib.Sequential([layers.Dense(5, input_shape=(4,)), layers.Dense(3)])
    renamed = nnlib.Sequential([layers.Dense(3, input_shape=(4,), name="head")])
    for other, match in [(wider, "dense/kernel"), (renamed, "no value for .*head")]:
        other.compile("adam", loss="mse")
        with pytest.raises(CheckpointMismatchError, match=match):
            other.fit(
                x,
                np.eye(3)[y],
                epochs=2,
                verbose=0,
                callbacks=[callbacks.BackupAndRestore(backup_dir)],
            )
    assert (tmp_path / "run" / "backup.h5").read_bytes() == backup


def test_the_backup_is_kept_when_asked(tmp_path):
    x, y = _data()
    model = _model(1)
    model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)],
    )
    assert os.listdir(tmp_path) == ["backup.h5"]
    # A new fit of as many epochs finds nothing left to do.
    again = _model(1)
    history = again.fit(
        x, y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(str(tmp_path))]
    )
    assert history.epoch == [0, 1] and int(again.optimizer.iterations) == 4
    assert _same(again.get_weights(), model.get_weights())


@pytest.mark.parametrize("kwargs", [{"save_freq": 10}, {"backup_dir": ""}])
def test_bad_arguments(kwargs):
    args = {"backup_dir": "run", **kwargs}
    with pytest.raises(ValueError, match="BackupAndRestore"):
        callbacks.BackupAndRestore(**args)


def test_a_killed_process_resumes_in_a_new_one(tmp_path):
    script = textwrap.dedent(
        """
        import os, sys
        import numpy as np
        import nnlib
        from nnlib import callbacks, layers

        backup, out, crash_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
        nnlib.random.set_seed(int(sys.argv[4]))
        rng = np.random.default_rng(0)
        x = rng.normal(size=(40, 4)).astype(np.float32)
        y = (x.sum(1) > 0).astype(np.int64)
        model = nnlib.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                                  layers.Dropout(0.2), layers.Dense(2)])
        model.compile("adam", loss=nnlib.losses.SparseCategoricalCrossentropy(
            from_logits=True))

        class Kill(callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == crash_at:
                    os._exit(3)  # no clean-up at all, as a killed job

        model.fit(x, y, batch_size=8, epochs=4, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(backup), Kill()])
        np.savez(out, *model.get_weights())
        """
    )
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))

    def run(*args):
        return subprocess.run(
            [sys.executable, "-c", script, *map(str, args)],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )

    whole = run(tmp_path / "a", tmp_path / "a.npz", -1, 5)
    assert whole.returncode == 0, whole.stderr
    killed = run(tmp_path / "b", tmp_path / "b.npz", 2, 5)
    assert killed.returncode == 3 and not (tmp_path / "b.npz").exists()
    resumed = run(tmp_path / "b", tmp_path / "b.npz", -1, 77)
    assert resumed.returncode == 0, resumed.stderr
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)
