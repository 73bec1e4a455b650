"""PyTorch ``state_dict``s into nnlib models and back, by module order.

A ``state_dict`` names each tensor ``"<module path>.<parameter>"``. Its keys are
grouped by module (everything before the last ``.``, in order of appearance;
the layers and directions of a recurrent module, ``weight_ih_l0`` and
``weight_ih_l0_reverse``, are one unit each), and the units are paired in order
with the nnlib layers that own variables (in the order their variables were
created: the order the model first ran them). Each pair is converted by the
nnlib layer's kind:

==========================  ================================  =====================
PyTorch module              nnlib layer                       conversion
==========================  ================================  =====================
Linear                      Dense                             weight (out, in) ->
                                                              kernel (in, out)
Conv1d, Conv2d              Conv1D, Conv2D                    OIK/OIHW -> KIO/HWIO
ConvTranspose2d             Conv2DTranspose                   (in, out, H, W) ->
                                                              (H, W, out, in)
Conv2d(groups=C)            DepthwiseConv2D                   (C*m, 1, H, W) ->
                                                              (H, W, C, m)
BatchNorm1d/2d              BatchNormalization                weight, bias,
                                                              running_mean/var
LayerNorm                   LayerNormalization                weight, bias
Embedding                   Embedding                         as is
RNN (tanh or relu)          SimpleRNN                         transposed kernels,
                                                              bias_ih + bias_hh
LSTM                        LSTM                              the same (both order
                                                              gates i, f, g/c, o)
GRU                         GRU(reset_after=True)             gates r, z, n ->
                                                              z, r, h; bias rows
                                                              [bias_ih; bias_hh]
bidirectional / stacked     Bidirectional / one layer each    per unit
==========================  ================================  =====================

BatchNorm's ``num_batches_tracked`` is ignored. What the weights do not carry
must agree by construction: PyTorch's ``eps=1e-5`` (nnlib's normalizations
default to ``epsilon=1e-3``), its BatchNorm ``momentum=0.1`` (nnlib's
``momentum=0.9``), padding (``padding=k // 2`` at stride 1 is ``"same"``),
activations. PyTorch is channels-first: a Conv2d input is ``(N, C, H, W)``, an
nnlib one ``(N, H, W, C)`` (``x.transpose(0, 2, 3, 1)``), so a Linear after
``nn.Flatten`` of a feature map sees its features in another order than a Dense
after ``Flatten``; convert that Linear's columns with ``nchw_to_nhwc_columns``,
or use global pooling (or a 1x1 map) before the flatten.
"""

import numpy as np

from ..layers.bidirectional import Bidirectional
from ..layers.recurrent import RNNBase
from ._matching import assign_arrays, named_variables
from ._torch_layouts import SUPPORTED, entries, nchw_to_nhwc_columns, torch_units
from .errors import CheckpointMismatchError
from .safetensors_io import read_safetensors, to_numpy

__all__ = [
    "from_torch_state_dict",
    "load_torch_safetensors",
    "nchw_to_nhwc_columns",
    "to_torch_state_dict",
]

# -- pairing ----------------------------------------------------------------------


def _leaves(layer):
    """The layers owning variables, in the order their variables were created."""
    leaves = [sub for sub in layer._layers_below() if sub._own_variables]
    return sorted(leaves, key=lambda sub: min(v._id for v in sub._own_variables))


def _path(leaf, names):
    name = names[id(leaf._own_variables[0])]
    return name.rpartition("/")[0]


def _parents(layer):
    return {id(s): p for p in layer._layers_below() for s in p._sublayers}


def _owner(leaf, parents, names):
    """The leaf, described; or the layer it is a part of (an attention's
    projection), up to the network holding it."""
    owner = leaf
    while not _is_network_or_none(parents.get(id(owner))):
        owner = parents[id(owner)]
    if owner is leaf:
        return _describe(leaf, names)
    whole = f"'{owner.name}' ({type(owner).__name__})"
    return f"{whole}, whose part {_describe(leaf, names)}"


def _is_network_or_none(layer):
    # A Network is the layer that tracks layers (track_layer); the network
    # layer sits above this one, so its class is not imported here.
    return layer is None or callable(getattr(layer, "track_layer", None))


def _check_built(layer, what):
    if any(not sub.built for sub in layer._layers_below()):
        raise ValueError(
            f"{what} into '{layer.name}' needs its variables: call the model on a "
            "batch of data (or build it) first"
        )


# -- loading ----------------------------------------------------------------------


def from_torch_state_dict(
    layer, state_dict, modules=None, strict=True, skip_mismatch=False
):
    """Loads a PyTorch ``state_dict`` into the equivalent nnlib layer or model.

    Modules pair with nnlib layers in order (see the module's table), then the
    arrays are assigned as ``Layer.load_weights`` assigns a file's: all of them
    or, on any problem, none.

    Args:
        layer: A built nnlib layer or model (called once).
        state_dict: ``{key: tensor or array}`` (``torch_model.state_dict()``,
            or numpy arrays in PyTorch's layout).
        modules: The torch module paths to load (``"features.0"``), in the
            order of the nnlib layers; default every module, in order of
            appearance. Keys of other modules count as unexpected.
        strict: Raise if the module counts differ, or any variable gets no
            value or any key no variable. False pairs modules in order as far
            as both go and loads what fits (warning about unused keys).
        skip_mismatch: Pass over arrays of the wrong shape (with a warning).

    Returns:
        The ``RestoreReport`` (nnlib variable names; unused keys as in torch).

    Raises:
        CheckpointMismatchError: Module counts differ (both lists named), a
            key does not fit its layer (the key named), a shape is wrong (the
            torch key, the nnlib variable and both shapes named), or the
            report has problems; nothing is changed then.
        ValueError: For an unbuilt model, or an nnlib GRU with
            ``reset_after=False``.

    Examples:
        >>> from nnlib.checkpoint import from_torch_state_dict
        >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
        >>> state = {"0.weight": np.ones((2, 3), np.float32),  # (out, in)
        ...          "0.bias": np.zeros(2, np.float32)}
        >>> from_torch_state_dict(model, state).matched
        ['dense/kernel', 'dense/bias']
        >>> model.layers[0].kernel.shape
        (3, 2)
    """
    return _load(layer, state_dict, modules, strict, skip_mismatch, None)


def _load(layer, state_dict, modules, strict, skip_mismatch, path, guessed=False):
    _check_built(layer, "loading a PyTorch state_dict")
    tensors = {key: to_numpy(value) for key, value in state_dict.items()}
    by_module = torch_units(tensors)
    if modules is None:
        modules = list(by_module)
    unknown = [m for m in modules if m not in by_module]
    if unknown:
        raise CheckpointMismatchError(
            f"modules {unknown} are not in the state_dict; its modules are "
            f"{list(by_module)}",
            path=path,
        )
    units = [unit for m in modules for unit in by_module[m]]
    variables = named_variables(layer)
    names = {id(v): n for n, v in variables.items()}
    leaves = _leaves(layer)
    parents = _parents(layer)
    for i, leaf in enumerate(leaves):
        if entries(leaf) is None:
            label, keys = units[i] if i < len(units) else ("none", {})
            raise CheckpointMismatchError(
                f"nnlib layer {_owner(leaf, parents, names)} has no PyTorch "
                f"mapping (torch module '{label}' with keys "
                f"{sorted(keys.values())} would pair with it); supported: "
                f"{SUPPORTED}",
                path=path,
            )
    if strict and len(units) != len(leaves):
        raise CheckpointMismatchError(
            f"the state_dict has {len(units)} modules with weights, "
            f"'{layer.name}' {len(leaves)} layers with weights:\n"
            f"  torch: {[label for label, _ in units]}\n"
            f"  nnlib: {[_describe(leaf, names) for leaf in leaves]}\n"
            "pass modules=[...] to choose and order the torch modules, or "
            "strict=False to pair them in order as far as both lists go",
            path=path,
        )
    arrays, sources = {}, {}
    for (label, keys), leaf in zip(units, leaves):
        _convert(leaf, label, keys, tensors, names, arrays, sources, path)
    used = {key for _, keys in units[: len(leaves)] for key in keys.values()}
    for key, value in tensors.items():
        if key not in used and not key.endswith(".num_batches_tracked"):
            arrays[key] = value  # reported as unexpected
    try:
        return assign_arrays(
            arrays, variables, True, strict, skip_mismatch, path, layer.name
        )
    except CheckpointMismatchError as err:
        raise _explained(err, sources, guessed) from None


def _describe(leaf, names):
    return f"{_path(leaf, names) or leaf.name} ({type(leaf).__name__})"


def _convert(leaf, label, keys, tensors, names, arrays, sources, path):
    conversions, ignored = entries(leaf)
    known = {n for _, torch_names, _, _ in conversions for n in torch_names}
    for local, key in keys.items():
        if local not in known and local not in ignored:
            raise CheckpointMismatchError(
                f"torch key '{key}' does not fit nnlib layer "
                f"{_describe(leaf, names)}, which takes {sorted(known)}: the "
                "module kinds differ (or the modules are paired out of order: "
                "see modules=)",
                path=path,
            )
    prefix = _path(leaf, names)
    for attr, torch_names, to_nnlib, _ in conversions:
        present = [n for n in torch_names if n in keys]
        if not present:
            continue  # the variable is reported missing
        if len(present) < len(torch_names):
            absent = [f"{label}: {n}" for n in torch_names if n not in keys]
            raise CheckpointMismatchError(
                f"the state_dict has '{keys[present[0]]}' but not {absent}",
                path=path,
            )
        values = [tensors[keys[n]] for n in torch_names]
        if len({v.shape for v in values}) > 1:
            shapes = {keys[n]: v.shape for n, v in zip(torch_names, values)}
            raise CheckpointMismatchError(
                f"torch keys of different shapes, to be added: {shapes}", path=path
            )
        variable = getattr(leaf, attr, None)
        name = names.get(id(variable)) or (f"{prefix}/{attr}" if prefix else attr)
        arrays[name] = to_nnlib(*values)
        sources[name] = [(keys[n], v.shape) for n, v in zip(torch_names, values)]


def _explained(err, sources, guessed):
    lines = []
    for name, _, model_shape in err.report.shape_mismatched:
        if name in sources:
            torch = ", ".join(f"'{key}' {shape}" for key, shape in sources[name])
            lines.append(
                f"  nnlib '{name}' {model_shape} <- torch {torch} (converted to "
                f"the nnlib layout)"
            )
    message = str(err)
    if lines:
        message += "\nthe shape mismatches in PyTorch's terms:\n" + "\n".join(lines)
    if guessed and (lines or err.report.missing):
        message += (
            "\nthe file does not record the modules' order, which was guessed "
            "from their names: pass modules=[...] in the nnlib layers' order"
        )
    return CheckpointMismatchError(message, report=err.report, path=err.path)


def load_torch_safetensors(layer, path, modules=None, strict=True, skip_mismatch=False):
    """Loads a PyTorch model's safetensors file into the equivalent nnlib model.

    ``safetensors.torch.save_file`` does not keep the ``state_dict``'s order,
    so unless the file records it (``nnlib.checkpoint.save_safetensors(path,
    torch_model.state_dict())`` does), modules are ordered by their names with
    numbers compared as numbers: right for ``nn.Sequential`` and
    ``nn.ModuleList`` (``"2"`` before ``"10"``), not for named submodules,
    whose order ``modules=`` must give.

    Args:
        layer: A built nnlib layer or model.
        path: The safetensors file.
        modules: As ``from_torch_state_dict``.
        strict: As ``from_torch_state_dict``.
        skip_mismatch: As ``from_torch_state_dict``.

    Returns:
        The ``RestoreReport``.

    Raises:
        CheckpointMismatchError: As ``from_torch_state_dict`` (an integer
            tensor for a float variable too).
        CheckpointError: As ``load_safetensors``.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import load_torch_safetensors, save_safetensors
        >>> path = os.path.join(tempfile.mkdtemp(), "torch.safetensors")
        >>> _ = save_safetensors(path, {"fc.weight": np.ones((2, 3), np.float32),
        ...                             "fc.bias": np.zeros(2, np.float32)})
        >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
        >>> load_torch_safetensors(model, path).matched
        ['dense/kernel', 'dense/bias']
    """
    path = str(path)
    arrays, _, recorded = read_safetensors(path)
    guessed = modules is None and not recorded
    if guessed:
        # sorted() is stable: a module's keys keep the file's order.
        keys = sorted(arrays, key=lambda key: _natural(key.rpartition(".")[0]))
        arrays = {key: arrays[key] for key in keys}
    return _load(layer, arrays, modules, strict, skip_mismatch, path, guessed)


def _natural(prefix):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in prefix.split(".")]


# -- exporting --------------------------------------------------------------------


def to_torch_state_dict(layer, modules=None):
    """The ``state_dict`` of the PyTorch equivalent of an nnlib layer or model.

    The inverse of ``from_torch_state_dict``: numpy arrays in PyTorch's layouts,
    recurrent biases as ``bias_ih`` (nnlib's bias) and ``bias_hh`` (zeros), a
    ``Bidirectional`` as one module (``_reverse`` keys), BatchNorm's
    ``num_batches_tracked`` as 0. Load it with
    ``torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in
    state.items()})``.

    Args:
        layer: A built nnlib layer or model.
        modules: The torch module paths to use, one per nnlib layer with
            weights (a ``Bidirectional`` counts once), in order; default the
            nnlib layers' paths with ``.`` for ``/`` (``"dense"``). A path
            given to several recurrent layers stacks them as one
            multi-layer module (keys ``_l0``, ``_l1``...).

    Returns:
        ``{key: array}`` in the modules' order.

    Raises:
        ValueError: For an unbuilt model, a layer kind without a mapping, or
            a ``modules`` list of the wrong length.

    Examples:
        >>> from nnlib.checkpoint import to_torch_state_dict
        >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
        >>> state = to_torch_state_dict(model, modules=["0"])
        >>> {key: value.shape for key, value in state.items()}
        {'0.weight': (2, 3), '0.bias': (2,)}
    """
    _check_built(layer, "to_torch_state_dict")
    names = {id(v): n for n, v in named_variables(layer).items()}
    parents = _parents(layer)
    groups = {}  # module id -> (default path, [(leaf, key suffix)])
    for leaf in _leaves(layer):
        module, suffix = leaf, ""
        parent = parents.get(id(leaf))
        if isinstance(parent, Bidirectional):
            module = parent
            suffix = "_l0_reverse" if leaf is parent.backward_layer else "_l0"
        elif isinstance(leaf, RNNBase):
            suffix = "_l0"
        path = _path(leaf, names)
        if module is not leaf:
            path = path.rpartition("/")[0]
        groups.setdefault(id(module), (path.replace("/", "."), []))[1].append(
            (leaf, suffix)
        )
    if modules is not None and len(modules) != len(groups):
        raise ValueError(
            f"to_torch_state_dict: {len(modules)} module names for {len(groups)} "
            f"modules {[path for path, _ in groups.values()]}"
        )
    state, stacked = {}, {}
    for i, (path, members) in enumerate(groups.values()):
        prefix = path if modules is None else modules[i]
        depth = 0
        if members[0][1]:  # recurrent: a repeated name stacks layers l0, l1, ...
            depth = stacked[prefix] = stacked.get(prefix, -1) + 1
        for leaf, suffix in members:
            suffix = suffix.replace("_l0", f"_l{depth}")
            found = entries(leaf)
            if found is None:
                raise ValueError(
                    f"to_torch_state_dict: nnlib layer "
                    f"{_owner(leaf, parents, names)} has no PyTorch mapping"
                )
            for attr, torch_names, _, to_torch in found[0]:
                variable = getattr(leaf, attr, None)
                if variable is None:
                    continue
                values = to_torch(variable.numpy())
                values = values if len(torch_names) > 1 else (values,)
                for name, value in zip(torch_names, values):
                    key = f"{prefix}.{name}{suffix}" if prefix else name + suffix
                    state[key] = np.ascontiguousarray(value)
            if found[1]:
                key = f"{prefix}.num_batches_tracked" if prefix else found[1][0]
                state[key] = np.array(0, np.int64)
    return state
