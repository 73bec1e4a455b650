"""One seedable source of randomness for all of nnlib.

Initializers, dropout and dataset shuffling draw from the generator returned by
``get_generator()``, so ``set_seed`` makes a whole run reproducible, and
``get_state``/``set_state`` let a checkpoint carry the random state.
"""

import copy

import numpy as np

__all__ = ["get_generator", "get_state", "set_seed", "set_state"]

_generator = np.random.Generator(np.random.PCG64())


def set_seed(seed):
    """Reseeds nnlib's global random generator.

    Args:
        seed: A non-negative int.

    Examples:
        >>> nnlib.random.set_seed(0)
        >>> a = nnlib.random.get_generator().random()
        >>> nnlib.random.set_seed(0)
        >>> a == nnlib.random.get_generator().random()
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    # Reseed in place, so generators fetched earlier (a Dataset's) follow too.
    _generator.bit_generator.state = np.random.PCG64(int(seed)).state


def get_generator():
    """Returns the global ``numpy.random.Generator`` nnlib draws from.

    Examples:
        >>> isinstance(nnlib.random.get_generator(), np.random.Generator)
        True
    """
    return _generator


def get_state():
    """Returns a copy of the global generator's state (a plain dict).

    Examples:
        >>> state = nnlib.random.get_state()
        >>> a = nnlib.random.get_generator().random()
        >>> nnlib.random.set_state(state)
        >>> a == nnlib.random.get_generator().random()
        True
    """
    return copy.deepcopy(_generator.bit_generator.state)


def set_state(state):
    """Restores a state returned by ``get_state``.

    Raises:
        ValueError: If the state is not one of a compatible bit generator.
    """
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name != type(_generator.bit_generator).__name__:
        raise ValueError(
            f"not a random state from nnlib.random.get_state: {state!r:.80}"
        )
    try:
        _generator.bit_generator.state = copy.deepcopy(state)
    except (TypeError, KeyError, ValueError) as err:
        raise ValueError(f"malformed random state ({err}): {state!r:.80}") from None
