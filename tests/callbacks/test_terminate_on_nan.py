"""TerminateOnNaN stops at the first non-finite loss."""

import numpy as np
import pytest

from nnlib import callbacks


@pytest.mark.parametrize(
    "bad", [float("nan"), float("inf"), -np.inf, np.float32("nan")]
)
def test_non_finite_loss_stops_training(model, capsys, bad):
    guard = callbacks.TerminateOnNaN()
    guard.set_model(model)
    guard.on_train_batch_end(11, {"loss": 0.5})
    assert not model.stop_training
    guard.on_train_batch_end(12, {"loss": bad})
    assert model.stop_training
    assert capsys.readouterr().out == "Batch 12: invalid loss, terminating training\n"


def test_finite_or_missing_loss_is_left_alone(model, capsys):
    guard = callbacks.TerminateOnNaN()
    guard.set_model(model)
    guard.on_train_batch_end(0, {"loss": np.float32(1e30)})
    guard.on_train_batch_end(1, {"accuracy": float("nan")})
    guard.on_train_batch_end(2, None)
    guard.on_epoch_end(0, {"loss": float("nan")})
    assert not model.stop_training
    assert capsys.readouterr().out == ""


def test_through_a_callback_list(model):
    cbs = callbacks.CallbackList([callbacks.TerminateOnNaN()], model=model)
    cbs.on_train_batch_end(0, {"loss": np.array(np.nan)})
    assert model.stop_training
