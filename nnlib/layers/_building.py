"""Building a layer exactly once, and undoing a build that fails.

Two threads making the first call of one layer must not both build it: each
layer gets a re-entrant lock on its first call, taken only while the layer is
not built (callers check ``built`` first, and again under the lock), and dropped
once it is. Re-entrant, because a network's first call builds its sublayers
from inside itself.

``build`` itself is wrapped (``wrap_build``, applied to every Layer class) so
that calling it by hand, as Keras code does (``layer.build((None, 3))``), is
such a build too: locked, undone on failure, and leaving the layer built; a
second call does nothing.

A build that raises is undone: the attributes it set, the sublayers it built and
the variables it created (their names are freed, so a retry does not hit
"already exists"). Hooks announcing new variables (deferred restore) run only
when the outermost build succeeds, so a failed build consumes no loaded value.
"""

import contextlib
import contextvars
import functools
import threading

from ..variable_scope import _forget_variable

__all__ = [
    "Build",
    "begin",
    "build_lock",
    "building",
    "fail",
    "finish",
    "record",
    "stand_in",
    "standing_in",
    "wrap_build",
]

_GUARD = threading.Lock()
_LOCAL = threading.local()
# The LayerState fields a build changes (its name stays: it was in messages).
_SNAPSHOT = ("sublayers", "variables", "frozen", "regularizers", "build_input_shape")


def build_lock(layer):
    """The layer's build lock (made on first need; see the module docstring)."""
    state = layer._nnlib
    lock = state.build_lock
    if lock is None:
        with _GUARD:
            lock = state.build_lock
            if lock is None:
                lock = state.build_lock = threading.RLock()
    return lock


class Build:
    """One layer's build in progress: what it made, and the state to go back to."""

    def __init__(self, layer):
        self.layer = layer
        self.attributes = dict(layer.__dict__)
        state = layer._nnlib
        self.state = {slot: _copy(getattr(state, slot)) for slot in _SNAPSHOT}
        self.created = []  # (layer, variable), in creation order
        self.nested = []  # builds of other layers finished inside this one

    def all_created(self):
        for build in self.nested:
            yield from build.all_created()
        yield from self.created

    def undo(self):
        for build in reversed(self.nested):
            build.undo()
        for layer, variable in self.created:
            _forget_variable(variable)
            if layer is not self.layer:  # another layer's add_weight: drop it there
                state = layer._nnlib
                state.variables = [v for v in state.variables if v is not variable]
                state.regularizers = [
                    r for r in state.regularizers if r[0] is not variable
                ]
                state.frozen.pop(variable._id, None)
        layer = self.layer
        layer.__dict__.clear()
        layer.__dict__.update(self.attributes)
        state = layer._nnlib
        for slot, value in self.state.items():
            setattr(state, slot, value)


def _copy(value):
    return value.copy() if isinstance(value, (list, dict)) else value


def _stack():
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    return stack


def begin(layer):
    """Starts recording ``layer``'s build; returns the ``Build``."""
    build = Build(layer)
    _stack().append(build)
    return build


def building():
    """True inside a layer's build on this thread."""
    return bool(getattr(_LOCAL, "stack", None))


_STAND_IN = contextvars.ContextVar("nnlib_stand_in", default=False)


@contextlib.contextmanager
def stand_in():
    """Marks a run on stand-in zeros whose only purpose is to build layers (a
    model built from an input shape): stateful layers keep nothing of it."""
    token = _STAND_IN.set(True)
    try:
        yield
    finally:
        _STAND_IN.reset(token)


def standing_in():
    """True inside ``stand_in``."""
    return _STAND_IN.get()


def record(layer, variable):
    """Notes a new variable; False when no build is in progress (announce it now)."""
    stack = getattr(_LOCAL, "stack", None)
    if not stack:
        return False
    stack[-1].created.append((layer, variable))
    return True


def finish(build):
    """Ends a successful build; returns the variables to announce now (the
    outermost build's, nested ones included), else an empty list."""
    stack = _stack()
    stack.pop()
    if stack:
        stack[-1].nested.append(build)
        return []
    return list(build.all_created())


def fail(build):
    """Ends a failed build, undoing it."""
    _stack().pop()
    build.undo()


def _building_layer(layer):
    """True while ``layer``'s own build runs on this thread."""
    return any(build.layer is layer for build in getattr(_LOCAL, "stack", ()))


def wrap_build(build):
    """``build`` made safe to call by hand (Keras's contract), once per layer.

    Called by hand, the wrapper runs the build as the first call would (under
    the build lock, undone if it raises) and marks the layer built with the
    given shape; a layer already built is left as it is. Inside a build in
    progress (the first call's, or ``super().build(...)``) the original runs.
    Costs nothing after the build: calls never go through ``build`` then.
    """
    if getattr(build, "_nnlib_build", False):
        return build

    @functools.wraps(build)
    def build_wrapper(self, *args, **kwargs):
        if _building_layer(self):
            return build(self, *args, **kwargs)
        if self.built:
            return None
        shapes = (*args, *kwargs.values())
        shape = shapes[0] if len(shapes) == 1 else (shapes or None)
        self._build_on(shape, lambda: build(self, *args, **kwargs))
        return None

    build_wrapper._nnlib_build = True
    return build_wrapper
