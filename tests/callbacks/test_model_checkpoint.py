"""ModelCheckpoint: templates, best-only saving, whole models, batch frequency."""

import os

import numpy as np
import pytest

import nnlib
from nnlib import callbacks, layers
from nnlib.checkpoint import CheckpointWriteError, h5io


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)


def _model():
    nnlib.clear_session()
    model = nnlib.Sequential(
        [layers.Dense(4, activation="tanh", input_shape=(3,)), layers.Dense(1)]
    )
    model.compile(nnlib.optimizers.GradientDescent(0.05), loss="mse")
    return model


class Snapshots(callbacks.Callback):
    """Records the weights at the end of each epoch (after ModelCheckpoint)."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def _fit(model, save, epochs=3, val=True, **kwargs):
    x, y = _data()
    snaps = Snapshots()
    history = model.fit(
        x,
        y,
        batch_size=8,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        validation_data=_data(16, seed=1) if val else None,
        callbacks=[save, snaps],
        **kwargs,
    )
    return history, snaps.weights


def _weights_in(path):
    return list(h5io.read(path).arrays.values())


def test_the_template_names_each_epoch_and_its_file_holds_that_epoch(tmp_path):
    template = str(tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.3f}.h5")
    save = callbacks.ModelCheckpoint(template, save_weights_only=True)
    history, snaps = _fit(_model(), save)
    names = sorted(os.listdir(tmp_path / "ckpt"))
    expected = [
        f"{e + 1:02d}-{v:.3f}.h5" for e, v in enumerate(history.history["val_loss"])
    ]
    assert names == expected
    for name, weights in zip(names, snaps):
        for saved, current in zip(_weights_in(tmp_path / "ckpt" / name), weights):
            np.testing.assert_array_equal(saved, current)
    assert save.last_saved.endswith(expected[-1])


def test_save_best_only_keeps_the_best_epoch(tmp_path, capsys):
    path = str(tmp_path / "best.h5")
    model = _model()
    save = callbacks.ModelCheckpoint(
        path, monitor="loss", save_best_only=True, save_weights_only=True, verbose=1
    )
    snaps = Snapshots()

    class Vary(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["loss"] = [0.5, 0.3, 0.4, 0.35][epoch]  # best at epoch 2

    x, y = _data()
    model.fit(x, y, epochs=4, verbose=0, callbacks=[Vary(), save, snaps])
    for saved, best in zip(_weights_in(path), snaps.weights[1]):
        np.testing.assert_array_equal(saved, best)
    out = capsys.readouterr().out
    assert "Epoch 2: loss improved from 0.50000 to 0.30000, saving model to" in out
    assert "Epoch 3: loss did not improve from 0.30000" in out
    assert save.best == 0.3


def test_mode_max_and_initial_value_threshold(tmp_path):
    path = str(tmp_path / "acc.h5")
    save = callbacks.ModelCheckpoint(
        path, monitor="val_accuracy", save_best_only=True, initial_value_threshold=0.99
    )
    assert save.mode == "max"
    save.set_model(_model())
    save.on_epoch_end(0, {"val_accuracy": 0.95})
    assert not os.path.exists(path)
    save.on_epoch_end(1, {"val_accuracy": 0.995})
    assert os.path.exists(path)


def test_whole_models_load_with_load_model(tmp_path):
    path = str(tmp_path / "model-{epoch}.h5")
    model = _model()
    _fit(model, callbacks.ModelCheckpoint(path), epochs=2)
    clone = nnlib.load_model(str(tmp_path / "model-2.h5"))
    x, _ = _data(4, seed=3)
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))
    assert int(clone.optimizer.iterations) == 8


def test_save_freq_in_batches(tmp_path):
    template = str(tmp_path / "{epoch}-{batch}.h5")
    _fit(
        _model(),
        callbacks.ModelCheckpoint(template, save_freq=3, save_weights_only=True),
        val=False,
    )
    # 4 batches per epoch, 12 in all: saved after batches 3, 6, 9, 12.
    assert sorted(os.listdir(tmp_path)) == ["1-3.h5", "2-2.h5", "3-1.h5", "3-4.h5"]


def test_a_template_naming_a_missing_metric_says_which(tmp_path):
    save = callbacks.ModelCheckpoint(str(tmp_path / "{epoch}-{val_loss}.h5"))
    with pytest.raises(KeyError, match="names 'val_loss'.*available: epoch, loss"):
        _fit(_model(), save, val=False)


def test_save_best_only_without_the_metric_warns_and_saves(tmp_path):
    """Keras 3.15's warning, word for word, then nnlib's hint; and, as Keras,
    the file is saved anyway (a misspelt monitor must not lose the run)."""
    save = callbacks.ModelCheckpoint(str(tmp_path / "m.h5"), save_best_only=True)
    with pytest.warns(UserWarning) as caught:
        _fit(_model(), save, epochs=2, val=False)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2  # one per epoch
    assert messages[0].startswith("Can save best model only with val_loss available.")
    assert "'val_loss', which is not in the logs" in messages[0]
    assert "Available metrics are: loss" in messages[0]
    assert os.listdir(tmp_path) == ["m.h5"]


@pytest.mark.parametrize("save_freq", ["epoch", 2])
def test_an_unknown_monitor_without_save_best_only_saves_every_time(
    tmp_path, recwarn, save_freq
):
    """As Keras: without save_best_only the monitor is not read, so a name that
    is in no log changes nothing: every file is written, silently."""
    template = str(tmp_path / "{epoch}-{batch}.h5")
    save = callbacks.ModelCheckpoint(
        template if save_freq != "epoch" else str(tmp_path / "{epoch}.h5"),
        monitor="no_such_metric",
        save_freq=save_freq,
        save_weights_only=True,
    )
    _, weights = _fit(_model(), save, epochs=2, val=False)
    if save_freq == "epoch":
        assert sorted(os.listdir(tmp_path)) == ["1.h5", "2.h5"]
        for epoch in (1, 2):
            saved = _weights_in(str(tmp_path / f"{epoch}.h5"))
            for got, want in zip(saved, weights[epoch - 1]):
                np.testing.assert_array_equal(got, want)
    else:  # 4 batches an epoch: after batches 2 and 4 of each
        assert sorted(os.listdir(tmp_path)) == ["1-2.h5", "1-4.h5", "2-2.h5", "2-4.h5"]
    assert not [w for w in recwarn if "no_such_metric" in str(w.message)]


@pytest.mark.parametrize("freq", ["batch", 0, -2, 1.5, True])
def test_bad_save_freq(freq):
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive"):
        callbacks.ModelCheckpoint("m.h5", save_freq=freq)


def test_a_failed_save_stops_fit_and_keeps_the_earlier_file(tmp_path, monkeypatch):
    path = str(tmp_path / "m.h5")
    model = _model()
    save = callbacks.ModelCheckpoint(path, save_weights_only=True)
    _fit(model, save, epochs=1)
    before = (tmp_path / "m.h5").read_bytes()

    def full(temp, entries, attrs):
        raise OSError(28, "No space left on device", temp)

    monkeypatch.setattr(h5io, "_write_file", full)
    with pytest.raises(CheckpointWriteError, match="disk full"):
        _fit(model, save, epochs=1)
    assert (tmp_path / "m.h5").read_bytes() == before
    assert os.listdir(tmp_path) == ["m.h5"]


def test_state_round_trip():
    a = callbacks.ModelCheckpoint("m.h5", monitor="loss", save_best_only=True)
    a.best, a._batches_seen = 0.25, 7
    b = callbacks.ModelCheckpoint("m.h5", monitor="loss", save_best_only=True)
    b.set_state(a.get_state())
    assert (b.best, b._batches_seen) == (0.25, 7)
