"""Names and ownership: how a layer gets its name and finds what it owns.

A layer is named when first needed: by the network that tracks it (unique among
that network's layers) or, with no parent, uniquely at the top level. Layers and
Variables assigned as attributes, public or private (``self._blocks``), or
inside lists, tuples and dicts, are owned.

A layer's own bookkeeping lives in one object under the attribute ``_nnlib``, so
a subclass's private attributes (``self._output_shape``) cannot overwrite it. The
few private names nnlib still answers to (``_name``, ``_sublayers``, the base
classes' private methods...) are reserved: assigning or overriding one raises an
error that names it and the fix, instead of silently breaking the layer.
"""

import weakref

from .. import naming
from ..engine import nest
from ..engine.variable import Variable
from ..variable_scope import get_variable_scope, scope_in_use

__all__ = ["LayerState", "Tracked"]


class LayerState:
    """What nnlib keeps about a layer (its ``_nnlib`` attribute)."""

    __slots__ = (
        "batch_input_shape",  # from input_shape=, batch axis first
        "build_input_shape",
        "build_lock",  # made on the first call, dropped once built
        "copied_scope",  # a copy's scope before its renaming (see _pickling)
        "dtype",
        "frozen",  # variable id -> True: trainable before the layer was frozen
        "given_name",  # as passed to the constructor, or None
        "name",  # None until the layer is named
        "output_shape",  # of the latest call, for summary()
        "parent",  # weakref to the owning network, or None
        "regularizers",  # (variable, regularizer) pairs
        "scope_prefix",  # the variable scope open when a top-level layer was named
        "sublayers",
        "trainable",
        "variables",  # the variables this layer owns itself, in creation order
    )

    def __init__(self, name, trainable, dtype, batch_input_shape):
        self.given_name, self.name, self.scope_prefix, self.parent = (
            name,
            None,
            None,
            None,
        )
        self.sublayers, self.variables, self.frozen, self.regularizers = [], [], {}, []
        self.trainable, self.dtype = trainable, dtype
        self.batch_input_shape = batch_input_shape
        self.build_input_shape = self.output_shape = self.build_lock = None
        self.copied_scope = None


# How to fix an assignment of a reserved name that means something in Keras.
_KERAS_FIXES = {
    "_name": "pass name=... to super().__init__() instead",
    "_dtype": "pass dtype=... to super().__init__() instead",
    "_trainable": "set self.trainable = ... instead (it freezes every variable)",
    "_batch_input_shape": "pass input_shape=... to super().__init__() instead",
}


class Tracked:
    """The naming and tracking half of ``Layer`` (not used alone).

    Subclasses set ``_nnlib`` (a ``LayerState``) and ``built`` in ``__init__``
    with ``object.__setattr__`` before anything else.
    """

    # Instance attributes nnlib writes that no class defines: reserved too.
    _nnlib_instance_names = ("_nnlib",)
    _nnlib_reserved = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherited = _reserved_names(cls.__mro__[1:])
        if not _is_nnlib(cls):
            clash = sorted(set(vars(cls)) & set(inherited))
            if clash:
                name = clash[0]
                raise TypeError(
                    f"{cls.__name__} defines '{name}', a name nnlib's "
                    f"{inherited[name]} uses internally (overriding it would break "
                    f"the layer quietly); rename it, for example to '_my{name}'"
                )
        cls._nnlib_reserved = frozenset(_reserved_names(cls.__mro__))

    @property
    def name(self):
        """The layer's name (unique among its parent's layers)."""
        state = self._nnlib
        if state.name is None:
            self._adopt(None)
        return state.name

    @property
    def _name(self):
        # Keras code reads self._name; assigning it is refused (see _KERAS_FIXES).
        return self.name

    @property
    def _sublayers(self):
        return self._nnlib.sublayers

    @property
    def _parent(self):
        return self._nnlib.parent

    @property
    def scope_name(self):
        """The full variable-scope path: ``"gan/generator/dense"``."""
        name = self.name
        state = self._nnlib
        parent = state.parent() if state.parent is not None else None
        if parent is not None:
            return f"{parent.scope_name}/{name}"
        return f"{state.scope_prefix}/{name}" if state.scope_prefix else name

    def _adopt(self, parent):
        """Names this layer, as a child of ``parent`` or at the top level."""
        state = self._nnlib
        base = state.given_name or naming.to_snake_case(type(self).__name__)
        if parent is None:
            prefix = get_variable_scope().name
            name = naming.unique_name(base)
            # Counters can be reset while older models live: skip names in use.
            while scope_in_use(f"{prefix}/{name}" if prefix else name):
                name = naming.unique_name(base)
            state.scope_prefix, state.name = prefix, name
            return
        taken = {
            c._nnlib.name
            for c in parent._nnlib.sublayers
            if c is not self and c._nnlib.name
        }
        if state.given_name and state.given_name in taken:
            raise ValueError(
                f"layer name '{state.given_name}' is used twice in "
                f"'{parent.name}'; layer names must be unique in a network"
            )
        # Weak, so a network and its layers form no cycle and die together.
        state.parent = weakref.ref(parent)
        state.name = naming.unique_name(base, taken)

    def _track(self, layer):
        """Registers ``layer`` as a sublayer; the first owner names it."""
        if layer is self:
            raise ValueError(f"layer '{self.name}' cannot track itself")
        sublayers = self._nnlib.sublayers
        if any(layer is c for c in sublayers):
            return layer
        _check_no_cycle(self, layer)
        sublayers.append(layer)
        # A layer keeps its first owner; one already built keeps its name too.
        if layer._nnlib.parent is None and not layer.built and not _owns(layer, self):
            layer._adopt(self)
        return layer

    def _own_variable(self, variable):
        """Registers a Variable assigned as an attribute (``add_weight``'s are)."""
        state = self._nnlib
        if any(variable is v for v in state.variables):
            return
        state.variables.append(variable)
        if not state.trainable and variable.trainable:
            state.frozen[variable._id] = True
            variable.trainable = False

    def __setattr__(self, key, value):
        if key in type(self)._nnlib_reserved:
            raise AttributeError(_refusal(self, key))
        if "_nnlib" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call "
                "super().__init__() before setting attributes"
            )
        leaves = (
            nest.flatten(value) if isinstance(value, (list, tuple, dict)) else (value,)
        )
        layers = [leaf for leaf in leaves if isinstance(leaf, Tracked)]
        for layer in layers:  # all checked before anything is tracked
            if layer is not self:
                _check_no_cycle(self, layer, key)
        for leaf in leaves:
            if isinstance(leaf, Tracked):
                self._track(leaf)
            elif isinstance(leaf, Variable):
                self._own_variable(leaf)
        object.__setattr__(self, key, value)


def _is_nnlib(cls):
    return cls.__module__ == "nnlib" or cls.__module__.startswith("nnlib.")


_HALVES = ("Tracked", "Weights")


def _reserved_names(classes):
    """``{name: defining class name}``: private names nnlib's classes use
    (``Trainer``'s too, a base of ``Network``)."""
    names = {}
    for cls in reversed(classes):
        if _is_nnlib(cls):
            for name in (*vars(cls), *vars(cls).get("_nnlib_instance_names", ())):
                if name.startswith("_") and not name.endswith("__"):
                    # Layer's halves (Tracked, Weights) are Layer to a user.
                    names[name] = "Layer" if cls.__name__ in _HALVES else cls.__name__
    return names


def _refusal(layer, key):
    cls = type(layer)
    owner = _reserved_names(cls.__mro__).get(key, "Layer")
    fix = _KERAS_FIXES.get(key, f"rename yours, for example to '_my{key}'")
    return (
        f"cannot set '{key}' on {cls.__name__}: nnlib's {owner} reserves that "
        f"name for its own state; {fix}"
    )


def _check_no_cycle(owner, layer, key=None):
    """Raises if ``layer`` already holds ``owner``: owning it would be a cycle."""
    seen, todo = set(), list(layer._nnlib.sublayers)
    while todo:
        node = todo.pop()
        if node is owner:
            where = f" as '{key}'" if key else ""
            raise ValueError(
                f"layer '{owner.name}' cannot own '{layer.name}'{where}: "
                f"'{layer.name}' already holds '{owner.name}', so each would "
                "own the other; to keep a reference to an owner, store "
                "weakref.ref(owner), which is not tracked"
            )
        if id(node) not in seen:
            seen.add(id(node))
            todo.extend(node._nnlib.sublayers)


def _owns(layer, candidate):
    """True when ``layer`` is ``candidate`` or one of its ancestors (no cycles)."""
    node = candidate
    while node is not None:
        if node is layer:
            return True
        parent = node._nnlib.parent
        node = parent() if parent is not None else None
    return False
