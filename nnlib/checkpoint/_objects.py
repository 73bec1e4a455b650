"""What a Checkpoint can hold, and where an optimizer keeps a variable's slots."""

from ..engine import Variable
from ..layers.base import Layer
from ..optimizers import Optimizer

__all__ = ["kind", "slots"]


def kind(key, obj):
    """The kind of a Checkpoint object: layer, variable, optimizer, checkpoint, state.

    Raises:
        TypeError: For an object of another kind.
    """
    if isinstance(obj, Layer):
        return "layer"
    if isinstance(obj, Variable):
        return "variable"
    if isinstance(obj, Optimizer):
        return "optimizer"
    if getattr(type(obj), "_checkpoint_kind", None) == "checkpoint":
        return "checkpoint"  # a Checkpoint says so (its module imports this one)
    if callable(getattr(obj, "get_state", None)) and callable(
        getattr(obj, "set_state", None)
    ):
        return "state"
    raise TypeError(
        f"Checkpoint: cannot save {key}={type(obj).__name__}; pass Layers, "
        "Networks, Optimizers, Variables, Checkpoints or objects with "
        "get_state()/set_state()"
    )


def slots(opt, var):
    """The slot Variables ``opt`` holds for ``var`` (those created so far)."""
    found = []
    for slot in opt.get_slot_names():
        try:
            found.append(opt.get_slot(var, slot))
        except KeyError:
            break
    return found
