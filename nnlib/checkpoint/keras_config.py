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
  ``groups: 1``, ``dropout: 0.0`` on a recurrent layer; ``unroll`` and
  ``implementation`` change no result), or the load stops with an error
  naming the layer, the argument and its value;
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
"""

import math

from ..layers import _registry
from . import _keras_values as _values
from ._keras_graph import functional_config
from .errors import CheckpointConfigError, CheckpointCorruptError

__all__ = ["translate"]

_MISSING = object()
_RNN = ("SimpleRNN", "LSTM", "GRU")
_CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D")
_CORE = ("Dense", "Embedding", "Dropout", "Activation", "Flatten", "Reshape")
_NORMALIZATION = ("BatchNormalization", "LayerNormalization", "Masking", "Permute")
_MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
_POOLING = tuple(
    f"{kind}Pooling{rank}D"
    for kind in ("Max", "Average", "GlobalMax", "GlobalAverage")
    for rank in (1, 2)
)
_SAME_NAME = (*_RNN, *_CONVOLUTIONS, *_CORE, *_NORMALIZATION, *_MERGES, *_POOLING)
_SAME_NAME += ("Concatenate",)
# Keras-only arguments, and the value at which they change nothing.
_NEUTRAL = {
    "activity_regularizer": None,
    "quantization_config": None,
    "lora_rank": None,
}
_RNN_NEUTRAL = {
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "stateful": False,
    "time_major": False,
}
_NEUTRAL_BY_CLASS = {
    **{name: _RNN_NEUTRAL for name in _RNN},
    **{name: {"groups": 1} for name in _CONVOLUTIONS},
    "BatchNormalization": {"synchronized": False, "renorm": False},
    "LayerNormalization": {"rms_scaling": False},
    "Flatten": {"data_format": "channels_last"},
    "Embedding": {"sparse": False},
}
# Keras-only arguments that change no result nnlib computes, whatever their
# value (recurrent layers' seed only seeds their dropout, which must be 0).
_IGNORED_BY_CLASS = {
    **{name: {"unroll", "implementation", "use_cudnn", "seed"} for name in _RNN},
    "BatchNormalization": {"renorm_clipping", "renorm_momentum", "fused"},
}
# What some arguments nnlib lacks mean, for the error.
_WHY = {
    "dropout": "nnlib's recurrent layers have no dropout",
    "recurrent_dropout": "nnlib's recurrent layers have no dropout",
    "stateful": "nnlib's recurrent layers are not stateful",
    "activity_regularizer": "nnlib has no activity regularizers",
    "groups": "nnlib's convolutions have no groups",
}


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


def _layer_spec(context, spec):
    """The nnlib spec for one Keras layer (or model) spec."""
    name = spec.get("class_name")
    config = spec.get("config")
    if not isinstance(name, str) or not isinstance(config, dict):
        raise context.error(
            f"layer {spec.get('name')!r}", "its entry has no class_name and config"
        )
    custom = _custom(context, spec)
    if custom is not None:
        return custom
    if name == "Sequential":
        return _sequential(context, config)
    if name in ("Functional", "Model"):
        return functional_config(context, config, _layer_spec)
    where = f"layer '{config.get('name', spec.get('name'))}' ({name})"
    if name in _SPECIAL:
        return _SPECIAL[name](context, where, config)
    if name in _SAME_NAME:
        return _same(context, where, name, config)
    if not context.safe_mode:  # a layer class of that name, if one is defined
        return {"class_name": name, "config": _plain_config(context, where, config)}
    raise context.error(
        where,
        f"nnlib has no layer for Keras's {name} (it reads {', '.join(_readable())}); "
        f"pass custom_objects={{'{name}': cls}} with an nnlib layer class that "
        "takes its config",
    )


def _readable():
    return sorted({*_SAME_NAME, *_SPECIAL, "Sequential", "Functional"})


def _custom(context, spec):
    for key in (spec.get("registered_name"), spec["class_name"]):
        if key and key in context.custom_objects:
            where = f"layer '{spec['config'].get('name')}' ({spec['class_name']})"
            config = _plain_config(context, where, spec["config"])
            return {"class_name": key, "config": config}
    return None


def _plain_config(context, where, config):
    config = dict(config)
    if "dtype" in config:
        config["dtype"] = _values.dtype(context, where, config["dtype"])
    return config


def _same(context, where, name, config, used=()):
    """Keras's arguments for nnlib's class of the same name (see the module)."""
    cls = _registry.LAYER_CLASSES[name]
    takes = _values.parameters(cls)
    neutral = {**_NEUTRAL, **_NEUTRAL_BY_CLASS.get(name, {})}
    ignored = _IGNORED_BY_CLASS.get(name, set())
    result = {}
    for key, value in config.items():
        if key in used or (key in ignored and key not in takes):
            continue
        if key == "batch_input_shape":  # Keras 2: the first layer's input
            if value is not None:
                result["input_shape"] = tuple(value[1:])
        elif key.endswith("_constraint"):
            if value is not None:
                raise context.error(
                    where,
                    f"argument {key}={_values.short(value)} has no equivalent in nnlib, "
                    "which has no weight constraints (only null loads)",
                )
        elif key in takes:
            result[key] = _values.argument(context, where, key, value)
        elif not _neutral(value, neutral.get(key, _MISSING)):
            default = neutral.get(key, _MISSING)
            why = _WHY.get(key, f"nnlib's {cls.__name__} has no argument {key!r}")
            only = (
                "" if default is _MISSING else f" (only {_values.short(default)} loads)"
            )
            raise context.error(
                where,
                f"argument {key}={_values.short(value)} is not supported: {why}{only}",
            )
    return {"class_name": cls.__name__, "config": result}


def _neutral(value, default):
    """Whether Keras's ``value`` is the neutral ``default`` (``0`` is ``0.0``,
    but neither is ``False``)."""
    if default is _MISSING or isinstance(value, bool) != isinstance(default, bool):
        return False
    if isinstance(value, (int, float)) and isinstance(default, (int, float)):
        return math.isclose(value, default, rel_tol=1e-6, abs_tol=1e-12)
    return value == default


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


# -- Keras layers that nnlib spells differently ----------------------------------


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


def _activation(context, where, config, activation, used):
    spec = _same(context, where, "Activation", config, used=used)
    spec["config"]["activation"] = activation
    return spec


def _relu(context, where, config):
    slope = config.get("negative_slope", 0.0) or 0.0
    top = config.get("max_value")
    if (config.get("threshold") or 0.0) == 0.0 and slope == 0.0:
        if top is None:
            return _activation(context, where, config, "relu", _RELU_ARGS)
        if math.isclose(top, 6.0):
            return _activation(context, where, config, "relu6", _RELU_ARGS)
    raise context.error(
        where,
        f"ReLU(max_value={top}, negative_slope={slope}, "
        f"threshold={config.get('threshold')}) is not supported: nnlib has relu, "
        "relu6 (max_value=6) and leaky_relu (use LeakyReLU) only",
    )


_RELU_ARGS = ("negative_slope", "max_value", "threshold")


def _leaky_relu(context, where, config):
    slope = config.get("negative_slope", config.get("alpha", 0.3))
    if math.isclose(slope, 0.2, rel_tol=1e-6):
        return _activation(
            context, where, config, "leaky_relu", ("negative_slope", "alpha")
        )
    raise context.error(
        where,
        f"argument negative_slope={slope} is not supported: nnlib's leaky_relu "
        "activation has slope 0.2 (only 0.2 loads)",
    )


def _elu(context, where, config):
    if math.isclose(config.get("alpha", 1.0), 1.0):
        return _activation(context, where, config, "elu", ("alpha",))
    raise context.error(
        where, f"argument alpha={config['alpha']} is not supported (only 1.0 loads)"
    )


def _softmax(context, where, config):
    axis = config.get("axis", -1)
    if axis in (-1, [-1]):
        return _activation(context, where, config, "softmax", ("axis",))
    raise context.error(
        where, f"argument axis={axis} is not supported: nnlib's softmax is over axis -1"
    )


def _bidirectional(context, where, config):
    config = dict(config)
    layers = {}
    for key in ("layer", "backward_layer"):
        if config.get(key) is not None:
            layers[key] = _layer_spec(context, config[key])
    spec = _same(
        context, where, "Bidirectional", config, used=("layer", "backward_layer")
    )
    spec["config"]["layer"] = layers["layer"]
    spec["config"]["backward_layer"] = layers.get("backward_layer")
    return spec


# What a Lambda's config holds besides the Layer's arguments (the function,
# read by _keras_values.lambda_function; output shapes nnlib infers).
_LAMBDA_ARGS = tuple(
    f"{what}{part}"
    for what in ("function", "output_shape", "mask")
    for part in ("", "_type", "_module")
) + ("module", "arguments")


def _lambda(context, where, config):
    function = _values.lambda_function(context, where, config)
    if config.get("mask") is not None:
        raise context.error(where, "argument mask (a function) is not supported")
    spec = _same(context, where, "Lambda", config, used=_LAMBDA_ARGS)
    spec["config"]["function"] = function
    return spec


_SPECIAL = {
    "InputLayer": _input_layer,
    "ReLU": _relu,
    "LeakyReLU": _leaky_relu,
    "ELU": _elu,
    "Softmax": _softmax,
    "Bidirectional": _bidirectional,
    "Lambda": _lambda,
}
