"""A Keras functional model's config as nnlib's (see ``keras_config``).

Keras 3 writes each layer call as ``{"args", "kwargs"}`` with KerasTensors
as ``{"class_name": "__keras_tensor__", "config": {"keras_history": [layer,
node, tensor]}}``; Keras 2 as ``[[layer, node, tensor, kwargs], ...]``.
Both become Keras 3's form, which nnlib's ``Model.from_config`` reads, less
two things nnlib does itself:

- ``training`` flags (Keras records ``training=False`` on Dropout; the
  model's call decides, in Keras and in nnlib);
- masks. Keras 3 writes the mask a ``Masking`` layer or an
  ``Embedding(mask_zero=True)`` hands on as ``keras.ops`` calls on that
  layer's input (``NotEqual``, ``Any``) passed as ``mask=`` to the layers
  after it. nnlib's layers hand masks on by themselves, so those calls and
  ``mask`` arguments are left out, once checked to start from such a
  layer's input; any other use of a ``keras.ops`` call is an error.
"""

__all__ = ["functional_config"]

_TENSOR = "__keras_tensor__"
_MASK_LAYERS = ("Masking", "Embedding")


def functional_config(context, config, layer_spec):
    """The nnlib ``Model`` spec for a Keras ``Functional`` config."""
    where = f"model '{config.get('name')}'"
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise context.error(where, "its config has no list of layers")
    names = [_name(entry) for entry in entries]
    # Keras counts a nested functional model's own node (inputs to outputs)
    # as its node 0, and so references its calls from 1 (Keras 2: any model).
    models = ("Functional", "Model") + (("Sequential",) if context.keras2 else ())
    offsets = {n: 1 for n, e in zip(names, entries) if e.get("class_name") in models}
    nodes = {
        name: [
            _shifted(_node(data), offsets) for data in entry.get("inbound_nodes") or []
        ]
        for name, entry in zip(names, entries)
    }
    ops = {n for n, e in zip(names, entries) if _is_op(e)}
    _check_ops(context, config, entries, names, nodes, ops)
    layers = []
    for name, entry in zip(names, entries):
        if name in ops:
            continue
        spec = layer_spec(context, entry)
        spec["config"].pop("input_shape", None)  # Keras 2's; the graph gives it
        spec["name"] = name
        spec["inbound_nodes"] = [_without_ops(node, ops) for node in nodes[name]]
        layers.append(spec)
    return {
        "class_name": "Model",
        "config": {
            "name": config.get("name"),
            "trainable": config.get("trainable", True),
            "layers": layers,
            "input_layers": _single(_shifted(config.get("input_layers"), offsets)),
            "output_layers": _single(_shifted(config.get("output_layers"), offsets)),
        },
    }


def _name(entry):
    if not isinstance(entry, dict):
        return None
    return entry.get("name") or (entry.get("config") or {}).get("name")


def _is_op(entry):
    """A ``keras.ops`` call (an Operation, not a layer): its module says so;
    legacy ``.h5`` configs have no module, and an op's config, unlike a
    layer's, has neither ``trainable`` nor ``dtype``."""
    module = entry.get("module")
    if module is not None:
        return module.startswith("keras.src.ops")
    config = entry.get("config") or {}
    return entry.get("class_name") != "InputLayer" and not (
        "trainable" in config or "dtype" in config
    )


def _node(data):
    """A node in Keras 3's form; Keras 2's ``[[name, node, tensor, kwargs]]``
    translated."""
    if isinstance(data, dict):
        return {"args": data.get("args", []), "kwargs": dict(data.get("kwargs") or {})}
    refs = [_tensor(entry[:3]) for entry in data]
    kwargs = data[0][3] if data and len(data[0]) > 3 else {}
    return {"args": [refs[0] if len(refs) == 1 else refs], "kwargs": dict(kwargs or {})}


def _tensor(history):
    return {"class_name": _TENSOR, "config": {"keras_history": list(history)}}


def _shifted(value, offsets):
    """``value`` with the node indices of references to nested models shifted
    down (see ``functional_config``)."""
    if not offsets:
        return value
    if isinstance(value, dict):
        if value.get("class_name") == _TENSOR:
            name, node, index = value["config"]["keras_history"]
            history = [name, node - offsets.get(name, 0), index]
            return {**value, "config": {**value["config"], "keras_history": history}}
        return {k: _shifted(v, offsets) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) == 3 and isinstance(value[0], str) and isinstance(value[1], int):
            return [value[0], value[1] - offsets.get(value[0], 0), value[2]]
        return [_shifted(v, offsets) for v in value]
    return value


def _refs(value):
    """Every ``keras_history`` in a node's args or kwargs."""
    if isinstance(value, dict):
        if value.get("class_name") == _TENSOR:
            return [tuple(value["config"]["keras_history"])]
        return [ref for v in value.values() for ref in _refs(v)]
    if isinstance(value, (list, tuple)):
        return [ref for v in value for ref in _refs(v)]
    return []


def _check_ops(context, config, entries, names, nodes, ops):
    """Raises unless every op computes only masks nnlib makes itself."""
    if not ops:
        return
    mask_inputs = set()  # tensors a mask-making layer is called on
    for name, entry in zip(names, entries):
        layer_config = entry.get("config") or {}
        if entry.get("class_name") == "Masking" or (
            entry.get("class_name") == "Embedding" and layer_config.get("mask_zero")
        ):
            for node in nodes[name]:
                mask_inputs.update(_refs(node["args"][:1]))
    outputs = {ref[0] for ref in _refs(config.get("output_layers"))}
    for name in names:
        for node in nodes[name]:
            if name in ops:
                for ref in _refs(node["args"]) + _refs(node["kwargs"]):
                    if ref[0] not in ops and ref not in mask_inputs:
                        raise _op_error(context, name, f"on '{ref[0]}'")
                continue
            used = _refs(node["args"]) + _refs(
                {k: v for k, v in node["kwargs"].items() if k != "mask"}
            )
            for ref in used:
                if ref[0] in ops:
                    raise _op_error(context, ref[0], f"feeding layer '{name}'")
    for name in outputs & ops:
        raise _op_error(context, name, "as an output of the model")


def _op_error(context, name, what):
    return context.error(
        f"keras op '{name}'",
        f"the model uses a keras.ops call {what}; nnlib rebuilds layers only "
        "(keras.ops calls only where they compute the masks of Masking and "
        "Embedding(mask_zero=True))",
    )


def _without_ops(node, ops):
    kwargs = {}
    for key, value in node["kwargs"].items():
        if key == "training":
            continue
        if key == "mask" and all(ref[0] in ops for ref in _refs(value)):
            continue
        kwargs[key] = value
    return {"args": node["args"], "kwargs": kwargs}


def _single(structure):
    """Keras writes a single input or output as a list of one reference."""
    if (
        isinstance(structure, list)
        and len(structure) == 1
        and isinstance(structure[0], list)
        and structure[0]
        and isinstance(structure[0][0], str)
    ):
        return structure[0]
    return structure
