"""Default names: snake_case class names made unique with a counter.

Layers take their names from their parent network (``dense``, ``dense_1`` inside
each network); objects with no parent share one process-wide counter per name,
as Keras does, so two models named ``mnist`` become ``mnist`` and ``mnist_1``.
"""

import collections
import re
import threading

__all__ = ["reset_names", "to_snake_case", "unique_name"]

_COUNTS = collections.defaultdict(int)
_LOCK = threading.Lock()


def to_snake_case(name):
    """``"BatchNormalization"`` -> ``"batch_normalization"``, as Keras names layers.

    Examples:
        >>> [to_snake_case(n) for n in ("Dense", "Conv2D", "MNISTModel", "LSTM")]
        ['dense', 'conv2d', 'mnist_model', 'lstm']
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base, taken=None):
    """Returns ``base``, or ``base_1``, ``base_2``... the first one free.

    Args:
        base: The wanted name.
        taken: A set of names in use (a network's children). Without it, the
            process-wide counter for top-level names is used.

    Examples:
        >>> unique_name("dense", taken={"dense", "dense_1"})
        'dense_2'
    """
    if taken is not None:
        name, i = base, 0
        while name in taken:
            i += 1
            name = f"{base}_{i}"
        return name
    with _LOCK:
        count = _COUNTS[base]
        _COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


def reset_names():
    """Restarts the top-level name counters (``mnist`` is free again).

    Only names given afterwards are affected; useful between experiments in one
    process, as Keras's ``clear_session``.

    Examples:
        >>> reset_names()
        >>> unique_name("example_model"), unique_name("example_model")
        ('example_model', 'example_model_1')
    """
    with _LOCK:
        _COUNTS.clear()
