"""Sequential: a network that applies its layers one after another."""

import numpy as np

from ..layers import _registry
from ..layers.base import Layer
from .network import Network

__all__ = ["Sequential"]


class Sequential(Network):
    """A linear stack of layers.

    Give the first layer ``input_shape=`` to build the model at once (so
    ``summary()`` works before any data), or let it build on the first call.

    Args:
        layers: Layers to add, in order.
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
    """

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        for layer in layers or ():
            self.add(layer)

    def add(self, layer):
        """Appends a layer (building it at once when the input shape is known).

        Raises:
            TypeError: If ``layer`` is not a Layer.
            ValueError: If the layer does not fit the model's output; the model
                is left as it was, without the layer.
        """
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
        if shape is not None and None not in shape[1:]:
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
        return sublayers[0]._nnlib.batch_input_shape if sublayers else None

    def _build_from_input_shape(self):
        shape = tuple(1 if d is None else d for d in self._input_shape())
        object.__setattr__(self, "built", False)  # a new layer needs a pass
        self(np.zeros(shape, self._zeros_dtype()))

    def call(self, inputs, training=None):
        outputs = inputs
        for layer in self._nnlib.sublayers:
            outputs = layer(outputs)
        return outputs

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
        """The architecture: the model's name and each layer's class and config."""
        return {
            "name": self.name,
            "layers": [
                {**_registry.class_spec(type(layer)), "config": layer.get_config()}
                for layer in self._nnlib.sublayers
            ],
        }

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
        for spec in config["layers"]:
            layer_cls = _registry.resolve(spec, custom_objects)
            layer_config = dict(spec["config"])
            layers.append(layer_cls.from_config(layer_config))
        return cls(layers, name=config.get("name"))
