"""What ``fit``, ``evaluate`` and ``predict`` check before the first step.

Arguments (``epochs=2.5``, ``verbose="loud"``, ``shuffle="no"``) and data (None,
a file name, a rank-1 array, a dict for a single-input model, nested lists,
missing targets) are checked once, up front, with errors that name the call,
the argument, what it got and what it expected. Nested lists of numbers are
accepted as arrays, as Keras does. Nothing here runs per step.
"""

import numbers

import numpy as np

from .._args import boolean, integer, one_of
from ..engine.tensor import Tensor
from .data_adapter import is_dataset

__all__ = [
    "batch_size",
    "fit_arguments",
    "input_data",
    "is_dataset",
    "target_data",
    "verbose",
]

_LEAVES = (np.ndarray, Tensor)


def verbose(value, owner):
    """``verbose`` as 0, 1 or 2 (``"auto"`` and True mean 1, False 0)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    value = one_of(value, "verbose", owner, ("auto", 0, 1, 2))
    return 1 if value == "auto" else int(value)


def batch_size(value, owner):
    """``batch_size`` as an int >= 1 (None means 32, Keras's default)."""
    return 32 if value is None else integer(value, "batch_size", owner, minimum=1)


def steps(value, name, owner):
    """A step count: None, or an int >= 1."""
    return None if value is None else integer(value, name, owner, minimum=1)


def fit_arguments(
    epochs, initial_epoch, shuffle, check_finite, validation_split, class_weight
):
    """Checks ``fit``'s scalar arguments; returns ``(epochs, initial_epoch)``.

    Raises:
        TypeError: For a value of the wrong type (``epochs=2.5``, ``shuffle="no"``).
        ValueError: For a value out of range, or ``initial_epoch > epochs``.
    """
    epochs = integer(epochs, "epochs", "fit", minimum=0)
    initial_epoch = integer(initial_epoch, "initial_epoch", "fit", minimum=0)
    if initial_epoch > epochs:
        raise ValueError(
            f"fit: initial_epoch={initial_epoch} is after epochs={epochs}: epochs is "
            "the index of the last epoch, not a count; to train 2 more epochs from "
            f"epoch {initial_epoch}, pass epochs={initial_epoch + 2}"
        )
    boolean(shuffle, "shuffle", "fit")
    boolean(check_finite, "check_finite", "fit")
    if isinstance(validation_split, (bool, np.bool_)) or not isinstance(
        validation_split, numbers.Real
    ):
        raise TypeError(
            f"fit: validation_split must be a number in [0, 1), got "
            f"{validation_split!r} ({type(validation_split).__name__})"
        )
    if class_weight is not None and not isinstance(class_weight, dict):
        raise TypeError(
            f"fit: class_weight must be a dict {{class: weight}}, got "
            f"{type(class_weight).__name__}"
        )
    return epochs, initial_epoch


def _first_leaf(value):
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return value


def _as_array(value, owner, what):
    """A nested list of numbers as one numpy array, or a TypeError saying why not."""
    try:
        array = np.asarray(value)
    except ValueError:
        raise TypeError(
            f"{owner}: {what} is a nested list that is not rectangular (rows of "
            "different lengths); pad it, or pass a numpy array"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner}: {what} holds {array.dtype} values; expected numbers (or a "
            "list/dict of numeric arrays, one per input)"
        )
    return array


def _converted(data, owner, what):
    """Arrays, Tensors and their lists/dicts as they are; nested lists of numbers
    as one array (a list of arrays stays a list: several inputs)."""
    if data is None:
        raise TypeError(
            f"{owner}: {what} is None; expected an array of shape (samples, "
            "features...), a list or dict of arrays (one per input), or a Dataset"
        )
    if isinstance(data, (str, bytes)):
        raise TypeError(
            f"{owner}: {what} is a {type(data).__name__} ({data!r}); {owner} takes "
            "arrays or a Dataset, not a file name: load the file first, e.g. "
            "np.loadtxt(path, delimiter=',')"
        )
    if isinstance(data, dict):
        return {k: _converted(v, owner, f"{what}[{k!r}]") for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        if isinstance(_first_leaf(data), (*_LEAVES, dict)):
            return type(data)(
                _converted(v, owner, f"{what}[{i}]") for i, v in enumerate(data)
            )
        return _as_array(data, owner, what)
    if isinstance(data, _LEAVES):
        if data.dtype.kind not in "biuf":
            raise TypeError(
                f"{owner}: {what} holds {data.dtype} values; expected numbers"
            )
        return data
    if hasattr(data, "__next__"):
        raise TypeError(
            f"{owner}: {what} is an iterator ({type(data).__name__}); wrap it in "
            "nnlib.data.Dataset.from_generator(...)"
        )
    return _as_array(data, owner, what)


def _takes_single_input(model):
    return getattr(model, "_takes_single_input", False)  # see Trainer


def _declared_input_shape(model):
    """The model's input shape (batch axis included) where it is known, else None."""
    if getattr(model, "built", False):
        shape = getattr(model, "_build_input_shape", None)
        if shape is not None:
            return shape
    shape = getattr(model, "_batch_input_shape", None)
    if shape is None and _takes_single_input(model) and model.layers:
        shape = model.layers[0]._batch_input_shape
    return shape


def _is_single_shape(shape):
    return isinstance(shape, tuple) and all(
        d is None or isinstance(d, numbers.Integral) for d in shape
    )


def input_data(model, x, owner, what="x"):
    """``x`` checked and converted for ``model``: arrays as they are, nested lists
    of numbers as arrays.

    Raises:
        TypeError: For None, a file name, an iterator, a ragged or non-numeric list.
        ValueError: For a rank-1 array where the model needs a batch axis (with
            the fix), or several inputs (a dict, a list of arrays) for a model
            that takes one.
    """
    x = _converted(x, owner, what)
    declared = _declared_input_shape(model)
    single = _takes_single_input(model) or _is_single_shape(declared)
    if single and isinstance(x, (list, tuple)) and len(x) == 1:
        x = x[0]  # Keras unwraps [x] for a single-input model
    if single and isinstance(x, (dict, list, tuple)):
        kind = (
            f"a dict (keys {sorted(x)})"
            if isinstance(x, dict)
            else f"a {type(x).__name__} of {len(x)} arrays"
        )
        shape = f" of shape {declared}" if _is_single_shape(declared) else ""
        raise ValueError(
            f"{owner}: {what} is {kind}, but model '{model.name}' takes a single "
            f"input{shape}: pass the array itself"
        )
    if isinstance(x, _LEAVES) and x.ndim == 1:
        takes_rank_1 = _is_single_shape(declared) and len(declared) == 1
        if not takes_rank_1:
            n = x.shape[0]
            raise ValueError(
                f"{owner}: {what} has shape ({n},), with no axis for the features: "
                f"{owner} takes a batch, shape (samples, features...). Did you mean "
                f"x[None] (one sample of {n} features, shape (1, {n})) or "
                f"x.reshape(-1, 1) ({n} samples of one feature)? (A model built "
                "on one number per sample, such as an Embedding of ids, takes "
                "shape (n,): call it once on x[:1] first.)"
            )
    return x


def target_data(model, y, owner, step_name, what="y"):
    """``y`` converted like ``x``; None raises when the model's loss needs targets."""
    if y is None:
        if model._step_needs_targets(step_name):
            loss = model.compiled_loss.names[0]
            raise ValueError(
                f"{owner}: {what} is None, but the loss '{loss}' needs targets: "
                f"pass y (or a Dataset yielding (x, y) elements)"
            )
        return None
    return _converted(y, owner, what)


def dataset_targets(model, dataset, owner, step_name):
    """Raises when a Dataset's elements are x only (where that shows without
    reading an element) and the model's loss needs targets."""
    try:
        spec = dataset._spec(peek=False)
    except (AttributeError, TypeError, ValueError):
        return
    labelled = isinstance(spec, tuple) and len(spec) in (2, 3)
    if spec is not None and not labelled and model._step_needs_targets(step_name):
        raise ValueError(
            f"{owner}: the Dataset yields x only, but the loss "
            f"'{model.compiled_loss.names[0]}' needs targets: make its elements "
            "(x, y), e.g. Dataset.from_tensor_slices((x, y)) or "
            "Dataset.zip((xs, ys))"
        )
