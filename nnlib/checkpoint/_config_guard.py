"""Guards for rebuilding a model from a file's config (``load_model``).

A model file's config is JSON the file's author chose. Parsed and obeyed
blindly, a config nested 100,000 deep raises a raw ``RecursionError``, and a
layer of a million units on a million features asks for a 4 TiB kernel (a
raw ``MemoryError``, or worse, an allocation that succeeds). Here:

- ``parse`` measures the nesting of the JSON text before parsing it and
  refuses more than ``MAX_CONFIG_DEPTH`` levels (nnlib's own configs use
  about five per nested model);
- ``variable_budget`` refuses, before its initial value is allocated, any
  variable that would take the variables created during the load past the
  bytes the file stores (every variable of a saved model is in its file),
  plus ``_SLACK`` for the few a load creates that are not saved.

Both raise ``CheckpointUnsafeError`` naming the file and what was wrong.
"""

import contextlib
import json
import math
import re

import numpy as np

from .. import variable_scope
from ._h5safe import human
from .errors import CheckpointCorruptError, CheckpointUnsafeError

__all__ = ["MAX_CONFIG_DEPTH", "parse", "variable_budget"]

MAX_CONFIG_DEPTH = 100
_SLACK = 1 << 20  # metric totals and counts, a step counter: small, unsaved
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


def parse(text, key, path):
    """The JSON value of the root attribute ``key``, its nesting checked first.

    Examples:
        >>> from nnlib.checkpoint._config_guard import parse
        >>> parse('{"a": [1, 2]}', "model_config", "m.h5")
        {'a': [1, 2]}
        >>> parse("[" * 500 + "]" * 500, "model_config", "m.h5")
        Traceback (most recent call last):
        ...
        nnlib.checkpoint.errors.CheckpointUnsafeError: cannot load model 'm.h5': its model_config is nested 500 deep, deeper than the 100 levels nnlib reads (a damaged or crafted file)
    """
    if not isinstance(text, str):
        raise CheckpointCorruptError(
            f"cannot load model '{path}': its {key} is a {type(text).__name__}, "
            "expected JSON text",
            path=path,
        )
    depth = _depth(text)
    if depth > MAX_CONFIG_DEPTH:
        raise CheckpointUnsafeError(
            f"cannot load model '{path}': its {key} is nested {depth} deep, deeper "
            f"than the {MAX_CONFIG_DEPTH} levels nnlib reads (a damaged or crafted "
            "file)",
            path=path,
        )
    try:
        return json.loads(text)
    except ValueError as err:
        raise CheckpointCorruptError(
            f"cannot load model '{path}': its {key} is not valid JSON ({err})",
            path=path,
        ) from None


def _depth(text):
    """The deepest nesting of ``[`` and ``{`` outside strings, in one pass."""
    codes = np.frombuffer(_STRINGS.sub('""', text).encode("utf-8"), np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int32)
    steps -= np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


@contextlib.contextmanager
def variable_budget(path, stored_bytes):
    """Refuses variables beyond the file's stored bytes while the block runs.

    Args:
        path: The model file, for messages.
        stored_bytes: The bytes of every array the file stores.

    Examples:
        >>> from nnlib.checkpoint._config_guard import variable_budget
        >>> with variable_budget("m.h5", 16):
        ...     nnlib.Sequential([nnlib.layers.Dense(1 << 20, input_shape=(1 << 12,),
        ...                                          name="wide")])
        Traceback (most recent call last):
        ...
        nnlib.checkpoint.errors.CheckpointUnsafeError: cannot load model 'm.h5': layer 'wide' would create variable '...wide/kernel' of shape (4096, 1048576) float32 (16.0 GiB), larger than the file's stored weights (16 bytes in all)
    """
    used = 0
    allowed = stored_bytes + _SLACK

    def check(full_name, shape, dtype):
        nonlocal used
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if used + nbytes > allowed:
            layer = full_name.rpartition("/")[0] or full_name
            raise CheckpointUnsafeError(
                f"cannot load model '{path}': layer '{layer.rpartition('/')[2]}' "
                f"would create variable '{full_name}' of shape {shape} "
                f"{np.dtype(dtype).name} ({human(nbytes)}), larger than the file's "
                f"stored weights ({human(stored_bytes)} in all"
                + (f", {human(used)} created already)" if used else ")"),
                path=path,
            )
        used += nbytes

    variable_scope._creation_checks.append(check)
    try:
        yield
    finally:
        variable_scope._creation_checks.remove(check)
