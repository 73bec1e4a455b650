"""The variables half of ``Layer``: creating, listing, freezing, saving them.

A layer owns the variables it creates with ``add_weight`` and those assigned as
its attributes; ``variables`` lists them with its sublayers' (each once).
"""

import numpy as np

from .._args import boolean
from ..engine.tensor import to_array
from ..variable_scope import VariableScope, get_variable, variable_scope
from . import _building
from ._tracking import Tracked

__all__ = ["Weights"]

# Called as hook(layer, variable) after add_weight creates a variable: how
# nnlib.checkpoint applies values loaded before the variable existed (deferred
# restore). Empty, and so free, unless a restore is pending.
_variable_created_hooks = []

# How save_weights and load_weights write and read files: ``{"save": f(layer,
# path), "load": f(layer, path, by_name, strict, skip_mismatch)}``, filled in by
# nnlib.checkpoint.weights as it is imported (``import nnlib`` imports it). The
# checkpoint layer sits above this one, so the layers never import it.
weight_files = {}


class Weights(Tracked):
    """The variables half of ``Layer`` (not used alone; see ``Layer``)."""

    # Read-only views of the state under the names nnlib's checkpoint readers
    # use; assigning them is refused (see _tracking).
    @property
    def _own_variables(self):
        return self._nnlib.variables

    @property
    def _frozen(self):
        return self._nnlib.frozen

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

        Examples:
            >>> layer = nnlib.layers.Layer(name="weights_example")
            >>> layer.add_weight("bias", shape=(2,), initializer="zeros").name
            'weights_example/bias'
        """
        state = self._nnlib
        with variable_scope(VariableScope(self.scope_name)):
            variable = get_variable(
                name,
                shape=shape,
                dtype=dtype or state.dtype,
                initializer=initializer,
                regularizer=None,
                trainable=trainable and state.trainable,
                _owned=True,
            )
        state.variables.append(variable)
        if not state.trainable and trainable:
            state.frozen[variable._id] = True
        if regularizer is not None:
            state.regularizers.append((variable, regularizer))
        # Inside a build, announced when the build succeeds (see _building).
        if not _building.record(self, variable):
            _announce([(self, variable)])
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
                todo.extend(layer._nnlib.sublayers)
        return order

    @property
    def variables(self):
        """Every variable of this layer and its sublayers, each once, in creation
        order: those made by ``add_weight`` and those assigned as attributes."""
        found = {
            v._id: v for layer in self._layers_below() for v in layer._nnlib.variables
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
        return self._nnlib.trainable

    @trainable.setter
    def trainable(self, value):
        value = boolean(value, "trainable", f"layer '{self.name}'")
        for layer in self._layers_below():
            layer._set_trainable(value)

    def _set_trainable(self, value):
        state = self._nnlib
        if value == state.trainable:
            return
        state.trainable = value
        for v in state.variables:
            if not value:
                if v.trainable:
                    state.frozen[v._id] = True
                    v.trainable = False
            elif state.frozen.pop(v._id, False):
                v.trainable = True

    def get_weights(self):
        """Returns the values of ``weights`` as a list of numpy arrays (copies).

        Examples:
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

        Examples:
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
        return weight_files["save"](self, path)

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

        Examples:
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
        return weight_files["load"](self, path, by_name, strict, skip_mismatch)

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
            reg(v)
            for layer in self._layers_below()
            for v, reg in layer._nnlib.regularizers
        ]


def _announce(created):
    """Runs the variable-created hooks for ``[(layer, variable)]``: all of them,
    then raises the first error (one failure must not skip the others)."""
    if not _variable_created_hooks:
        return
    error = None
    for layer, variable in created:
        for hook in tuple(_variable_created_hooks):
            try:
                hook(layer, variable)
            except Exception as err:  # noqa: BLE001 - re-raised below, after the others
                error = error or err
    if error is not None:
        raise error
