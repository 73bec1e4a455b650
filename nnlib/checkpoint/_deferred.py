"""Deferred restore: values loaded before their variables exist.

``load_weights`` or ``Checkpoint.restore`` on a model not called yet keeps
each value here, keyed by the layer restored into and the variable's name
relative to it; ``Layer.add_weight`` calls the hook below for every new
variable, and the value is applied the moment its variable is created.

Several restores can hold a value for one variable: a parent network's file
and then a sub-network's file, say (kept under different layers), or two
files loaded into one model. The most recent restore wins, variable by
variable and optimizer slot by slot, whatever layer each was restored into;
the older ones are settled as superseded, so none stays pending. (An
immediate restore needs no such care: it only assigns variables that exist,
whose deferred values were applied when they were created.)

The hook is installed only while something is pending, so building a layer
costs one empty-list check otherwise.
"""

import itertools
import weakref

from ..layers import base as _layer_base

__all__ = ["Value", "defer", "pending"]

# layer -> {relative name: [Value, ...]}, oldest first
_PENDING = weakref.WeakKeyDictionary()
_ORDER = itertools.count()  # restores are ordered by when they were deferred


class Value:
    """What one restore keeps for one variable that does not exist yet.

    Args:
        assign: ``assign(variable)`` gives the variable its value; None when
            the restore holds only optimizer slots for it.
        slots: ``{key: restore(variable)}`` restoring optimizer slots of the
            variable, ``key`` naming the optimizer and the slot.
        settle: ``settle(used)``, called once when the variable is created:
            ``used`` is False when newer restores supplied all this one had.
    """

    __slots__ = ("assign", "order", "settle", "slots")

    def __init__(self, assign=None, slots=None, settle=None):
        self.assign = assign
        self.slots = dict(slots or {})
        self.settle = settle
        self.order = None


def defer(layer, values):
    """Keeps ``{relative name: Value}`` for ``layer``'s future variables.

    Values kept earlier (for this layer or any other) stay, but lose to these
    for whatever these restore.
    """
    if not values:
        return
    entries = _PENDING.setdefault(layer, {})
    for name, value in values.items():
        value.order = next(_ORDER)
        entries.setdefault(name, []).append(value)
    _sync_hook()


def pending(layer):
    """The relative names still waiting for their variable in ``layer``."""
    return sorted(_PENDING.get(layer, ()))


def _on_variable_created(layer, variable):
    found = []
    node = layer
    while node is not None:
        entries = _PENDING.get(node)
        if entries:
            relative = variable.name.removeprefix(node.scope_name + "/")
            found.extend(entries.pop(relative, ()))
            if not entries:
                del _PENDING[node]
        parent = node._parent
        node = parent() if parent is not None else None
    if found:
        _sync_hook()
        _apply(sorted(found, key=lambda value: value.order), variable)


def _apply(values, variable):
    """Applies the newest value and the newest of each slot; settles them all."""
    used = set()
    winner = next((v for v in reversed(values) if v.assign is not None), None)
    slot_winners = {}
    for value in values:  # oldest first: newer ones overwrite
        for key in value.slots:
            slot_winners[key] = value
    try:
        if winner is not None:
            used.add(id(winner))
            winner.assign(variable)
        for key, value in slot_winners.items():
            used.add(id(value))
            value.slots[key](variable)
    finally:
        for value in values:
            if value.settle is not None:
                value.settle(id(value) in used)


def _sync_hook():
    hooks = _layer_base._variable_created_hooks
    installed = _on_variable_created in hooks
    if _PENDING and not installed:
        hooks.append(_on_variable_created)
    elif not _PENDING and installed:
        hooks.remove(_on_variable_created)
