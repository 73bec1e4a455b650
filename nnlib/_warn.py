"""Warnings that point at the user's line, however deep in nnlib they start."""

import os
import sys
import warnings

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep

# (tag, file, line) of the sites a ``once=`` warning has been issued at.
_SEEN = set()


def warn(message, category=UserWarning, once=None):
    """Issues ``warnings.warn`` at the first caller outside the nnlib package.

    A fixed ``stacklevel`` is right for one call path only; the same check
    reached through ``Layer.load_weights``, an importer or a callback would
    point into nnlib.

    Args:
        message: The warning's text.
        category: The warning class.
        once: A tag: when given, the warning is issued once per tag and user
            line, whatever the ``warnings`` filters say (a warning from an op in
            a training loop would otherwise repeat at every step under
            ``"always"``).

    Examples:
        >>> import warnings
        >>> from nnlib._warn import warn
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     for _ in range(3):
        ...         warn("careful")
        ...         warn("only once here", once="example")
        >>> [str(w.message) for w in caught]
        ['careful', 'only once here', 'careful', 'careful']
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    if once is not None:
        site = (once, *(_site(frame) if frame is not None else ()))
        if site in _SEEN:
            return
        _SEEN.add(site)
    warnings.warn(message, category, stacklevel=level)


def _site(frame):
    return frame.f_code.co_filename, frame.f_lineno
