"""A functional model's graph: the layer calls between its inputs and outputs.

``Graph`` finds the nodes (layer calls) the outputs were computed by, walking
back from the outputs to the inputs with an explicit stack (no recursion, so
a chain of thousands of layers is fine), and orders them by creation: a node
is always made after the nodes that made its inputs, so creation order is a
topological order. Running the model is one loop over that order, each value
kept in a numbered slot and dropped after its last use.
"""

from ..engine import nest
from ..layers import _building, _symbolic
from ..layers.base import Layer
from ..layers.input_layer import InputLayer
from ..layers.keras_tensor import KerasTensor
from .network import Network

__all__ = ["Graph"]


class _Slot:
    """Where a value lives while the graph runs."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class _Step:
    """One node, ready to run: its layer, arguments with slots, output slots."""

    __slots__ = ("args", "free", "kwargs", "layer", "node", "outputs", "single")

    def __init__(self, node, slot_of):
        self.node, self.layer = node, node.layer
        self.args = _with_slots(list(node.args), slot_of)
        self.kwargs = _with_slots(node.kwargs, slot_of)
        first = self.args[0] if len(self.args) == 1 and not self.kwargs else None
        # The common node: one tensor in, called with nothing else.
        self.single = first.index if isinstance(first, _Slot) else None
        self.outputs = [slot_of[id(t)] for t in node.flat_outputs]
        self.free = []


def _with_slots(structure, slot_of):
    flat = nest.flatten(structure)
    if not any(isinstance(x, KerasTensor) for x in flat):
        return structure
    slots = [_Slot(slot_of[id(x)]) if isinstance(x, KerasTensor) else x for x in flat]
    return nest.pack_as(structure, slots)


def _filled(structure, values):
    flat = nest.flatten(structure)
    if not any(isinstance(x, _Slot) for x in flat):
        return structure
    return nest.pack_as(
        structure, [values[x.index] if isinstance(x, _Slot) else x for x in flat]
    )


class Graph:
    """The nodes between ``inputs`` and ``outputs``, in an order to run them.

    Args:
        inputs: KerasTensors from ``nnlib.Input``: one, or a list, tuple or dict
            (nested) of them.
        outputs: KerasTensors computed from them by layers, likewise.
        owner: The model, for error messages.

    Raises:
        TypeError: For an input or output that is not a KerasTensor.
        ValueError: For an input not made by ``nnlib.Input``, an input given
            twice, or an output that needs an input that is not given.
    """

    def __init__(self, inputs, outputs, owner):
        self.input_structure, self.output_structure = inputs, outputs
        self.inputs = _checked_inputs(inputs, owner)
        self.outputs = _checked_outputs(outputs, owner)
        self.nodes = _nodes_between(self.inputs, self.outputs, owner)
        self.input_layers = [t.node.layer for t in self.inputs]
        self.layers, self.node_index = [], {}
        counts = {}
        for layer in self.input_layers:
            counts[id(layer)] = 1
            self.node_index[id(layer._node)] = 0
            self.layers.append(layer)
        for node in self.nodes:
            count = counts.get(id(node.layer), 0)
            if count == 0:
                self.layers.append(node.layer)
            self.node_index[id(node)] = count
            counts[id(node.layer)] = count + 1
        self._plan()

    def _plan(self):
        slot_of = {}
        for tensor in self.inputs:
            slot_of[id(tensor)] = len(slot_of)
        for node in self.nodes:
            for tensor in node.flat_outputs:
                slot_of.setdefault(id(tensor), len(slot_of))
        self.slots = len(slot_of)
        self.input_slots = [slot_of[id(t)] for t in self.inputs]
        self.output_slots = [slot_of[id(t)] for t in self.outputs]
        self.steps = [_Step(node, slot_of) for node in self.nodes]
        # A value not returned is dropped after the last step that reads it.
        last = {}
        for i, node in enumerate(self.nodes):
            for tensor in node.inputs:
                last[slot_of[id(tensor)]] = i
        for slot in self.output_slots:
            last.pop(slot, None)
        for slot, i in last.items():
            self.steps[i].free.append(slot)

    def nodes_of(self, layer):
        """The calls of ``layer`` in this graph, in order (its node indices)."""
        if isinstance(layer, InputLayer) and layer in self.input_layers:
            return [layer._node]
        return [node for node in self.nodes if node.layer is layer]

    @property
    def input_shapes(self):
        """The inputs' shapes, in the inputs' structure."""
        return nest.pack_as(self.input_structure, [t.shape for t in self.inputs])

    def run(self, values_in):
        """The outputs for the flat list of input values, in the outputs'
        structure: every node's layer called eagerly, in order."""
        values = [None] * self.slots
        for slot, value in zip(self.input_slots, values_in):
            values[slot] = value
        for step in self.steps:
            if step.single is not None:
                result = step.layer(values[step.single])
            else:
                args = _filled(step.args, values)
                result = step.layer(*args, **_filled(step.kwargs, values))
            if len(step.outputs) == 1 and not isinstance(result, (list, tuple, dict)):
                values[step.outputs[0]] = result
            else:
                flat = nest.flatten(result)
                if len(flat) != len(step.outputs):
                    raise ValueError(
                        f"layer '{step.layer.name}' returned {len(flat)} tensors, "
                        f"but {len(step.outputs)} when the model was built on "
                        "KerasTensors: a layer's outputs must not change in number"
                    )
                for slot, value in zip(step.outputs, flat):
                    values[slot] = value
            for slot in step.free:
                values[slot] = None
        outputs = [values[slot] for slot in self.output_slots]
        return nest.pack_as(self.output_structure, outputs)

    def build_layers(self):
        """Builds every layer not built yet, in order, from its first call's
        shapes (inside the model's scope: the model owns them by now)."""
        for layer in self.input_layers:
            if not layer.built:
                layer._build_on(layer.batch_shape)
        for node in self.nodes:
            if not node.layer.built:
                _build(node)


def _build(node):
    layer = node.layer
    if getattr(layer, "_nnlib_graph", None) is not None:
        layer.build()  # a functional model inside: its own graph
    elif _builds_by_running(layer):
        with _building.stand_in():
            args = _symbolic.concrete(node.args, 1)
            layer(*args, **_symbolic.concrete(node.kwargs, 1))
    else:
        layer._build_on(_symbolic.shapes_of(node.args[0]))


def _builds_by_running(layer):
    """Networks build on their first call, and so do layers whose sublayers are
    built in ``call`` (no ``build`` of their own) or whose ``__call__`` builds
    (as Keras builds a layer without ``build`` by running it)."""
    cls = type(layer)
    return (
        isinstance(layer, Network)
        or cls.__call__ is not Layer.__call__
        or (cls.build is Layer.build and bool(layer._nnlib.sublayers))
    )


def _label(owner):
    return f"{type(owner).__name__} '{_symbolic.label(owner)}'"


def _checked_inputs(inputs, owner):
    flat = nest.flatten(inputs)
    if not flat:
        raise ValueError(f"{_label(owner)} needs at least one input")
    seen = set()
    for i, tensor in enumerate(flat):
        if not isinstance(tensor, KerasTensor):
            raise TypeError(
                f"{_label(owner)}: inputs must be KerasTensors made by "
                f"nnlib.Input(...), got a {type(tensor).__name__} (input {i}); to "
                "run a model on data, call it: model(x)"
            )
        node = tensor.node
        if node is None or not isinstance(node.layer, InputLayer):
            made_by = f"layer '{_symbolic.label(node.layer)}'" if node else "no layer"
            raise ValueError(
                f"{_label(owner)}: input {i} {tensor!r} comes from {made_by}, not "
                "from nnlib.Input(...); a model's inputs must be Input tensors"
            )
        if id(tensor) in seen:
            raise ValueError(f"{_label(owner)}: input {tensor!r} is given twice")
        seen.add(id(tensor))
    return flat


def _checked_outputs(outputs, owner):
    flat = nest.flatten(outputs)
    if not flat:
        raise ValueError(f"{_label(owner)} needs at least one output")
    for i, tensor in enumerate(flat):
        if not isinstance(tensor, KerasTensor):
            raise TypeError(
                f"{_label(owner)}: outputs must be KerasTensors computed from the "
                f"inputs by layers, got a {type(tensor).__name__} (output {i})"
            )
    return flat


def _nodes_between(inputs, outputs, owner):
    """The nodes the outputs need, by creation; raises naming an output that
    needs an input the model is not given."""
    given = {id(t) for t in inputs}
    found = {}
    for i, output in enumerate(outputs):
        stack = [output]
        while stack:
            tensor = stack.pop()
            if id(tensor) in given:
                continue
            node = tensor.node
            if node is None or isinstance(node.layer, InputLayer):
                _raise_unconnected(owner, i, output, tensor, inputs)
            if id(node) not in found:
                found[id(node)] = node
                stack.extend(node.inputs)
    return sorted(found.values(), key=lambda node: node.id)


def _raise_unconnected(owner, i, output, tensor, inputs):
    made_by = _symbolic.label(output.node.layer) if output.node else "no layer"
    names = ", ".join(t.name for t in inputs)
    raise ValueError(
        f"{_label(owner)}: output {i} {output!r} (from layer '{made_by}') is "
        f"computed from input {tensor!r}, which is not among the model's inputs "
        f"[{names}]: add it to inputs=, or compute the output from the given ones"
    )
