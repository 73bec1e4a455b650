"""Sequential: a network that applies its layers one after another."""

import inspect

import numpy as np

from ..layers import _building, _registry, _symbolic
from ..layers.base import Layer
from ..layers.input_layer import InputLayer
from ..layers.keras_tensor import KerasTensor
from . import _nesting
from .network import Network

__all__ = ["Sequential"]


class Sequential(Network):
    """A linear stack of layers.

    Start with ``nnlib.Input(shape)`` (as in Keras 3), or give the first layer
    ``input_shape=``, to build the model at once (so ``summary()`` works
    before any data); or let it build on the first call.

    Args:
        layers: Layers to add, in order; the first may be an ``nnlib.Input``.
        name: The model's name.
        **kwargs: ``trainable``, ``dtype`` as for ``Layer``.

    Raises:
        ValueError: If two layers share an explicit name.

    Examples:
        >>> model = nnlib.Sequential([
        ...     nnlib.layers.Dense(8, activation="relu", input_shape=(4,)),
        ...     nnlib.layers.Dense(2),
        ... ], name="sequential_example")
        >>> model.count_params()
        58
        >>> model(np.ones((3, 4), np.float32)).shape
        (3, 2)
        >>> nnlib.Sequential([nnlib.Input(shape=(4,)), nnlib.layers.Dense(2)]).built
        True
    """

    _takes_single_input = True  # what fit's checks of x need to know (Trainer)

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        for layer in layers or ():
            self.add(layer)

    def add(self, layer):
        """Appends a layer (building it at once when the input shape is known).

        An ``nnlib.Input`` (or ``InputLayer``) added first sets the input shape.

        Raises:
            TypeError: If ``layer`` is not a Layer.
            ValueError: If the layer does not fit the model's output (the model
                is left as it was, without the layer), or for an Input after
                the first layer.
        """
        if isinstance(layer, KerasTensor) and isinstance(
            getattr(layer.node, "layer", None), InputLayer
        ):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._nnlib.sublayers:
                raise ValueError(
                    f"Sequential '{self.name}': an Input can only come first, "
                    f"before any layer (got one after {len(self.layers)} layers)"
                )
            self._nnlib.batch_input_shape = layer.batch_shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a Layer, got {type(layer).__name__}"
            )
        sublayers, was_built = self._nnlib.sublayers, self.built
        count = len(sublayers)
        self.track_layer(layer)
        shape = self._input_shape()
        # Unknown sizes (None) beyond the batch axis: build on the first real call,
        # since zeros of size 1 might not fit (a valid 3x3 convolution).
        # A model rebuilt inside another's config waits to be built by it.
        if shape is not None and None not in shape[1:] and not _nesting.current():
            try:
                self._build_from_input_shape()
            except BaseException:
                if len(sublayers) > count:  # untrack it: it may go elsewhere
                    sublayers.pop()
                    state = layer._nnlib
                    if state.parent is not None and state.parent() is self:
                        state.parent = state.name = None
                object.__setattr__(self, "built", was_built)
                raise

    def _input_shape(self):
        if self._nnlib.batch_input_shape is not None:
            return self._nnlib.batch_input_shape
        sublayers = self._nnlib.sublayers
        if not sublayers:
            return None
        first = sublayers[0]
        if isinstance(first, Sequential):
            return first._input_shape()
        graph = getattr(first, "_nnlib_graph", None)  # a functional model
        if graph is not None and len(graph.inputs) == 1:
            return graph.inputs[0].shape
        return first._nnlib.batch_input_shape

    def _build_from_input_shape(self):
        shape = tuple(1 if d is None else d for d in self._input_shape())
        object.__setattr__(self, "built", False)  # a new layer needs a pass
        with _building.stand_in():
            self(np.zeros(shape, self._zeros_dtype()))

    def call(self, inputs, training=None):
        outputs = inputs
        for layer in self._nnlib.sublayers:
            outputs = layer(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        """Each layer's ``compute_output_shape`` in turn.

        Examples:
            >>> model = nnlib.Sequential([nnlib.layers.Dense(8), nnlib.layers.Dense(2)])
            >>> model.compute_output_shape((None, 4))
            (None, 2)
        """
        shape = input_shape
        for layer in self._nnlib.sublayers:
            shape = layer.compute_output_shape(shape)
        return shape

    def _compute_output_dtype(self, input_dtypes):
        for layer in self._nnlib.sublayers:
            dtypes = _symbolic.output_dtypes(layer, input_dtypes)
            input_dtypes = dtypes if isinstance(dtypes, list) else [dtypes]
        return input_dtypes if len(input_dtypes) > 1 else input_dtypes[0]

    def build(self, input_shape=None):
        """Builds every layer for inputs of ``input_shape`` (batch axis included).

        Raises:
            ValueError: Without any input shape, or when the layers do not fit
                ``input_shape`` (which is then forgotten).
        """
        state = self._nnlib
        before = state.batch_input_shape
        if input_shape is not None:
            state.batch_input_shape = tuple(input_shape)
        if self._input_shape() is None:
            raise ValueError(
                f"Sequential '{self.name}' needs an input shape to build: "
                "pass input_shape= to its first layer, or call it on data"
            )
        try:
            self._build_from_input_shape()
        except BaseException:
            state.batch_input_shape = before
            raise

    def get_config(self):
        """The architecture: the model's name and each layer's class and config
        (an ``InputLayer`` first where the model's own input shape is known,
        as Keras 3 writes it)."""
        layers = [
            {**_registry.class_spec(type(layer)), "config": layer.get_config()}
            for layer in self._nnlib.sublayers
        ]
        shape = self._nnlib.batch_input_shape
        if shape is not None:
            config = {"batch_shape": tuple(shape), "dtype": self.dtype.name}
            layers.insert(0, {"class_name": "InputLayer", "config": config})
        return {"name": self.name, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a Sequential from ``get_config()`` (fresh variables).

        Args:
            config: The dict from ``get_config``.
            custom_objects: ``{"ClassName": cls}`` for layer classes defined
                outside nnlib (registered subclasses are found by name anyway).

        Examples:
            >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))],
            ...                          name="config_example")
            >>> clone = nnlib.Sequential.from_config(model.get_config())
            >>> [type(l).__name__ for l in clone.layers], clone.count_params()
            (['Dense'], 8)
        """
        custom_objects = custom_objects or {}
        layers = []
        # Models nested here wait to be built by this one, in its scope.
        with _nesting.rebuilding(_nesting.current() or True):
            for spec in config["layers"]:
                layer_cls = _registry.resolve(spec, custom_objects)
                layer_config = dict(spec["config"])
                if (
                    "custom_objects"
                    in inspect.signature(layer_cls.from_config).parameters
                ):
                    layer = layer_cls.from_config(
                        layer_config, custom_objects=custom_objects
                    )
                else:
                    layer = layer_cls.from_config(layer_config)
                layers.append(layer)
        return cls(
            layers, name=config.get("name"), trainable=config.get("trainable", True)
        )
