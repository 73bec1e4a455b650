"""Copies of layers: ``pickle`` and ``copy.deepcopy``, as Keras allows both.

A copy reproduces a layer's subtree: its sublayers, its variables (new ones,
with equal values and new ids) and everything else it holds (a compiled
model's optimizer with its slots, loss and metrics). What a layer keeps about
itself (``LayerState``) needs care in four places:

- The parent is a weak reference, which neither pickle nor deepcopy can carry.
  In the copied state it is the parent itself: a sublayer copied with its
  network points at the network's copy. ``deepcopy`` of a sublayer alone
  leaves the network out (the copy is a top-level layer); ``pickle`` cannot
  tell, so pickling a sublayer alone takes its network along, and the copy
  then belongs to a copy of the network that nothing else holds.
- Variable ids order a layer's variables (``variables`` sorts by them), and
  a restored variable takes the next id: the copied state lists the layer's
  variables first, in creation order, so they are restored in that order.
- Variable names are unique in a process. A copy that is a top-level layer
  is named as a new instance would be (``mnist`` while the original lives,
  else ``mnist_1``; in a fresh process the original name is free again), and
  every variable made in its scope is renamed to the new path and registered,
  so later layers pick other names. Sublayers keep their names.
- The build lock is dropped (a copy is built or not, never building), and
  variables frozen by ``trainable=False`` are re-keyed by their new ids.

``copy.copy`` makes a second layer that shares the sublayers, the variables
and the name (nothing is renamed, since nothing is new).

A value that ``load_weights`` keeps for a variable not created yet (deferred
restore) belongs to the original layer: the copy does not get it, and copying
says so with a warning.
"""

import copy
import sys
import weakref

from .. import naming
from .._warn import warn
from ..variable_scope import _STORE, scope_in_use
from ._tracking import LayerState

__all__ = ["copy_layer", "deepcopy_layer", "layer_getstate", "layer_setstate"]

_FORMAT = "nnlib.layer"  # marks the state below (a subclass may return its own)
_TRANSIENT = ("parent", "build_lock", "frozen", "copied_scope")


def layer_getstate(layer):
    """The state ``pickle`` and ``copy.deepcopy`` copy (see the module docstring)."""
    state = layer._nnlib
    fields = {
        slot: getattr(state, slot)
        for slot in LayerState.__slots__
        if slot not in _TRANSIENT
    }
    parent = state.parent() if state.parent is not None else None
    fields["parent"] = parent
    fields["frozen"] = [v for v in state.variables if v._id in state.frozen]
    fields["scope"] = layer.scope_name if state.variables else None
    _warn_pending(layer)
    attributes = {k: v for k, v in layer.__dict__.items() if k != "_nnlib"}
    return {
        "format": _FORMAT,
        "variables": layer.variables,  # first: restored in creation order
        "state": fields,
        "attributes": attributes,
    }


def layer_setstate(layer, copied):
    """Restores ``layer_getstate``'s state into a new, empty ``layer``."""
    if not isinstance(copied, dict) or copied.get("format") != _FORMAT:
        layer.__dict__.update(copied)  # a subclass's own state
        return
    fields = dict(copied["state"])
    state = LayerState.__new__(LayerState)
    parent = fields.pop("parent")
    frozen = fields.pop("frozen")
    state.copied_scope = fields.pop("scope")
    for slot, value in fields.items():
        setattr(state, slot, value)
    state.parent = weakref.ref(parent) if parent is not None else None
    state.frozen = {v._id: True for v in frozen}
    state.build_lock = None
    object.__setattr__(layer, "_nnlib", state)
    layer.__dict__.update(copied["attributes"])
    if parent is None:
        _name_copy(layer)
        _settle(layer)
    elif "_nnlib" in parent.__dict__:  # the parent was restored first (pickled
        _settle(layer)  # for this layer's sake): it is named already
    # else the parent, restored after its sublayers, settles them all


def deepcopy_layer(layer, memo):
    """``copy.deepcopy`` of ``layer``: its parent comes along only if it is
    copied too (a sublayer copied alone becomes a top-level layer)."""
    cls = type(layer)
    clone = cls.__new__(cls)
    memo[id(layer)] = clone
    state = layer.__getstate__()
    if isinstance(state, dict) and state.get("format") == _FORMAT:
        parent = state["state"]["parent"]
        if parent is not None and id(parent) not in memo:
            state = dict(state, state=dict(state["state"], parent=None))
    clone.__setstate__(copy.deepcopy(state, memo))
    return clone


def copy_layer(layer):
    """``copy.copy`` of ``layer``: a second layer sharing everything it holds.

    Its sublayers and variables are the original's (so is its name); only its
    bookkeeping lists are its own. Use ``copy.deepcopy`` for an independent copy.
    """
    cls = type(layer)
    clone = cls.__new__(cls)
    state = LayerState.__new__(LayerState)
    for slot in LayerState.__slots__:
        value = getattr(layer._nnlib, slot)
        setattr(state, slot, value.copy() if isinstance(value, (list, dict)) else value)
    state.build_lock = state.copied_scope = None
    clone.__dict__.update(layer.__dict__)
    object.__setattr__(clone, "_nnlib", state)
    return clone


def _name_copy(layer):
    """Names a top-level copy as a new instance would be (see ``_tracking``)."""
    state = layer._nnlib
    if state.name is None:
        return  # never named: named when first needed, as any layer
    base = state.given_name or naming.to_snake_case(type(layer).__name__)
    prefix = state.scope_prefix
    name = naming.unique_name(base)
    while scope_in_use(f"{prefix}/{name}" if prefix else name):
        name = naming.unique_name(base)
    state.name = name


def _settle(root):
    """Renames and registers the variables of ``root`` and the sublayers it
    owns, each under its scope now (the copy's path)."""
    todo = [root]
    while todo:
        layer = todo.pop()
        state = layer.__dict__.get("_nnlib")
        if state is None:  # restored later, and settled then
            continue
        old, state.copied_scope = state.copied_scope, None
        if old is not None:
            scope = layer.scope_name
            for variable in state.variables:
                if variable.name.startswith(old + "/"):
                    _register(variable, f"{scope}/{variable.name[len(old) + 1 :]}")
        for child in state.sublayers:  # those it owns (not one lent to it)
            child_state = child.__dict__.get("_nnlib")
            parent = child_state.parent if child_state is not None else None
            if parent is not None and parent() is layer:
                todo.append(child)


def _register(variable, name):
    """Gives a copied variable its name, held (weakly) by the variable store as
    ``add_weight``'s variables are, unless another variable has that name."""
    with _STORE.lock:
        variable._name = name
        if _STORE.get(name) is None:
            _STORE.owned[name] = variable


def _warn_pending(layer):
    """Warns when values loaded before the build wait for this layer's variables."""
    deferred = sys.modules.get("nnlib.checkpoint._deferred")
    if deferred is not None and deferred._PENDING and deferred.pending(layer):
        warn(
            f"copying layer '{layer.name}': values that load_weights (or "
            "Checkpoint.restore) read into it wait for variables not created "
            "yet, and stay with the original; build the model (call it once) "
            "before copying, or load the weights into the copy"
        )
