"""The built-in steps: ``train_step``, ``test_step`` and ``predict_step``.

Each is split in two (see ``_traced``): the tensor work (``_train_tensors``:
forward, compiled loss plus regularization, gradients, the optimizer's
update), which ``compile(jit_compile=True)`` traces, and the metrics and logs,
updated eagerly from what the tensor work returns. ``train_step`` is exactly
the hand-written loop; subclasses override a step for custom training.
"""

import numpy as np

from .._warn import warn
from ..engine import nest
from ..engine.gradient_tape import GradientTape
from . import _traced, data_adapter

__all__ = ["Steps"]


class Steps:
    """The steps half of ``Trainer`` (not used alone).

    Examples:
        >>> model = nnlib.Sequential([nnlib.layers.Dense(1)], name="steps_demo")
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> logs = model.train_step((np.ones((2, 3)), np.zeros((2, 1))))
        >>> sorted(logs)
        ['loss']
    """

    _untrained_warned = False  # set once per fit: see _train_nothing

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        """The compiled loss plus the model's regularization losses, as a Tensor."""
        loss = self.compiled_loss(y, y_pred, sample_weight)
        for term in self.losses:
            loss = loss + term
        return loss

    def train_step(self, data):
        """One optimisation step on a batch ``(x, y, sample_weight)``; returns the logs.

        The tensor work is ``_train_tensors`` (traced with ``jit_compile``);
        the metrics are updated from its results, eagerly.
        """
        x, y, sample_weight = data_adapter.unpack(data)
        step = self._tensor_step("train")
        loss, y_pred, masks, steps = step(x, y, sample_weight, self.trainable_variables)
        if not steps:
            self._train_nothing()
        y_pred = _traced.with_masks(y_pred, masks)
        return self._update_metrics(loss, y, y_pred, sample_weight)

    def _train_tensors(self, x, y, sample_weight, trainable):
        """Forward, loss, gradients and the optimizer's update, as by hand.

        ``trainable`` (the model's trainable variables) is an argument so
        that freezing a layer traces anew. Returns the loss, the outputs,
        their masks and how many steps the optimizer took: 1, or 0 when
        nothing can train (see ``_train_nothing``).
        """
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        self.compiled_metrics.build(y_pred)  # metrics that fit no output: no step
        variables = tape.watched_variables()
        if not (variables or trainable):
            return loss, y_pred, _traced.masks_of(y_pred), 0
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return loss, y_pred, _traced.masks_of(y_pred), 1

    def _train_nothing(self):
        """True, with a warning (once per fit), when no weight can train.

        As Keras, which warns "The model does not have any trainable weights."
        and runs the step without an update: a frozen model evaluated through
        ``fit`` is common. A model with trainable weights that the loss does
        not reach still gets the optimizer's error.
        """
        if self.trainable_variables:
            return False
        if not self._untrained_warned:
            object.__setattr__(self, "_untrained_warned", True)
            warn(
                f"model '{self.name}' has no trainable weights (all frozen, or "
                "none made): training computes the loss and metrics and runs the "
                "callbacks, but nothing will be trained (the optimizer takes no "
                "step)"
            )
        return True

    def test_step(self, data):
        """Loss and metrics on a batch in inference mode; returns the logs."""
        x, y, sample_weight = data_adapter.unpack(data)
        loss, y_pred, masks = self._tensor_step("test")(x, y, sample_weight)
        y_pred = _traced.with_masks(y_pred, masks)
        return self._update_metrics(loss, y, y_pred, sample_weight)

    def _test_tensors(self, x, y, sample_weight):
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        return loss, y_pred, _traced.masks_of(y_pred)

    def predict_step(self, data):
        """The model's outputs on a batch, in inference mode."""
        x, _, _ = data_adapter.unpack(data)
        return self._tensor_step("predict")(x)

    def _predict_tensors(self, x):
        return self(x, training=False)

    def _update_metrics(self, loss, y, y_pred, sample_weight):
        batch = len(np.asarray(nest.flatten(y_pred)[0]))
        self._loss_tracker.update_state(float(loss), sample_weight=batch)
        if y is not None:
            self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return {
            "loss": float(self._loss_tracker.result()),
            **self.compiled_metrics.results(),
        }

    def _reset_metrics(self):
        self._loss_tracker.reset_state()
        self.compiled_metrics.reset_state()
