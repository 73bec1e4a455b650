"""Model: a functional model, the graph of layer calls from inputs to outputs."""

import inspect

from ..engine import nest
from ..layers.base import Layer
from . import _functional_config
from ._graph import Graph
from .network import Network

__all__ = ["Model"]


class Model(Network):
    """A model built by calling layers on ``nnlib.Input`` tensors (Keras's
    functional API).

    Call layers on KerasTensors to describe the computation, then give the
    inputs and outputs; the model runs the layer calls between them, in
    order, on real data. Inputs and outputs may be one tensor, or lists,
    tuples or dicts of them (nested). A layer called twice is shared (one set
    of variables, gradients from both calls added). Models, ``Sequential``
    and subclassed networks are layers too, so they nest.

    The model owns its layers and names them inside itself (``dense``,
    ``dense_1``); they build when the model is first needed (called, built,
    summarized, or asked for its variables), inside the model's variable
    scope (``model/dense/kernel``), as a ``Network``'s layers do. Training
    (``compile``, ``fit``), saving (``save``, ``get_config``) and summaries
    work as for any network.

    Subclassing ``Model`` without passing inputs and outputs gives a model
    written as a class (as ``Network``): define ``call``.

    Args:
        inputs: The model's inputs: KerasTensors from ``nnlib.Input``.
        outputs: KerasTensors computed from them by layers.
        name: The model's name (made unique among its siblings).
        **kwargs: ``trainable``, ``dtype`` as for ``Layer``.

    Raises:
        TypeError: For inputs or outputs that are not KerasTensors (data
            passed where the graph's tensors belong).
        ValueError: For an output that needs an input the model is not
            given (naming both), or an input not made by ``nnlib.Input``.

    Examples:
        >>> inputs = nnlib.Input(shape=(3,))
        >>> hidden = nnlib.layers.Dense(4, activation="relu")(inputs)
        >>> outputs = nnlib.layers.Dense(2)(hidden)
        >>> model = nnlib.Model(inputs, outputs, name="functional_doc")
        >>> model(np.ones((5, 3), np.float32)).shape
        (5, 2)
        >>> [v.name for v in model.variables][:2]
        ['functional_doc/dense/kernel', 'functional_doc/dense/bias']
        >>> [layer.name for layer in model.layers]
        ['input_layer', 'dense', 'dense_1']
    """

    # Set with object.__setattr__: reserved like Trainer's state.
    _nnlib_instance_names = (*Network._nnlib_instance_names, "_nnlib_graph")

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        object.__setattr__(self, "_nnlib_graph", None)
        if inputs is None and outputs is None:
            if type(self) is Model:
                raise TypeError(
                    "Model(inputs, outputs) needs the inputs (from nnlib.Input) "
                    "and the outputs computed from them; for a model written as "
                    "a class, subclass nnlib.Network (or nnlib.Model) and define "
                    "call()"
                )
            return
        if inputs is None or outputs is None:
            raise TypeError("Model needs both inputs= and outputs=")
        self._init_graph(inputs, outputs)

    @classmethod
    def _init_empty(cls, model, name, trainable):
        Network.__init__(model, name=name, trainable=trainable)
        object.__setattr__(model, "_nnlib_graph", None)

    def _init_graph(self, inputs, outputs):
        graph = Graph(inputs, outputs, self)
        object.__setattr__(self, "_nnlib_graph", graph)
        for layer in graph.layers:
            self._track(layer)

    # -- the graph ----------------------------------------------------------------

    @property
    def inputs(self):
        """The input KerasTensors, as a flat list."""
        return list(self._graph().inputs)

    @property
    def outputs(self):
        """The output KerasTensors, as a flat list."""
        return list(self._graph().outputs)

    @property
    def input(self):
        """The inputs in the structure they were given (one, a list, a dict)."""
        return self._graph().input_structure

    @property
    def output(self):
        """The outputs in the structure they were given."""
        return self._graph().output_structure

    @property
    def input_names(self):
        """The names of the input layers: the keys of dict data."""
        return [layer.name for layer in self._graph().input_layers]

    @property
    def output_names(self):
        """The outputs' keys (dict outputs) or the names of the layers making
        them: what a dict of losses or metrics is keyed by."""
        graph = self._graph()
        if isinstance(graph.output_structure, dict):
            return sorted(graph.output_structure)
        return [t.node.layer.name for t in graph.outputs]

    @property
    def layers(self):
        """The layers in the order the graph runs them, input layers first."""
        graph = self._nnlib_graph
        return super().layers if graph is None else list(graph.layers)

    def _graph(self):
        graph = self._nnlib_graph
        if graph is None:
            raise AttributeError(
                f"model '{self.name}' is a subclassed model: it has no functional "
                "graph (inputs, outputs)"
            )
        return graph

    # -- building and running -------------------------------------------------------

    def build(self, input_shape=None):
        """Builds every layer of the graph (from the shapes it was built with)."""
        graph = self._nnlib_graph
        if graph is None:
            return super().build(input_shape)
        graph.build_layers()

    def _ensure_built(self):
        if not self.built and self._nnlib_graph is not None:
            self._build_on(self._nnlib_graph.input_shapes)

    def _first_call(self, inputs, args, kwargs):
        if self._nnlib_graph is None:
            return super()._first_call(inputs, args, kwargs)
        self._ensure_built()
        return self._run(inputs, args, kwargs)

    def call(self, inputs, training=None):
        graph = self._nnlib_graph
        if graph is None:
            return super().call(inputs, training)
        return graph.run(self._flat_inputs(inputs))

    def _flat_inputs(self, data):
        graph, names = self._nnlib_graph, self.input_names
        structure = graph.input_structure
        if isinstance(data, dict):
            keys = sorted(structure) if isinstance(structure, dict) else names
            missing = [k for k in keys if k not in data]
            unexpected = [k for k in data if k not in keys]
            if missing or unexpected:
                raise ValueError(
                    f"model '{self.name}' takes a dict of inputs with keys {keys}; "
                    f"got keys {list(data)} (missing {missing}, unexpected "
                    f"{unexpected})"
                )
            if isinstance(structure, dict):
                flat = nest.flatten({k: data[k] for k in structure})
            else:
                flat = [data[k] for k in keys]
        elif isinstance(structure, dict):
            raise TypeError(
                f"model '{self.name}' takes a dict of inputs with keys "
                f"{sorted(structure)}, got a {type(data).__name__}"
            )
        else:
            flat = nest.flatten(data) if isinstance(data, (list, tuple)) else [data]
        expected = [t.shape for t in graph.inputs]
        given = [tuple(getattr(x, "shape", ())) for x in flat]
        if len(flat) != len(expected):
            wanted = ", ".join(f"'{n}' {s}" for n, s in zip(names, expected))
            raise ValueError(
                f"model '{self.name}' expects {len(expected)} input(s), {wanted}; "
                f"got {len(flat)} of shapes {', '.join(map(str, given))}"
            )
        for name, shape, got in zip(names, expected, given):
            if not _fits(shape, got):
                raise ValueError(
                    f"model '{self.name}': input '{name}' expected shape {shape} "
                    f"(None: any size), got {got}"
                )
        return flat

    def compute_output_shape(self, input_shape):
        """The outputs' shapes (for inputs of the shapes the model was built on).

        Raises:
            ValueError: For shapes that do not fit the model's inputs.
        """
        graph = self._nnlib_graph
        if graph is None:
            return super().compute_output_shape(input_shape)
        given = _flat_shapes(input_shape)
        expected = [t.shape for t in graph.inputs]
        if len(given) != len(expected) or not all(map(_fits, expected, given)):
            raise ValueError(
                f"model '{self.name}' expects inputs of shapes {expected}, got {given}"
            )
        shapes = [t.shape for t in graph.outputs]
        return nest.pack_as(graph.output_structure, shapes)

    def _compute_output_dtype(self, input_dtypes):
        graph = self._nnlib_graph
        if graph is None:
            return self.dtype
        return [t.dtype for t in graph.outputs]

    # -- what needs the variables builds first ------------------------------------

    @property
    def variables(self):
        """Every variable of the model, layer by layer in ``layers`` order (as
        Keras orders weights; its layers are built first if needed)."""
        self._ensure_built()
        graph = self._nnlib_graph
        if graph is None:
            return Network.variables.fget(self)
        found = {}
        for layer in graph.layers:
            for variable in layer.variables:
                found.setdefault(variable._id, variable)
        for variable in Network.variables.fget(self):  # a subclass's own ones
            found.setdefault(variable._id, variable)
        return list(found.values())

    weights = variables

    def summary(self, *args, **kwargs):
        """Prints the layers, their output shapes, parameter counts and (for a
        functional model) the tensors each layer is called on ("Connected to")."""
        self._ensure_built()
        return super().summary(*args, **kwargs)

    # -- training ---------------------------------------------------------------------

    def compile(self, *args, **kwargs):
        """``Network.compile``; for a model with a list of outputs, a dict of
        losses, loss weights or metrics may be keyed by ``output_names``."""
        graph = self._nnlib_graph
        if graph is not None and not isinstance(graph.output_structure, dict):
            bound = inspect.signature(super().compile).bind(*args, **kwargs)
            names = self.output_names
            for key in ("loss", "loss_weights", "metrics"):
                value = bound.arguments.get(key)
                if (
                    isinstance(value, dict)
                    and len(names) > 1
                    and set(value) == set(names)
                ):
                    bound.arguments[key] = [value[name] for name in names]
            args, kwargs = bound.args, bound.kwargs
        return super().compile(*args, **kwargs)

    # -- configuration ------------------------------------------------------------------

    def get_config(self):
        """The functional config (Keras's structure: ``layers`` with their
        ``inbound_nodes``, ``input_layers``, ``output_layers``).

        Examples:
            >>> x = nnlib.Input(shape=(2,), name="x")
            >>> model = nnlib.Model(x, nnlib.layers.Dense(1)(x), name="config_doc")
            >>> config = model.get_config()
            >>> [entry["name"] for entry in config["layers"]], config["output_layers"]
            (['x', 'dense'], ['dense', 0, 0])
            >>> clone = nnlib.Model.from_config(config)
            >>> clone.count_params()
            3
        """
        if self._nnlib_graph is None:
            return Layer.get_config(self)
        return _functional_config.get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model from ``get_config()`` (fresh variables).

        Args:
            config: The dict ``get_config`` returns.
            custom_objects: ``{"ClassName": cls}`` for your own layer classes.
        """
        if "layers" not in config or "input_layers" not in config:
            return super().from_config(config)  # a subclassed model
        return _functional_config.from_config(cls, config, custom_objects)


def _fits(expected, given):
    return len(expected) == len(given) and all(
        e is None or g is None or e == g for e, g in zip(expected, given)
    )


def _flat_shapes(structure):
    """The shapes of a structure of shapes, ordered as ``nest.flatten`` orders
    tensors (dict keys sorted)."""
    if isinstance(structure, dict):
        return [s for key in sorted(structure) for s in _flat_shapes(structure[key])]
    if isinstance(structure, (list, tuple)) and not all(
        d is None or isinstance(d, int) for d in structure
    ):
        return [s for item in structure for s in _flat_shapes(item)]
    return [tuple(structure)]
