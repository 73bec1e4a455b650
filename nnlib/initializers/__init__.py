"""Initializers: objects that return a variable's starting value as a numpy array.

They follow Keras: same class names, arguments, defaults, fan computation and
``{"class_name": ..., "config": ...}`` serialization, so Keras configs load.

Randomness: an initializer built with ``seed=`` draws from a fresh
``np.random.default_rng(seed)`` on every call, so it returns the same values each
time it is called (Keras 3 does the same; give each variable its own seed, or
none). With ``seed=None`` it draws from ``nnlib.random.get_generator()``, so
``nnlib.random.set_seed`` makes a whole run reproducible. Values are drawn in
float64 and cast to the requested dtype.
"""

import re

from .._lookup import unknown_name as _unknown_name
from .base import Initializer, compute_fans
from .constant import Constant, Identity, Ones, Zeros
from .random import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "get",
    "serialize",
]


_CLASSES = (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
    VarianceScaling, GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal,
    LecunUniform, Orthogonal, Identity,
)  # fmt: skip
# Keras's snake_case names: "GlorotUniform" -> "glorot_uniform".
_SNAKE = {re.sub(r"(?<!^)(?=[A-Z])", "_", c.__name__).lower(): c for c in _CLASSES}
# Keras 2's short names, still found in saved configs and layer defaults.
_ALIASES = {"uniform": RandomUniform, "normal": RandomNormal}
_BY_NAME = {**_SNAKE, **_ALIASES, **{cls.__name__: cls for cls in _CLASSES}}


def _class_named(name):
    if name not in _BY_NAME:
        raise _unknown_name("initializer", name, list(_BY_NAME), shown=list(_SNAKE))
    return _BY_NAME[name]


def get(identifier):
    """Returns the initializer that ``identifier`` names.

    Args:
        identifier: An ``Initializer`` (returned as is), a name (``"glorot_uniform"``
            or ``"GlorotUniform"``) for an instance with default arguments, a
            ``{"class_name": ..., "config": {...}}`` dict (Keras's format, as
            ``serialize`` writes), a function ``(shape, dtype) -> array``, or None.

    Returns:
        A callable ``(shape, dtype) -> array``, or None for None.

    Raises:
        ValueError: For an unknown name (with the closest valid one) or an
            identifier of another kind.

    Examples:
        >>> from nnlib import initializers
        >>> initializers.get("he_normal")
        HeNormal(seed=None)
        >>> initializers.get({"class_name": "Constant", "config": {"value": 3.0}})
        Constant(value=3.0)
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return _class_named(identifier)()
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                f"initializer dict needs a 'class_name' key, got {identifier!r}"
            )
        config = identifier.get("config") or {}
        return _class_named(identifier["class_name"]).from_config(config)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret initializer identifier {identifier!r}")


def serialize(initializer):
    """Returns ``{"class_name": ..., "config": ...}`` for an ``Initializer``, or None.

    ``get`` turns the result back into the initializer (None stays None).

    Raises:
        ValueError: For a plain function, which has no config to save.

    Examples:
        >>> from nnlib import initializers
        >>> initializers.serialize(initializers.GlorotUniform(seed=1))
        {'class_name': 'GlorotUniform', 'config': {'seed': 1}}
    """
    if initializer is None:
        return None
    if not isinstance(initializer, Initializer):
        # ValueError as activations.serialize raises for a custom function.
        raise ValueError(  # noqa: TRY004
            f"cannot serialize {initializer!r}: only Initializer instances have a "
            "config; subclass nnlib.initializers.Initializer to make one"
        )
    return {
        "class_name": type(initializer).__name__,
        "config": initializer.get_config(),
    }
