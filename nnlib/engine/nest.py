"""Flattening and re-packing nested lists, tuples and dicts of tensors."""


def flatten(structure):
    """Returns the leaves of a nested list/tuple/dict in a fixed order.

    Dicts are walked in sorted key order so the result does not depend on
    insertion order.

    Examples:
        >>> flatten({"b": [1, 2], "a": 3})
        [3, 1, 2]
    """
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        if not any(isinstance(item, _NESTED) for item in structure):
            return list(structure)  # the common flat case, without recursion
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


_NESTED = (list, tuple, dict)


def pack_as(structure, leaves):
    """Builds a structure shaped like ``structure`` from flat ``leaves``.

    Examples:
        >>> pack_as({"b": [0, 0], "a": 0}, [3, 1, 2])
        {'b': [1, 2], 'a': 3}
    """
    if type(structure) in (list, tuple) and not any(
        isinstance(item, _NESTED) for item in structure
    ):
        return type(structure)(leaves)
    return _pack(structure, iter(leaves))


def _pack(structure, leaves):
    if isinstance(structure, dict):
        packed = {key: _pack(structure[key], leaves) for key in sorted(structure)}
        return {key: packed[key] for key in structure}
    if isinstance(structure, (list, tuple)):
        items = [_pack(item, leaves) for item in structure]
        if isinstance(structure, tuple) and hasattr(structure, "_fields"):
            return type(structure)(*items)
        return type(structure)(items)
    return next(leaves)
