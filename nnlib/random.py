"""One seedable source of randomness for all of nnlib.

Initializers, dropout and dataset shuffling draw from the generator returned by
``get_generator()``, so ``set_seed`` makes a whole run reproducible, and
``get_state``/``set_state`` let a checkpoint carry the random state.
"""

import copy

import numpy as np

__all__ = ["get_generator", "get_state", "set_seed", "set_state"]

_generator = np.random.default_rng()


def set_seed(seed):
    """Reseeds nnlib's global random generator.

    Args:
        seed: A non-negative int.

    Example:
        >>> nnlib.random.set_seed(0)
        >>> a = nnlib.random.get_generator().random()
        >>> nnlib.random.set_seed(0)
        >>> a == nnlib.random.get_generator().random()
        True
    """
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))


def get_generator():
    """Returns the global ``numpy.random.Generator`` nnlib draws from.

    Example:
        >>> isinstance(nnlib.random.get_generator(), np.random.Generator)
        True
    """
    return _generator


def get_state():
    """Returns a copy of the global generator's state (a plain dict).

    Example:
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
    global _generator
    name = state.get("bit_generator") if isinstance(state, dict) else None
    bit_generator = getattr(np.random, str(name), None)
    if bit_generator is None:
        raise ValueError(f"not a random state from nnlib.random.get_state: {state!r:.80}")
    generator = np.random.Generator(bit_generator())
    generator.bit_generator.state = copy.deepcopy(state)
    _generator = generator
