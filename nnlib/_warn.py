"""Warnings that point at the user's line, however deep in nnlib they start."""

import os
import sys
import warnings

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message, category=UserWarning):
    """Issues ``warnings.warn`` at the first caller outside the nnlib package.

    A fixed ``stacklevel`` is right for one call path only; the same check
    reached through ``Layer.load_weights``, an importer or a callback would
    point into nnlib.

    Examples:
        >>> import warnings
        >>> from nnlib._warn import warn
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn("careful")
        >>> str(caught[0].message)
        'careful'
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
