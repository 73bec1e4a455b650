"""The body of ``fit``: epochs of ``train_step`` with callbacks and validation."""

import numpy as np

from .. import callbacks as _callbacks
from ..engine import nest
from . import data_adapter
from .trainer import _class_weights, warn_nonfinite

__all__ = ["run_fit"]


def run_fit(
    model,
    x,
    y,
    batch_size,
    epochs,
    verbose,
    callbacks,
    validation_split,
    validation_data,
    shuffle,
    class_weight,
    sample_weight,
    initial_epoch,
    steps_per_epoch,
    check_finite,
):
    """Runs ``fit`` for ``model`` (see ``Trainer.fit`` for the arguments)."""
    if validation_split:
        (x, y, sample_weight), validation_data = data_adapter.split_validation(
            x, y, sample_weight, validation_split
        )
    train = data_adapter.adapt(
        x, y, sample_weight, batch_size, shuffle, steps_per_epoch
    )
    val = (
        None
        if validation_data is None
        else _validation_batches(validation_data, batch_size)
    )
    callback_list = _callbacks.CallbackList(
        callbacks,
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=train.steps,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    # BackupAndRestore found an interrupted run: go on after its last epoch.
    initial_epoch = max(initial_epoch, model.__dict__.pop("_resume_at_epoch", 0))
    logs, nan_seen = {}, False
    for epoch in range(initial_epoch, epochs):
        model._reset_metrics()
        callback_list.on_epoch_begin(epoch)
        logs = {}
        for step, (bx, by, bw) in enumerate(train):
            if check_finite:
                _check_finite(bx, epoch, step)
            bw = _class_weights(by, bw, class_weight)
            callback_list.on_train_batch_begin(step)
            logs = model.train_step((bx, by, bw))
            callback_list.on_train_batch_end(step, logs)
            nan_seen = nan_seen or warn_nonfinite(logs, epoch, step)
            if model.stop_training:
                break
        if not logs:
            raise ValueError(
                "the training data yielded no batch: it is empty (or "
                "steps_per_epoch is 0)"
            )
        epoch_logs = dict(logs)
        if val is not None:
            val_logs = model._evaluate_batches(
                val, _callbacks.CallbackList(model=model)
            )
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
        callback_list.on_epoch_end(epoch, epoch_logs)
        logs = epoch_logs
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return callback_list.history


def _validation_batches(validation_data, batch_size):
    if isinstance(validation_data, tuple):
        vx, vy, vw = data_adapter.unpack(validation_data)
        return data_adapter.adapt(vx, vy, vw, batch_size)
    return data_adapter.adapt(validation_data, batch_size=batch_size)


def _check_finite(x, epoch, step):
    for leaf in nest.flatten(x):
        array = np.asarray(leaf)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            rows, cols = np.nonzero(~np.isfinite(array.reshape(len(array), -1)))
            raise FloatingPointError(
                f"batch {step + 1} of epoch {epoch + 1} has a non-finite input at "
                f"row {rows[0]}, column {cols[0]} (of the flattened features)"
            )
