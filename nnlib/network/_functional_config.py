"""A functional model's config, in Keras's structure, and rebuilding from it.

The config lists every layer once, in the order the graph runs them, with
its class, its own config and ``inbound_nodes``: one entry per call, holding
the call's ``args`` and ``kwargs`` with each KerasTensor written as Keras 3
writes it, ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer name, node index, tensor index]}}``.
``input_layers`` and ``output_layers`` give the model's inputs and outputs
as ``[layer name, node index, tensor index]`` in their structure (one, a
list or a dict). Keras 2's ``inbound_nodes`` (lists of ``[name, node,
tensor, kwargs]``) are read too.

Rebuilding calls each layer on the KerasTensors its node names, in passes
until every node is done (one pass for a config in graph order).
"""

import inspect

from ..engine import nest
from ..layers import _json_values, _registry, _symbolic
from ..layers.base import Layer
from ..layers.input_layer import InputLayer
from ..layers.keras_tensor import KerasTensor
from . import _nesting

__all__ = ["from_config", "get_config"]


def get_config(model):
    """The functional ``model``'s config (JSON-compatible but for tuples)."""
    graph = model._nnlib_graph

    def reference(tensor):
        node = tensor.node
        return [node.layer.name, graph.node_index[id(node)], tensor._index]

    def keras_tensor(value):
        if not isinstance(value, KerasTensor):
            return None
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(value.shape),
                "dtype": value.dtype.name,
                "keras_history": reference(value),
            },
        }

    layers = []
    for layer in graph.layers:
        nodes = [] if layer in graph.input_layers else graph.nodes_of(layer)
        layers.append(
            {
                **_registry.class_spec(type(layer)),
                "name": layer.name,
                "config": layer.get_config(),
                "inbound_nodes": [
                    {
                        "args": _json_values.encode(list(node.args), keras_tensor),
                        "kwargs": _json_values.encode(node.kwargs, keras_tensor),
                    }
                    for node in nodes
                ],
            }
        )
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": _references(graph.input_structure, reference),
        "output_layers": _references(graph.output_structure, reference),
    }


def _references(structure, reference):
    return nest.pack_as(structure, [reference(t) for t in nest.flatten(structure)])


class _NotYet(Exception):
    """A node needs a tensor whose node has not been rebuilt yet."""


def from_config(cls, config, custom_objects=None):
    """A new ``cls`` (a functional model class) from ``get_config``'s dict.

    Raises:
        ValueError: For an unknown layer class (or one refused by a safe-mode
            load), or nodes that need tensors no layer of the config makes.
    """
    outer = _nesting.current()
    model = cls.__new__(cls)
    cls._init_empty(model, config.get("name"), config.get("trainable", True))
    if isinstance(outer, Layer):
        outer._track(model)  # owned (and named) before its layers build
    # Layers run on zeros stay built where they are in their final scope:
    # owned by this model, and it by the model rebuilding it (or none).
    keep = outer is None or isinstance(outer, Layer)
    with _nesting.rebuilding(model), _symbolic.keeping_builds(keep):
        layers = {}
        for spec in config["layers"]:
            layer = _layer_from(spec, custom_objects)
            model._track(layer)
            layers[spec.get("name") or spec["config"]["name"]] = layer
        tensors = _rebuild_nodes(config["layers"], layers)

        def tensor(ref):
            name, node, index = ref
            if (name, node) not in tensors:
                raise ValueError(
                    f"cannot rebuild model '{config.get('name')}': its inputs or "
                    f"outputs name node {node} of layer '{name}', which it has not"
                )
            return tensors[name, node][index]

        inputs = _resolve(config["input_layers"], tensor)
        outputs = _resolve(config["output_layers"], tensor)
    model._init_graph(inputs, outputs)
    return model


def _layer_from(spec, custom_objects):
    layer_cls = _registry.resolve(spec, custom_objects)
    config = dict(spec["config"])
    if "custom_objects" in inspect.signature(layer_cls.from_config).parameters:
        return layer_cls.from_config(config, custom_objects=custom_objects)
    return layer_cls.from_config(config)


def _rebuild_nodes(specs, layers):
    """Calls every layer on its nodes' KerasTensors; ``{(name, node index):
    flat outputs}``."""
    tensors = {}
    pending = []
    for spec in specs:
        name = spec.get("name") or spec["config"]["name"]
        layer = layers[name]
        if isinstance(layer, InputLayer):
            tensors[name, 0] = [layer.output]  # an InputLayer
            continue
        for index, data in enumerate(spec.get("inbound_nodes", [])):
            pending.append((name, index, _keras3_node(data)))

    def keras_tensor(data):
        if data.get("class_name") != "__keras_tensor__":
            return None
        name, node, index = data["config"]["keras_history"]
        if (name, node) not in tensors:
            raise _NotYet
        return tensors[name, node][index]

    while pending:
        waiting = []
        for name, index, data in pending:
            try:
                if any(n == name and i < index for n, i, _ in waiting):
                    raise _NotYet  # a layer's nodes are rebuilt in order
                args = _json_values.decode(data.get("args", []), keras_tensor)
                kwargs = _json_values.decode(data.get("kwargs", {}), keras_tensor)
            except _NotYet:
                waiting.append((name, index, data))
                continue
            outputs = layers[name](*args, **kwargs)
            tensors[name, index] = nest.flatten(outputs)
        if len(waiting) == len(pending):
            name, index, _ = waiting[0]
            raise ValueError(
                f"cannot rebuild the model: node {index} of layer '{name}' needs "
                "tensors that no other node of the config makes"
            )
        pending = waiting
    return tensors


def _keras3_node(data):
    """A node as Keras 3 writes it; Keras 2's ``[[name, node, tensor, kwargs],
    ...]`` is translated."""
    if isinstance(data, dict):
        return data
    refs = [
        {
            "class_name": "__keras_tensor__",
            "config": {"keras_history": [entry[0], entry[1], entry[2]]},
        }
        for entry in data
    ]
    kwargs = data[0][3] if data and len(data[0]) > 3 else {}
    return {"args": [refs[0] if len(refs) == 1 else refs], "kwargs": kwargs or {}}


def _is_reference(value):
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) for v in value[1:])
    )


def _resolve(structure, tensor):
    if _is_reference(structure):
        return tensor(structure)
    if isinstance(structure, dict):
        return {key: _resolve(value, tensor) for key, value in structure.items()}
    return [_resolve(value, tensor) for value in structure]
