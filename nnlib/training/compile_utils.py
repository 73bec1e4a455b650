"""What ``compile`` resolves: the loss (one per output, weighted) and the metrics."""

import numpy as np

from .. import losses as _losses
from .. import metrics as _metrics
from ..engine import nest

__all__ = ["CompiledLoss", "CompiledMetrics"]


def _loss_object(identifier):
    """A loss whose call gives a scalar: a Loss object, or a function wrapped as one."""
    loss = _losses.get(identifier)
    if isinstance(loss, _losses.Loss):
        return loss
    return _losses.LossFunctionWrapper(loss)


class CompiledLoss:
    """The model's loss: one loss per output, summed with ``loss_weights``.

    Args:
        loss: A loss (name, function or object), or a list/dict of them, one per
            output of the model.
        loss_weights: Optional list/dict of floats, the same structure.
    """

    def __init__(self, loss, loss_weights=None):
        if loss is None:
            raise ValueError(
                "compile() needs a loss, such as loss='sparse_categorical_crossentropy'"
            )
        self.structure = loss
        self.losses = [_loss_object(item) for item in nest.flatten(loss)]
        if loss_weights is None:
            self.weights = [1.0] * len(self.losses)
        else:
            self.weights = [float(w) for w in nest.flatten(loss_weights)]
            if len(self.weights) != len(self.losses):
                raise ValueError(
                    f"got {len(self.weights)} loss_weights for "
                    f"{len(self.losses)} losses"
                )

    @property
    def names(self):
        return [getattr(loss, "name", "loss") for loss in self.losses]

    def __call__(self, y_true, y_pred, sample_weight=None):
        if y_true is None:
            raise ValueError(
                f"the loss '{self.names[0]}' needs targets (y), got None: pass y "
                "to fit/evaluate/train_on_batch, or a Dataset yielding (x, y)"
            )
        trues, preds = self._align(y_true, y_pred)
        total = None
        for loss, weight, t, p in zip(self.losses, self.weights, trues, preds):
            term = loss(t, p, sample_weight=sample_weight)
            term = term if weight == 1.0 else term * weight
            total = term if total is None else total + term
        return total

    def _align(self, y_true, y_pred):
        if len(self.losses) == 1:
            return [y_true], [y_pred]
        trues, preds = nest.flatten(y_true), nest.flatten(y_pred)
        if not len(trues) == len(preds) == len(self.losses):
            raise ValueError(
                f"the model has {len(preds)} outputs and {len(trues)} targets, "
                f"but {len(self.losses)} losses were compiled"
            )
        return trues, preds


class CompiledMetrics:
    """The compiled metrics, updated on numpy values of each batch.

    ``"accuracy"`` (or ``"acc"``) picks the accuracy that fits the loss, as Keras
    does: sparse categorical for ``sparse_categorical_crossentropy``, and so on.
    """

    def __init__(self, metrics, loss):
        self.metrics = []
        first_loss = nest.flatten(loss)[0] if loss is not None else None
        for identifier in nest.flatten(metrics) if metrics is not None else []:
            if identifier in ("accuracy", "acc"):
                metric = _metrics.resolve_accuracy(first_loss, name=identifier)
            else:
                metric = _metrics.get(identifier)
            self.metrics.append(metric)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true) if y_true is not None else None
        y_pred = np.asarray(y_pred)
        for metric in self.metrics:
            metric.update_state(y_true, y_pred, sample_weight=sample_weight)

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def results(self):
        return {metric.name: float(metric.result()) for metric in self.metrics}
