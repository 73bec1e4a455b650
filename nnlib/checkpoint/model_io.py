"""Whole models in one HDF5 file: architecture, weights, optimizer, compile settings.

``save_model`` writes what ``Checkpoint(model=..., optimizer=...)`` writes
(variables under ``model/``, the optimizer's step count and slots under
``optimizer/``) with ``kind = "model"`` and three JSON root attributes:
``model_config`` (``{"class_name", "config"}``), ``compile_config`` (the loss,
metrics and loss weights given to ``compile``, by name or config) and
``optimizer_config``. ``load_model`` rebuilds the model from its class and
config, compiles it, and restores every variable (deferred for a model that
builds on its first call).

A subclassed ``Network`` is code: its file holds the class name, the weights
and whatever ``get_config`` returns, and loading needs the class
(``custom_objects={"MyNet": MyNet}``; with ``safe_mode=False`` a class defined
in the process is found by its name) and a ``get_config``/``from_config`` pair
when ``__init__`` takes arguments.

``load_model`` also reads whole-model files written by Keras (a ``.keras``
archive, a legacy ``.h5`` from ``model.save``): ``keras_config`` translates
Keras's config of a ``Sequential`` or functional model into nnlib's, the
weights load as ``load_weights`` loads Keras files, and the compile settings
map to nnlib's loss, metrics and optimizer where nnlib has them.

A file is data someone else may have written: ``load_model`` refuses, with a
typed error naming the file, a config nested deeper than
``_config_guard.MAX_CONFIG_DEPTH``, variables larger than the weights the file
stores (before allocating them), and, in safe mode (the default, as in Keras),
any class from outside nnlib that ``custom_objects`` does not name.
"""

import inspect
import json
import os

from .. import losses as _losses
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from .._warn import warn
from ..layers import _registry
from ..layers.base import Layer
from . import _keras_compile, _keras_read, h5io, keras_config, keras_h5
from ._config_guard import parse, variable_budget
from .checkpoint import Checkpoint
from .errors import (
    CheckpointConfigError,
    CheckpointCorruptError,
    CheckpointMismatchError,
)

__all__ = ["load_model", "save_model"]

_KIND = "model"


def save_model(model, path, include_optimizer=True, overwrite=True):
    """Saves a model's architecture, weights and (optionally) optimizer state.

    Args:
        model: A ``Network`` or ``Sequential`` (or any ``Layer``).
        path: The HDF5 file to write, atomically (the old file survives a
            failure). Missing folders are created.
        include_optimizer: Also save the compile settings and the optimizer's
            config, step count and slots, so training resumes where it
            stopped; False saves architecture and weights only (the model
            loads uncompiled).
        overwrite: Replace an existing file (default); False raises instead.

    Returns:
        ``path``.

    Raises:
        FileExistsError: With ``overwrite=False`` when ``path`` exists.
        CheckpointWriteError: If writing fails; a previous file is intact.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import load_model, save_model
        >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> path = save_model(model, os.path.join(tempfile.mkdtemp(), "m.h5"))
        >>> clone = load_model(path)
        >>> np.array_equal(clone.get_weights()[0], model.get_weights()[0])
        True
        >>> type(clone.optimizer).__name__
        'Adam'
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"model.save: '{path}' exists and overwrite=False")
    optimizer = getattr(model, "optimizer", None) if include_optimizer else None
    objects = {"model": model}
    if optimizer is not None:
        objects["optimizer"] = optimizer
    arrays, attrs = Checkpoint(**objects)._contents(0)
    attrs = {
        "kind": _KIND,
        "objects": attrs["objects"],
        "model_class": type(model).__name__,
        "model_name": model.name,
        "model_config": json.dumps(_model_config(model)),
    }
    compile_config = _compile_config(model) if include_optimizer else None
    if compile_config is not None:
        attrs["compile_config"] = json.dumps(compile_config)
    if optimizer is not None:
        attrs["optimizer_config"] = json.dumps(_optimizers.serialize(optimizer))
    return h5io.write(path, arrays, attrs, make_dirs=True)


def load_model(path, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model ``save_model`` (``model.save``) or Keras wrote, with
    its weights.

    Args:
        path: The file: nnlib's, or a Keras ``.keras`` archive or legacy
            whole-model ``.h5`` (rebuilt as nnlib's ``Sequential``, ``Model``
            and layers from Keras's config, names kept; see
            ``nnlib.checkpoint.keras_config`` for what maps).
        custom_objects: ``{"ClassName": cls}`` for your own Network, layer and
            optimizer classes; always looked up first. For a Keras file also
            nnlib layer classes standing for Keras classes nnlib lacks, and
            the functions of Lambda layers and custom activations by name.
        compile: Compile the model as it was saved (loss, metrics, optimizer
            with its state; a Keras file's optimizer starts afresh, and
            settings nnlib lacks warn and leave it uncompiled). False returns
            it uncompiled.
        safe_mode: Refuse classes from outside nnlib that ``custom_objects``
            does not name (default, as Keras's ``safe_mode``): a file could
            name any class defined in the process, and a Keras ``Lambda``
            holds bytecode. False finds your classes by the name the file
            records, as long as they are defined, and loads Lambda bytecode.

    Returns:
        The model, its variables restored (as they are created, for a model
        that builds on its first call).

    Raises:
        CheckpointMismatchError: For a weights file (nnlib's or Keras's) or a
            training checkpoint (they need the model built by code), or weights
            that do not fit the rebuilt architecture.
        CheckpointConfigError: A class cannot be found, is refused by safe
            mode (the message says what to pass), or cannot be rebuilt; a
            Keras class or argument value nnlib lacks (naming the layer, the
            argument and its value); a ``ValueError``.
        CheckpointUnsafeError: A config nested deeper than
            ``MAX_CONFIG_DEPTH``, or asking for variables larger than the
            weights the file stores (nothing is allocated).
        CheckpointError: A missing, damaged or locked file (subclasses).

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import load_model
        >>> model = nnlib.Sequential([nnlib.layers.Dense(1, input_shape=(2,))])
        >>> path = model.save(os.path.join(tempfile.mkdtemp(), "m.h5"))
        >>> clone = load_model(path, compile=False)
        >>> x = np.ones((1, 2), np.float32)
        >>> np.array_equal(clone(x).numpy(), model(x).numpy())
        True
    """
    custom_objects = dict(custom_objects or {})
    try:
        stored = h5io.read(path)
    except CheckpointCorruptError:
        if _keras_read.keras_format(path) is None:
            raise
        stored = None
    if stored is None:
        return _load_keras(os.fspath(path), custom_objects, compile, safe_mode)
    kind = stored.attrs.get("kind")
    if kind != _KIND:
        how = (
            "nnlib.Checkpoint(model=model).restore(path).expect_partial()"
            if kind == "checkpoint"
            else "model.load_weights(path)"
        )
        what = "a training checkpoint" if kind == "checkpoint" else "a weights file"
        raise CheckpointMismatchError(
            f"'{stored.path}' is {what}, not a whole model (model.save): build the "
            f"model in code, then call {how}",
            path=stored.path,
        )
    configs = {
        key: parse(stored.attrs[key], key, stored.path)
        for key in ("model_config", "optimizer_config", "compile_config")
        if key in stored.attrs
    }
    stored_bytes = sum(array.nbytes for array in stored.arrays.values())
    with variable_budget(stored.path, stored_bytes):
        return _load(stored, configs, custom_objects, compile, safe_mode)


def _load(stored, configs, custom_objects, compile, safe_mode):
    with _registry.loading(custom_objects, safe_mode):
        model = _rebuild(configs["model_config"], custom_objects, stored.path)
    objects = {"model": model}
    if compile and "optimizer_config" in configs:
        objects["optimizer"] = _optimizers.deserialize(
            configs["optimizer_config"], custom_objects
        )
    if compile and "compile_config" in configs:
        config = configs["compile_config"]
        model.compile(
            optimizer=objects.get("optimizer", "rmsprop"),
            loss=_nested(config["loss"], _losses.deserialize),
            metrics=_nested(config["metrics"], _metrics.deserialize),
            loss_weights=config["loss_weights"],
        )
    elif "optimizer" in objects:
        object.__setattr__(model, "optimizer", objects["optimizer"])
    status = Checkpoint(**objects)._restore(stored, random_state=False)
    status.assert_existing_objects_matched()
    status.expect_partial()  # an uncompiled load leaves the optimizer's arrays
    return model


def _load_keras(path, custom_objects, compile, safe_mode):
    """A Keras ``.keras`` or legacy whole-model ``.h5`` file, rebuilt from its
    config by ``keras_config`` and given its weights by ``keras_h5``."""
    texts = _keras_read.read_model_texts(path)
    if "model_config" not in texts:
        raise CheckpointMismatchError(
            f"'{path}' is a Keras file of weights only (no model config): build "
            "the equivalent nnlib model, call it once, then model.load_weights(path)",
            path=path,
        )
    configs = {
        key: parse(text, key, path)
        for key, text in texts.items()
        if key != "keras_version"
    }
    metadata = configs.get("metadata")
    version = texts.get("keras_version") or (
        metadata.get("keras_version") if isinstance(metadata, dict) else None
    )
    spec = configs["model_config"]
    training = configs.get("training_config") or (
        spec.get("compile_config") if isinstance(spec, dict) else None
    )
    source = _keras_read.read(path)
    layers = source.layers + ([source.top] if source.top is not None else [])
    stored_bytes = sum(a.nbytes for layer in layers for _, a in layer.weights)
    nnlib_spec = keras_config.translate(
        spec, path, custom_objects, safe_mode, keras_version=version
    )
    with variable_budget(path, stored_bytes):
        with _registry.loading(custom_objects, safe_mode):
            model = _rebuild(nnlib_spec, custom_objects, path, keras=True)
        try:
            if not model.built and getattr(model, "_nnlib_graph", None) is not None:
                model.build()  # a functional model builds its layers
            keras_h5._assign_read(model, source)
        except ValueError as error:  # unbuilt: the config gives no input shape
            if isinstance(error, CheckpointMismatchError):
                raise
            raise CheckpointConfigError(
                f"cannot load Keras model '{path}': {error}", path=path
            ) from None
    if compile and training:
        try:
            model.compile(**_keras_compile.compile_arguments(training))
        except (TypeError, ValueError) as error:
            warn(
                f"load_model: the compile settings of Keras model '{path}' do not "
                f"map to nnlib ({error}); the model is loaded uncompiled: compile "
                "it yourself"
            )
    return model


def _model_config(model):
    # A subclassed Network (or Model without a functional graph) is its code.
    graphless = getattr(model, "_nnlib_graph", False) is None
    custom = (type(model).get_config is Layer.get_config or graphless) and bool(
        model._sublayers
    )
    return {
        **_registry.class_spec(type(model)),
        "config": model.get_config(),
        "subclassed": custom,  # the architecture is the class's Python code
    }


def _rebuild(spec, custom_objects, path, keras=False):
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise CheckpointCorruptError(
            f"cannot load model '{path}': its model_config has no class_name",
            path=path,
        )
    name = spec["class_name"]
    code_needed = (
        f"; a subclassed Network's architecture is its Python code, so load_model "
        f"needs the class: pass custom_objects={{'{name}': {name}}} (or rebuild "
        f"the model and call model.load_weights('{path}'))"
    )
    try:
        cls = _registry.resolve(spec, custom_objects)
    except _registry.UnsafeClassError as error:
        raise CheckpointConfigError(
            f"cannot load model '{path}': {error}", path=path
        ) from None
    except ValueError as error:
        raise CheckpointConfigError(
            f"cannot load model '{path}': {error}"
            + (code_needed if spec.get("subclassed") else ""),
            path=path,
        ) from None
    try:
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            return cls.from_config(spec["config"], custom_objects=custom_objects)
        return cls.from_config(spec["config"])
    except _registry.UnsafeClassError as error:  # a layer inside the model
        raise CheckpointConfigError(
            f"cannot load model '{path}': {error}", path=path
        ) from None
    except (TypeError, ValueError) as error:
        if keras:  # Keras's config, translated: no from_config of the user's
            raise CheckpointConfigError(
                f"cannot load Keras model '{path}': nnlib cannot rebuild it "
                f"({error}); rebuild the model in nnlib code and call "
                f"model.load_weights('{path}')",
                path=path,
            ) from error
        if not isinstance(error, TypeError):
            raise
        raise CheckpointConfigError(
            f"cannot load model '{path}': {name}.from_config failed ({error}); "
            f"give {name} get_config()/from_config() that describe its __init__ "
            "arguments",
            path=path,
        ) from error


def _compile_config(model):
    args = getattr(model, "_compile_args", None)
    if args is None:
        return None
    try:
        return {
            "loss": _nested(args["loss"], _losses.serialize, serializing=True),
            "metrics": _nested(args["metrics"], _metrics.serialize, serializing=True),
            "loss_weights": args["loss_weights"],
        }
    except (TypeError, ValueError) as error:
        warn(
            f"model.save: the compile settings of '{model.name}' cannot be saved "
            f"({error}); load_model will return it uncompiled: compile it again"
        )
        return None


def _nested(value, convert, serializing=False):
    """Applies ``convert`` to each loss or metric in ``value`` (None, a name, a
    config, a list or a dict of them); names pass through as they are."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [_nested(v, convert, serializing) for v in value]
    if isinstance(value, dict) and (serializing or "class_name" not in value):
        return {k: _nested(v, convert, serializing) for k, v in value.items()}
    return convert(value)
