"""A Keras file's compile settings as ``model.compile`` arguments.

A ``.keras`` archive keeps them as ``compile_config`` (``optimizer``,
``loss``, ``metrics``, ``loss_weights``, ``weighted_metrics``...), a legacy
``.h5`` as ``training_config`` (the same, with ``optimizer_config``). Losses
and metrics are names nnlib knows or Keras object configs of classes nnlib
has (``{"module", "class_name", "config"}``), alone or per output (a list or
a dict). The optimizer becomes nnlib's of the same algorithm (Keras's ``SGD``
is ``GradientDescent``, or ``Momentum`` with momentum), its learning rate a
number or one of nnlib's schedules. Whatever does not map raises
``Unmapped``, saying what; ``load_model`` then warns and loads the model
uncompiled. The optimizer's state (its moments) is not loaded.
"""

import inspect

from .. import losses as _losses
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from ..optimizers import schedules as _schedules
from ._keras_values import parameters

__all__ = ["Unmapped", "compile_arguments"]

_OPTIMIZERS = (
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Lion",
)
# Keras optimizer arguments, and the value at which they change nothing.
_NEUTRAL = {
    "weight_decay": (None, 0, 0.0),
    "use_ema": (False,),
    "loss_scale_factor": (None,),
    "gradient_accumulation_steps": (None, 1),
    "is_legacy_optimizer": (False,),
    "decay": (0, 0.0),
}
# ... and those that change nothing at any value (EMA's only act with use_ema).
_IGNORED = ("name", "jit_compile", "ema_momentum", "ema_overwrite_frequency")


class Unmapped(ValueError):
    """A compile setting nnlib has no equivalent for."""


def compile_arguments(config):
    """``{"optimizer", "loss", "metrics", "loss_weights"}`` for ``compile``.

    Args:
        config: The parsed ``compile_config`` or ``training_config``.

    Raises:
        Unmapped: Naming the setting nnlib cannot take.

    Examples:
        >>> from nnlib.checkpoint._keras_compile import compile_arguments
        >>> args = compile_arguments({"loss": "mse", "metrics": ["mae"],
        ...     "optimizer": {"module": "keras.optimizers", "class_name": "SGD",
        ...                   "config": {"learning_rate": 0.1, "momentum": 0.9}}})
        >>> type(args["optimizer"]).__name__, args["optimizer"].learning_rate
        ('Momentum', 0.1)
    """
    if config.get("weighted_metrics"):
        raise Unmapped("weighted_metrics: nnlib's compile has none")
    optimizer = config.get("optimizer", config.get("optimizer_config"))
    return {
        "optimizer": _optimizer(optimizer),
        "loss": _each(config.get("loss"), _losses, "loss"),
        "metrics": _each(config.get("metrics"), _metrics, "metric"),
        "loss_weights": config.get("loss_weights"),
    }


def _each(value, module, kind):
    """Losses or metrics alone, in a list or in a dict by output."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_each(v, module, kind) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _each(v, module, kind) for k, v in value.items()}
    return _one(value, module, kind)


def _one(value, module, kind):
    if isinstance(value, dict):
        name, config = value.get("class_name"), value.get("config")
        if name == "function" and isinstance(config, str):  # a Keras function
            value = config
        elif name == "MeanMetricWrapper" and isinstance(config, dict):
            value = config.get("fn")  # Keras 2's metric of a function
        else:
            return _object(module, kind, name, config)
    if not isinstance(value, str):
        raise Unmapped(f"{kind} {value!r} is not a name nor a Keras config")
    try:
        module.get(value)
    except ValueError as error:
        raise Unmapped(f"{kind} {value!r}: {error}") from None
    return value


def _object(module, kind, name, config):
    cls = getattr(module, name, None) if isinstance(name, str) else None
    if not isinstance(cls, type):
        raise Unmapped(f"nnlib has no {kind} class {name!r}")
    takes = parameters(cls)
    args = {}
    for key, value in (config or {}).items():
        if key == "reduction" and value == "auto":  # Keras 2's default
            value = "sum_over_batch_size"
        if key in takes:
            args[key] = value
        elif not (key == "dtype" and value in (None, "float32")):
            raise Unmapped(f"{kind} {name}: nnlib's has no argument {key}={value!r}")
    try:
        return cls(**args)
    except (TypeError, ValueError) as error:
        raise Unmapped(f"{kind} {name}({args}): {error}") from None


def _optimizer(spec):
    if spec is None:
        return "rmsprop"  # Keras's compile default
    if isinstance(spec, str):
        try:
            return _optimizers.get(spec)
        except ValueError as error:
            raise Unmapped(f"optimizer {spec!r}: {error}") from None
    name, config = spec.get("class_name"), dict(spec.get("config") or {})
    if "lr" in config:  # Keras 2's older name
        config.setdefault("learning_rate", config.pop("lr"))
    if name == "SGD":
        plain = not config.get("momentum") and not config.get("nesterov")
        cls = _optimizers.GradientDescent if plain else _optimizers.Momentum
        if plain:
            config.pop("momentum", None)
            config.pop("nesterov", None)
    elif name in _OPTIMIZERS:
        cls = getattr(_optimizers, name)
    else:
        raise Unmapped(f"nnlib has no optimizer for Keras's {name!r}")
    takes = parameters(cls) | {"clipnorm", "clipvalue", "global_clipnorm"}
    args = {}
    for key, value in config.items():
        if key in takes:
            args[key] = value
        elif key not in _IGNORED and value not in _NEUTRAL.get(key, ()):
            raise Unmapped(
                f"optimizer {name}: argument {key}={value!r} has no nnlib equivalent"
            )
    if isinstance(args.get("learning_rate"), dict):
        args["learning_rate"] = _schedule(args["learning_rate"])
    try:
        return cls(**args)
    except (TypeError, ValueError) as error:
        raise Unmapped(f"optimizer {name}: {error}") from None


def _schedule(spec):
    name, config = spec.get("class_name"), dict(spec.get("config") or {})
    cls = getattr(_schedules, name, None) if isinstance(name, str) else None
    if not (inspect.isclass(cls) and issubclass(cls, _schedules.LearningRateSchedule)):
        raise Unmapped(f"learning rate schedule {name!r}: nnlib has none of that name")
    config.pop("name", None)
    extra = set(config) - parameters(cls)
    if extra:
        raise Unmapped(
            f"learning rate schedule {name}: nnlib's has no argument(s) {sorted(extra)}"
        )
    return cls(**config)
