"""The ``training`` flag a network's call passes down to the layers it calls,
and what a layer's ``call`` accepts (cached per class).

``model(x, training=True)`` must reach a Dropout inside, even when the model's
``call`` does not pass ``training`` on: each layer call opens a scope with its
resolved flag, and layers called inside without one take it from there.
"""

import contextlib
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


# type(layer) -> (takes_training, mask_slot, computes_mask), read on every
# layer call: a plain dict, filled by call_flags. Keyed by class, so a class
# defined in a loop stays alive with it (as its methods' caches would keep it).
CALL_FLAGS = {}
_KEYWORD = 1 << 30  # the place of a keyword-only mask: never reached by args


def call_flags(layer):
    """``(takes_training, mask_slot, computes_mask)`` of the layer's class, cached.

    ``takes_training``: ``call`` has a ``training`` parameter (or ``**kwargs``).
    ``mask_slot``: None when ``call`` has no ``mask`` parameter (as Keras 3
    asks, a ``**kwargs`` catch-all does not count); else the index in the
    call's extra positional arguments (after the inputs) that would fill it.
    ``computes_mask``: the class overrides ``Layer.compute_mask`` (it makes
    masks of its own, as an Embedding with ``mask_zero`` does).
    """
    cls = type(layer)
    flags = CALL_FLAGS.get(cls)
    if flags is None:
        parameters = inspect.signature(cls.call).parameters
        takes_training = "training" in parameters or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
        )
        compute_mask = cls.compute_mask
        overrides = (compute_mask.__module__, compute_mask.__qualname__) != (
            "nnlib.layers.base",
            "Layer.compute_mask",
        )
        flags = CALL_FLAGS[cls] = (takes_training, _mask_slot(cls.call), overrides)
    return flags


def accepts_training(layer):
    """True when the layer's ``call`` has a ``training`` parameter."""
    return call_flags(layer)[0]


def _mask_slot(call):
    parameters = list(inspect.signature(call).parameters.values())
    for index, p in enumerate(parameters):
        if p.name == "mask":
            positional = p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            return index - 2 if positional else _KEYWORD  # after self, inputs
    return None


def accepts_mask(layer):
    """True when the layer's ``call`` names a ``mask`` parameter."""
    return call_flags(layer)[1] is not None


def computes_mask(layer):
    """True when the layer's class overrides ``Layer.compute_mask``."""
    return call_flags(layer)[2]
