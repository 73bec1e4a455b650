"""Optimizers: apply ``(gradient, variable)`` pairs and own their slot variables.

Examples:
    >>> from nnlib import optimizers
    >>> w = nnlib.Variable([1.0, -2.0], name="w")
    >>> opt = optimizers.get("adam")
    >>> for _ in range(3):
    ...     _ = opt.minimize(lambda: nnlib.reduce_sum(w * w))
    >>> int(opt.iterations), [v.name for v in opt.variables()]
    (3, ['Adam/iterations', 'w/Adam/m', 'w/Adam/v'])
"""

from .._lookup import unknown_name as _unknown_name
from . import schedules
from .adagrad import Adadelta, Adagrad
from .adam import Adam, Adamax, AdamW, Nadam
from .lion import Lion
from .optimizer import Optimizer
from .rmsprop import RMSProp
from .sgd import GradientDescent, Momentum

RMSprop = RMSProp  # Keras's and PyTorch's spelling

__all__ = [
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "GradientDescent",
    "Lion",
    "Momentum",
    "Nadam",
    "Optimizer",
    "RMSProp",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

_BY_NAME = {
    "sgd": GradientDescent,
    "gradient_descent": GradientDescent,
    "momentum": Momentum,
    "adam": Adam,
    "adamw": AdamW,
    "adamax": Adamax,
    "nadam": Nadam,
    "rmsprop": RMSProp,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "lion": Lion,
}
_CLASSES = {cls.__name__: cls for cls in set(_BY_NAME.values())}
_CLASSES["RMSprop"] = RMSProp
_LOWERED = {**{k.lower(): v for k, v in _CLASSES.items()}, **_BY_NAME}


def get(identifier):
    """Returns the optimizer that ``identifier`` names, with default settings.

    Args:
        identifier: A name (``"sgd"``, ``"momentum"``, ``"adam"``, ``"adamw"``,
            ``"adamax"``, ``"nadam"``, ``"rmsprop"``, ``"adagrad"``,
            ``"adadelta"``, ``"lion"``, or a class name), a ``serialize`` dict,
            or an ``Optimizer``, returned as is.

    Returns:
        An ``Optimizer``.

    Raises:
        ValueError: For an unknown name (with the closest valid one) or an
            identifier of another kind.

    Examples:
        >>> from nnlib import optimizers
        >>> optimizers.get("rmsprop")
        RMSProp(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07, centered=False)
        >>> optimizers.get("adamm")
        Traceback (most recent call last):
        ...
        ValueError: unknown optimizer 'adamm'. Did you mean 'adam'? ...
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _LOWERED.get(identifier.lower())
        if cls is None:
            raise _unknown_name("optimizer", identifier, list(_BY_NAME))
        return cls()
    raise ValueError(
        f"could not interpret optimizer identifier {identifier!r}: expected a "
        "name such as 'adam', a serialize() dict or an Optimizer"
    )


def serialize(optimizer):
    """Returns ``{"class_name": ..., "config": ...}`` for an optimizer.

    Examples:
        >>> from nnlib import optimizers
        >>> optimizers.serialize(optimizers.GradientDescent(0.1))["config"]
        {'name': 'GradientDescent', 'learning_rate': 0.1, ...}
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config, custom_objects=None):
    """Builds an optimizer from ``serialize``'s dict.

    Args:
        config: A dict with ``class_name`` and ``config``.
        custom_objects: Optional ``{class_name: class}`` for your own optimizers.

    Raises:
        ValueError: For an unknown class name.

    Examples:
        >>> from nnlib import optimizers
        >>> opt = optimizers.deserialize(optimizers.serialize(optimizers.Lion(0.01)))
        >>> type(opt).__name__, opt.learning_rate
        ('Lion', 0.01)
    """
    classes = {**_CLASSES, **(custom_objects or {})}
    name = config.get("class_name")
    if name not in classes:
        raise _unknown_name("optimizer class", name, list(classes))
    return classes[name].from_config(config.get("config", {}))
