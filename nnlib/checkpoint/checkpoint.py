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
import time

import numpy as np

from .. import _atomic
from .. import random as _random
from .._warn import warn
from ..engine import Variable
from . import _index, _matching, h5io
from ._objects import kind as _kind
from ._objects import slots as _slots
from ._restore_plan import Plan
from .errors import CheckpointMismatchError, CheckpointWriteError
from .status import RestoreStatus

__all__ = ["Checkpoint"]

_RESERVED = {"save", "write", "restore", "objects", "save_counter"}
_FIX = "nothing was changed; the objects must have the shapes they had when saved"


class Checkpoint:
    """Groups a model, an optimizer, a step counter and more, for saving together.

    Args:
        **objects: Keyword names for what to save: Layers and Networks,
            Optimizers, Variables, nested Checkpoints, and objects with
            ``get_state()``/``set_state(state)`` returning JSON-friendly dicts.

    Raises:
        TypeError: For an object of another kind.
        ValueError: For a key that contains ``/`` or is reserved.

    Examples:
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

    # How _objects.kind tells a nested Checkpoint (it cannot import this class).
    _checkpoint_kind = "checkpoint"

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
        """Writes ``<file_prefix>-<n>.h5`` and records it in the folder's index.

        ``n`` counts saves (``save_counter``, restored with the checkpoint);
        a file already there is never overwritten: numbering continues after
        the highest ``<file_prefix>-<n>.h5`` present (with a warning when this
        Checkpoint was not restored from them). Temporary files that killed
        saves of this prefix left are removed. The index is the one
        ``CheckpointManager`` keeps, so ``nnlib.latest_checkpoint(folder)``
        returns this file. Missing folders are created; the file and the index
        are written atomically. (``write`` saves to an exact path, without
        numbering or index.)

        Args:
            file_prefix: A path prefix such as ``"ckpts/run"``.

        Returns:
            The path written.

        Raises:
            CheckpointWriteError: If saving fails, or the index cannot be
                updated (the new file is then removed); earlier files are intact.

        Examples:
            >>> import os, tempfile
            >>> folder = tempfile.mkdtemp()
            >>> ckpt = nnlib.Checkpoint(step=nnlib.Variable(np.int64(1)))
            >>> path = ckpt.save(os.path.join(folder, "run"))
            >>> nnlib.latest_checkpoint(folder) == path
            True
        """
        path, number = self._save_numbered(os.fspath(file_prefix))
        folder, name = os.path.split(os.path.abspath(path))
        try:
            _index.record(folder, name, time.time())
        except CheckpointWriteError as err:
            _atomic.remove_quietly(path)  # unlisted, nothing would find it
            raise CheckpointWriteError(
                f"{err}; the new checkpoint '{path}' was removed (nothing would "
                "find it) and the previous checkpoints are intact",
                path=err.path,
                errno=err.errno,
            ) from err
        self.save_counter.assign(number)
        return path

    def _save_numbered(self, file_prefix):
        """Writes ``<file_prefix>-<n>.h5`` with the next free ``n``; returns
        ``(path, n)`` (``save_counter`` is left to the caller)."""
        folder, name = os.path.split(os.path.abspath(file_prefix))
        _index.remove_stale_temps(folder, name)  # left by killed saves
        counter = int(self.save_counter.numpy())
        found = _index.numbers(folder, name)
        highest = max(found, default=0)
        if highest > counter and counter == 0:
            warn(
                f"Checkpoint.save: '{folder}' already holds "
                f"{len(found)} '{name}-<n>.h5' file(s), up to "
                f"'{found[highest]}', and this Checkpoint was not restored from "
                f"them: saving '{name}-{highest + 1}.h5', so nothing is "
                "overwritten. To resume a run, call checkpoint.restore("
                f"nnlib.latest_checkpoint({folder!r})) before training"
            )
        number = max(counter, highest) + 1
        try:
            path = self.write(f"{file_prefix}-{number}.h5", _counter=number)
        except CheckpointWriteError as err:
            if not found:
                raise
            raise type(err)(
                f"{err}; the previous checkpoints ('{found[highest]}' and older) "
                "are intact",
                path=err.path,
                errno=err.errno,
            ) from err
        return path, number

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
            if kind in ("layer", "variable", "optimizer"):
                meta[key]["name"] = obj.name  # restore_variables_on_create's names
            if kind == "layer":
                meta[key]["scope"] = obj.scope_name
                for name, var in _matching.named_variables(obj).items():
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
        variables) are applied as each variable is created; when several
        restores hold a value for one variable, the most recent wins.
        ``restore(None)`` restores nothing (so
        ``restore(nnlib.latest_checkpoint(folder))`` works on a first run), and
        its status says so: printing it shows "nothing was restored", and its
        assertions raise.

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
            return RestoreStatus.nothing()
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
        plan = Plan(stored)
        plan.collect(self)
        plan.report.raise_if_mismatched(strict=False, fix=_FIX)
        plan.apply(self, random_state)
        return RestoreStatus(plan.report, plan.pending)


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
