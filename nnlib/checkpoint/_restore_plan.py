"""Phase one of a ``Checkpoint`` restore: pair, check, then assign or defer.

``Plan`` pairs every saved value with its variable (or optimizer slot, or
``set_state`` call) and records every problem before anything changes;
``apply`` then assigns, and registers deferred assignments for variables that
are created later (a model not called yet, and its optimizer slots).
"""

import json

from .. import random as _random
from ..engine import Variable
from . import _deferred, _matching
from ._objects import kind as _kind
from ._objects import slots as _slots
from .report import RestoreReport

__all__ = ["Plan"]

_LATE_FIX = "found as the variable was created; it keeps its initial value"


class Plan:
    """Phase one of a restore: every pairing checked, nothing assigned yet."""

    def __init__(self, stored):
        self.stored = stored
        self.saved = stored.arrays
        self.used = set()
        self.report = RestoreReport(path=stored.path, target="checkpoint")
        self.assignments = []  # (variable or slot getter, array)
        self.state_calls = []  # (set_state, state)
        self.later = {}  # layer key + "/" -> {relative name: [value, [(opt, slot, a)]]}
        self.pending = set()
        self.variables = {}  # key -> Variable existing now
        self.deferrable = {}  # layer key -> layer not fully built
        self.states = json.loads(stored.attrs.get("states", "{}"))

    def collect(self, checkpoint, prefix=""):
        optimizers = []
        self._collect(checkpoint, prefix, optimizers)
        for key, opt in optimizers:
            self._optimizer(key, opt)
        for name in self.saved:
            if name not in self.used:
                self.report.add_unexpected(
                    name, self.saved[name].shape, self.saved[name].dtype
                )

    def _collect(self, checkpoint, prefix, optimizers):
        for key, obj in checkpoint._objects.items():
            key = prefix + key
            kind = _kind(key, obj)
            if kind == "layer":
                self._layer(key, obj)
            elif kind == "variable":
                self.variables.setdefault(key, obj)
                self._pair(key, obj)
            elif kind == "optimizer":
                optimizers.append((key, obj))
                rate = self.states.get(f"{key}/learning_rate")
                # A schedule in the code wins over a float saved earlier.
                if rate is not None and not callable(obj._learning_rate):
                    self.state_calls.append((_rate_setter(obj), rate))
            elif kind == "checkpoint":
                self._collect(obj, key + "/", optimizers)
            elif key in self.states:
                self.state_calls.append((obj.set_state, self.states[key]))
            else:
                self.report.add_missing(key, what="(a get_state dict)")

    def _pair(self, key, variable):
        if key not in self.saved:
            self.report.add_missing(key, variable.shape, variable.dtype)
            return
        self.used.add(key)
        if _matching.fits(key, self.saved[key], variable, self.report, False):
            self.assignments.append((variable, self.saved[key]))

    def _layer(self, key, layer):
        prefix = key + "/"
        named = _matching.named_variables(layer)
        for name, var in named.items():
            self.variables.setdefault(prefix + name, var)
            self._pair(prefix + name, var)
        if any(not sub.built for sub in layer._layers_below()):
            self.deferrable[prefix] = layer
            for name in self.saved:
                if name.startswith(prefix) and name[len(prefix) :] not in named:
                    self._defer(prefix, name[len(prefix) :])[0] = self.saved[name]
                    self.used.add(name)

    def _defer(self, prefix, relative):
        entries = self.later.setdefault(prefix, {})
        if relative not in entries:
            entries[relative] = [None, []]
            self.pending.add(prefix + relative)
            self.report.deferred.append(prefix + relative)
        return entries[relative]

    def _optimizer(self, key, opt):
        self._pair(f"{key}/iterations", opt.iterations)
        slots_prefix = f"{key}/slots/"
        for name in self.saved:
            if not name.startswith(slots_prefix):
                continue
            slot, _, var_key = name[len(slots_prefix) :].partition("/")
            if slot not in opt.get_slot_names():
                continue  # reported as unexpected
            array = self.saved[name]
            var = self.variables.get(var_key)
            if var is not None:
                self.used.add(name)
                if _matching.fits(name, array, var, self.report, False):
                    self.assignments.append((_slot_getter(opt, var, slot), array))
                continue
            for prefix in self.deferrable:
                if var_key.startswith(prefix):
                    entry = self._defer(prefix, var_key[len(prefix) :])
                    entry[1].append((opt, slot, array))
                    self.used.add(name)
                    break
        owned = set()
        for var_key, var in self.variables.items():
            for slot, slot_var in zip(opt.get_slot_names(), _slots(opt, var)):
                owned.add(id(slot_var))
                if f"{slots_prefix}{slot}/{var_key}" not in self.saved:
                    self.report.add_missing(
                        f"{slots_prefix}{slot}/{var_key}", var.shape, var.dtype
                    )
        for slot_var in opt.variables()[1:]:
            if id(slot_var) not in owned:
                self._pair(f"{key}/unowned/{slot_var.name}", slot_var)

    def apply(self, checkpoint, random_state):
        # States first: set_state may still refuse, before any variable changes.
        for set_state, state in self.state_calls:
            set_state(state)
        attrs = self.stored.attrs
        if random_state and "random_state" in attrs:
            _random.set_state(json.loads(attrs["random_state"]))
        for target, value in self.assignments:
            (target if isinstance(target, Variable) else target()).assign(value)
        checkpoint.save_counter.assign(int(attrs.get("save_counter", 0)))
        for prefix, entries in self.later.items():
            actions = {
                name: _restorer(prefix + name, value, slots, self)
                for name, (value, slots) in entries.items()
            }
            _deferred.defer(self.deferrable[prefix], actions)


def _restorer(key, value, slots, plan):
    """The ``_deferred.Value`` restoring ``key`` (and its optimizer slots)."""
    report, pending = plan.report, plan.pending

    def assign(variable):
        single = RestoreReport(path=report.path, target="checkpoint")
        if not _matching.fits(key, value, variable, single, False):
            single.raise_if_mismatched(strict=False, fix=_LATE_FIX)
        variable.assign(value)

    def slot_restorer(opt, slot, array):
        def restore(variable):
            opt.build([variable])
            slot_var = opt.get_slot(variable, slot)
            single = RestoreReport(path=report.path, target="checkpoint")
            if not _matching.fits(f"{slot}/{key}", array, slot_var, single, False):
                single.raise_if_mismatched(strict=False, fix=_LATE_FIX)
            slot_var.assign(array)

        return restore

    def settle(used):
        # Applied, or superseded by a newer restore: no longer waiting either way.
        if used:
            report.matched.append(key)
        pending.discard(key)
        if key in report.deferred:
            report.deferred.remove(key)

    return _deferred.Value(
        assign if value is not None else None,
        {(id(opt), slot): slot_restorer(opt, slot, a) for opt, slot, a in slots},
        settle,
    )


def _rate_setter(opt):
    def set_rate(rate):
        opt.learning_rate = rate

    return set_rate


def _slot_getter(opt, var, slot):
    def get():
        opt.build([var])
        return opt.get_slot(var, slot)

    return get
