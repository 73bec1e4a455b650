"""What ``fit``, ``evaluate`` and ``predict`` do around each step: adapting the
data, class weights, outputs as arrays, and the warnings about a step's logs
(a loss turning non-finite) and about data that ran out before ``steps``."""

import math

import numpy as np

from .._warn import warn
from ..engine import nest
from . import data_adapter

__all__ = [
    "adapted",
    "as_arrays",
    "class_weights",
    "scalar_or_list",
    "warn_nonfinite",
    "warn_ran_out",
]


def adapted(prefix, x, y, sample_weight, batch_size, shuffle=False, steps=None):
    """``data_adapter.adapt``, its errors prefixed with the call they are about."""
    try:
        return data_adapter.adapt(x, y, sample_weight, batch_size, shuffle, steps)
    except ValueError as error:
        raise ValueError(f"{prefix}{error}") from None


def as_arrays(outputs):
    """The model's outputs as numpy arrays, in their structure (dict, tuple...)."""
    return nest.pack_as(outputs, [np.asarray(o) for o in nest.flatten(outputs)])


def warn_ran_out(batches, owner):
    """Warns when ``steps`` asked for more batches than the data had."""
    if getattr(batches, "ran_out", None) is not None:
        warn(batches.ran_out_message(owner))


def scalar_or_list(logs):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def class_weights(y, sample_weight, class_weight):
    """Per-sample weights from ``class_weight`` (times any given sample weights)."""
    if class_weight is None:
        return sample_weight
    labels = np.asarray(y)
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(-1)
    labels = labels.reshape(len(labels), -1)[:, 0].astype(np.int64)
    missing = set(np.unique(labels).tolist()) - set(class_weight)
    if missing:
        raise ValueError(f"class_weight has no weight for classes {sorted(missing)}")
    weights = np.array([class_weight[c] for c in labels.tolist()], np.float32)
    return weights if sample_weight is None else weights * np.asarray(sample_weight)


def _nonfinite(value):
    return isinstance(value, float) and not math.isfinite(value)


def warn_nonfinite(logs, epoch, step):
    """Warns once when the loss stops being finite, saying where."""
    if _nonfinite(logs.get("loss")):
        warn(
            f"loss became {logs['loss']} at epoch {epoch + 1}, step {step + 1}",
            RuntimeWarning,
        )
        return True
    return False
