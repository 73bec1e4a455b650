"""Writes to variables, announced so that a tracer can redo them.

Ops are pure: a tracer (``nnlib.function``) replays them from their record. A
write to a variable is not an op: ``Variable.assign`` and an optimizer's update
change arrays. Code that writes announces it with ``effect``, giving a function
that redoes the write from the arrays of its inputs; a tracer turns that into a
step of its graph. Writes nested inside an announced one are part of it (an
optimizer's update of its step counter), and so are the ops run inside it:
neither is announced again.

This module sits below the tape and the variables (it imports neither), so
``Variable`` can announce its own writes. With no watcher registered,
``effect`` costs a test of one list.
"""

import contextlib
import threading

__all__ = ["WATCHERS", "effect", "in_effect", "unwatch", "watch"]

# Every registered watcher, of all threads: tested for truth before any work.
WATCHERS = []

_STATE = threading.local()


def watch(watcher):
    """Offers this thread's writes to ``watcher.observe_effect(name, redo, inputs)``.

    Examples:
        >>> class Names:
        ...     seen = []
        ...     def observe_effect(self, name, redo, inputs):
        ...         self.seen.append(name)
        >>> names = Names()
        >>> watch(names)
        >>> _ = nnlib.Variable(1.0).assign(2.0)
        >>> unwatch(names)
        >>> names.seen
        ['assign']
    """
    _STATE.watchers = (*_watchers(), watcher)
    WATCHERS.append(watcher)


def unwatch(watcher):
    """Stops offering writes to ``watcher`` (registered in this thread)."""
    _STATE.watchers = tuple(w for w in _watchers() if w is not watcher)
    WATCHERS.remove(watcher)


def _watchers():
    return getattr(_STATE, "watchers", ())


def in_effect():
    """True while this thread runs the body of an announced write.

    Examples:
        >>> in_effect()
        False
    """
    return getattr(_STATE, "depth", 0) > 0


def effect(name, redo, inputs):
    """Announces a write to variables made by the body of this ``with``.

    Args:
        name: What the write is (``"assign"``, ``"apply_gradients"``), for
            graph listings and errors.
        redo: ``redo(*arrays)``, given the numpy values of ``inputs``, makes the
            same write again (a tracer calls it at each replay).
        inputs: The Tensors (or other values) the write reads.

    Examples:
        >>> v = nnlib.Variable(1.0)
        >>> with effect("assign", v.assign, (2.0,)):
        ...     _ = v.assign(2.0)
        >>> float(v)
        2.0

    With no watcher registered anywhere this is a shared do-nothing context:
    eager code pays one list test.
    """
    if not WATCHERS:
        return _UNWATCHED
    return _announced(name, redo, inputs)


_UNWATCHED = contextlib.nullcontext()


@contextlib.contextmanager
def _announced(name, redo, inputs):

    depth = getattr(_STATE, "depth", 0)
    if depth == 0:
        for watcher in _watchers():
            watcher.observe_effect(name, redo, inputs)
    _STATE.depth = depth + 1
    try:
        yield
    finally:
        _STATE.depth = depth
