"""Layer: builds its variables on first call, owns them, and computes in ``call``."""

import numpy as np

from ..engine import nest
from ..engine.tensor import to_array
from ..variable_scope import (
    VariableScope,
    get_variable,
    variable_scope,
)
from . import _context, _inputs
from ._registry import LAYER_CLASSES, get_layer_class
from ._tracking import Tracked
from .input_spec import InputSpec

__all__ = ["InputSpec", "Layer", "get_layer_class"]


# Called as hook(layer, variable) after add_weight creates a variable: how
# nnlib.checkpoint applies values loaded before the variable existed (deferred
# restore). Empty, and so free, unless a restore is pending.
_variable_created_hooks = []


class Layer(Tracked):
    """The base of every layer: owns its variables, built on the first call.

    A subclass stores its configuration in ``__init__``, creates its variables in
    ``build(input_shape)`` with ``add_weight`` (scoped ``get_variable`` under the
    layer's name), and computes in ``call(inputs, training=None)``. Layers
    assigned as attributes (or in lists, tuples and dicts) are tracked as
    sublayers, whose variables the layer owns too.

    Args:
        name: The layer's name; default the snake_case class name, made unique
            inside the parent network (``dense``, ``dense_1``).
        trainable: False freezes every variable the layer owns.
        dtype: The dtype of its variables and of floating-point inputs
            (float32 by default; other float inputs are cast to it).
        input_shape: The shape of one example (no batch axis); building at once
            (the first layer of a ``Sequential``).

    Example:
        >>> class Scale(nnlib.layers.Layer):
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight("w", shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, inputs):
        ...         return inputs * self.w
        >>> layer = Scale(name="scale_example")
        >>> layer(np.ones((2, 3))).shape
        (2, 3)
        >>> [v.name for v in layer.variables]
        ['scale_example/w']
    """

    # Inputs of floating point are cast to the layer's dtype; Embedding turns it off.
    _autocast = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        LAYER_CLASSES[cls.__name__] = cls

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None):
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(
                f"layer name must be a non-empty string without '/', got {name!r}"
            )
        set_ = object.__setattr__
        set_(self, "_given_name", name)
        set_(self, "_name", None)
        set_(self, "_scope_prefix", None)
        set_(self, "_parent", None)
        set_(self, "_sublayers", [])
        set_(self, "_own_variables", [])
        set_(self, "_frozen", {})  # variable id -> its trainable flag before freezing
        set_(self, "_regularizers", [])
        set_(self, "_trainable", bool(trainable))
        set_(self, "_dtype", np.dtype(dtype or np.float32))
        set_(self, "built", False)
        set_(self, "input_spec", None)
        set_(self, "_build_input_shape", None)
        set_(self, "_output_shape", None)
        if input_shape is not None:
            set_(self, "_batch_input_shape", (None,) + tuple(input_shape))
        else:
            set_(self, "_batch_input_shape", None)

    @property
    def dtype(self):
        """The dtype of the layer's variables."""
        return self._dtype

    # -- variables ------------------------------------------------------------------

    def add_weight(
        self,
        name,
        shape=None,
        dtype=None,
        initializer=None,
        regularizer=None,
        trainable=True,
    ):
        """Creates a variable in this layer's scope (``"<layer scope>/<name>"``).

        Args:
            name: The variable's name inside the layer (``"kernel"``).
            shape: Its shape.
            dtype: Default: the layer's dtype.
            initializer: An initializer, its name, a callable or a value; default
                glorot_uniform (as Keras).
            regularizer: Optional callable giving a loss term from the variable.
            trainable: False for statistics such as BatchNormalization's moving mean.

        Returns:
            The new ``Variable``.

        Example:
            >>> layer = nnlib.layers.Layer(name="weights_example")
            >>> layer.add_weight("bias", shape=(2,), initializer="zeros").name
            'weights_example/bias'
        """
        with variable_scope(VariableScope(self.scope_name)):
            variable = get_variable(
                name,
                shape=shape,
                dtype=dtype or self._dtype,
                initializer=initializer,
                regularizer=None,
                trainable=trainable and self._trainable,
                _owned=True,
            )
        self._own_variables.append(variable)
        if not self._trainable and trainable:
            self._frozen[variable._id] = True
        if regularizer is not None:
            self._regularizers.append((variable, regularizer))
        if _variable_created_hooks:
            for hook in tuple(_variable_created_hooks):
                hook(self, variable)
        return variable

    add_variable = add_weight

    def _layers_below(self):
        """This layer and every sublayer, each once, parents first."""
        seen, order, todo = set(), [], [self]
        while todo:
            layer = todo.pop(0)
            if id(layer) not in seen:
                seen.add(id(layer))
                order.append(layer)
                todo.extend(layer._sublayers)
        return order

    @property
    def variables(self):
        """Every variable of this layer and its sublayers, in creation order."""
        found = {
            v._id: v for layer in self._layers_below() for v in layer._own_variables
        }
        return [found[i] for i in sorted(found)]

    weights = variables

    @property
    def trainable_variables(self):
        """The variables an optimizer should update (none when frozen)."""
        return [v for v in self.variables if v.trainable]

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self):
        """The other variables (statistics, and everything when frozen)."""
        return [v for v in self.variables if not v.trainable]

    non_trainable_weights = non_trainable_variables

    @property
    def trainable(self):
        """Whether the layer's variables train; setting False freezes them all."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._layers_below():
            layer._set_trainable(bool(value))

    def _set_trainable(self, value):
        if value == self._trainable:
            return
        object.__setattr__(self, "_trainable", value)
        for v in self._own_variables:
            if not value:
                if v.trainable:
                    self._frozen[v._id] = True
                    v.trainable = False
            elif self._frozen.pop(v._id, False):
                v.trainable = True

    def get_weights(self):
        """Returns the values of ``weights`` as a list of numpy arrays (copies).

        Example:
            >>> d = nnlib.layers.Dense(2, kernel_initializer="ones")
            >>> _ = d(np.zeros((1, 3)))
            >>> [w.shape for w in d.get_weights()]
            [(3, 2), (2,)]
        """
        return [np.array(v.numpy()) for v in self.weights]

    def set_weights(self, weights):
        """Sets ``weights`` from a list of arrays of the same shapes, in order.

        Raises:
            ValueError: For a wrong count, or a shape mismatch naming the variable
                and both shapes (nothing is changed then).
        """
        variables = self.weights
        weights = list(weights)
        if len(weights) != len(variables):
            raise ValueError(
                f"layer '{self.name}' has {len(variables)} weights, "
                f"got {len(weights)} arrays"
            )
        arrays = []
        for v, w in zip(variables, weights):
            w = to_array(w)
            if w.shape != v.shape:
                raise ValueError(
                    f"layer '{self.name}': weight '{v.name}' has shape "
                    f"{v.shape}, got an array of shape {w.shape}"
                )
            arrays.append(w)
        for v, w in zip(variables, arrays):
            v.assign(w)

    # -- saving -----------------------------------------------------------------------
    # nnlib.checkpoint sits above layers: importing it lazily, inside these methods,
    # keeps the import graph one-way at import time.

    def save_weights(self, path):
        """Saves every variable to HDF5 ``path``, by name relative to this layer.

        Written to a temporary file, verified, then renamed into place: a
        failure (``nnlib.checkpoint.CheckpointWriteError``) leaves any previous
        file intact. Returns ``path``.

        Example:
            >>> import os, tempfile
            >>> d = nnlib.layers.Dense(2)
            >>> _ = d(np.ones((1, 3)))
            >>> path = d.save_weights(os.path.join(tempfile.mkdtemp(), "d.h5"))
            >>> d2 = nnlib.layers.Dense(2)
            >>> _ = d2.load_weights(path)        # before d2 is built: deferred
            >>> _ = d2(np.ones((1, 3)))
            >>> np.array_equal(d2.kernel.numpy(), d.kernel.numpy())
            True
        """
        from ..checkpoint import weights

        return weights.save_layer_weights(self, path)

    def load_weights(self, path, by_name=None, strict=True, skip_mismatch=False):
        """Loads a ``save_weights`` (or ``save``) file; a failed load changes nothing.

        Names match relative to the layer (``mnist``'s weights load into
        ``mnist_1``). Values for variables not created yet are kept and
        assigned the moment each is created (load before the first call).
        Keras HDF5 weight files (``.h5``, ``.weights.h5``, ``.keras``) are
        recognized and loaded into a built model of the same layers (see
        ``nnlib.checkpoint.keras_h5``).

        Args:
            path: The file.
            by_name: None (default): by name for nnlib files, by layer order
                for Keras files; True: by name; False: by creation order.
            strict: Raise if a variable has no saved value or a saved value no
                variable; False loads what fits and reports the rest.
            skip_mismatch: Pass over values of the wrong shape, with a warning.

        Returns:
            A ``nnlib.checkpoint.RestoreReport`` (``print`` it for a table).

        Raises:
            nnlib.checkpoint.CheckpointMismatchError: Listing every mismatch
                (its ``report``); the model is unchanged.
            nnlib.checkpoint.CheckpointError: A missing, damaged or locked file
                (a subclass naming the path and the cause).

        Example:
            >>> import os, tempfile
            >>> d = nnlib.layers.Dense(2)
            >>> _ = d(np.ones((1, 3)))
            >>> path = d.save_weights(os.path.join(tempfile.mkdtemp(), "d.h5"))
            >>> wider = nnlib.layers.Dense(4)
            >>> _ = wider(np.ones((1, 3)))
            >>> wider.load_weights(path)
            Traceback (most recent call last):
            ...
            nnlib.checkpoint.errors.CheckpointMismatchError: cannot load checkpoint '...d.h5' into '...': 0 matched, 0 missing, 0 unexpected, 2 shape mismatches
            ...
        """
        from ..checkpoint import weights

        return weights.load_layer_weights(self, path, by_name, strict, skip_mismatch)

    def count_params(self):
        """The number of scalars in the layer's variables.

        Raises:
            ValueError: If the layer is not built yet.
        """
        if not self.built and not self.variables:
            raise ValueError(
                f"layer '{self.name}' is not built yet: call it on data "
                "(or build(input_shape)) before counting its parameters"
            )
        return int(sum(v.size for v in self.variables))

    @property
    def losses(self):
        """Regularization terms of this layer's variables, computed now (recorded)."""
        return [
            reg(v) for layer in self._layers_below() for v, reg in layer._regularizers
        ]

    # -- building and calling -------------------------------------------------------

    def build(self, input_shape):
        """Creates the layer's variables for inputs of ``input_shape``; override it."""

    def call(self, inputs, *args, **kwargs):
        """The computation; override it. The base layer returns its inputs."""
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        inputs = self._convert(inputs)
        if not self.built:
            self._build_on(
                nest.pack_as(inputs, [t.shape for t in nest.flatten(inputs)])
            )
        elif self.input_spec is not None:
            self.input_spec.check(self.name, inputs)
        # An explicit flag wins, then the enclosing call's; a call() without a
        # training parameter never receives one.
        training = kwargs.pop("training", None)
        if training is None:
            training = _context.training()
        if training is not None and _context.accepts_training(self):
            kwargs["training"] = training
        with _context.training_scope(training):
            outputs = self.call(inputs, *args, **kwargs)
        object.__setattr__(self, "_output_shape", _inputs.shapes(outputs))
        return outputs

    def _build_on(self, input_shape):
        self.build(input_shape)
        object.__setattr__(self, "built", True)
        object.__setattr__(self, "_build_input_shape", input_shape)

    def _convert(self, inputs):
        """Inputs as Tensors, cast to the layer's dtype (see ``_inputs.convert``)."""
        return _inputs.convert(inputs, self._dtype if self._autocast else None)

    # -- configuration --------------------------------------------------------------

    def get_config(self):
        """The constructor arguments as a dict (round-trips through ``from_config``)."""
        config = {
            "name": self.name,
            "trainable": self._trainable,
            "dtype": self._dtype.name,
        }
        if self._batch_input_shape is not None:
            config["input_shape"] = tuple(self._batch_input_shape[1:])
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from ``get_config()``'s dict."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}' built={self.built}>"
