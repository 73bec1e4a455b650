"""The body of ``fit``: epochs of ``train_step`` with callbacks and validation."""

import numpy as np

from .. import callbacks as _callbacks
from .._warn import warn
from ..engine import nest
from . import _checks, _data_checks, data_adapter
from ._steps import adapted, class_weights, warn_nonfinite

__all__ = ["run_fit"]


def run_fit(
    model,
    x,
    y,
    *,
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
    """Runs ``fit`` for ``model`` (see ``Trainer.fit`` for the arguments, which
    come by keyword).

    Everything that can be checked is checked before the first step (and before
    any callback runs): the arguments, the data's types and shapes, the labels'
    range for a sparse loss, non-finite inputs with ``check_finite``.
    """
    epochs, initial_epoch = _checks.fit_arguments(
        epochs, initial_epoch, shuffle, check_finite, validation_split, class_weight
    )
    verbose = _checks.verbose(verbose, "fit")
    batch_size = _checks.batch_size(batch_size, "fit")
    steps_per_epoch = _checks.steps(steps_per_epoch, "steps_per_epoch", "fit")
    arrays = not _checks.is_dataset(x)
    if arrays:
        x = _checks.input_data(model, x, "fit")
        y = _checks.target_data(model, y, "fit", "train_step")
    else:
        _checks.dataset_targets(model, x, "fit", "train_step")
    if validation_split:
        (x, y, sample_weight), validation_data = data_adapter.split_validation(
            x, y, sample_weight, validation_split
        )
    train = adapted("fit: ", x, y, sample_weight, batch_size, shuffle, steps_per_epoch)
    if arrays:
        _data_checks.check_labels(model, x, y, "fit")
        if check_finite:
            _data_checks.check_finite(x, "fit")
    val = _validation_batches(
        model, validation_data, batch_size, check_finite, x if arrays else None, y
    )
    model._warn_custom_steps("train_step", *(() if val is None else ("test_step",)))
    per_batch_finite = check_finite and not arrays  # arrays were scanned above
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
    object.__setattr__(model, "_untrained_warned", False)  # warn once per fit
    callback_list.on_train_begin()
    # A callback that restored an interrupted run (BackupAndRestore) goes on there.
    resume_epoch = callback_list.resume_epoch
    if resume_epoch is not None:
        initial_epoch = max(initial_epoch, resume_epoch)
    logs, nan_seen = {}, False
    for epoch in range(initial_epoch, epochs):
        model._reset_metrics()
        callback_list.on_epoch_begin(epoch)
        logs = {}
        for step, (bx, by, bw) in enumerate(train):
            if per_batch_finite:
                _check_finite(bx, epoch, step)
            bw = class_weights(by, bw, class_weight)
            callback_list.on_train_batch_begin(step)
            logs = model.train_step((bx, by, bw))
            callback_list.on_train_batch_end(step, logs)
            nan_seen = nan_seen or warn_nonfinite(logs, epoch, step)
            if model.stop_training:
                break
        if getattr(train, "ran_out", None) is not None:
            warn(train.ran_out_message("fit", epoch))
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


def _validation_batches(model, data, batch_size, check_finite, x, y):
    """Batches of ``validation_data``, checked now rather than after epoch 1.

    ``x`` and ``y`` are the training arrays (``x`` None for a Dataset), whose
    per-sample shapes the validation arrays must share.
    """
    if data is None:
        return None
    if _checks.is_dataset(data):
        _checks.dataset_targets(model, data, "fit", "test_step")
        return data_adapter.adapt(data, batch_size=batch_size)
    if isinstance(data, list) and len(data) in (2, 3):
        data = tuple(data)  # [x_val, y_val], as Keras accepts
    if not isinstance(data, tuple) or len(data) not in (2, 3):
        got = (
            f"a tuple of {len(data)}"
            if isinstance(data, tuple)
            else type(data).__name__
        )
        raise ValueError(
            "fit: validation_data must be (x, y) or (x, y, sample_weight), or a "
            f"Dataset yielding them; got {got}"
        )
    vx, vy, vw = data_adapter.unpack(data)
    vx = _checks.input_data(model, vx, "fit", "validation_data x")
    vy = _checks.target_data(model, vy, "fit", "test_step", "validation_data y")
    if x is not None:
        _data_checks.check_sample_shapes(x, vx, "fit", "x")
        _data_checks.check_sample_shapes(y, vy, "fit", "y")
    batches = adapted("fit: validation_data: ", vx, vy, vw, batch_size)
    _data_checks.check_labels(model, vx, vy, "fit", "validation_data y")
    if check_finite:
        _data_checks.check_finite(vx, "fit", "validation_data x")
    return batches


def _check_finite(x, epoch, step):
    for leaf in nest.flatten(x):
        array = np.asarray(leaf)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            rows, cols = np.nonzero(~np.isfinite(array.reshape(len(array), -1)))
            raise FloatingPointError(
                f"batch {step + 1} of epoch {epoch + 1} has a non-finite input at "
                f"row {rows[0]}, column {cols[0]} (of the flattened features)"
            )
