"""Keras's argument values as nnlib's (see ``keras_config``).

A Keras config writes dtypes as policies (``{"class_name": "DTypePolicy",
"config": {"name": "float32"}}``), initializers and regularizers as
``{"module", "class_name", "config", "registered_name"}``, activations by
name, shapes as lists and Lambda functions as bytecode. Each function here
takes the ``_Context`` of ``keras_config`` (the file, ``custom_objects``,
``safe_mode``) and ``where`` (the layer, for messages).
"""

import base64
import binascii
import builtins
import functools
import inspect
import marshal
import types

from .. import activations as _activations
from .. import initializers as _initializers
from .. import regularizers as _regularizers

__all__ = ["argument", "dtype", "fit", "lambda_function", "parameters", "short"]

_SHAPES = {
    "kernel_size",
    "strides",
    "pool_size",
    "dilation_rate",
    "target_shape",
    "dims",
    "noise_shape",
    "output_padding",
    "input_shape",
}
_POLICIES = ("DTypePolicy", "FloatDTypePolicy", "Policy")


def parameters(cls):
    """The keyword arguments ``cls(...)`` takes: its ``__init__``'s, and those
    of the classes above it that its ``**kwargs`` reach.

    Examples:
        >>> from nnlib.checkpoint._keras_values import parameters
        >>> sorted(parameters(nnlib.layers.Activation))
        ['activation', 'dtype', 'input_shape', 'name', 'trainable']
    """
    names = set()
    cell = getattr(cls, "cell_class", None)  # a recurrent layer's, given **kwargs
    if isinstance(cell, type):
        names |= parameters(cell) - {"units"}
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None or klass is object:
            continue
        params = inspect.signature(init).parameters.values()
        names.update(
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
        )
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def dtype(context, where, value):
    """A dtype name for a Keras dtype policy (or name); mixed and quantized
    policies are errors."""
    if value is None:
        return None
    name = value
    if isinstance(value, dict):
        config = value.get("config")
        name = config.get("name") if isinstance(config, dict) else None
        if value.get("class_name") not in _POLICIES or not isinstance(name, str):
            raise context.error(
                where, f"dtype policy {value.get('class_name')!r} is not supported"
            )
    if not isinstance(name, str) or name.startswith("mixed_") or "_from_" in name:
        raise context.error(
            where,
            f"dtype {name!r} is not supported: nnlib computes in one dtype per "
            "layer (no mixed precision or quantization)",
        )
    return name


def argument(context, where, key, value):
    """Keras's value of argument ``key``, as nnlib's class takes it."""
    if key == "dtype":
        return dtype(context, where, value)
    if key in ("activation", "recurrent_activation"):
        return _activation(context, where, key, value)
    if key.endswith("_initializer"):
        return _object(context, where, key, value, _initializers, "initializer")
    if key.endswith("_regularizer"):
        return _object(context, where, key, value, _regularizers, "regularizer")
    if key == "axis" and isinstance(value, list) and len(value) == 1:
        return value[0]  # Keras 2's built BatchNormalization: [3]
    if key in _SHAPES and isinstance(value, list):
        return tuple(value)
    return value


def _activation(context, where, key, value):
    if isinstance(value, dict):  # Keras 3: a function by name
        name = value.get("config")
        if value.get("class_name") != "function" or not isinstance(name, str):
            raise context.error(where, f"{key}={value!r} is not an activation name")
        value = name
    if value is None:
        return "linear"
    if isinstance(value, str) and value in context.custom_objects:
        return context.custom_objects[value]
    if value == "hard_sigmoid" and context.keras2:
        raise context.error(
            where,
            f"{key}='hard_sigmoid' is Keras 2's 0.2 * x + 0.5 (clipped); nnlib's "
            "is Keras 3's relu6(x + 3) / 6",
        )
    try:
        _activations.get(value)
    except ValueError:
        raise context.error(
            where,
            f"{key}={value!r} is not supported: nnlib has no such activation "
            f"(pass custom_objects={{'{value}': fn}} to supply it)",
            fix=False,
        ) from None
    return value


def _object(context, where, key, value, module, kind):
    """An initializer's or regularizer's ``{"class_name", "config"}`` for nnlib."""
    if value is None or isinstance(value, str):
        try:
            module.get(value)
        except ValueError:
            raise context.error(
                where, f"{key}={value!r}: nnlib has no such {kind}"
            ) from None
        return value
    name = value.get("class_name") if isinstance(value, dict) else None
    cls = getattr(module, name, None) if isinstance(name, str) else None
    if not isinstance(cls, type):
        raise context.error(
            where, f"{key}={short(value)}: nnlib has no {kind} {name!r}"
        )
    config = value.get("config") or {}
    neutral = {"input_axes": None, "output_axes": None, "dtype": None}
    what = f"{where}: {key} {name}"
    return {"class_name": name, "config": fit(context, what, cls, config, neutral)}


def fit(context, where, cls, config, neutral, ignored=()):
    """``config``'s arguments that ``cls`` takes; the others must be neutral."""
    takes = parameters(cls)
    result = {}
    for key, value in config.items():
        if key in takes:
            result[key] = value
        elif key not in ignored and (key not in neutral or neutral[key] != value):
            raise context.error(
                where,
                f"argument {key}={short(value)} is not supported: nnlib's "
                f"{cls.__name__} has no such argument"
                + (f" (only {neutral[key]!r} loads)" if key in neutral else ""),
            )
    return result


def short(value):
    """``repr(value)``, cut to 200 characters for messages."""
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def lambda_function(context, where, config):
    """The function of a Keras ``Lambda`` layer's config.

    A named function comes from ``custom_objects``; bytecode (a ``lambda``)
    is refused in safe mode, else loaded as Keras loads it.
    """
    function = config.get("function")
    name = None
    code = None
    if isinstance(function, dict) and function.get("class_name") == "__lambda__":
        code = function.get("config") or {}  # Keras 3
    elif isinstance(function, dict) and function.get("class_name") == "function":
        name = function.get("config")
    elif config.get("function_type") == "lambda" and isinstance(function, list):
        code = dict(zip(("code", "defaults", "closure"), function))  # Keras 2
    elif isinstance(function, str):
        name = function
    if name is not None:
        if name not in context.custom_objects:
            raise context.error(
                where,
                f"it calls the function {name!r}: pass custom_objects="
                f"{{'{name}': {name}}}",
            )
        found = context.custom_objects[name]
    elif code is not None:
        if context.safe_mode:
            raise context.error(
                where,
                "a Lambda layer holds Python bytecode, which safe mode refuses to "
                "run (a file could run any code); if you trust the file, pass "
                "safe_mode=False (the Python version must be the writer's)",
            )
        found = _from_bytecode(context, where, code)
    else:
        raise context.error(where, f"its function {short(function)} is not readable")
    arguments = config.get("arguments") or {}
    return functools.partial(found, **arguments) if arguments else found


def _from_bytecode(context, where, code):
    if code.get("closure"):
        raise context.error(where, "a Lambda whose function has a closure")
    try:
        raw = base64.b64decode(code["code"].encode("ascii"))
        compiled = marshal.loads(raw)  # only with safe_mode=False
    except (KeyError, AttributeError, ValueError, EOFError, TypeError, binascii.Error):
        raise context.error(
            where,
            "its bytecode cannot be read by this Python (written by another version?)",
        ) from None
    if not isinstance(compiled, types.CodeType):
        raise context.error(where, "its function is not Python bytecode")
    defaults = code.get("defaults")
    return types.FunctionType(
        compiled,
        {"__builtins__": builtins},
        compiled.co_name,
        tuple(defaults) if defaults else None,
    )
