"""Layer: builds its variables on first call, owns them, and computes in ``call``."""

import inspect

import numpy as np

from .._args import boolean
from ..engine import nest
from ..engine.tensor import MASKS_IN_USE, Tensor
from . import (
    _building,
    _context,
    _inputs,
    _masks,
    _pickling,  # copies: pickle and copy.deepcopy
    _symbolic,
)
from ._registry import get_layer_class, register
from ._tracking import LayerState
from ._weights import (
    Weights,
    _announce,
    _variable_created_hooks,  # noqa: F401 - where nnlib.checkpoint registers its hook
)
from .input_spec import InputSpec

__all__ = ["InputSpec", "Layer", "get_layer_class"]


# A first argument of these types is data: the call runs (the common case, so
# one isinstance decides it). Anything else may hold KerasTensors.
_DATA = (Tensor, np.ndarray)


class Layer(Weights):
    """The base of every layer: owns its variables, built on the first call.

    A subclass stores its configuration in ``__init__``, creates its variables in
    ``build(input_shape)`` with ``add_weight`` (scoped ``get_variable`` under the
    layer's name), and computes in ``call(inputs, training=None)``. Layers
    assigned as attributes, public or private (also in lists, tuples and
    dicts), are tracked as sublayers, whose variables the layer owns too;
    so are Variables assigned as attributes (saved under their own names).

    The first call builds the layer exactly once, even from several threads at
    once; a build that raises is undone (no variable or attribute is left), so
    a retry with corrected input works.

    Inputs: floating-point inputs are cast to the layer's dtype; integer (and
    boolean) inputs reach ``call`` unchanged, as in Keras 3, so a layer can
    look up ids. nnlib's own float layers (``Dense``, convolutions, pooling,
    normalization, recurrent and attention layers) cast integer inputs to
    their dtype too: int64 data into a float32 model gives float32 outputs.

    Private names: nnlib keeps a layer's bookkeeping under ``_nnlib``. A few
    private names keep their Keras meaning for reading (``_name``, ``_dtype``,
    ``_trainable``) and, with ``_nnlib`` and the base classes' private methods,
    are reserved: assigning or overriding one raises an error naming the fix.
    Every other private name is the subclass's own.

    Args:
        name: The layer's name; default (None or ``""``, as in TensorFlow) the
            snake_case class name, made unique inside the parent network
            (``dense``, ``dense_1``).
        trainable: False freezes every variable the layer owns.
        dtype: The floating-point dtype of its variables and of floating-point
            inputs (float32 by default; other float inputs are cast to it).
        input_shape: The shape of one example (no batch axis); building at once
            (the first layer of a ``Sequential``).

    Examples:
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

    Raises:
        ValueError: For a name that is not a string without ``/``.
        TypeError: For a dtype that is not floating point (naming the layer).
    """

    # Floating-point inputs are cast to the layer's dtype (Embedding and Network
    # pass them through); integer inputs too where a class sets _cast_integers.
    _autocast = True
    _cast_integers = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # nnlib's classes by bare name, others by module and qualified name:
        # a user's ``class Dense(Layer)`` cannot replace nnlib's in configs.
        register(cls)
        # build() called by hand builds as the first call does (Keras's contract).
        build = vars(cls).get("build")
        if inspect.isfunction(build):
            cls.build = _building.wrap_build(build)

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None):
        if isinstance(name, str) and not name:  # TensorFlow's "choose a name"
            name = None
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(
                f"layer name must be a non-empty string without '/', got {name!r}"
            )
        if input_shape is not None:
            input_shape = (None,) + tuple(input_shape)
        trainable = boolean(trainable, "trainable", type(self).__name__)
        state = LayerState(
            name, trainable, _float_dtype(self, dtype, name), input_shape
        )
        object.__setattr__(self, "_nnlib", state)
        object.__setattr__(self, "built", False)
        object.__setattr__(self, "input_spec", None)

    @property
    def dtype(self):
        """The dtype of the layer's variables."""
        return self._nnlib.dtype

    # Read-only views of the state under the names Keras code uses; assigning
    # them is refused (see _tracking).
    @property
    def _dtype(self):
        return self._nnlib.dtype

    @property
    def _trainable(self):
        return self._nnlib.trainable

    @property
    def _build_input_shape(self):
        return self._nnlib.build_input_shape

    @property
    def _batch_input_shape(self):
        return self._nnlib.batch_input_shape

    # -- building and calling -------------------------------------------------------

    @_building.wrap_build
    def build(self, input_shape):
        """Creates the layer's variables for inputs of ``input_shape``; override it.

        The first call builds the layer; calling ``build`` by hand does the
        same (as in Keras): afterwards the layer is built, its variables exist
        (``set_weights`` works) and the first call uses them. Calling it on a
        built layer does nothing. Every subclass's ``build`` behaves so.

        Examples:
            >>> layer = nnlib.layers.Dense(2, name="build_example")
            >>> layer.build((None, 3))
            >>> layer.built, [v.shape for v in layer.variables]
            (True, [(3, 2), (2,)])
        """

    def call(self, inputs, *args, **kwargs):
        """The computation; override it. The base layer returns its inputs."""
        return inputs

    def compute_output_shape(self, input_shape):
        """The shape of the outputs for inputs of ``input_shape`` (batch axis
        first, None for sizes not known yet, which stay unknown; a list of
        shapes for several inputs or outputs). Calling a layer on KerasTensors
        uses it. Built-in layers compute it from their configuration; this
        default runs the layer on zeros (twice, with different sizes for the
        unknown ones) and keeps no variable it makes: override it where a run
        is costly or has side effects.

        Examples:
            >>> nnlib.layers.Dense(4).compute_output_shape((None, 3))
            (None, 4)
            >>> class Twice(nnlib.layers.Layer):
            ...     def call(self, inputs):
            ...         return nnlib.concat([inputs, inputs], axis=1)
            >>> Twice().compute_output_shape((None, 3))
            (None, 6)
        """
        return _symbolic.trace_shapes(self, input_shape)

    compute_output_shape._nnlib_traces = True

    # -- masking ----------------------------------------------------------------------

    @property
    def supports_masking(self):
        """Whether the layer passes masks on (Keras's flag; settable).

        By default True exactly when the class overrides ``compute_mask``.
        A masked input reaching a layer that does not support masking loses its
        mask there (with a warning, as in Keras).
        """
        value = self.__dict__.get("supports_masking")
        return _context.computes_mask(self) if value is None else value

    @supports_masking.setter
    def supports_masking(self, value):
        self.__dict__["supports_masking"] = bool(value)

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs: by default the input mask, unchanged.

        Called after ``call`` when the layer supports masking; what it returns
        is attached to the outputs as ``_keras_mask``, where the next layer
        finds it. Override it to make masks (``Embedding``) or to end them
        (a pooling layer returns None).

        Args:
            inputs: The inputs of the call.
            mask: The input mask (a boolean Tensor, usually (batch, time)), or
                None.

        Returns:
            A mask, None, or a list with one per output.

        Examples:
            >>> emb = nnlib.layers.Embedding(5, 2, mask_zero=True)
            >>> y = nnlib.layers.Dense(3)(emb(np.array([[3, 1, 0]])))
            >>> y._keras_mask.numpy()  # Dense passed Embedding's mask on
            array([[ True,  True, False]])
        """
        return mask

    def __call__(self, inputs, *args, **kwargs):
        # KerasTensors: record the call in a functional graph (nothing runs).
        if not isinstance(inputs, _DATA) and _symbolic.is_symbolic(
            inputs, args, kwargs
        ):
            return _symbolic.call(self, inputs, args, kwargs)
        if inputs is None:
            raise TypeError(
                f"layer '{self.name}' was called with None; expected a tensor, a "
                "numpy array or a nested list of numbers (a batch of inputs)"
            )
        converted = self._convert(inputs)
        if converted is not inputs and MASKS_IN_USE:  # a cast keeps the mask
            _masks.carry(inputs, converted)
        if not self.built:
            return self._first_call(converted, args, kwargs)
        if self.input_spec is not None:
            self.input_spec.check(self.name, converted)
        return self._run(converted, args, kwargs)

    def _first_call(self, inputs, args, kwargs):
        # An input_spec set in __init__ is checked before building (as Keras).
        if self.input_spec is not None:
            self.input_spec.check(self.name, inputs)
        self._build_on(nest.pack_as(inputs, [t.shape for t in nest.flatten(inputs)]))
        if self.input_spec is not None:  # the built spec (maybe another thread's)
            self.input_spec.check(self.name, inputs)
        return self._run(inputs, args, kwargs)

    def _run(self, inputs, args, kwargs):
        """Calls ``call`` with the flags and mask it takes; attaches output masks.

        An explicit ``training`` flag wins, then the enclosing call's; a
        ``call`` without a training parameter never receives one. The mask the
        inputs carry (or an explicit ``mask=``) goes to a ``call`` with a
        ``mask`` parameter, and ``compute_mask``'s result onto the outputs.
        """
        takes_training, slot, computes_mask = _context.CALL_FLAGS.get(
            type(self)
        ) or _context.call_flags(self)
        training = kwargs.pop("training", None)
        if training is None:
            training = _context.training()
        if training is not None and takes_training:
            kwargs["training"] = training
        mask = _masks.of(inputs) if MASKS_IN_USE else None
        if slot is not None:  # call has a mask parameter: a given mask wins
            if len(args) > slot:
                mask = args[slot]
            elif kwargs.get("mask") is None:
                kwargs["mask"] = mask
            else:
                mask = kwargs["mask"]
        with _context.training_scope(training):
            outputs = self.call(inputs, *args, **kwargs)
        self._nnlib.output_shape = _inputs.shapes(outputs)
        if mask is not None or computes_mask:
            _masks.attach(self, inputs, outputs, mask)
        return outputs

    def _build_on(self, input_shape, run=None):
        """Builds once, even from several threads; a failed build is undone.

        ``run`` makes the build (default ``self.build(input_shape)``; a
        ``build`` called by hand passes its own arguments).
        """
        if self.built:
            return
        with _building.build_lock(self):
            if self.built:
                return
            build = _building.begin(self)
            try:
                if run is None:
                    self.build(input_shape)
                else:
                    run()
            except BaseException:
                _building.fail(build)
                raise
            created = _building.finish(build)
            object.__setattr__(self, "built", True)
            state = self._nnlib
            if input_shape is not None or state.build_input_shape is None:
                state.build_input_shape = input_shape
            state.build_lock = None
        _announce(created)

    def _convert(self, inputs):
        """Inputs as Tensors, cast to the layer's dtype (see ``_inputs.convert``)."""
        return _inputs.convert(
            inputs,
            self._nnlib.dtype if self._autocast else None,
            self._cast_integers,
        )

    # -- configuration --------------------------------------------------------------

    def get_config(self):
        """The constructor arguments as a dict (round-trips through ``from_config``)."""
        config = {
            "name": self.name,
            "trainable": self._nnlib.trainable,
            "dtype": self._nnlib.dtype.name,
        }
        shape = self._nnlib.batch_input_shape
        if shape is not None:
            config["input_shape"] = tuple(shape[1:])
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from ``get_config()``'s dict."""
        return cls(**config)

    # -- copies ---------------------------------------------------------------------

    def __getstate__(self):
        """The layer for ``pickle`` and ``copy.deepcopy`` (see ``_pickling``).

        A copy has new variables with equal values and its sublayers' names; a
        top-level copy is named as a new instance would be (``mnist_1`` while
        ``mnist`` lives), its variables renamed with it.

        Examples:
            >>> import copy
            >>> layer = nnlib.layers.Dense(2, name="copy_example")
            >>> _ = layer(np.ones((1, 3)))
            >>> twin = copy.deepcopy(layer)
            >>> twin.name, [v.name for v in twin.variables]
            ('copy_example_1', ['copy_example_1/kernel', 'copy_example_1/bias'])
            >>> np.array_equal(twin.kernel.numpy(), layer.kernel.numpy())
            True
        """
        return _pickling.layer_getstate(self)

    def __setstate__(self, state):
        _pickling.layer_setstate(self, state)

    def __deepcopy__(self, memo):
        return _pickling.deepcopy_layer(self, memo)

    def __copy__(self):
        return _pickling.copy_layer(self)

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}' built={self.built}>"


def _float_dtype(layer, dtype, name):
    """``dtype`` (default float32) as a floating numpy dtype, or a TypeError."""
    if dtype is None:
        return np.dtype(np.float32)
    try:
        result = np.dtype(dtype)
    except (TypeError, ValueError):
        result = None
    if result is None or result.kind != "f":
        what = "is not a dtype" if result is None else "is not floating point"
        label = f" '{name}'" if name else ""
        raise TypeError(
            f"{type(layer).__name__} layer{label}: dtype {dtype!r} {what}; layers "
            "compute in floating point: use 'float32' (the default), 'float64' "
            "or 'float16'"
        )
    return result
