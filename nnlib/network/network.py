"""Network: a layer made of layers, with summaries (and, later, training)."""

import numpy as np

from ..checkpoint import model_io
from ..engine import nest
from ..layers import _building
from ..layers.base import Layer
from ..training import Trainer
from .summary import summary_table

__all__ = ["Network"]


class Network(Trainer, Layer):
    """A model: a layer whose ``call`` uses other layers it tracks.

    Subclass it, create layers in ``__init__`` (``self.track_layer(layer)``, or
    simply assign them as attributes, public or private, also inside lists,
    tuples and dicts), and write ``call``. Variables are created on the first
    call and named by the whole path (``"gan/generator/dense/kernel"``). Two
    instances get unique names (``mnist``, ``mnist_1``); calling the network
    with ``training=True`` reaches every layer inside. The first call is the
    network's build: made once even from several threads, and the network is
    built only if it succeeds.

    Args:
        name: The network's name (made unique among its siblings).
        **kwargs: ``trainable``, ``dtype`` as for ``Layer``.

    Examples:
        >>> class MLP(nnlib.Network):
        ...     def __init__(self):
        ...         super().__init__(name="mlp_example")
        ...         self.hidden = self.track_layer(nnlib.layers.Dense(4, activation="relu"))
        ...         self.logits = nnlib.layers.Dense(2)
        ...     def call(self, x, training=False):
        ...         return self.logits(self.hidden(x))
        >>> model = MLP()
        >>> model(np.zeros((1, 3), np.float32)).shape
        (1, 2)
        >>> [v.name for v in model.variables]
        ['mlp_example/dense/kernel', 'mlp_example/dense/bias', 'mlp_example/dense_1/kernel', 'mlp_example/dense_1/bias']
    """

    # Inputs pass through unchanged: each layer casts its own (an Embedding first
    # must see integer ids).
    _autocast = False
    # Trainer's state (compile), written with object.__setattr__: reserved too.
    _nnlib_instance_names = ("_loss_tracker", "_compile_args")

    def __init__(self, name=None, **kwargs):
        super().__init__(name=name, **kwargs)

    def track_layer(self, layer):
        """Registers ``layer`` with this network and returns it.

        Tracking the same layer twice keeps one entry; a layer already owned by
        another network stays owned (and named) there, but its variables are
        listed here too.

        Raises:
            TypeError: If ``layer`` is not a Layer.
        """
        if not isinstance(layer, Layer):
            raise TypeError(f"track_layer expects a Layer, got {type(layer).__name__}")
        return self._track(layer)

    @property
    def layers(self):
        """The directly tracked layers, in the order they were tracked."""
        return list(self._nnlib.sublayers)

    def get_layer(self, name=None, index=None):
        """A directly tracked layer, by name or by position in ``layers``.

        Args:
            name: The layer's name.
            index: Its position in ``layers`` (negative counts from the end).

        Returns:
            The layer.

        Raises:
            ValueError: As Keras: for both or neither argument, an unknown name
                (listing the names) or an index out of range.
            TypeError: For an index that is not an int.

        Examples:
            >>> model = nnlib.Sequential([nnlib.layers.Dense(2, name="hidden"),
            ...                           nnlib.layers.Dense(1, name="out")])
            >>> model.get_layer("out").name, model.get_layer(index=0).name
            ('out', 'hidden')
        """
        layers = self.layers
        if name is not None and index is not None:
            raise ValueError(
                "Provide only a layer name or a layer index at get_layer; got "
                f"name={name!r} and index={index!r}"
            )
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"get_layer: index must be an int, got {index!r}")
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"get_layer: was asked for the layer at index {index} but "
                    f"model '{self.name}' only has {len(layers)} layers"
                )
            return layers[index]
        if name is None:
            raise ValueError(
                "Provide either a layer name or layer index at get_layer, got neither"
            )
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name!r}: model '{self.name}' has no layer {name!r}; "
            f"its layers are {[layer.name for layer in layers]}"
        )

    def reset_states(self):
        """Zeros the states of every stateful layer inside (``stateful=True``
        recurrent layers, nested networks' too), as tf.keras's ``Model`` does.

        Examples:
            >>> model = nnlib.Sequential([nnlib.layers.LSTM(2, stateful=True)])
            >>> first = model(np.ones((1, 3, 2), np.float32))
            >>> model.reset_states()
            >>> np.allclose(model(np.ones((1, 3, 2), np.float32)), first)
            True
        """
        for layer in self._layers_below()[1:]:
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_states"):
                layer.reset_states()

    def call(self, inputs, training=None):
        raise NotImplementedError(
            f"{type(self).__name__} must define call(self, inputs, training=None)"
        )

    def build(self, input_shape):
        """Creates the variables by calling the network on zeros of ``input_shape``.

        ``input_shape`` includes the batch axis; unknown (None) sizes become 1.
        """
        if not self.built:
            shape = tuple(1 if d is None else d for d in input_shape)
            with _building.stand_in():
                self(np.zeros(shape, self._zeros_dtype()))

    def _zeros_dtype(self):
        """The dtype of the zeros a shape-only build feeds the first layer."""
        sublayers = self._nnlib.sublayers
        first = sublayers[0] if sublayers else None
        return self.dtype if first is None or first._autocast else np.int64

    def _first_call(self, inputs, args, kwargs):
        # A network's variables come from its layers, built inside its first
        # call: that call is its build, made once (other threads wait), and
        # the network is built only if it succeeds.
        if self.input_spec is not None:
            self.input_spec.check(self.name, inputs)
        with _building.build_lock(self):
            if not self.built:
                # Called inside a layer's build: part of it, undone with it.
                build = _building.begin(self) if _building.building() else None
                try:
                    outputs = self._run(inputs, args, kwargs)
                except BaseException:
                    if build is not None:
                        _building.fail(build)
                    raise
                if build is not None:
                    _building.finish(build)
                state = self._nnlib
                state.build_input_shape = nest.pack_as(
                    inputs, [t.shape for t in nest.flatten(inputs)]
                )
                object.__setattr__(self, "built", True)
                state.build_lock = None
                return outputs
        return self._run(inputs, args, kwargs)

    def save(self, path, include_optimizer=True, overwrite=True):
        """Saves architecture, weights and optimizer state to HDF5 ``path``.

        ``nnlib.load_model(path)`` rebuilds the model from it; a subclassed
        Network needs its class then (see ``nnlib.checkpoint.save_model``). The
        file is written atomically: a failure leaves any previous file intact.

        Args:
            path: The file to write.
            include_optimizer: Also save the optimizer's config and state.
            overwrite: Replace an existing file (False raises instead).

        Returns:
            ``path``.

        Examples:
            >>> import os, tempfile
            >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
            >>> path = model.save(os.path.join(tempfile.mkdtemp(), "model.h5"))
            >>> nnlib.load_model(path).count_params()
            8
        """
        return model_io.save_model(self, path, include_optimizer, overwrite)

    def summary(self, print_fn=print):
        """Prints a table of layers, output shapes and parameter counts, with totals.

        Raises:
            ValueError: If the network has not been built (called) yet.
        """
        if not self.built:
            raise ValueError(
                f"network '{self.name}' is not built yet: call it on a batch "
                "of data (or build(input_shape)) before summary()"
            )
        print_fn(summary_table(self))
