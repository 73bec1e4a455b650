"""History: per-epoch lists by metric name."""

import json

import numpy as np

from nnlib import callbacks


def test_history_collects_each_metric_per_epoch():
    history = callbacks.History()
    history.on_train_begin()
    for epoch in range(3):
        history.on_epoch_end(
            epoch, {"loss": 1.0 / (epoch + 1), "val_loss": 2.0 / (epoch + 1)}
        )
    assert history.epoch == [0, 1, 2]
    assert history.history["loss"] == [1.0, 0.5, 1.0 / 3]
    assert history.history["val_loss"] == [2.0, 1.0, 2.0 / 3]


def test_history_values_are_python_floats():
    history = callbacks.History()
    history.on_epoch_end(0, {"loss": np.float32(0.5), "acc": np.array(0.25)})
    assert history.history == {"loss": [0.5], "acc": [0.25]}
    assert all(type(v[0]) is float for v in history.history.values())
    json.dumps(history.history)


def test_metric_missing_some_epochs_has_a_shorter_list():
    history = callbacks.History()
    history.on_epoch_end(0, {"loss": 1.0})
    history.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.7})
    assert history.history == {"loss": [1.0, 0.5], "val_loss": [0.7]}


def test_history_accumulates_over_resumed_runs():
    history = callbacks.History()
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0})
    history.on_train_end()
    history.on_train_begin()
    history.on_epoch_end(1, {"loss": 0.5})
    assert history.epoch == [0, 1]
    assert history.history["loss"] == [1.0, 0.5]
    assert "epochs=2" in repr(history)


def test_history_ignores_batches():
    history = callbacks.History()
    history.on_train_batch_end(0, {"loss": 3.0})
    assert history.history == {} and history.epoch == []
