"""Deferred restore: values loaded before their variables exist.

``load_weights`` on a model not called yet keeps each value here, keyed by the
model and the variable's name relative to it; ``Layer.add_weight`` calls the
hook below for every new variable, and the value is applied the moment its
variable is created. The hook is installed only while something is pending, so
building a layer costs one empty-list check otherwise.
"""

import weakref

from ..layers import base as _layer_base

__all__ = ["cancel", "defer", "pending"]

_PENDING = weakref.WeakKeyDictionary()  # layer -> {relative name: action(variable)}


def defer(layer, actions):
    """Keeps ``{relative name: action(variable)}`` for ``layer``'s future variables.

    Replaces whatever an earlier load left pending for ``layer``.
    """
    if actions:
        _PENDING[layer] = dict(actions)
    else:
        _PENDING.pop(layer, None)
    _sync_hook()


def cancel(layer):
    """Drops the values pending for ``layer`` (a newer load supersedes them)."""
    _PENDING.pop(layer, None)
    _sync_hook()


def pending(layer):
    """The relative names still waiting for their variable in ``layer``."""
    return sorted(_PENDING.get(layer, ()))


def _on_variable_created(layer, variable):
    node = layer
    while node is not None:
        actions = _PENDING.get(node)
        if actions:
            prefix = node.scope_name + "/"
            action = actions.pop(variable.name.removeprefix(prefix), None)
            if action is not None:
                if not actions:
                    del _PENDING[node]
                    _sync_hook()
                action(variable)
                return
        parent = node._parent
        node = parent() if parent is not None else None


def _sync_hook():
    hooks = _layer_base._variable_created_hooks
    installed = _on_variable_created in hooks
    if _PENDING and not installed:
        hooks.append(_on_variable_created)
    elif not _PENDING and installed:
        hooks.remove(_on_variable_created)
