"""What ``EarlyStopping`` and ``ReduceLROnPlateau`` share: watching one metric."""

import math

from .._warn import warn
from .callback import to_python

# Metric names (tokens between underscores) that grow as the model improves.
_MAXIMIZED = {"auc", "precision", "recall", "f1", "fbeta", "iou", "r2"}


def resolve_mode(owner, mode, monitor):
    """``"min"`` or ``"max"``: ``mode``, or for ``"auto"`` inferred from the name.

    ``"auto"`` strips a ``val_`` prefix; a name that is ``loss`` or ends in
    ``_loss`` is minimized; one containing ``acc`` or ``auc`` (as Keras decides),
    or with a token ``precision``, ``recall``, ``f1``, ``fbeta``, ``iou``, ``r2``
    is maximized; any other name (``mse``, ``mae``, ``crossentropy``...) is
    minimized. Pass ``mode`` explicitly for a metric this rule gets wrong.
    """
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return "min"
    if "acc" in name or "auc" in name or _MAXIMIZED & set(name.split("_")):
        return "max"
    return "min"


def worst(mode):
    """The starting ``best``: a value every real value improves on."""
    return math.inf if mode == "min" else -math.inf


def improved(current, reference, mode, min_delta):
    """Whether ``current`` beats ``reference`` by more than ``min_delta``."""
    if mode == "min":
        return current < reference - min_delta
    return current > reference + min_delta


def monitor_value(owner, monitor, logs):
    """``logs[monitor]`` as a float, or ``None`` with a warning naming the keys."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warn_missing(owner, monitor, logs)
        return None
    return to_python(value)


def warn_missing(owner, monitor, logs, lead=""):
    """Warns that ``monitor`` is not in ``logs``, naming the keys that are."""
    available = ", ".join(sorted(logs or {})) or "none"
    warn(
        f"{lead}{owner} is conditioned on metric {monitor!r}, which is not in the "
        f"logs. Available metrics are: {available}. Pass one of them as "
        "monitor= (validation metrics need validation data in fit)."
    )


def best_to_state(best):
    """``best`` for a JSON state: ``None`` while nothing has been seen (infinite)."""
    return None if math.isinf(best) else float(best)


def best_from_state(best, mode):
    """The inverse of ``best_to_state``."""
    return worst(mode) if best is None else float(best)
