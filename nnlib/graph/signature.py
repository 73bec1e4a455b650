"""The signature of a call of a traced function: what makes a new trace.

A signature is the structure of the arguments, the shape and dtype of each
tensor or array in them, the identity of each variable, and the value (or, when
unhashable, the identity) of everything else.
"""

import numpy as np

from ..data.spec import TensorSpec
from ..engine import nest
from ..engine.tensor import Tensor
from ..engine.variable import Variable

__all__ = [
    "array_leaf",
    "changed_arguments",
    "checked_signature",
    "conformed",
    "fast_key",
    "signature_key",
]


def array_leaf(leaf):
    """The array of an argument a trace takes as data (a Tensor, a numpy array
    or scalar), or None for the rest (variables, captured by reference; Python
    values, part of the signature).

    Examples:
        >>> array_leaf(np.zeros(2)).shape, array_leaf(3.0)
        ((2,), None)
    """
    if isinstance(leaf, Variable):
        return None
    if isinstance(leaf, Tensor):
        return leaf._value
    if isinstance(leaf, (np.ndarray, np.generic)):
        return np.asarray(leaf)
    return None


def signature_key(args, kwargs):
    """``(key, arrays)``: the hashable signature and the tensor arguments' arrays.

    Examples:
        >>> key, arrays = signature_key((np.zeros(2), 3.0), {})
        >>> key[1:], len(arrays)
        ((('tensor', (2,), '<f8'), ('value', 'float', 3.0)), 1)
    """
    key, arrays = [_structure((args, kwargs))], []
    for leaf in nest.flatten((args, kwargs)):
        value = array_leaf(leaf)
        if isinstance(leaf, Variable):
            key.append(("variable", id(leaf)))
        elif value is not None:
            key.append(("tensor", value.shape, value.dtype.str))
            arrays.append(value)
        else:
            key.append(_static(leaf))
    return tuple(key), arrays


def conformed(name, signature, args, kwargs):
    """The arguments checked against an ``input_signature`` and converted.

    Raises:
        TypeError: If the call does not pass exactly the signature's arguments,
            positionally.
        ValueError: If an argument's shape does not fit its spec.
    """
    if signature is None:
        return args, kwargs
    if kwargs or len(args) != len(signature):
        raise TypeError(
            f"nnlib.function '{name}' has an input_signature of "
            f"{len(signature)} arguments; call it with exactly those, "
            f"positionally (got {len(args)} positional, {sorted(kwargs)} "
            "keyword)"
        )
    return tuple(
        spec.conform(arg, f"{name}: argument {i}")
        for i, (spec, arg) in enumerate(zip(signature, args))
    ), {}


def changed_arguments(old, new, parameters):
    """Names of the arguments whose part of the signature differs.

    Args:
        old: A key from ``signature_key``.
        new: A later key of the same function.
        parameters: The function's parameter names, in order.

    Examples:
        >>> a, _ = signature_key((np.zeros(2), 1), {})
        >>> b, _ = signature_key((np.zeros(2), 2), {})
        >>> changed_arguments(a, b, ["x", "step"])
        ['step']
    """
    if old[0] != new[0]:
        return ["the arguments' structure"]
    paths = _leaf_paths(parameters, new[0])
    return [
        paths[i - 1] if i <= len(paths) else f"argument {i}"
        for i in range(1, min(len(old), len(new)))
        if old[i] != new[i]
    ] or ["the arguments' structure"]


def fast_key(args):
    """The signature of positional plain arrays and Tensors, or None otherwise."""
    key = []
    for a in args:
        kind = type(a)
        if kind is Tensor:
            a = a._value
        elif kind is not np.ndarray:
            return None
        key.append((a.shape, a.dtype))
    return tuple(key)


def checked_signature(name, signature):
    if signature is None:
        return None
    signature = list(signature)
    for i, spec in enumerate(signature):
        if not isinstance(spec, TensorSpec):
            raise TypeError(
                f"nnlib.function '{name}': input_signature[{i}] must be an "
                f"nnlib.TensorSpec, got {spec!r}"
            )
    return signature


def _structure(value):
    """A hashable description of a nested structure's shape (not its leaves)."""
    if isinstance(value, dict):
        return ("dict", tuple((k, _structure(value[k])) for k in sorted(value)))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_structure(v) for v in value))
    return "."


def _static(value):
    """A key for a non-tensor argument: its value, or its identity."""
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return ("value", type(value).__name__, value)


def _leaf_paths(parameters, structure):
    """Names of the flat leaves of ``(args, kwargs)``: ``x``, ``args[2]``, ``training``."""
    paths = []

    def walk(node, path):
        if node == ".":
            paths.append(path)
            return
        kind, items = node
        if kind == "dict":
            for key, sub in items:
                walk(sub, f"{path}[{key!r}]" if path else str(key))
        else:
            for i, sub in enumerate(items):
                walk(sub, f"{path}[{i}]")

    args, kwargs = structure[1]
    for i, sub in enumerate(args[1]):
        walk(sub, parameters[i] if i < len(parameters) else f"args[{i}]")
    for key, sub in kwargs[1]:
        walk(sub, str(key))
    return paths
