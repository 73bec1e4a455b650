"""Keras weight files: loading Keras's HDF5 weights into nnlib models.

nnlib's layers create Keras's variables with Keras's shapes and gate orders, so
a Keras model's weights load into the nnlib model built of the same layers
(Dense, Conv1D, Conv2D, BatchNormalization, LayerNormalization, Embedding,
SimpleRNN, LSTM, GRU with either ``reset_after``, Bidirectional, and networks
of them) without any conversion.

Keras weight files
------------------
``model.load_weights(path)`` recognizes a Keras file by its contents and
calls ``load_keras_weights``; the model must be built (called on a batch of
data, or given ``input_shape``). Three kinds are read:

- legacy ``.h5`` files from Keras 2 and tf.keras ``model.save_weights("w.h5")``,
  and whole-model ``model.save("m.h5")`` files of any Keras version (their
  ``model_weights`` group). Layers with weights pair with the model's layers
  with weights in order, as Keras does; with ``by_name=True`` by layer name
  (Keras's auto names, ``dense_3``, often differ from nnlib's);
- Keras 3 ``model.save_weights("w.weights.h5")`` files, and ``.keras``
  archives (their ``model.weights.h5``). They record no layer names: a
  layer's weights sit at a path made of its class name and its position
  among the layers of that class (``layers/dense_1/vars``; recurrent layers
  under ``cell/``), which is how they are matched, as in Keras, whatever
  ``by_name`` says (beyond Keras, ``LSTM`` and ``RNN(LSTMCell)``, and GRU's
  and SimpleRNN's twins likewise, load each other's files). Optimizer and
  metric state in the file is ignored.

Within a layer the weights pair by position with the nnlib layer's variables
in Keras's order (trainable ones first, as created). ``strict``,
``skip_mismatch`` and the returned ``RestoreReport`` behave as for nnlib's own
files, with nnlib's variable names; a load that does not fit raises before
changing anything, and its message names the Keras layer and weight behind
every shape mismatch.

Examples:
    >>> import os, tempfile, h5py
    >>> from nnlib.checkpoint import keras_h5
    >>> path = os.path.join(tempfile.mkdtemp(), "keras.h5")
    >>> with h5py.File(path, "w") as f:  # what tf.keras's save_weights writes
    ...     f.attrs["layer_names"] = [b"dense_7"]
    ...     f.attrs["keras_version"] = b"2.15.0"
    ...     f.attrs["backend"] = b"tensorflow"
    ...     g = f.create_group("dense_7")
    ...     g.attrs["weight_names"] = [b"dense_7/kernel:0", b"dense_7/bias:0"]
    ...     g["dense_7/kernel:0"] = np.ones((3, 2), np.float32)
    ...     g["dense_7/bias:0"] = np.zeros(2, np.float32)
    >>> keras_h5.keras_format(path)
    'legacy'
    >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
    >>> model.load_weights(path, by_name=False).matched
    ['dense/kernel', 'dense/bias']
    >>> model(np.ones((1, 3), np.float32)).numpy()
    array([[3., 3.]], dtype=float32)
"""

from ..layers.base import Layer
from ..layers.bidirectional import Bidirectional
from ..layers.gated_cells import GRUCell, LSTMCell
from ..layers.recurrent import RNNBase
from ..layers.recurrent_cells import SimpleRNNCell
from ..layers.rnn import RNN
from ..naming import to_snake_case
from . import _keras_read
from ._keras_read import keras_format
from ._matching import assign_arrays, named_variables
from .errors import CheckpointMismatchError

__all__ = ["is_keras_file", "keras_format", "load_keras_weights", "read_keras_file"]

read_keras_file = _keras_read.read


def is_keras_file(path):
    """True for a Keras HDF5 weights file (legacy ``.h5``, ``.weights.h5`` or
    ``.keras``); False for anything else, nnlib's files included. Never raises.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import keras_h5
        >>> dense = nnlib.layers.Dense(2)
        >>> _ = dense(np.ones((1, 3)))
        >>> keras_h5.is_keras_file(dense.save_weights(os.path.join(tempfile.mkdtemp(), "d.h5")))
        False
    """
    return keras_format(path) is not None


def load_keras_weights(layer, path, by_name=None, strict=True, skip_mismatch=False):
    """Loads a Keras weights file into a built nnlib model (or layer).

    Args:
        layer: The model: a ``Network`` (its layers take the file's layers)
            or a single layer (it takes the file's one layer with weights).
        path: The Keras file (see the module's documentation for the kinds).
        by_name: Legacy files: True pairs layers by name, False or None (the
            default) by the order of the layers that have weights. Keras 3
            files are always matched by their layer paths.
        strict: Raise if a variable gets no value or a saved weight goes
            unused; False loads what fits (the report lists the rest).
        skip_mismatch: Pass over weights of the wrong shape, with a warning.

    Returns:
        The ``RestoreReport`` (names are nnlib's, relative to ``layer``).

    Raises:
        ValueError: If the model is not built yet.
        CheckpointMismatchError: When the file does not fit (different
            numbers of layers, shapes, missing weights); nothing is changed.
        CheckpointNotFoundError, CheckpointCorruptError, CheckpointReadError:
            For a missing, damaged or unreadable file, or one that is not a
            Keras weights file.
    """
    return _assign_read(layer, read_keras_file(path), by_name, strict, skip_mismatch)


def _assign_read(layer, source, by_name=None, strict=True, skip_mismatch=False):
    """``load_keras_weights`` with the file already read (a ``KerasFile``)."""
    unbuilt = [sub.name for sub in layer._layers_below() if not sub.built]
    if unbuilt:
        raise ValueError(
            f"cannot load Keras weights into '{layer.name}': layers {unbuilt} are "
            "not built yet (Keras files are matched by structure, which needs the "
            "variables); call the model on a batch of data (or build it) first"
        )
    if source.kind == "keras3":
        pairs = _keras3_pairs(layer, source.layers)
    elif by_name:
        pairs = _legacy_pairs_by_name(layer, source)
    else:
        pairs = _legacy_pairs_by_order(layer, source)
    variables = named_variables(layer)
    arrays, origins, notes = _arrays(pairs, variables)
    try:
        return assign_arrays(
            arrays, variables, True, strict, skip_mismatch, source.path, layer.name
        )
    except CheckpointMismatchError as err:
        raise _explained(err, origins, notes) from None


# -- pairing nnlib variables with Keras weights -----------------------------------
# A pair is ([Variable] in Keras's order, KerasLayer or None): None leaves the
# variables missing; an empty list leaves the Keras weights unexpected.


def _keras_order(layer, variables):
    """Trainable (or frozen, once trainable) variables first, as Keras saves them."""
    frozen = set()
    for sub in layer._layers_below():
        frozen.update(sub._frozen)
    return sorted(variables, key=lambda v: not (v.trainable or v._id in frozen))


def _model_layers(layer):
    """``[(name, variables)]`` of the layers a legacy file's layers stand for."""
    if not _is_network(layer):
        return [(layer.name, _keras_order(layer, layer.variables))]
    return [(sub.name, _keras_order(sub, sub.variables)) for sub in layer._sublayers]


def _is_network(layer):
    return isinstance(getattr(layer, "layers", None), list)


def _top_pair(layer, source):
    """The network's own variables and Keras 3's ``top_level_model_weights``."""
    own = _keras_order(layer, layer._own_variables) if _is_network(layer) else []
    top = source.top if source.top is not None and source.top.weights else None
    return [(own, top)] if own or top else []


def _legacy_pairs_by_order(layer, source):
    model = [(name, v) for name, v in _model_layers(layer) if v]
    saved = [k for k in source.layers if k.weights]
    if len(model) != len(saved):
        raise CheckpointMismatchError(
            f"cannot load Keras weights '{source.path}' into '{layer.name}' by "
            f"layer order: the file has {len(saved)} layers with weights "
            f"{[k.name for k in saved]}, the model has {len(model)} "
            f"{[name for name, _ in model]}; load with by_name=True to pair layers "
            "by name (and strict=False to load only the layers both have)",
            path=source.path,
        )
    pairs = [(v, k) for (_, v), k in zip(model, saved)]
    return pairs + _top_pair(layer, source)


def _legacy_pairs_by_name(layer, source):
    saved = {k.name: k for k in source.layers if k.weights}
    pairs = [(v, saved.pop(name, None)) for name, v in _model_layers(layer) if v]
    return pairs + [([], k) for k in saved.values()] + _top_pair(layer, source)


def _keras3_pairs(layer, saved):
    """Pairs by the paths Keras 3 gives layers; see ``_keras3_paths``."""
    groups = {k.name: k for k in saved}
    mapped = _keras3_paths(layer, "", groups)
    pairs = [(variables, groups.pop(path, None)) for variables, path in mapped]
    roots = {path.split("/")[0] for _, path in mapped}
    # Weights under a path the model maps but no variable took are unexpected;
    # others (the optimizer's, metrics') are not the model's concern.
    pairs += [([], k) for p, k in groups.items() if p.split("/")[0] in roots]
    return pairs


def _keras3_paths(node, path, groups):
    """``[(variables, Keras 3 path)]`` for ``node`` and the layers below it."""
    if isinstance(node, Bidirectional):
        return _keras3_paths(
            node.forward_layer, _join(path, "forward_layer"), groups
        ) + _keras3_paths(node.backward_layer, _join(path, "backward_layer"), groups)
    found = []
    own = _keras_order(node, node._own_variables)
    if own:
        found.append((own, _join(path, "cell") if isinstance(node, RNNBase) else path))
    for child, where in _children(node, path, groups):
        found += _keras3_paths(child, where, groups)
    return found


def _children(node, path, groups):
    """Each sublayer with its Keras 3 path.

    Keras 3 walks a Sequential or functional model's ``layers`` list first
    (entries named by class: ``dense``, ``dense_1``), a subclassed model's
    attributes in sorted order (private ones last, ``layers`` among them);
    the first path that reaches a layer is its path. Of the orders a network
    may have been saved in (and of class names and recurrent twins' names),
    the one whose paths the file has most is used.
    """
    subs = list(node._sublayers)
    if not subs:
        return []
    attrs = _attribute_layers(node)
    orders = [[("layers", subs)] + attrs] if _is_network(node) else []
    listed = attrs + ([("layers", subs)] if _is_network(node) else [])
    orders.append(sorted(listed, key=lambda entry: entry[0]))
    best = None
    for order in orders:
        for twins in (False, True):
            where = {}
            for attr, value in order:
                for name, sub in _entries(attr, value, path, groups, twins):
                    where.setdefault(id(sub), name)
            hits = sum(1 for p in where.values() if _has_prefix(groups, p))
            if best is None or hits > best[0]:
                best = (hits, where)
    return [(sub, best[1][id(sub)]) for sub in subs if id(sub) in best[1]]


def _attribute_layers(node):
    found = []
    for attr, value in vars(node).items():
        if attr == "_sublayers":
            continue
        if isinstance(value, Layer) or (
            isinstance(value, (list, tuple, dict))
            and any(isinstance(v, Layer) for v in _values(value))
        ):
            found.append(("~" + attr if attr.startswith("_") else attr, value))
    return found


def _entries(attr, value, path, groups, twins=False):
    attr = attr.removeprefix("~")
    if isinstance(value, Layer):
        return [(_join(path, attr), value)]
    legacy = "_layer_checkpoint_dependencies"  # Keras 2.13's name for "layers"
    if (
        attr == "layers"
        and not _has_prefix(groups, _join(path, attr))
        and _has_prefix(groups, _join(path, legacy))
    ):
        attr = legacy
    counts, entries = {}, []
    for item in _values(value):
        if isinstance(item, Layer):
            # Keras 3 names a nested functional model by its class, Functional.
            functional = getattr(item, "_nnlib_graph", None) is not None
            base = "functional" if functional else _class_name(item, twins)
            k = counts[base] = counts.get(base, -1) + 1
            entries.append((_join(path, attr, f"{base}_{k}" if k else base), item))
    return entries


# A recurrent layer and its RNN twin (LSTM and RNN(LSTMCell)) have the same
# weights: each loads the other's files, under the other's class name.
_TWINS = {LSTMCell: "lstm", GRUCell: "gru", SimpleRNNCell: "simple_rnn"}


def _class_name(layer, twins):
    """Keras 3's name for a layer's entry: its class's; with ``twins``, a
    recurrent layer's twin's (``rnn`` for ``LSTM``, ``lstm`` for an ``RNN``
    over an ``LSTMCell``)."""
    if twins and isinstance(layer, RNNBase):
        return "rnn"
    if twins and type(layer) is RNN and type(layer.cell) in _TWINS:
        return _TWINS[type(layer.cell)]
    return to_snake_case(type(layer).__name__)


def _values(container):
    return list(container.values()) if isinstance(container, dict) else container


def _has_prefix(groups, path):
    return any(p == path or p.startswith(path + "/") for p in groups)


def _join(*parts):
    return "/".join(p for p in parts if p)


# -- the arrays for assign_arrays, and messages -----------------------------------


def _arrays(pairs, variables):
    """``{nnlib name: array}``, ``{nnlib name: (Keras layer, weight)}`` and notes.

    A layer whose weight count differs from its variables' is not paired by
    position (that would load one weight into another): its variables stay
    missing and its Keras weights are unexpected.
    """
    names = {id(v): n for n, v in variables.items()}
    arrays, origins, notes = {}, {}, []
    for model_vars, keras in pairs:
        if keras is None:
            continue
        if len(model_vars) == len(keras.weights):
            for variable, (weight, array) in zip(model_vars, keras.weights):
                arrays[names[id(variable)]] = array
                origins[names[id(variable)]] = (keras.name, weight)
            continue
        if model_vars:
            notes.append(
                f"Keras layer '{keras.name}' has {len(keras.weights)} weights, the "
                f"model's layer {len(model_vars)} variables "
                f"{[names[id(v)] for v in model_vars]}"
            )
        for weight, array in keras.weights:
            arrays[_label(keras, weight, variables)] = array
    return arrays, origins, notes


def _label(keras, weight, variables):
    """A report name for an unpaired Keras weight (never a variable's name)."""
    label = weight if weight.startswith(keras.name + "/") else f"{keras.name}/{weight}"
    return label if label not in variables else f"{label} (keras)"


def _explained(err, origins, notes):
    lines = [
        f"  {name}: Keras layer '{origins[name][0]}', weight '{origins[name][1]}': "
        f"saved {saved}, model {model}"
        for name, saved, model in err.report.shape_mismatched
        if name in origins
    ]
    if lines:
        lines.insert(0, "shape mismatches (nnlib variable: Keras layer, weight):")
    lines += notes
    if not lines:
        return err
    message = f"{err}\n" + "\n".join(lines)
    return CheckpointMismatchError(message, report=err.report, path=err.path)
