"""Metrics with Keras's names and semantics, evaluated in numpy.

A metric is a stateful object: ``update_state(y_true, y_pred, sample_weight)``
adds a batch, ``result()`` reads the value over every batch since the last
``reset_state()``. Metrics read Tensors and numpy arrays alike, compute in
numpy (nothing is recorded on a tape) and return Python floats (``Precision``
and ``Recall`` with several thresholds return an array).

``get`` finds a metric by the names ``compile(metrics=[...])`` accepts;
``"accuracy"`` there means the accuracy that fits the loss, which
``resolve_accuracy`` picks as Keras does.

Examples:
    >>> import nnlib.metrics as metrics
    >>> m = metrics.get("sparse_categorical_accuracy")
    >>> m.update_state([1, 0], [[0.2, 0.8], [0.3, 0.7]])
    >>> m.result()
    0.5
"""

import numpy as np

from .. import losses as _losses
from .._lookup import unknown_name as _unknown_name
from .accuracy import *
from .accuracy import __all__ as _accuracy_all
from .accuracy import _one_hot_shape
from .auc import AUC
from .base import Mean, MeanMetricWrapper, Metric, Sum, values_of
from .confusion import Precision, Recall
from .regression import MeanAbsoluteError, MeanSquaredError
from .regression import mean_absolute_error as _mean_absolute_error
from .regression import mean_squared_error as _mean_squared_error

__all__ = [
    *_accuracy_all,
    "AUC",
    "Mean",
    "MeanAbsoluteError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "Metric",
    "Precision",
    "Recall",
    "Sum",
    "deserialize",
    "function",
    "get",
    "resolve_accuracy",
    "serialize",
]

# The names compile(metrics=[...]) accepts; the metric is named as written.
_BY_NAME = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "MSE": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError,
    "auc": AUC,
    "precision": Precision,
    "recall": Recall,
}
_CLASSES = {
    cls.__name__: cls
    for cls in (
        AUC,
        Accuracy,
        BinaryAccuracy,
        CategoricalAccuracy,
        Mean,
        MeanAbsoluteError,
        MeanSquaredError,
        Precision,
        Recall,
        SparseCategoricalAccuracy,
        SparseTopKCategoricalAccuracy,
        Sum,
        TopKCategoricalAccuracy,
    )
}
# Loss functions are metrics too (their mean over the samples), by their names.
_LOSS_NAMES = [n for n in _losses._FUNCTIONS if n not in _BY_NAME]


def _accuracy_for_shapes(y_true, y_pred):
    """Keras's choice for "accuracy" by the shapes: binary when ``y_pred`` has one
    column, sparse when ``y_true`` has a rank less (or a last axis of 1)."""
    y_true, y_pred = values_of(y_true), values_of(y_pred)
    if y_pred.ndim <= 1 or y_pred.shape[-1] == 1:
        return binary_accuracy(y_true, y_pred)
    if y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
        return sparse_categorical_accuracy(y_true, y_pred)
    _one_hot_shape(y_true, y_pred, "categorical_accuracy")
    return categorical_accuracy(y_true, y_pred)


_FUNCTIONS = {
    "accuracy": accuracy,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "mean_squared_error": _mean_squared_error,
    "mean_absolute_error": _mean_absolute_error,
    "_accuracy_for_shapes": _accuracy_for_shapes,
}


def function(name):
    """Returns the metric function (or loss function) called ``name``.

    ``MeanMetricWrapper.from_config`` uses it to find a wrapped function again.

    Raises:
        ValueError: For an unknown name, with the closest valid one.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.function("binary_accuracy")([1., 0.], [0.7, 0.7])
        array([1., 0.], dtype=float32)
    """
    if name in _FUNCTIONS:
        return _FUNCTIONS[name]
    if name in _losses._FUNCTIONS:
        return _losses._FUNCTIONS[name]
    raise _unknown_name("metric function", name, [*_FUNCTIONS, *_losses._FUNCTIONS])


def get(identifier):
    """Returns the metric object that ``identifier`` names.

    Args:
        identifier: A name as ``compile`` takes it (``"mse"``, ``"mae"``,
            ``"auc"``, ``"precision"``, ``"recall"``, ``"binary_accuracy"``,
            ``"top_k_categorical_accuracy"``, ..., or a loss function's name such
            as ``"binary_crossentropy"``), giving a new metric named as written;
            a class name (``"AUC"``), giving one with its defaults; a
            ``{"class_name": ..., "config": ...}`` dict; a ``Metric`` (returned
            as is) or ``Metric`` subclass; a function ``fn(y_true, y_pred)``,
            wrapped in a ``MeanMetricWrapper``; or None. Note that
            ``"accuracy"`` here is exact equality (``Accuracy``), as in Keras:
            ``compile`` resolves it first with ``resolve_accuracy``.

    Returns:
        A ``Metric``, or None for None.

    Raises:
        ValueError: For an unknown name (with the closest valid one) or an
            identifier of another kind.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.get("mae")
        MeanAbsoluteError(name='mae')
        >>> metrics.get("AUC").name
        'auc'
        >>> metrics.get("precison")
        Traceback (most recent call last):
        ...
        ValueError: unknown metric 'precison'. Did you mean 'precision'? ...
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        if identifier in _LOSS_NAMES:
            return MeanMetricWrapper(_losses._FUNCTIONS[identifier], name=identifier)
        names = [*_BY_NAME, *_LOSS_NAMES, *_CLASSES]
        raise _unknown_name("metric", identifier, names)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(
        f"could not interpret metric identifier {identifier!r}: expected a name, a "
        "Metric, a function, a config dict or None"
    )


_BINARY_LOSSES = {"binary_crossentropy", "hinge", "squared_hinge"}
_SPARSE_LOSSES = {"sparse_categorical_crossentropy", "sparse_softmax_cross_entropy"}
_CATEGORICAL_LOSSES = {"categorical_crossentropy", "kl_divergence", "categorical_hinge"}


def _loss_key(loss):
    """The loss function's name behind ``loss``, and whether it takes logits."""
    if isinstance(loss, str):
        loss = _losses._CLASSES[loss]() if loss in _losses._CLASSES else loss
    elif isinstance(loss, type) and issubclass(loss, _losses.Loss):
        loss = loss()
    if isinstance(loss, _losses.LossFunctionWrapper):
        from_logits = bool(loss._fn_kwargs.get("from_logits", False))
        return getattr(loss.fn, "__name__", None), from_logits
    if isinstance(loss, str):
        fn = _losses._FUNCTIONS.get(loss)
        return (fn.__name__ if fn else loss), False
    return getattr(loss, "__name__", None), False


def _ignore_class(loss):
    """The ``ignore_class`` of a sparse loss object (padding labels), or None."""
    kwargs = getattr(loss, "_fn_kwargs", None)
    return kwargs.get("ignore_class") if isinstance(kwargs, dict) else None


def resolve_accuracy(loss=None, name="accuracy"):
    """The accuracy metric that ``compile(metrics=["accuracy"])`` means for ``loss``.

    As Keras does: ``BinaryAccuracy`` for binary cross-entropy (and hinge),
    ``SparseCategoricalAccuracy`` for sparse categorical cross-entropy (with
    the loss's ``ignore_class``, so padding labels are left out of both),
    ``CategoricalAccuracy`` for categorical cross-entropy (and KL divergence).
    For a binary loss with ``from_logits=True`` the threshold is 0 (a logit of 0
    is a probability of 0.5; Keras keeps 0.5 there, which is wrong for logits).
    For any other loss, the choice is made on each batch from the shapes, as
    Keras 3 does: binary when ``y_pred`` has one column, sparse when ``y_true``
    has a rank less or a last axis of 1, categorical otherwise.

    Args:
        loss: The compiled loss: a name, a function, a ``Loss`` object or
            class, or None.
        name: The metric's name in the logs (what the user wrote: "accuracy"
            or "acc").

    Returns:
        A new ``Metric``.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.resolve_accuracy("sparse_categorical_crossentropy")
        SparseCategoricalAccuracy(name='accuracy')
        >>> metrics.resolve_accuracy(nnlib.losses.BinaryCrossentropy(from_logits=True))
        BinaryAccuracy(name='accuracy', threshold=0.0)
    """
    key, from_logits = _loss_key(loss)
    if key in _BINARY_LOSSES:
        return BinaryAccuracy(name=name, threshold=0.0 if from_logits else 0.5)
    if key in _SPARSE_LOSSES:
        return SparseCategoricalAccuracy(name=name, ignore_class=_ignore_class(loss))
    if key in _CATEGORICAL_LOSSES:
        return CategoricalAccuracy(name=name)
    return MeanMetricWrapper(_accuracy_for_shapes, name=name)


def serialize(metric):
    """Returns ``{"class_name": ..., "config": ...}`` for a metric.

    Raises:
        TypeError: For anything that is not a ``Metric``.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.serialize(metrics.TopKCategoricalAccuracy(k=3))
        {'class_name': 'TopKCategoricalAccuracy', 'config': {'name': 'top_k_categorical_accuracy', 'k': 3}}
    """
    if not isinstance(metric, Metric):
        raise TypeError(f"cannot serialize {metric!r}: it is not a Metric")
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config):
    """Rebuilds a metric from ``serialize``'s dict.

    Raises:
        ValueError: For an unknown class name or a dict without ``class_name``.

    Examples:
        >>> import nnlib.metrics as metrics
        >>> metrics.deserialize({"class_name": "AUC", "config": {"curve": "PR"}}).curve
        'PR'
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a metric config needs a 'class_name' key, got {config!r}")
    classes = {**_CLASSES, "MeanMetricWrapper": MeanMetricWrapper}
    name = config["class_name"]
    if name not in classes:
        raise _unknown_name("metric class", name, list(classes))
    return classes[name].from_config(config.get("config") or {})
