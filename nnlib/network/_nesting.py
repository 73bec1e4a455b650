"""Which model is being rebuilt from a config, so the models inside wait.

A model rebuilt from a config (``load_model``, ``from_config``) must create
its variables inside its own scope, with the names the file stores relative
to it. A model nested in it is created first, though, and would build (and
name its variables) at the top level. While a config is rebuilt, ``current``
says so: a nested ``Sequential`` does not build at once, and a nested
functional model is adopted by the model rebuilding it before its own layers
are called; the outer model builds them all once it owns them.
"""

import contextlib
import contextvars

__all__ = ["current", "rebuilding"]

_CURRENT = contextvars.ContextVar("nnlib_rebuilding", default=None)


def current():
    """The model (or ``True`` for a ``Sequential``) whose config is being
    rebuilt on this thread, or None."""
    return _CURRENT.get()


@contextlib.contextmanager
def rebuilding(model):
    """Marks ``model``'s config as being rebuilt inside the block."""
    token = _CURRENT.set(model)
    try:
        yield
    finally:
        _CURRENT.reset(token)
