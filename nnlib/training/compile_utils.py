"""What ``compile`` resolves: the loss (one per output, weighted) and the metrics.

A model with several outputs (a list, tuple or dict of tensors) gets one loss
per output: a list of losses matches the outputs by position, a dict by output
name (outputs without a loss have none), and a single loss applies to every
output, as in Keras 3. Metrics for several outputs are given per output, as a
dict by output name or a list with one entry (a metric, a list of them, or
None) per output; their logs are named ``<output>_<metric>`` for dict outputs.
"""

import numpy as np

from .. import losses as _losses
from .. import metrics as _metrics
from ..engine import nest
from ..engine.tensor import Tensor

__all__ = ["CompiledLoss", "CompiledMetrics"]


def _loss_object(identifier):
    """A loss whose call gives a scalar: a Loss object, or a function wrapped as one."""
    loss = _losses.get(identifier)
    if isinstance(loss, _losses.Loss):
        return loss
    return _losses.LossFunctionWrapper(loss)


def _names(keys):
    return ", ".join(str(k) for k in sorted(keys))


def _check_keys(what, given, outputs):
    """Raises unless every key of the dict ``given`` names an output."""
    unknown = [key for key in given if key not in outputs]
    if unknown:
        raise ValueError(
            f"{what} has the key {unknown[0]!r}, which names no output of the "
            f"model; its outputs are {_names(outputs)}"
        )


def _by_name(what, y, y_pred):
    """``y`` as a dict keyed like the dict ``y_pred``."""
    if isinstance(y, dict):
        missing = [key for key in y_pred if key not in y]
        if missing:
            raise ValueError(
                f"{what} has no entry for the output {missing[0]!r}; the model's "
                f"outputs are {_names(y_pred)}, {what} has {_names(y)}"
            )
        return y
    return dict(zip(sorted(y_pred), nest.flatten(y)))


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
            if isinstance(loss, dict) and isinstance(loss_weights, dict):
                _check_keys("loss_weights", loss_weights, loss)
                loss_weights = {key: loss_weights.get(key, 1.0) for key in loss}
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
        total = None
        for loss, weight, t, p in self._align(y_true, y_pred):
            term = loss(t, p, sample_weight=sample_weight)
            term = term if weight == 1.0 else term * weight
            total = term if total is None else total + term
        return total

    def _align(self, y_true, y_pred):
        """``(loss, weight, target, prediction)`` for each output with a loss."""
        pairs = list(zip(self.losses, self.weights))
        if isinstance(self.structure, dict):
            if not isinstance(y_pred, dict):
                raise TypeError(
                    f"the loss is a dict ({_names(self.structure)}), but the model "
                    f"returns a {type(y_pred).__name__}, not a dict of named outputs"
                )
            _check_keys("the loss dict", self.structure, y_pred)
            trues = _by_name("y", y_true, y_pred)
            keys = sorted(self.structure)  # the order nest.flatten gave the losses
            return [(*pairs[i], trues[k], y_pred[k]) for i, k in enumerate(keys)]
        preds = nest.flatten(y_pred)
        if len(self.losses) == 1:
            if len(preds) == 1:
                return [(*pairs[0], y_true, y_pred)]
            pairs = pairs * len(preds)  # one loss for every output (Keras 3)
        trues = nest.flatten(y_true)
        if not len(trues) == len(preds) == len(pairs):
            raise ValueError(
                f"the model has {len(preds)} outputs and {len(trues)} targets, "
                f"but {len(self.losses)} losses were compiled"
            )
        return [(*pair, t, p) for pair, t, p in zip(pairs, trues, preds)]


class CompiledMetrics:
    """The compiled metrics, updated on numpy values of each batch.

    ``"accuracy"`` (or ``"acc"``) picks the accuracy that fits the loss, as Keras
    does: sparse categorical for ``sparse_categorical_crossentropy``, and so on.
    Every name is checked at compile; how the metrics match several outputs is
    settled by ``build`` on the first batch's predictions.
    """

    def __init__(self, metrics, loss):
        self.spec = metrics
        self.loss = loss
        for identifier in nest.flatten(metrics) if metrics is not None else []:
            if identifier is not None and identifier not in ("accuracy", "acc"):
                _metrics.get(identifier)  # unknown names raise at compile
        self.metrics = []
        self._outputs = None  # [(key or index, prefix, [metric, ...])] once built
        if not isinstance(metrics, dict):
            # A single output's metrics exist at once (most models).
            self.metrics = [
                self._metric(m, self._first_loss())
                for m in nest.flatten(metrics or [])
                if m is not None
            ]

    def _first_loss(self):
        return nest.flatten(self.loss)[0] if self.loss is not None else None

    @staticmethod
    def _metric(identifier, loss):
        if identifier in ("accuracy", "acc"):
            return _metrics.resolve_accuracy(loss, name=identifier)
        return _metrics.get(identifier)

    def _loss_of(self, key, index):
        loss = self.loss
        if isinstance(loss, dict):
            return loss.get(key)
        flat = nest.flatten(loss) if loss is not None else []
        return (
            flat[index] if len(flat) > 1 and index < len(flat) else self._first_loss()
        )

    def build(self, y_pred):
        """Matches the metrics to the outputs of ``y_pred`` (once; cheap after).

        Raises:
            ValueError: For a model with several outputs, metrics that are
                neither a dict by output name nor one entry per output.
        """
        if self._outputs is not None:
            return
        spec = self.spec
        preds = nest.flatten(y_pred)
        if len(preds) == 1 and not isinstance(spec, dict):
            self._outputs = [(None, "", self.metrics)]
            return
        keyed = isinstance(y_pred, dict)
        keys = sorted(y_pred) if keyed else list(range(len(preds)))
        if spec is None:
            entries = [None] * len(keys)
        elif isinstance(spec, dict):
            if not keyed:
                raise TypeError(
                    "metrics is a dict by output name, but the model returns a "
                    f"{type(y_pred).__name__} of {len(preds)} outputs, not a dict"
                )
            _check_keys("metrics", spec, y_pred)
            entries = [spec.get(key) for key in keys]
        else:
            entries = list(spec) if isinstance(spec, (list, tuple)) else [spec]
            if len(entries) != len(keys):
                raise ValueError(
                    f"the model has {len(keys)} outputs, but metrics has "
                    f"{len(entries)} entries: give one entry (a metric, a list of "
                    "metrics, or None) per output, or a dict by output name; got "
                    f"metrics={spec!r}"
                )
        outputs = []
        for index, (key, entry) in enumerate(zip(keys, entries)):
            found = entry if isinstance(entry, (list, tuple)) else [entry]
            loss = self._loss_of(key, index)
            made = [self._metric(m, loss) for m in found if m is not None]
            outputs.append((key, f"{key}_" if keyed else "", made))
        self._outputs = outputs
        self.metrics = [m for _, _, made in outputs for m in made]

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.build(y_pred)
        if len(self._outputs) == 1 and self._outputs[0][0] is None:
            trues = [y_true]
            preds = [y_pred]
        elif isinstance(y_pred, dict):
            trues = _by_name("y", y_true, y_pred) if y_true is not None else {}
            preds = y_pred
        else:
            trues = nest.flatten(y_true) if y_true is not None else []
            preds = nest.flatten(y_pred)
        for key, _, made in self._outputs:
            k = 0 if key is None else key
            t = np.asarray(trues[k]) if y_true is not None else None
            p = preds[k] if isinstance(preds[k], Tensor) else np.asarray(preds[k])
            for metric in made:
                metric.update_state(t, p, sample_weight=sample_weight)

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def results(self):
        """``{name: value}``; names made unique as Keras does (``mae``, ``mae_1``)."""
        results = {}
        for _, prefix, made in self._outputs or [(None, "", self.metrics)]:
            for metric in made:
                name = base = f"{prefix}{metric.name}"
                count = 0
                while name in results:
                    count += 1
                    name = f"{base}_{count}"
                results[name] = float(metric.result())
        return results
