"""Nested elements: flattening, re-packing and converting tuples/dicts of arrays.

A dataset element is a leaf (a numpy array or scalar) or a tuple, namedtuple or
dict of elements. Lists are not structure: like TensorFlow, sources turn a list
into one array, and a map function's list result becomes a tuple.
"""

import numpy as np


def keys(mapping):
    # Sorted keys make two dicts with different insertion orders line up (zip,
    # concatenate); unsortable keys fall back to insertion order.
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def is_nested(value):
    """True for the containers that make structure (tuple, namedtuple, dict)."""
    return isinstance(value, (tuple, dict))


def flatten(structure):
    """Returns the leaves of ``structure``, dict values in sorted-key order."""
    if isinstance(structure, tuple):
        items = structure
    elif isinstance(structure, dict):
        items = [structure[key] for key in keys(structure)]
    else:
        return [structure]
    leaves = []
    for item in items:  # a loop, not a recursion per leaf: this runs per element
        if isinstance(item, (tuple, dict)):
            leaves.extend(flatten(item))
        else:
            leaves.append(item)
    return leaves


def matcher(template):
    """Returns a fast ``element -> bool``: does it nest like ``template``?"""
    if not is_nested(template):
        return lambda element: not is_nested(element)
    flat = not any(is_nested(item) for item in _values(template))
    kind, size = type(template), len(template)
    if kind is tuple and flat:
        return lambda e: (
            type(e) is tuple
            and len(e) == size
            and not any(isinstance(item, (tuple, dict)) for item in e)
        )
    if kind is dict and flat:
        names = template.keys()
        return lambda e: (
            type(e) is dict
            and e.keys() == names
            and not any(isinstance(item, (tuple, dict)) for item in e.values())
        )
    return lambda element: same_structure(element, template)


def paths(structure, prefix=""):
    """Returns a readable path per leaf, e.g. ``[0]`` or ``['image']``."""
    if isinstance(structure, tuple):
        return [
            p for i, item in enumerate(structure) for p in paths(item, f"{prefix}[{i}]")
        ]
    if isinstance(structure, dict):
        return [
            p
            for key in keys(structure)
            for p in paths(structure[key], f"{prefix}[{key!r}]")
        ]
    return [prefix or "element"]


def pack(template, leaves):
    """Builds a structure shaped like ``template`` from a flat list of leaves."""
    return _pack(template, iter(leaves))


def _pack(template, leaves):
    if isinstance(template, tuple):
        items = [_pack(item, leaves) for item in template]
        return type(template)(*items) if hasattr(template, "_fields") else tuple(items)
    if isinstance(template, dict):
        packed = {key: _pack(template[key], leaves) for key in keys(template)}
        return {key: packed[key] for key in template}
    return next(leaves)


def packer(template):
    """Returns a fast ``leaves -> structure`` function for one template.

    The per-element paths call it for every element, so the flat cases avoid the
    recursive walk.
    """
    if not is_nested(template):
        return _first
    flat = not any(is_nested(item) for item in _values(template))
    if type(template) is tuple and flat:
        return tuple
    if type(template) is dict and flat:
        order = keys(template)
        names = list(template)
        if order == names:
            return lambda leaves: dict(zip(names, leaves))

        def reorder(leaves):
            packed = dict(zip(order, leaves))
            return {name: packed[name] for name in names}

        return reorder
    return lambda leaves: pack(template, leaves)


def _first(leaves):
    return leaves[0]


def _values(structure):
    return structure.values() if isinstance(structure, dict) else structure


def map_structure(fn, structure):
    """Applies ``fn`` to every leaf, keeping the structure."""
    return pack(structure, [fn(leaf) for leaf in flatten(structure)])


def same_structure(a, b):
    """True when ``a`` and ``b`` nest the same way (same keys, same lengths)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (
            isinstance(a, tuple)
            and isinstance(b, tuple)
            and len(a) == len(b)
            and all(same_structure(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and set(a) == set(b)
            and all(same_structure(a[k], b[k]) for k in a)
        )
    return True


def describe(structure):
    """A short description of the nesting, for error messages."""
    if isinstance(structure, tuple):
        return (
            "("
            + ", ".join(describe(item) for item in structure)
            + ",)"[len(structure) != 1 :]
        )
    if isinstance(structure, dict):
        return (
            "{" + ", ".join(f"{k!r}: {describe(structure[k])}" for k in structure) + "}"
        )
    return "x"


def to_array(value, where):
    """Converts one source leaf to a numpy array (lists become arrays)."""
    try:
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
    except ValueError as err:  # numpy's complaint about ragged lists
        raise TypeError(
            f"{where}: expected an array, got a ragged list ({err})"
        ) from None
    if array.dtype == object:
        raise TypeError(
            f"{where}: expected a numeric or string array, got {type(value).__name__} "
            f"that numpy turns into dtype object (ragged nesting or None?)"
        )
    return array


_NUMPY = (np.ndarray, np.generic)


def normalize(value, where, lists="tuple"):
    """Converts a function's or generator's result into an element.

    Tuples, namedtuples and dicts keep their nesting; a list becomes a tuple
    (``lists="tuple"``, map results) or one array (``lists="array"``, generator
    output); other leaves become numpy arrays unless they already are numpy
    arrays or scalars.
    """
    if type(value) is tuple and all(
        isinstance(item, _NUMPY) and item.dtype.kind != "O" for item in value
    ):
        return value  # the common case first: this runs per element
    if isinstance(value, tuple):
        items = [normalize(item, where, lists) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {key: normalize(item, where, lists) for key, item in value.items()}
    if isinstance(value, list) and lists == "tuple":
        return tuple(normalize(item, where, lists) for item in value)
    if isinstance(value, _NUMPY) and value.dtype.kind != "O":
        return value
    return to_array(value, where)
