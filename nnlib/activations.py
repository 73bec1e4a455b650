"""Activation functions by name, for layers' ``activation=`` argument.

Each name maps to an op of ``nnlib.ops`` (``softmax`` and ``log_softmax`` act on
the last axis); ``serialize`` maps the function back to its name, so a layer's
config round-trips. ``"linear"`` (and None) is the identity.
"""

from ._lookup import unknown_name as _unknown_name
from .engine import convert_to_tensor
from .ops import (
    elu,
    gelu,
    hard_sigmoid,
    leaky_relu,
    log_softmax,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    swish,
    tanh,
)

__all__ = [
    "elu",
    "gelu",
    "get",
    "hard_sigmoid",
    "leaky_relu",
    "linear",
    "log_softmax",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]


def linear(x):
    """The identity: returns ``x`` as a Tensor (the same one if it already is).

    Examples:
        >>> from nnlib import activations
        >>> activations.linear([1., -2.])
        nnlib.Tensor([ 1. -2.], shape=(2,), dtype=float32)
    """
    return convert_to_tensor(x)


_BY_NAME = {
    "relu": relu,
    "relu6": relu6,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "sigmoid": sigmoid,
    "hard_sigmoid": hard_sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "softplus": softplus,
    "softsign": softsign,
    "silu": silu,
    "swish": swish,
    "linear": linear,
}
# First name wins: swish is silu, so it serializes as "silu" (Keras 3 does too).
_NAME_OF = {}
for _name, _fn in _BY_NAME.items():
    _NAME_OF.setdefault(_fn, _name)
del _name, _fn


def get(identifier):
    """Returns the activation function that ``identifier`` names.

    Args:
        identifier: A name (``"relu"``, ``"softmax"``, ...; see ``__all__``),
            None (the identity, ``linear``) or a callable, returned as is.

    Returns:
        A function from a tensor to a tensor of the same shape.

    Raises:
        ValueError: For an unknown name (with the closest valid one) or an
            identifier that is neither a string nor callable.

    Examples:
        >>> from nnlib import activations
        >>> activations.get("relu")([-1., 2.])
        nnlib.Tensor([0. 2.], shape=(2,), dtype=float32)
        >>> activations.get(None) is activations.linear
        True
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise _unknown_name("activation", identifier, list(_BY_NAME))
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise ValueError(
        f"could not interpret activation identifier {identifier!r}: "
        "expected a name, a callable or None"
    )


def serialize(activation):
    """Returns the name of a built-in activation function (None gives "linear").

    Raises:
        ValueError: For any other callable, which has no name to save.

    Examples:
        >>> from nnlib import activations
        >>> activations.serialize(activations.get("gelu"))
        'gelu'
    """
    if activation is None:
        return "linear"
    try:
        return _NAME_OF[activation]
    except (KeyError, TypeError):  # TypeError: an unhashable callable
        raise ValueError(
            f"cannot serialize activation {activation!r} by name: a custom "
            "callable has no name that get() knows; use one of "
            f"{', '.join(sorted(_BY_NAME))}, or save the layer's config yourself"
        ) from None
