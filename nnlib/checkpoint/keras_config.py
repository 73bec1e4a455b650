"""What each Keras layer config means in nnlib: Keras model configs as nnlib's.

``load_model`` on a Keras file (a ``.keras`` archive's ``config.json``, a
legacy ``.h5``'s ``model_config``) calls ``translate``: the configs Keras 3
and Keras 2 write for ``Sequential`` and functional models (``Functional``,
``Model``) become the configs nnlib's ``Sequential.from_config`` and
``Model.from_config`` read, layer by layer, names kept:

- a layer nnlib has keeps its class. Each Keras argument nnlib's class takes
  is translated: dtype policies become dtype names, initializer and
  regularizer configs lose Keras's ``module``/``registered_name``,
  activations must be ones nnlib has. Each argument nnlib's class lacks
  must hold the value that changes nothing (``kernel_constraint: null``,
  ``groups: 1``; ``implementation`` changes no result), as must the
  ``dropout`` and ``recurrent_dropout`` of recurrent layers and cells
  (``0.0``: nnlib's take no other), or the load stops with an error naming
  the layer, the argument and its value;
- ``RNN`` over a ``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` or
  ``StackedRNNCells`` (Keras 2: also a list of cells) becomes nnlib's
  ``RNN`` over the same cells, with ``return_sequences``, ``return_state``,
  ``go_backwards``, ``stateful``, ``unroll``, ``time_major`` (Keras 2) and
  ``zero_output_for_mask``. The error for a cell (or for the layer a
  ``Bidirectional`` wraps) names the layers around it too;
- ``ReLU`` (plain, or ``max_value=6``), ``LeakyReLU`` (slope 0.2), ``ELU``
  (alpha 1) and ``Softmax`` (last axis) layers become ``Activation``;
- ``Lambda`` holds Python bytecode: refused in safe mode; with
  ``safe_mode=False`` it is loaded (same Python version as the writer's). A
  Lambda of a named function takes it from ``custom_objects``;
- in a functional model, Keras 3 writes the masks layers hand on (from
  ``Masking`` and ``Embedding(mask_zero=True)``) as ``keras.ops`` calls and
  explicit ``mask`` arguments; nnlib's layers hand masks on themselves, so
  those are left out, as are the ``training`` flags Keras records (the
  call's flag decides, as in Keras);
- any other class is an error naming it, unless ``custom_objects`` names it
  (its config is given as Keras wrote it, dtype policies as names) or, with
  ``safe_mode=False``, a layer class of that name is defined.

Examples:
    >>> from nnlib.checkpoint.keras_config import translate
    >>> policy = {"module": "keras", "class_name": "DTypePolicy",
    ...           "config": {"name": "float32"}, "registered_name": None}
    >>> spec = translate({"class_name": "Sequential", "config": {"name": "seq",
    ...     "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [None, 3],
    ...                 "dtype": "float32", "sparse": False, "name": "in"}},
    ...                {"class_name": "ReLU", "config": {"name": "re_lu", "dtype": policy,
    ...                 "max_value": None, "negative_slope": 0.0, "threshold": 0.0}}]}},
    ...     "m.keras")
    >>> spec["config"]["layers"][1]
    {'class_name': 'Activation', 'config': {'name': 're_lu', 'dtype': 'float32', 'activation': 'relu'}}
    >>> translate({"class_name": "Dense", "config": {"name": "d", "units": 2,
    ...     "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2}}}},
    ...     "m.keras")
    Traceback (most recent call last):
    ...
    nnlib.checkpoint.errors.CheckpointConfigError: cannot load Keras model 'm.keras': layer 'd' (Dense): argument kernel_constraint={'class_name': 'MaxNorm', 'config': {'max_value': 2}} has no equivalent in nnlib, which has no weight constraints (only null loads); to load it anyway, rebuild the model in nnlib code and call model.load_weights('m.keras')
    >>> cell = {"class_name": "LSTMCell", "config": {"name": "cell", "units": 4,
    ...         "dropout": 0.5}}
    >>> translate({"class_name": "RNN", "config": {"name": "rnn", "cell": cell,
    ...     "return_sequences": True}}, "m.keras")
    Traceback (most recent call last):
    ...
    nnlib.checkpoint.errors.CheckpointConfigError: cannot load Keras model 'm.keras': layer 'rnn' (RNN), its cell 'cell' (LSTMCell): argument dropout=0.5 is not supported: nnlib's recurrent layers and cells have no dropout (only 0.0 loads); to load it anyway, rebuild the model in nnlib code and call model.load_weights('m.keras')
"""

from . import _keras_values as _values
from ._keras_graph import functional_config
from ._keras_layers import SAME_NAME, SPECIAL, same
from .errors import CheckpointConfigError, CheckpointCorruptError

__all__ = ["translate"]


class _Context:
    """The file, what the caller allows, and the Keras version (for messages)."""

    def __init__(self, path, custom_objects, safe_mode, keras_version):
        self.path = path
        self.custom_objects = dict(custom_objects or {})
        self.safe_mode = safe_mode
        self.keras2 = str(keras_version or "").startswith(("1.", "2."))

    def error(self, where, message, fix=True):
        hint = (
            "; to load it anyway, rebuild the model in nnlib code and call "
            f"model.load_weights('{self.path}')"
        )
        return CheckpointConfigError(
            f"cannot load Keras model '{self.path}': {where}: {message}"
            + (hint if fix else ""),
            path=self.path,
        )

    def layer(self, spec, within):
        """The nnlib spec of a layer nested in another (a wrapped layer, a
        cell): ``within`` (``"layer 'rnn' (RNN), its cell"``) starts its
        messages."""
        return _layer_spec(self, spec, within)


def translate(spec, path, custom_objects=None, safe_mode=True, keras_version=None):
    """The nnlib model spec (``{"class_name", "config"}``) for a Keras one.

    Args:
        spec: The parsed ``config.json`` (or legacy ``model_config``).
        path: The file, for messages.
        custom_objects: ``{"Name": obj}``: layer classes for Keras classes
            nnlib lacks, functions for Lambda layers and activations.
        safe_mode: Refuse Lambda bytecode (default).
        keras_version: The writer's version (Keras 2's ``hard_sigmoid``
            differs from Keras 3's, and nnlib's).

    Returns:
        ``{"class_name", "config"}`` for nnlib's ``Sequential``, ``Model`` or
        layer ``from_config``.

    Raises:
        CheckpointConfigError: A class or argument nnlib cannot take; the
            message names the layer, the argument and its value.
        CheckpointCorruptError: A config without a class name.

    Examples:
        >>> from nnlib.checkpoint.keras_config import translate
        >>> translate({"class_name": "LeakyReLU", "config": {"name": "leaky",
        ...            "negative_slope": 0.2}}, "m.h5")
        {'class_name': 'Activation', 'config': {'name': 'leaky', 'activation': 'leaky_relu'}}
    """
    context = _Context(path, custom_objects, safe_mode, keras_version)
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise CheckpointCorruptError(
            f"cannot load Keras model '{path}': its config has no class_name",
            path=path,
        )
    return _layer_spec(context, spec)


def _layer_spec(context, spec, within="layer"):
    """The nnlib spec for one Keras layer (or model) spec."""
    name = spec.get("class_name")
    config = spec.get("config")
    if not isinstance(name, str) or not isinstance(config, dict):
        raise context.error(
            f"{within} {spec.get('name')!r}", "its entry has no class_name and config"
        )
    where = f"{within} '{config.get('name', spec.get('name'))}' ({name})"
    custom = _custom(context, where, spec)
    if custom is not None:
        return custom
    if name == "Sequential":
        return _sequential(context, config)
    if name in ("Functional", "Model"):
        return functional_config(context, config, _layer_spec)
    if name in _TRANSLATORS:
        return _TRANSLATORS[name](context, where, config)
    if name in SAME_NAME:
        return same(context, where, name, config)
    if not context.safe_mode:  # a layer class of that name, if one is defined
        return {"class_name": name, "config": _plain_config(context, where, config)}
    raise context.error(
        where,
        f"nnlib has no layer for Keras's {name} (it reads {', '.join(_readable())}); "
        f"pass custom_objects={{'{name}': cls}} with an nnlib layer class that "
        "takes its config",
    )


def _readable():
    return sorted({*SAME_NAME, *_TRANSLATORS, "Sequential", "Functional"})


def _custom(context, where, spec):
    for key in (spec.get("registered_name"), spec["class_name"]):
        if key and key in context.custom_objects:
            config = _plain_config(context, where, spec["config"])
            return {"class_name": key, "config": config}
    return None


def _plain_config(context, where, config):
    config = dict(config)
    if "dtype" in config:
        config["dtype"] = _values.dtype(context, where, config["dtype"])
    return config


def _sequential(context, config):
    layers = [_layer_spec(context, spec) for spec in config.get("layers", [])]
    first = layers[0]["config"] if layers else {}
    if layers and layers[0]["class_name"] != "InputLayer":
        shape = config.get("build_input_shape")
        if shape is not None and "input_shape" not in first:
            layers.insert(
                0,
                {
                    "class_name": "InputLayer",
                    "config": {"batch_shape": tuple(shape), "dtype": "float32"},
                },
            )
    if layers and layers[0]["class_name"] == "InputLayer":
        for spec in layers[1:]:
            spec["config"].pop("input_shape", None)
    return {
        "class_name": "Sequential",
        "config": {
            "name": config.get("name"),
            "trainable": config.get("trainable", True),
            "layers": layers,
        },
    }


# -- Keras layers that nnlib spells differently (the others: _keras_layers) ------


def _input_layer(context, where, config):
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if shape is None and config.get("shape") is not None:
        shape = [config.get("batch_size"), *config["shape"]]
    for flag in ("sparse", "ragged", "optional"):
        if config.get(flag):
            raise context.error(
                where, f"argument {flag}=True: nnlib has no {flag} inputs"
            )
    if config.get("input_tensor") is not None:
        raise context.error(where, "an InputLayer built on a tensor has no config")
    result = {"name": config.get("name"), "dtype": config.get("dtype") or "float32"}
    if isinstance(result["dtype"], dict):
        result["dtype"] = _values.dtype(context, where, result["dtype"])
    if shape is not None:
        result["batch_shape"] = tuple(shape)
    return {"class_name": "InputLayer", "config": result}


_TRANSLATORS = {"InputLayer": _input_layer, **SPECIAL}
