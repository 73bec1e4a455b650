"""Names and ownership: how a layer gets its name and finds its sublayers.

A layer is named when first needed: by the network that tracks it (unique among
that network's layers) or, with no parent, uniquely at the top level. Layers
assigned as attributes, or inside lists, tuples and dicts, are tracked.
"""

import weakref

from .. import naming
from ..engine import nest
from ..variable_scope import get_variable_scope, scope_in_use

__all__ = ["Tracked"]


class Tracked:
    """The naming and sublayer-tracking half of ``Layer`` (not used alone).

    Subclasses set ``_given_name``, ``_name``, ``_scope_prefix``, ``_parent``,
    ``_sublayers`` and ``built`` in ``__init__`` with ``object.__setattr__``.
    """

    @property
    def name(self):
        """The layer's name (unique among its parent's layers)."""
        if self._name is None:
            self._adopt(None)
        return self._name

    @property
    def scope_name(self):
        """The full variable-scope path: ``"gan/generator/dense"``."""
        name = self.name
        parent = self._parent() if self._parent is not None else None
        if parent is not None:
            return f"{parent.scope_name}/{name}"
        return f"{self._scope_prefix}/{name}" if self._scope_prefix else name

    def _adopt(self, parent):
        """Names this layer, as a child of ``parent`` or at the top level."""
        base = self._given_name or naming.to_snake_case(type(self).__name__)
        if parent is None:
            prefix = get_variable_scope().name
            name = naming.unique_name(base)
            # Counters can be reset while older models live: skip names in use.
            while scope_in_use(f"{prefix}/{name}" if prefix else name):
                name = naming.unique_name(base)
            object.__setattr__(self, "_scope_prefix", prefix)
            object.__setattr__(self, "_name", name)
            return
        taken = {c._name for c in parent._sublayers if c is not self and c._name}
        if self._given_name and self._given_name in taken:
            raise ValueError(
                f"layer name '{self._given_name}' is used twice in "
                f"'{parent.name}'; layer names must be unique in a network"
            )
        # Weak, so a network and its layers form no cycle and die together.
        object.__setattr__(self, "_parent", weakref.ref(parent))
        object.__setattr__(self, "_name", naming.unique_name(base, taken))

    def _track(self, layer):
        """Registers ``layer`` as a sublayer; the first owner names it."""
        if layer is self:
            raise ValueError(f"layer '{self.name}' cannot track itself")
        if any(layer is c for c in self._sublayers):
            return layer
        self._sublayers.append(layer)
        # A layer keeps its first owner; one already built keeps its name too.
        if layer._parent is None and not layer.built and not _owns(layer, self):
            layer._adopt(self)
        return layer

    def __setattr__(self, key, value):
        if "_sublayers" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call "
                "super().__init__() before setting attributes"
            )
        if not key.startswith("_"):
            for leaf in (
                nest.flatten(value)
                if isinstance(value, (list, tuple, dict))
                else [value]
            ):
                if isinstance(leaf, Tracked):
                    self._track(leaf)
        object.__setattr__(self, key, value)


def _owns(layer, candidate):
    """True when ``layer`` is ``candidate`` or one of its ancestors (no cycles)."""
    node = candidate
    while node is not None:
        if node is layer:
            return True
        node = node._parent() if node._parent is not None else None
    return False
