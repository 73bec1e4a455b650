"""Checkpoint: saves and restores a whole training state in one HDF5 file.

Each object is stored under its keyword: a model's variables under
``"model/<name relative to the model>"``, a Variable as ``"step"``, an
optimizer's step counter as ``"optimizer/iterations"`` and its slots as
``"optimizer/slots/<slot>/<key of the variable>"`` (so slots follow their
variable, not the optimizer's naming), nested Checkpoints under their key.
Objects with ``get_state``/``set_state`` (callbacks such as EarlyStopping) and
nnlib's random state are kept as JSON attributes, so training resumes exactly.
"""

import json
import os

import numpy as np

from .. import random as _random
from ..engine import Variable
from ..layers.base import Layer
from ..optimizers import Optimizer
from . import _deferred, h5io, weights
from .errors import CheckpointMismatchError
from .report import RestoreReport
from .status import RestoreStatus

__all__ = ["Checkpoint"]

_RESERVED = {"save", "write", "restore", "objects", "save_counter"}
_FIX = "nothing was changed; the objects must have the shapes they had when saved"
_LATE_FIX = "found as the variable was created; it keeps its initial value"


class Checkpoint:
    """Groups a model, an optimizer, a step counter and more, for saving together.

    Args:
        **objects: Keyword names for what to save: Layers and Networks,
            Optimizers, Variables, nested Checkpoints, and objects with
            ``get_state()``/``set_state(state)`` returning JSON-friendly dicts.

    Raises:
        TypeError: For an object of another kind.
        ValueError: For a key that contains ``/`` or is reserved.

    Example:
        >>> import os, tempfile
        >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
        >>> opt = nnlib.optimizers.Adam(0.1)
        >>> _ = opt.minimize(lambda: nnlib.reduce_sum(model(np.ones((1, 3)))))
        >>> ckpt = nnlib.Checkpoint(model=model, optimizer=opt)
        >>> path = ckpt.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
        >>> os.path.basename(path)
        'ckpt-1.h5'
        >>> model2 = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
        >>> opt2 = nnlib.optimizers.Adam(0.1)
        >>> _ = nnlib.Checkpoint(model=model2, optimizer=opt2).restore(path).assert_consumed()
        >>> int(opt2.iterations), np.array_equal(model2.get_weights()[0], model.get_weights()[0])
        (1, True)
    """

    def __init__(self, **objects):
        for key, obj in objects.items():
            if not key or "/" in key or key in _RESERVED or key.startswith("_"):
                raise ValueError(f"Checkpoint: {key!r} cannot be used as a key")
            _kind(key, obj)
        self._objects = dict(objects)
        self.save_counter = Variable(np.int64(0), name="save_counter", trainable=False)

    @property
    def objects(self):
        """The objects by key (a copy)."""
        return dict(self._objects)

    def __getattr__(self, key):
        objects = self.__dict__.get("_objects", {})
        if key in objects:
            return objects[key]
        raise AttributeError(f"Checkpoint has no object {key!r}")

    # -- saving -------------------------------------------------------------------

    def save(self, file_prefix):
        """Writes ``<file_prefix>-<n>.h5``, n counting saves (``save_counter``).

        Missing folders are created. The file is written atomically.

        Args:
            file_prefix: A path prefix such as ``"ckpts/run"``.

        Returns:
            The path written.

        Raises:
            CheckpointWriteError: If saving fails; earlier files are intact.
        """
        number = int(self.save_counter.numpy()) + 1
        path = self.write(f"{os.fspath(file_prefix)}-{number}.h5", _counter=number)
        self.save_counter.assign(number)
        return path

    def write(self, path, _counter=None):
        """Writes the checkpoint to exactly ``path`` (no counter); returns it.

        Raises:
            CheckpointWriteError: If saving fails; a previous file is intact.
        """
        counter = int(self.save_counter.numpy()) if _counter is None else _counter
        arrays, attrs = self._contents(counter)
        return h5io.write(path, arrays, attrs, make_dirs=True)

    def _contents(self, counter):
        """``(arrays, attrs)`` of the file: what ``write`` saves (and model files)."""
        arrays, meta = {}, {}
        variables = {}  # var _id -> its key in this checkpoint
        optimizers, states = [], {}
        self._gather("", arrays, meta, variables, optimizers, states)
        for key, opt in optimizers:
            _save_optimizer(key, opt, variables, arrays)
        attrs = {
            "kind": "checkpoint",
            "save_counter": counter,
            "objects": json.dumps(meta),
            "states": json.dumps(states),
            "random_state": json.dumps(_random.get_state()),
        }
        return arrays, attrs

    def _gather(self, prefix, arrays, meta, variables, optimizers, states):
        for key, obj in self._objects.items():
            key = prefix + key
            kind = _kind(key, obj)
            meta[key] = {"type": kind, "class": type(obj).__name__}
            if kind == "layer":
                meta[key]["name"] = obj.name
                for name, var in weights.named_variables(obj).items():
                    arrays[f"{key}/{name}"] = var.numpy()
                    variables.setdefault(var._id, (f"{key}/{name}", var))
            elif kind == "variable":
                arrays[key] = obj.numpy()
                variables.setdefault(obj._id, (key, obj))
            elif kind == "optimizer":
                optimizers.append((key, obj))
                if not callable(obj._learning_rate):  # ReduceLROnPlateau changes it
                    states[f"{key}/learning_rate"] = float(obj._learning_rate)
            elif kind == "checkpoint":
                obj._gather(key + "/", arrays, meta, variables, optimizers, states)
            else:
                states[key] = obj.get_state()

    # -- restoring ----------------------------------------------------------------

    def restore(self, save_path, random_state=True):
        """Restores the objects from a file ``save``/``write`` made.

        Everything is read and checked first, then assigned. Values for objects
        not built yet (a model not called yet, and the optimizer slots of its
        variables) are applied as each variable is created. ``restore(None)``
        restores nothing (so ``restore(manager.latest_checkpoint)`` works on a
        first run).

        For a bit-exact resume, call the model once before restoring:
        variables created after the restore draw their initial values from the
        random generator it restored.

        Args:
            save_path: The file, or None.
            random_state: Also restore nnlib's random generator, as it was at
                saving, so training resumes exactly.

        Returns:
            A ``RestoreStatus``.

        Raises:
            CheckpointMismatchError: If a value's shape differs from its
                variable's; nothing is changed then.
            CheckpointError: A missing, damaged or locked file (subclasses).
        """
        if save_path is None:
            return RestoreStatus()
        stored = h5io.read(save_path)
        if stored.attrs.get("kind") != "checkpoint":
            raise CheckpointMismatchError(
                f"'{stored.path}' is a weights file, not a Checkpoint: load it with "
                "model.load_weights(path)",
                path=stored.path,
            )
        return self._restore(stored, random_state)

    def _restore(self, stored, random_state):
        """Restores from an ``h5io.Stored`` already read (``load_model`` too)."""
        plan = _Plan(stored)
        plan.collect(self)
        plan.report.raise_if_mismatched(strict=False, fix=_FIX)
        plan.apply(self, random_state)
        return RestoreStatus(plan.report, plan.pending)


class _Plan:
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
                if rate is not None:
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
        if weights._fits(key, self.saved[key], variable, self.report, False):
            self.assignments.append((variable, self.saved[key]))

    def _layer(self, key, layer):
        prefix = key + "/"
        named = weights.named_variables(layer)
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
                if weights._fits(name, array, var, self.report, False):
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
    report, pending = plan.report, plan.pending

    def restore(variable):
        single = RestoreReport(path=report.path, target="checkpoint")
        if value is not None:
            if not weights._fits(key, value, variable, single, False):
                single.raise_if_mismatched(strict=False, fix=_LATE_FIX)
            variable.assign(value)
        for opt, slot, array in slots:
            opt.build([variable])
            slot_var = opt.get_slot(variable, slot)
            name = f"{slot}/{key}"
            if not weights._fits(name, array, slot_var, single, False):
                single.raise_if_mismatched(strict=False, fix=_LATE_FIX)
            slot_var.assign(array)
        report.matched.append(key)
        pending.discard(key)
        if key in report.deferred:
            report.deferred.remove(key)

    return restore


def _rate_setter(opt):
    def set_rate(rate):
        opt.learning_rate = rate

    return set_rate


def _slot_getter(opt, var, slot):
    def get():
        opt.build([var])
        return opt.get_slot(var, slot)

    return get


def _slots(opt, var):
    found = []
    for slot in opt.get_slot_names():
        try:
            found.append(opt.get_slot(var, slot))
        except KeyError:
            break
    return found


def _save_optimizer(key, opt, variables, arrays):
    arrays[f"{key}/iterations"] = opt.iterations.numpy()
    owned = set()
    for var_key, var in variables.values():
        for slot, slot_var in zip(opt.get_slot_names(), _slots(opt, var)):
            arrays[f"{key}/slots/{slot}/{var_key}"] = slot_var.numpy()
            owned.add(id(slot_var))
    for slot_var in opt.variables()[1:]:
        if id(slot_var) not in owned:  # slots of variables outside the checkpoint
            arrays[f"{key}/unowned/{slot_var.name}"] = slot_var.numpy()


def _kind(key, obj):
    if isinstance(obj, Layer):
        return "layer"
    if isinstance(obj, Variable):
        return "variable"
    if isinstance(obj, Optimizer):
        return "optimizer"
    if isinstance(obj, Checkpoint):
        return "checkpoint"
    if callable(getattr(obj, "get_state", None)) and callable(
        getattr(obj, "set_state", None)
    ):
        return "state"
    raise TypeError(
        f"Checkpoint: cannot save {key}={type(obj).__name__}; pass Layers, "
        "Networks, Optimizers, Variables, Checkpoints or objects with "
        "get_state()/set_state()"
    )
