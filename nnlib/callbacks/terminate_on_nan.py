"""``TerminateOnNaN``: stop ``fit`` as soon as the loss is NaN or infinite."""

from .callback import Callback, is_finite_number, to_python

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stops training at the first batch whose loss is NaN or infinite.

    It prints ``Batch 12: invalid loss, terminating training`` and sets
    ``model.stop_training``; the fit loop then ends after this batch.

    Examples:
        >>> import types
        >>> from nnlib import callbacks
        >>> model = types.SimpleNamespace(stop_training=False)
        >>> guard = callbacks.TerminateOnNaN()
        >>> guard.set_model(model)
        >>> guard.on_train_batch_end(0, {"loss": 0.3})
        >>> guard.on_train_batch_end(1, {"loss": float("nan")})
        Batch 1: invalid loss, terminating training
        >>> model.stop_training
        True
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or not isinstance(to_python(loss), float):
            return
        if not is_finite_number(loss):
            print(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True
