"""``restore_variables_on_create``: tfe's way to resume, by full variable name.

Inside the block, every Variable created (by a layer's first call, an
optimizer's slots, ``get_or_create_global_step``, or ``nnlib.Variable``) takes
its value from the file, matched by its full name (``"mnist/dense/kernel"``).
It is the deferred restore of ``_deferred.py`` keyed by name instead of by
layer (the layers do not exist yet when the file is read): the file is read and
checked by the same reader (``h5io``) as a weights file, each value is applied
through the same checks (``_matching.fits``) the moment its variable is created,
and the outcome is a ``RestoreReport``.

Names in the file are the ones a fresh process gives the same code: a weights
file's names are relative to its model, so they get the model's name in front;
a ``Checkpoint``'s model entries get the model's scope, its Variables their
names, an optimizer's slots ``"<variable>/<optimizer>/<slot>"``.
"""

import json
import threading

import numpy as np

from .._warn import warn
from ..engine import variable as _variable
from . import _matching, h5io
from .report import RestoreReport

__all__ = ["restore_variables_on_create"]

_FIX = (
    "the variable was not created; build the model as it was when saved, or "
    "pass map_func to restore_variables_on_create to rename or skip variables"
)


def restore_variables_on_create(save_path, map_func=None):
    """Gives each variable created inside the block its value from ``save_path``.

    TensorFlow eager's (tfe's) resume idiom::

        with nnlib.restore_variables_on_create(nnlib.latest_checkpoint(folder)):
            step = nnlib.train.get_or_create_global_step()
            model(x)                   # variables are created, then restored

    A variable is matched by its full name (or ``map_func(name)``), and each
    saved value restores one variable. The block yields a ``RestoreReport``
    that is filled as variables appear: ``matched`` (restored), ``missing``
    (created inside with no value in the file: they keep their initial value),
    ``deferred`` (values still waiting) and, at the exit, ``unexpected`` (values
    no variable took). Leaving the block with ``missing`` variables warns once,
    since they silently start from scratch (tfe raised); unused values are only
    reported, as reading part of a file (a model without its optimizer) is
    normal.

    Args:
        save_path: A file written by ``Checkpoint``, ``save_weights`` or
            ``model.save``; None (a first run: ``latest_checkpoint`` of an empty
            folder) restores nothing.
        map_func: Optional ``map_func(variable_name) -> name in the file``; a
            None result leaves that variable alone (not reported as missing).

    Returns:
        A context manager; ``with`` gives the ``RestoreReport``.

    Raises:
        CheckpointMismatchError: When a created variable's shape (or dtype kind)
            differs from its saved value's; raised where it is created.
        CheckpointError: A missing, damaged or locked file (subclasses), at
            the ``with``.
        TypeError: If ``map_func`` is not callable.

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.h5")
        >>> w = nnlib.Variable([1., 2.], name="on_create_w")
        >>> _ = nnlib.Checkpoint(w=w).write(path)
        >>> with nnlib.restore_variables_on_create(path) as report:
        ...     fresh = nnlib.Variable([0., 0.], name="on_create_w")
        >>> fresh.numpy(), report.matched
        (array([1., 2.], dtype=float32), ['on_create_w'])
    """
    if map_func is not None and not callable(map_func):
        raise TypeError(
            f"restore_variables_on_create: map_func must be callable (variable "
            f"name -> name in the file), got {map_func!r}"
        )
    return _Block(save_path, map_func)


class _Block:
    """The context manager (a class, so the exit's warning points at the
    user's ``with``, not into contextlib)."""

    def __init__(self, save_path, map_func):
        self.save_path, self.map_func, self.restorer = save_path, map_func, None

    def __enter__(self):
        if self.save_path is None:
            return RestoreReport(target="variables created in the block")
        stored = h5io.read(self.save_path)
        self.restorer = _Restorer(_full_names(stored), self.map_func, stored.path)
        _variable._creation_hooks.append(self.restorer)
        return self.restorer.report

    def __exit__(self, *exc):
        if self.restorer is not None:
            _variable._creation_hooks.remove(self.restorer)
            self.restorer.finish()
        return False


class _Restorer:
    """The creation hook: one saved value per variable, by name."""

    def __init__(self, entries, map_func, path):
        self.entries = entries
        self.map_func = map_func
        self.lock = threading.Lock()
        self.report = RestoreReport(path=path, target="variables created in the block")
        for name, array in entries.items():
            self.report.add_deferred(name, array.shape, array.dtype)

    def __call__(self, variable):
        name = variable.name
        key = name if self.map_func is None else self.map_func(name)
        if key is None:
            return
        with self.lock:
            array = self.entries.pop(key, None)
            if array is None:
                self.report.add_missing(name, variable.shape, variable.dtype)
                return
            self.report.deferred.remove(key)
        single = RestoreReport(path=self.report.path, target=name)
        fits = _matching.fits(key, array, variable, single, False)
        self.report.matched.extend(single.matched)
        self.report.shape_mismatched.extend(single.shape_mismatched)
        self.report.dtype_changed.extend(single.dtype_changed)
        if not fits or single.incompatible_dtypes:
            single.raise_if_mismatched(fix=_FIX)
        variable.assign(array)

    def finish(self):
        report = self.report
        for name in list(report.deferred):
            report.deferred.remove(name)
            array = self.entries[name]
            report.add_unexpected(name, array.shape, array.dtype)
        if report.missing:
            warn(
                f"restore_variables_on_create: {len(report.missing)} variable(s) "
                f"created in the block have no value in '{report.path}' and keep "
                f"their initial values: {report.missing[:10]}; the report the "
                "block yields lists every difference"
            )


def _full_names(stored):
    """``{full variable name: array}`` for a file of any of nnlib's kinds."""
    arrays, attrs = stored.arrays, stored.attrs
    kind = attrs.get("kind")
    if kind == "checkpoint":
        return _checkpoint_names(arrays, attrs)
    if kind == "model":
        arrays = {
            name.removeprefix("model/"): array
            for name, array in arrays.items()
            if name.startswith("model/")
        }
    prefix = attrs.get("model_name")
    return {f"{prefix}/{n}" if prefix else n: a for n, a in arrays.items()}


def _checkpoint_names(arrays, attrs):
    meta = json.loads(attrs.get("objects", "{}"))
    layers = sorted(
        (key for key, m in meta.items() if m.get("type") == "layer"),
        key=len,
        reverse=True,
    )

    def variable_name(key):
        if meta.get(key, {}).get("type") == "variable":
            return meta[key].get("name", key)
        for layer in layers:
            if key.startswith(layer + "/"):
                scope = meta[layer].get("scope", meta[layer].get("name"))
                return f"{scope}/{key[len(layer) + 1 :]}"
        return key

    named = {}
    for key, array in arrays.items():
        opt = _owner(meta, key)
        if opt is None:
            named[variable_name(key)] = array
            continue
        opt_name = meta[opt].get("name", meta[opt].get("class"))
        rest = key[len(opt) + 1 :]
        if rest == "iterations":
            named[f"{opt_name}/iterations"] = array
        elif rest.startswith("slots/"):
            slot, _, var_key = rest[len("slots/") :].partition("/")
            named[f"{variable_name(var_key)}/{opt_name}/{slot}"] = array
        elif rest.startswith("unowned/"):
            named[rest[len("unowned/") :]] = array
    if "save_counter" in attrs:
        named.setdefault("save_counter", np.asarray(attrs["save_counter"], np.int64))
    return named


def _owner(meta, key):
    """The optimizer key that ``key`` lies under, if any."""
    for owner, m in meta.items():
        if m.get("type") == "optimizer" and key.startswith(owner + "/"):
            return owner
    return None
