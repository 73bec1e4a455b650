"""Checks of user arguments that raise an error naming the argument and its owner.

One place for the checks every constructor and entry point repeats, so a string
where a boolean belongs (``from_logits="False"`` is truthy) or a float epoch
count fails the same clear way everywhere.
"""

import numbers

import numpy as np

__all__ = ["boolean", "integer", "one_of"]


def boolean(value, name, owner):
    """Returns ``value`` as a bool, or raises TypeError naming ``owner.name``.

    Accepts ``True``/``False`` and numpy booleans only: a string such as
    ``"False"`` or ``"no"`` is truthy in Python and would mean the opposite of
    what the user wrote.

    Examples:
        >>> from nnlib._args import boolean
        >>> boolean(np.bool_(True), "use_bias", "Dense")
        True
        >>> boolean("no", "use_bias", "Dense")
        Traceback (most recent call last):
        ...
        TypeError: Dense: use_bias must be True or False, got 'no' (str)
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(
        f"{owner}: {name} must be True or False, got {value!r} ({type(value).__name__})"
    )


def integer(value, name, owner, minimum=None):
    """Returns ``value`` as an int, or raises naming ``owner.name``.

    Booleans and floats are refused (``epochs=2.5`` is not a count); numpy
    integers are accepted.

    Raises:
        TypeError: If ``value`` is not an integer.
        ValueError: If it is below ``minimum``.

    Examples:
        >>> from nnlib._args import integer
        >>> integer(np.int64(3), "epochs", "fit", minimum=0)
        3
        >>> integer(-1, "epochs", "fit", minimum=0)
        Traceback (most recent call last):
        ...
        ValueError: fit: epochs must be an integer >= 0, got -1
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        bound = "" if minimum is None else f" >= {minimum}"
        raise TypeError(
            f"{owner}: {name} must be an integer{bound}, got {value!r} "
            f"({type(value).__name__})"
        )
    if minimum is not None and value < minimum:
        raise ValueError(
            f"{owner}: {name} must be an integer >= {minimum}, got {value}"
        )
    return int(value)


def one_of(value, name, owner, choices):
    """Returns ``value`` if it is one of ``choices``, or raises ValueError listing them.

    Examples:
        >>> from nnlib._args import one_of
        >>> one_of("loud", "verbose", "fit", ("auto", 0, 1, 2))
        Traceback (most recent call last):
        ...
        ValueError: fit: verbose must be one of 'auto', 0, 1, 2; got 'loud'
    """
    for choice in choices:
        # 1 == True == 1.0 in Python: compare kinds too, numpy integers as ints.
        if _kind(value) is _kind(choice) and value == choice:
            return choice
    listed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{owner}: {name} must be one of {listed}; got {value!r}")


def _kind(value):
    if isinstance(value, (bool, np.bool_)):
        return bool
    if isinstance(value, numbers.Integral):
        return int
    return type(value)
