"""Python values in JSON configs, written as Keras 3 writes them.

Configs are JSON, which has lists but no tuples, slices, ``...`` or arrays.
Call arguments recorded in a functional model's config (``x[:, 1:3]``,
``initial_state=[h, c]``, ``x + np.ones(3)``) keep them, in the same
``{"class_name": "__tuple__", "config": {...}}`` form as Keras 3, so either
library reads the other's.
"""

import numbers

import numpy as np

from ..engine.tensor import Tensor

__all__ = ["decode", "encode"]


def encode(value, leaf=None):
    """``value`` as JSON-compatible data.

    Args:
        value: Numbers, strings, None, lists, tuples, dicts with string keys,
            slices, ``...``, numpy arrays and scalars, Tensors (as arrays).
        leaf: Optional ``leaf(value)`` tried first on every value; its
            non-None result is used as is (how KerasTensors are written).

    Raises:
        TypeError: For anything else (naming its type).

    Examples:
        >>> from nnlib.layers._json_values import decode, encode
        >>> encode((slice(None), 1))
        {'class_name': '__tuple__', 'config': {'value': [{'class_name': '__slice__', 'config': {'start': None, 'stop': None, 'step': None}}, 1]}}
        >>> decode(encode((slice(1, 3), ..., None)))
        (slice(1, 3, None), Ellipsis, None)
    """
    if leaf is not None:
        found = leaf(value)
        if found is not None:
            return found
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.generic, numbers.Number)) and np.ndim(value) == 0:
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, list):
        return [encode(v, leaf) for v in value]
    if isinstance(value, tuple):
        return _tagged("__tuple__", value=[encode(v, leaf) for v in value])
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"cannot write a dict with non-string keys: {value!r}")
        return {k: encode(v, leaf) for k, v in value.items()}
    if isinstance(value, slice):
        return _tagged(
            "__slice__",
            start=encode(value.start),
            stop=encode(value.stop),
            step=encode(value.step),
        )
    if value is Ellipsis:
        return _tagged("__ellipsis__")
    if isinstance(value, (np.ndarray, Tensor)):
        array = np.asarray(value)
        return _tagged("__numpy__", value=array.tolist(), dtype=array.dtype.name)
    raise TypeError(
        f"cannot write a {type(value).__name__} into a config ({value!r}); "
        "configs hold numbers, strings, lists, tuples, dicts, slices and arrays"
    )


def _tagged(name, **config):
    return {"class_name": name, "config": config}


def decode(data, leaf=None):
    """The Python value ``encode`` wrote (lists stay lists, tuples come back).

    Args:
        data: JSON data.
        leaf: Optional ``leaf(dict)`` tried first on every dict; its non-None
            result is used as is (how KerasTensor references are read).
    """
    if isinstance(data, list):
        return [decode(v, leaf) for v in data]
    if not isinstance(data, dict):
        return data
    if leaf is not None:
        found = leaf(data)
        if found is not None:
            return found
    tag, config = data.get("class_name"), data.get("config")
    if tag == "__tuple__":
        return tuple(decode(v, leaf) for v in config["value"])
    if tag == "__slice__":
        return slice(config["start"], config["stop"], config["step"])
    if tag == "__ellipsis__":
        return Ellipsis
    if tag == "__numpy__":
        return np.asarray(config["value"], dtype=config["dtype"])
    return {k: decode(v, leaf) for k, v in data.items()}
