"""Saving and loading a model's weights by name, in two phases.

Weights are stored under names relative to the model (``"dense/kernel"``,
not ``"mnist/dense/kernel"``), so a model saved as ``mnist`` loads into
``mnist_1``. Loading reads and checks everything first, then assigns
everything: a failed load leaves the model as it was. Values for variables not
created yet (a model not called yet) are kept and applied as each is created.
"""

import numpy as np

from ..layers import _weights as _layer_weights
from . import _deferred, h5io, keras_h5
from ._matching import assign_arrays, check, fits, match, named_variables
from .errors import CheckpointCorruptError, CheckpointMismatchError
from .report import RestoreReport

__all__ = [
    "assign_arrays",
    "load_layer_weights",
    "load_weights",
    "named_variables",
    "save_layer_weights",
    "save_weights",
]


def save_weights(path, variables, attrs=None, make_dirs=False):
    """Saves ``{name: Variable or array}`` to an HDF5 file, atomically.

    Args:
        path: The file to write (replaced only once the new one is verified).
        variables: A mapping of names to Variables or arrays.
        attrs: Optional extra root attributes (str or number values).
        make_dirs: Create missing parent folders.

    Returns:
        ``path``.

    Raises:
        CheckpointWriteError: If saving fails; the previous file is intact.
        CheckpointLockedError: If another process is writing ``path``.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import load_weights, save_weights
        >>> path = os.path.join(tempfile.mkdtemp(), "w.h5")
        >>> w = nnlib.Variable([1., 2.], name="w")
        >>> _ = save_weights(path, {"w": w})
        >>> w2 = nnlib.Variable([0., 0.], name="w2")
        >>> load_weights(path, {"w": w2}).matched
        ['w']
        >>> w2.numpy()
        array([1., 2.], dtype=float32)
    """
    arrays = {
        name: v.numpy() if hasattr(v, "numpy") else np.asarray(v)
        for name, v in variables.items()
    }
    return h5io.write(path, arrays, {"kind": "weights", **(attrs or {})}, make_dirs)


def save_layer_weights(layer, path):
    """Saves a layer's (or model's) variables under names relative to it.

    ``Layer.save_weights`` calls this; the root attributes ``model_class`` and
    ``model_name`` record what was saved.

    Raises:
        ValueError: If the layer has no variables yet (not called or built).

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import h5io, weights
        >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
        >>> path = weights.save_layer_weights(model, os.path.join(tempfile.mkdtemp(), "m.h5"))
        >>> list(h5io.read(path).arrays)
        ['dense/kernel', 'dense/bias']
    """
    variables = named_variables(layer)
    if not variables:
        raise ValueError(
            f"layer '{layer.name}' has no variables yet: call it on a batch of "
            "data (or build(input_shape)) before save_weights"
        )
    attrs = {"model_class": type(layer).__name__, "model_name": layer.name}
    return save_weights(path, variables, attrs)


def load_weights(
    path, variables, by_name=True, strict=True, skip_mismatch=False, target=None
):
    """Loads a file ``save_weights`` wrote into ``{name: Variable}``.

    Args:
        path: The checkpoint file.
        variables: The variables to fill, by name (in creation order for
            ``by_name=False``).
        by_name: Match names (default); False pairs saved arrays and variables
            by position (legacy files, renamed layers).
        strict: Raise if any variable has no value or any value no variable.
        skip_mismatch: Pass over arrays of the wrong shape, with a warning each,
            instead of raising.
        target: The model's name, for messages.

    Returns:
        The ``RestoreReport``.

    Raises:
        CheckpointMismatchError: Carrying the whole report, when the file does
            not fit; nothing is changed then.
        CheckpointNotFoundError, CheckpointCorruptError, ...: As ``h5io.read``.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import load_weights, save_weights
        >>> path = save_weights(os.path.join(tempfile.mkdtemp(), "w.h5"),
        ...                     {"a": np.ones(2), "b": np.ones(3)})
        >>> a = nnlib.Variable(np.zeros(2), name="a")
        >>> load_weights(path, {"a": a})
        Traceback (most recent call last):
        ...
        nnlib.checkpoint.errors.CheckpointMismatchError: cannot load checkpoint '...w.h5': 1 matched, 0 missing, 1 unexpected, 0 shape mismatches
        ...
    """
    stored = _read_weights(path)
    return assign_arrays(
        stored.arrays, variables, by_name, strict, skip_mismatch, stored.path, target
    )


def load_layer_weights(layer, path, by_name=None, strict=True, skip_mismatch=False):
    """Loads weights into a layer or model; see ``Layer.load_weights``.

    Values for variables the model has not created yet (it was not called, or
    part of it was not) are kept and assigned as each variable is created;
    when several loads or restores hold a value for one variable (a model's
    file, then a sub-network's), the most recent wins.
    ``by_name=None`` means True for nnlib's files. Keras weight files are
    recognized and loaded by ``keras_h5.load_keras_weights`` (where None means
    Keras's default, by layer order).

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import weights
        >>> dense = nnlib.layers.Dense(2)
        >>> _ = dense(np.ones((1, 3)))
        >>> path = dense.save_weights(os.path.join(tempfile.mkdtemp(), "d.h5"))
        >>> weights.load_layer_weights(nnlib.layers.Dense(2), path).deferred
        ['kernel', 'bias']
    """
    try:
        stored = _read_weights(path)
    except CheckpointCorruptError:
        if keras_h5.keras_format(path) is None:
            raise
        return keras_h5.load_keras_weights(layer, path, by_name, strict, skip_mismatch)
    by_name = True if by_name is None else by_name
    unbuilt = any(not sub.built for sub in layer._layers_below())
    if unbuilt and not by_name:
        raise ValueError(
            f"load_weights(by_name=False) into '{layer.name}' needs its variables: "
            "call the model on a batch of data first (or load by name)"
        )
    report = RestoreReport(path=stored.path, target=layer.name)
    plan, later = match(
        stored.arrays, named_variables(layer), report, by_name, skip_mismatch, unbuilt
    )
    check(report, strict)
    for variable, array in plan:
        variable.assign(array)
    actions = {
        name: _assigner(name, array, report, skip_mismatch)
        for name, array in later.items()
    }
    _deferred.defer(layer, actions)
    return report


_LATE_FIX = (
    "found as the variable was created: it keeps its initial value (load with "
    "skip_mismatch=True to pass over it)"
)


def _assigner(name, array, report, skip_mismatch):
    def assign(variable):
        single = RestoreReport(path=report.path, target=report.target)
        if fits(name, array, variable, single, skip_mismatch):
            report.matched.append(name)
            variable.assign(array)
        elif not skip_mismatch or single.incompatible_dtypes:
            single.raise_if_mismatched(fix=_LATE_FIX)

    def settle(used):
        # Applied, or superseded by a newer restore: no longer waiting either way.
        if name in report.deferred:
            report.deferred.remove(name)

    return _deferred.Value(assign, settle=settle)


def _read_weights(path):
    stored = h5io.read(path)
    if stored.attrs.get("kind") == "checkpoint":
        raise CheckpointMismatchError(
            f"'{stored.path}' is a training checkpoint (nnlib.Checkpoint), not a "
            "weights file: restore it with nnlib.Checkpoint(model=model)"
            ".restore(path).expect_partial()",
            path=stored.path,
        )
    if stored.attrs.get("kind") == "model":  # model.save: its weights are under model/
        stored.arrays = {
            name.removeprefix("model/"): array
            for name, array in stored.arrays.items()
            if name.startswith("model/")
        }
    return stored


# Layer.save_weights and Layer.load_weights call these: the layers sit below
# this module, so it hands them over rather than being imported by them.
_layer_weights.weight_files.update(save=save_layer_weights, load=load_layer_weights)
