"""What each Keras layer config means in nnlib, layer by layer (see
``keras_config``, which walks the model and calls these).

``same`` maps the config of a Keras class that nnlib has under the same name
(``SAME_NAME``): each argument nnlib's class takes is translated by
``_keras_values``; each one it lacks must hold the value that changes nothing.
``SPECIAL`` holds the classes nnlib spells differently: ``ReLU``,
``LeakyReLU``, ``ELU`` and ``Softmax`` become ``Activation``; ``Lambda``
takes its function from ``_keras_values``; and the wrappers of other layers
(``Bidirectional``, ``RNN`` and its cells' ``StackedRNNCells``) translate
their nested configs through ``context.layer``, so that a cell's error names
the RNN around it. Each translator takes the ``_Context`` of ``keras_config``,
``where`` (the layer, for messages) and Keras's config, and returns nnlib's
``{"class_name", "config"}``.
"""

import math

from ..layers import _registry
from . import _keras_values as _values

__all__ = ["SAME_NAME", "SPECIAL", "same"]

_MISSING = object()
_RNN = ("SimpleRNN", "LSTM", "GRU")
_CELLS = ("SimpleRNNCell", "LSTMCell", "GRUCell")
_CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D")
_CORE = ("Dense", "Embedding", "Dropout", "Activation", "Flatten", "Reshape")
_NORMALIZATION = ("BatchNormalization", "LayerNormalization", "Masking", "Permute")
_MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
_POOLING = tuple(
    f"{kind}Pooling{rank}D"
    for kind in ("Max", "Average", "GlobalMax", "GlobalAverage")
    for rank in (1, 2)
)
SAME_NAME = (*_RNN, *_CELLS, *_CONVOLUTIONS, *_CORE, *_NORMALIZATION, *_MERGES)
SAME_NAME += (*_POOLING, "Concatenate")
# Keras-only arguments, and the value at which they change nothing.
_NEUTRAL = {
    "activity_regularizer": None,
    "quantization_config": None,
    "lora_rank": None,
}
_NEUTRAL_BY_CLASS = {
    **{name: {"groups": 1} for name in _CONVOLUTIONS},
    "BatchNormalization": {"synchronized": False, "renorm": False},
    "LayerNormalization": {"rms_scaling": False},
    "Flatten": {"data_format": "channels_last"},
    "Embedding": {"sparse": False},
}
# Arguments nnlib's class takes but honours at one value only: any other is
# refused here, naming the file, rather than by the class's constructor.
_NO_DROPOUT = {"dropout": 0.0, "recurrent_dropout": 0.0}
_ONLY_BY_CLASS = {name: _NO_DROPOUT for name in (*_RNN, *_CELLS)}
# Keras-only arguments that change no result nnlib computes, whatever their
# value (recurrent layers' seed only seeds their dropout, which must be 0).
_IGNORED_BY_CLASS = {
    **{name: {"unroll", "implementation", "use_cudnn", "seed"} for name in _RNN},
    **{name: {"implementation", "seed"} for name in _CELLS},
    "BatchNormalization": {"renorm_clipping", "renorm_momentum", "fused"},
}
# What some arguments nnlib lacks (or takes at one value) mean, for the error.
_WHY = {
    "dropout": "nnlib's recurrent layers and cells have no dropout",
    "recurrent_dropout": "nnlib's recurrent layers and cells have no dropout",
    "activity_regularizer": "nnlib has no activity regularizers",
    "groups": "nnlib's convolutions have no groups",
    "num_constants": "nnlib's RNN takes no constants",
}


def same(context, where, name, config, used=()):
    """Keras's arguments for nnlib's class of the same name (see the module);
    the keys of ``used`` are left to the caller."""
    cls = _registry.LAYER_CLASSES[name]
    takes = _values.parameters(cls)
    neutral = {**_NEUTRAL, **_NEUTRAL_BY_CLASS.get(name, {})}
    only = _ONLY_BY_CLASS.get(name, {})
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
        elif key in takes and (key not in only or _neutral(value, only[key])):
            result[key] = _values.argument(context, where, key, value)
        elif not _neutral(value, neutral.get(key, _MISSING)):
            default = only.get(key, neutral.get(key, _MISSING))
            why = _WHY.get(key, f"nnlib's {cls.__name__} has no argument {key!r}")
            loads = (
                "" if default is _MISSING else f" (only {_values.short(default)} loads)"
            )
            raise context.error(
                where,
                f"argument {key}={_values.short(value)} is not supported: {why}{loads}",
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


# -- activation layers ------------------------------------------------------------


def _activation(context, where, config, activation, used):
    spec = same(context, where, "Activation", config, used=used)
    spec["config"]["activation"] = activation
    return spec


_RELU_ARGS = ("negative_slope", "max_value", "threshold")


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


# -- Lambda -----------------------------------------------------------------------

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
    spec = same(context, where, "Lambda", config, used=_LAMBDA_ARGS)
    spec["config"]["function"] = function
    return spec


# -- layers around layers -----------------------------------------------------------


def _bidirectional(context, where, config):
    layers = {}
    for key in ("layer", "backward_layer"):
        if config.get(key) is not None:
            layers[key] = context.layer(config[key], f"{where}, its {key}")
    spec = same(
        context, where, "Bidirectional", config, used=("layer", "backward_layer")
    )
    spec["config"]["layer"] = layers["layer"]
    spec["config"]["backward_layer"] = layers.get("backward_layer")
    return spec


def _rnn(context, where, config):
    """Keras's ``RNN``: its cell (a config, or Keras 2's list of cells)."""
    cell = config.get("cell")
    if isinstance(cell, list):
        cell = {"class_name": "StackedRNNCells", "config": {"cells": cell}}
    if not isinstance(cell, dict):
        raise context.error(where, f"its cell {_values.short(cell)} is not a config")
    spec = same(context, where, "RNN", config, used=("cell",))
    spec["config"]["cell"] = context.layer(cell, f"{where}, its cell")
    return spec


def _stacked_cells(context, where, config):
    cells = config.get("cells")
    if not isinstance(cells, list) or not cells:
        raise context.error(
            where, f"argument cells={_values.short(cells)} is not a list of cells"
        )
    spec = same(context, where, "StackedRNNCells", config, used=("cells",))
    spec["config"]["cells"] = [
        context.layer(cell, f"{where}, its cell") for cell in cells
    ]
    return spec


SPECIAL = {
    "ReLU": _relu,
    "LeakyReLU": _leaky_relu,
    "ELU": _elu,
    "Softmax": _softmax,
    "Lambda": _lambda,
    "Bidirectional": _bidirectional,
    "RNN": _rnn,
    "StackedRNNCells": _stacked_cells,
}
