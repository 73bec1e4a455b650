"""EarlyStopping with Keras semantics, driven epoch by epoch."""

import json

import numpy as np
import pytest

from nnlib import callbacks
from nnlib.callbacks import _monitor


def run(stopper, model, values, monitor="val_loss"):
    """Epochs with the given metric values; weights are set to the epoch index.

    Returns the index of the last epoch run.
    """
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, value in enumerate(values):
        model.weights = [np.full(2, float(epoch)), np.array(float(epoch))]
        stopper.on_epoch_end(epoch, {monitor: value})
        if model.stop_training:
            break
    stopper.on_train_end()
    return epoch


def test_patience_zero_stops_at_the_first_epoch_without_improvement(model):
    stopper = callbacks.EarlyStopping()
    assert run(stopper, model, [1.0, 0.9, 0.95, 0.5]) == 2
    assert stopper.stopped_epoch == 2 and model.stop_training


def test_patience_zero_keeps_going_while_improving(model):
    stopper = callbacks.EarlyStopping()
    assert run(stopper, model, [3.0, 2.0, 1.0]) == 2
    assert not model.stop_training


def test_patience_counts_epochs_without_improvement(model):
    stopper = callbacks.EarlyStopping(patience=2)
    assert run(stopper, model, [1.0, 0.9, 0.95, 0.96, 0.5]) == 3
    assert stopper.best == 0.9 and stopper.best_epoch == 1


def test_improvement_resets_patience(model):
    stopper = callbacks.EarlyStopping(patience=2)
    assert run(stopper, model, [1.0, 1.1, 0.9, 1.0, 0.8, 0.9, 0.95]) == 6
    assert stopper.best == 0.8


def test_runs_to_the_end_while_improving(model):
    stopper = callbacks.EarlyStopping(patience=1)
    assert run(stopper, model, [5.0, 4.0, 3.0, 2.0]) == 3
    assert not model.stop_training and stopper.stopped_epoch == 0


def test_min_delta_ignores_small_improvements(model):
    stopper = callbacks.EarlyStopping(min_delta=0.1, patience=2)
    assert run(stopper, model, [1.0, 0.95, 0.92, 0.5]) == 2
    assert stopper.best == 1.0


def test_negative_min_delta_is_taken_by_size(model):
    stopper = callbacks.EarlyStopping(min_delta=-0.1, patience=2)
    assert stopper.min_delta == 0.1


def test_auto_mode_maximizes_accuracy(model):
    stopper = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    assert stopper.mode == "max"
    assert run(stopper, model, [0.5, 0.6, 0.55, 0.7], "val_accuracy") == 2
    assert stopper.best == 0.6


def test_explicit_mode_overrides_the_name(model):
    stopper = callbacks.EarlyStopping(monitor="score", mode="max", patience=0)
    assert run(stopper, model, [1.0, 2.0, 1.5], "score") == 2


@pytest.mark.parametrize(
    "name, mode",
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("output_1_loss", "min"),
        ("accuracy", "max"),
        ("acc", "max"),
        ("val_sparse_categorical_accuracy", "max"),
        ("top_k_categorical_accuracy", "max"),
        ("auc", "max"),
        ("val_auc_1", "max"),
        ("precision", "max"),
        ("val_recall", "max"),
        ("f1_score", "max"),
        ("mean_iou", "max"),
        ("mse", "min"),
        ("val_mean_absolute_error", "min"),
        ("categorical_crossentropy", "min"),
    ],
)
def test_auto_mode_from_the_metric_name(name, mode):
    assert _monitor.resolve_mode("X", "auto", name) == mode


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="EarlyStopping: mode must be"):
        callbacks.EarlyStopping(mode="maximum")


def test_negative_patience_is_an_error():
    with pytest.raises(ValueError, match="patience"):
        callbacks.EarlyStopping(patience=-1)


def test_baseline_not_reached_stops_after_patience(model):
    stopper = callbacks.EarlyStopping(baseline=0.5, patience=2)
    # Improving every epoch, but never below the baseline.
    assert run(stopper, model, [0.9, 0.8, 0.7, 0.6]) == 1
    assert stopper.best == 0.8


def test_baseline_beaten_resets_patience(model):
    stopper = callbacks.EarlyStopping(baseline=0.5, patience=2)
    assert run(stopper, model, [0.9, 0.4, 0.45, 0.46, 0.3]) == 3


def test_restore_best_weights_after_stopping(model):
    stopper = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    assert run(stopper, model, [1.0, 0.5, 0.7, 0.8, 0.1]) == 3
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])
    assert float(model.weights[1]) == 1.0


def test_restore_best_weights_without_stopping(model):
    stopper = callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    run(stopper, model, [1.0, 0.5, 0.7])
    assert not model.stop_training
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_no_restore_by_default(model):
    stopper = callbacks.EarlyStopping(patience=2)
    run(stopper, model, [1.0, 0.5, 0.7, 0.8])
    np.testing.assert_array_equal(model.weights[0], [3.0, 3.0])
    assert stopper.best_weights is None


def test_start_from_epoch_skips_the_warm_up(model):
    stopper = callbacks.EarlyStopping(monitor="loss", start_from_epoch=3)
    assert run(stopper, model, [5.0, 6.0, 7.0, 1.0, 2.0, 3.0], "loss") == 4


def test_missing_metric_warns_with_the_available_keys(model):
    stopper = callbacks.EarlyStopping(monitor="val_loss")
    stopper.set_model(model)
    stopper.on_train_begin()
    with pytest.warns(UserWarning, match="'val_loss'.*Available.*accuracy, loss"):
        stopper.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5})
    assert not model.stop_training and stopper.wait == 0


def test_reuse_starts_afresh(model, make_model):
    stopper = callbacks.EarlyStopping(patience=1)
    run(stopper, model, [1.0, 2.0, 3.0])
    assert stopper.stopped_epoch == 1
    again = make_model()
    assert run(stopper, again, [9.0, 8.0, 7.0]) == 2
    assert stopper.best == 7.0 and not again.stop_training


def test_verbose_messages(model, capsys):
    stopper = callbacks.EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    run(stopper, model, [1.0, 0.5, 0.6, 0.7])
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out


def test_quiet_by_default(model, capsys):
    run(callbacks.EarlyStopping(), model, [1.0, 2.0])
    assert capsys.readouterr().out == ""


def test_state_is_json_and_round_trips(model):
    stopper = callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    fresh = stopper.get_state()
    assert fresh == {
        "monitor": "val_loss",
        "wait": 0,
        "best": None,
        "best_epoch": 0,
        "stopped_epoch": 0,
        "has_best_weights": False,
    }
    stopper.set_model(model)
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"val_loss": 0.5})
    stopper.on_epoch_end(1, {"val_loss": 0.7})
    state = json.loads(json.dumps(stopper.get_state()))
    assert state["wait"] == 1 and state["best"] == 0.5
    assert state["has_best_weights"] is True
    other = callbacks.EarlyStopping(patience=3)
    other.set_state(state)
    assert other.get_state() == {**state, "has_best_weights": False}


def test_resumed_run_stops_where_an_uninterrupted_one_does(model, make_model):
    values = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9]
    whole = callbacks.EarlyStopping(patience=3)
    assert run(whole, model, values) == 4

    first = callbacks.EarlyStopping(patience=3)
    first.set_model(make_model())
    first.on_train_begin()
    for epoch in range(3):
        first.on_epoch_end(epoch, {"val_loss": values[epoch]})
    state = json.loads(json.dumps(first.get_state()))

    resumed = callbacks.EarlyStopping(patience=3)
    resumed.set_state(state)
    other = make_model()
    resumed.set_model(other)
    resumed.on_train_begin()  # keeps the restored state
    for epoch in range(3, len(values)):
        resumed.on_epoch_end(epoch, {"val_loss": values[epoch]})
        if other.stop_training:
            break
    assert epoch == 4 and resumed.stopped_epoch == 4
    # Only the first on_train_begin after set_state keeps it.
    resumed.on_train_begin()
    assert resumed.wait == 0 and resumed.best == np.inf


def test_state_for_another_monitor_warns():
    stopper = callbacks.EarlyStopping(monitor="loss")
    state = callbacks.EarlyStopping(monitor="val_loss").get_state()
    with pytest.warns(UserWarning, match="monitor='val_loss'"):
        stopper.set_state(state)
