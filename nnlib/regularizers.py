"""Regularizers: penalties on a weight, added to the loss (Keras semantics).

A regularizer maps a weight to a scalar Tensor built from nnlib ops, so a tape
that watches the weight records it and its gradient flows into training.
``L2`` is ``l2 * sum(square(w))``, with no factor 1/2 (``nnlib.l2_loss`` has one).
"""

import math
import numbers

from . import ops as _ops
from ._lookup import unknown_name as _unknown_name
from .engine import convert_to_tensor

__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1_l2", "serialize"]


def _factor(value, name, owner, default):
    """A regularization factor as a Python float (weak beside float32 weights)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value}")
    return value


def _penalty(weight, l1, l2):
    weight = convert_to_tensor(weight)
    terms = []
    if l1:
        terms.append(l1 * _ops.reduce_sum(_ops.abs(weight)))
    if l2:
        terms.append(l2 * _ops.reduce_sum(_ops.square(weight)))
    if not terms:
        # As Keras: a zero penalty, not connected to the weight.
        return _ops.zeros((), dtype=weight.dtype)
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]


class Regularizer:
    """Base class: ``regularizer(weight)`` returns a scalar Tensor penalty.

    Subclasses implement ``__call__`` with nnlib ops (so it is differentiable)
    and ``get_config`` when they take arguments. A plain function
    ``weight -> scalar`` works wherever a regularizer is accepted.

    Examples:
        >>> from nnlib import regularizers
        >>> class MaxAbs(regularizers.Regularizer):
        ...     def __call__(self, weight):
        ...         return nnlib.reduce_max(nnlib.abs(weight))
        >>> MaxAbs()(np.array([1., -3.]))
        nnlib.Tensor(3.0, shape=(), dtype=float64)
    """

    def __call__(self, weight):
        """Returns the penalty for ``weight`` as a scalar Tensor of its dtype."""
        raise NotImplementedError(f"{self.__class__.__name__} must implement __call__")

    def get_config(self):
        """Returns the constructor arguments as a JSON-friendly dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Builds a regularizer from ``get_config()``'s dict.

        Examples:
            >>> from nnlib import regularizers
            >>> regularizers.L2.from_config({"l2": 0.5})
            L2(l2=0.5)
        """
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.__class__.__name__}({args})"


class L1(Regularizer):
    """The L1 penalty ``l1 * sum(abs(weight))``.

    Args:
        l1: The factor, a number >= 0 (None means the default 0.01).

    Raises:
        ValueError: If ``l1`` is negative or not finite.

    Examples:
        >>> from nnlib import regularizers
        >>> regularizers.L1(0.1)(np.array([1., -2.]))
        nnlib.Tensor(0.3, shape=(), dtype=float64)
    """

    def __init__(self, l1=0.01):
        self.l1 = _factor(l1, "l1", "L1", 0.01)

    def __call__(self, weight):
        return _penalty(weight, self.l1, 0.0)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """The L2 penalty ``l2 * sum(square(weight))`` (no factor 1/2, as Keras).

    Args:
        l2: The factor, a number >= 0 (None means the default 0.01).

    Raises:
        ValueError: If ``l2`` is negative or not finite.

    Examples:
        >>> from nnlib import regularizers
        >>> regularizers.L2(0.1)(np.array([1., -2.]))
        nnlib.Tensor(0.5, shape=(), dtype=float64)
    """

    def __init__(self, l2=0.01):
        self.l2 = _factor(l2, "l2", "L2", 0.01)

    def __call__(self, weight):
        return _penalty(weight, 0.0, self.l2)

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """The sum ``l1 * sum(abs(weight)) + l2 * sum(square(weight))``.

    A term whose factor is 0 is not computed; with both 0 the penalty is a
    constant 0 (and the weight gets no gradient from it).

    Args:
        l1: The L1 factor, a number >= 0.
        l2: The L2 factor, a number >= 0.

    Raises:
        ValueError: If a factor is negative or not finite.

    Examples:
        >>> from nnlib import regularizers
        >>> regularizers.L1L2(l1=0.1, l2=0.1)(np.array([1., -2.]))
        nnlib.Tensor(0.8, shape=(), dtype=float64)
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(l1, "l1", "L1L2", 0.0)
        self.l2 = _factor(l2, "l2", "L1L2", 0.0)

    def __call__(self, weight):
        return _penalty(weight, self.l1, self.l2)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    """Returns ``L1L2(l1, l2)``, with Keras 2's defaults of 0.01 for both.

    This is what the name ``"l1_l2"`` gives in ``get``.

    Examples:
        >>> from nnlib import regularizers
        >>> regularizers.l1_l2()
        L1L2(l1=0.01, l2=0.01)
    """
    return L1L2(l1=l1, l2=l2)


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "L1": L1, "L2": L2, "L1L2": L1L2}


def _build(name, config):
    if name not in _BY_NAME:
        raise _unknown_name("regularizer", name, list(_BY_NAME))
    factory = _BY_NAME[name]
    return (
        factory.from_config(config) if isinstance(factory, type) else factory(**config)
    )


def get(identifier):
    """Returns the regularizer that ``identifier`` names.

    Args:
        identifier: A ``Regularizer`` (returned as is); a name: ``"l1"`` and
            ``"l2"`` (factor 0.01), ``"l1_l2"`` (0.01 each, Keras 2's
            ``l1_l2()``), or a class name ``"L1"``, ``"L2"``, ``"L1L2"`` (its
            defaults); a ``{"class_name": ..., "config": {...}}`` dict (Keras's
            format, as ``serialize`` writes); a function ``weight -> scalar``;
            or None.

    Returns:
        A callable ``weight -> scalar Tensor``, or None for None.

    Raises:
        ValueError: For an unknown name (with the closest valid one) or an
            identifier of another kind.

    Examples:
        >>> from nnlib import regularizers
        >>> regularizers.get("l2")
        L2(l2=0.01)
        >>> regularizers.get({"class_name": "L1L2", "config": {"l1": 0.5}})
        L1L2(l1=0.5, l2=0.0)
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return _build(identifier, {})
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                f"regularizer dict needs a 'class_name' key, got {identifier!r}"
            )
        return _build(identifier["class_name"], identifier.get("config") or {})
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret regularizer identifier {identifier!r}")


def serialize(regularizer):
    """Returns ``{"class_name": ..., "config": ...}`` for a ``Regularizer``, or None.

    ``get`` turns the result back into the regularizer (None stays None).

    Raises:
        ValueError: For a plain function, which has no config to save.

    Examples:
        >>> from nnlib import regularizers
        >>> regularizers.serialize(regularizers.L1(0.5))
        {'class_name': 'L1', 'config': {'l1': 0.5}}
    """
    if regularizer is None:
        return None
    if not isinstance(regularizer, Regularizer):
        # ValueError as activations.serialize raises for a custom function.
        raise ValueError(  # noqa: TRY004
            f"cannot serialize {regularizer!r}: only Regularizer instances have a "
            "config; subclass nnlib.regularizers.Regularizer to make one"
        )
    return {
        "class_name": type(regularizer).__name__,
        "config": regularizer.get_config(),
    }
