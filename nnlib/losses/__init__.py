"""Losses with Keras's names and semantics, built from differentiable nnlib ops.

Two forms, as in Keras:

- functions (``sparse_categorical_crossentropy``, ``mean_squared_error``, ...)
  return one loss per example: the class axis or the last axis is reduced;
- classes (``SparseCategoricalCrossentropy``, ``MeanSquaredError``, ...) apply
  ``sample_weight`` and a reduction (``"sum_over_batch_size"``, alias
  ``"mean"``; ``"sum"``; ``"none"``) and have a config.

``sparse_softmax_cross_entropy(labels, logits)`` is the scalar a hand-written
training loop minimizes. ``get`` finds a loss by name, as ``compile`` does.
Losses define no gradients: they compose ops that do.

Bad input raises before anything is computed: a label outside
``[0, num_classes)``, one-hot targets of the wrong width (or class ids given to
``categorical_crossentropy``), and ``y_true``/``y_pred`` shapes that differ
other than by Keras's trailing axis of size 1.

Examples:
    >>> import nnlib.losses as losses
    >>> losses.get("sparse_categorical_crossentropy")([2], [[0.1, 0.2, 0.7]])
    nnlib.Tensor([0.3567], shape=(1,), dtype=float32)
"""

from .._lookup import unknown_name as _unknown_name
from .base import REDUCTIONS, Loss, LossFunctionWrapper
from .classes import *
from .classes import __all__ as _classes_all
from .probabilistic import *
from .probabilistic import __all__ as _probabilistic_all
from .regression import *
from .regression import __all__ as _regression_all

# Keras's aliases.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

__all__ = [
    *_classes_all,
    *_probabilistic_all,
    *_regression_all,
    "KLD",
    "MAE",
    "MSE",
    "REDUCTIONS",
    "Loss",
    "LossFunctionWrapper",
    "deserialize",
    "get",
    "kld",
    "kullback_leibler_divergence",
    "logcosh",
    "mae",
    "mse",
    "serialize",
]

_FUNCTIONS = {
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "huber": huber,
    "log_cosh": log_cosh,
    "kl_divergence": kl_divergence,
    "hinge": hinge,
    "cosine_similarity": cosine_similarity,
    "mse": mse,
    "MSE": mse,
    "mae": mae,
    "MAE": mae,
    "kld": kld,
    "KLD": kld,
    "kullback_leibler_divergence": kl_divergence,
    "logcosh": log_cosh,
}
_CLASSES = {
    cls.__name__: cls
    for cls in (
        SparseCategoricalCrossentropy,
        CategoricalCrossentropy,
        BinaryCrossentropy,
        MeanSquaredError,
        MeanAbsoluteError,
        Huber,
        LogCosh,
        KLDivergence,
        Hinge,
        CosineSimilarity,
    )
}
_NAME_OF = {}
for _name, _fn in _FUNCTIONS.items():
    _NAME_OF.setdefault(_fn, _name)  # the first (full) name wins
del _name, _fn


def get(identifier):
    """Returns the loss that ``identifier`` names, as ``compile(loss=...)`` does.

    Args:
        identifier: A function name (``"sparse_categorical_crossentropy"``,
            ``"mse"``, ``"mae"``, ...) gives the function; a class name
            (``"SparseCategoricalCrossentropy"``) gives an instance with its
            defaults; a ``{"class_name": ..., "config": ...}`` dict (what
            ``serialize`` writes) gives the configured instance; a ``Loss``
            instance or any callable is returned as is; a ``Loss`` subclass is
            instantiated; None gives None.

    Returns:
        A loss function, a ``Loss`` object or None.

    Raises:
        ValueError: For an unknown name (with the closest valid one) or an
            identifier of another kind.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.get("mse") is losses.mean_squared_error
        True
        >>> losses.get("BinaryCrossentropy")
        BinaryCrossentropy(name='binary_crossentropy', reduction='sum_over_batch_size', from_logits=False, label_smoothing=0.0, axis=-1)
        >>> losses.get("sparse_categorial_crossentropy")
        Traceback (most recent call last):
        ...
        ValueError: unknown loss 'sparse_categorial_crossentropy'. Did you mean 'sparse_categorical_crossentropy'? ...
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise _unknown_name("loss", identifier, [*_FUNCTIONS, *_CLASSES])
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"could not interpret loss identifier {identifier!r}: expected a name, a "
        "Loss, a function, a config dict or None"
    )


def serialize(loss):
    """Returns a built-in loss function's name, or a ``Loss``'s class name and config.

    Raises:
        ValueError: For a function that ``get`` cannot find by name.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.serialize(losses.mse)
        'mean_squared_error'
        >>> losses.serialize(losses.Huber(delta=2.0))
        {'class_name': 'Huber', 'config': {'name': 'huber_loss', 'reduction': 'sum_over_batch_size', 'delta': 2.0}}
    """
    if isinstance(loss, Loss):
        if type(loss) is LossFunctionWrapper:
            raise ValueError(
                f"cannot serialize {loss!r}: a LossFunctionWrapper has no class "
                "to rebuild it from; subclass Loss instead"
            )
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    try:
        return _NAME_OF[loss]
    except (KeyError, TypeError):
        raise ValueError(
            f"cannot serialize loss {loss!r}: only the built-in functions and Loss "
            "objects have a name or config that get() understands"
        ) from None


def deserialize(config):
    """Rebuilds a loss from ``serialize``'s output (a name or a config dict).

    Raises:
        ValueError: For an unknown class name or a dict without ``class_name``.

    Examples:
        >>> import nnlib.losses as losses
        >>> losses.deserialize({"class_name": "Huber", "config": {"delta": 2.0}})
        Huber(name='huber_loss', reduction='sum_over_batch_size', delta=2.0)
    """
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a loss config needs a 'class_name' key, got {config!r}")
    name = config["class_name"]
    if name not in _CLASSES:
        raise _unknown_name("loss class", name, list(_CLASSES))
    return _CLASSES[name].from_config(config.get("config") or {})
