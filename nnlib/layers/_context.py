"""The ``training`` flag a network's call passes down to the layers it calls.

``model(x, training=True)`` must reach a Dropout inside, even when the model's
``call`` does not pass ``training`` on: each layer call opens a scope with its
resolved flag, and layers called inside without one take it from there.
"""

import contextlib
import functools
import inspect
import threading

_STATE = threading.local()


def training():
    """The flag of the innermost layer call on this thread (None outside)."""
    stack = getattr(_STATE, "stack", None)
    return stack[-1] if stack else None


@contextlib.contextmanager
def training_scope(flag):
    stack = getattr(_STATE, "stack", None)
    if stack is None:
        stack = _STATE.stack = []
    stack.append(flag)
    try:
        yield
    finally:
        stack.pop()


def accepts_training(layer):
    """True when the layer's ``call`` has a ``training`` parameter."""
    return _accepts(type(layer).call)


@functools.cache
def _accepts(call):
    parameters = inspect.signature(call).parameters
    return "training" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
