"""Checks of whole arrays before ``fit`` takes a step: labels, finiteness, shapes.

Each is one pass over the data (a min/max, an ``isfinite``), done once, so a bad
label at the end of the data fails before the first update instead of after
the steps before it; the model and its optimizer are left as they were.
"""

import numpy as np

from .. import losses as _losses
from ..engine import nest

__all__ = ["check_finite", "check_labels", "check_sample_shapes"]

_SPARSE = (
    _losses.sparse_categorical_crossentropy,
    _losses.sparse_softmax_cross_entropy,
)


def _sparse_loss(model):
    """The single compiled loss if it takes class ids, else None."""
    losses = model.compiled_loss.losses
    if len(losses) != 1:
        return None
    loss = losses[0]
    return loss if getattr(loss, "fn", None) in _SPARSE else None


def _output_width(model, x, axis):
    """The size of the model's class axis, from its last output shape, or from a
    forward pass on one sample (which builds an unbuilt model; no update)."""
    shape = getattr(model, "_output_shape", None)
    if shape is None or not isinstance(shape, tuple):
        first = nest.pack_as(x, [leaf[:1] for leaf in nest.flatten(x)])
        out = model(first, training=False)
        if isinstance(out, (list, tuple, dict)):
            return None
        shape = tuple(out.shape)
    return shape[axis] if shape else None


def _leaves(x):
    return nest.flatten(x) if isinstance(x, (list, tuple, dict)) else [x]


def check_labels(model, x, y, owner, what="y"):
    """Raises if class ids in ``y`` fall outside the model's classes (sparse losses).

    Only for a single sparse categorical loss and array targets; the output
    width comes from the model (a forward pass on ``x[:1]`` if it never ran).
    """
    loss = _sparse_loss(model)
    if loss is None or y is None or isinstance(y, (list, tuple, dict)):
        return
    labels = np.asarray(y)
    if labels.size == 0 or labels.dtype.kind not in "biuf":
        return
    ignore_class = loss._fn_kwargs.get("ignore_class")
    kept = labels if ignore_class is None else labels[labels != ignore_class]
    axis = loss._fn_kwargs.get("axis", -1)
    classes = _output_width(model, x, axis)
    if classes is None or kept.size == 0:
        return
    if kept.min() >= 0 and kept.max() < classes:  # NaN fails both: it is reported
        return
    bad = ~((labels >= 0) & (labels < classes))
    if ignore_class is not None:
        bad &= labels != ignore_class
    index = int(np.flatnonzero(bad)[0])
    value = labels.flat[index].item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    sample = index // max(labels[0].size, 1) if labels.ndim > 1 else index
    raise ValueError(
        f"{owner}: {what} holds label {value} outside [0, {classes}) at sample "
        f"{sample}: the model has {classes} outputs for the loss "
        f"'{loss.name}', one per class; widen its last layer, or fix the labels"
    )


def check_finite(data, owner, what="x"):
    """Raises ``FloatingPointError`` naming the first row and column holding NaN
    or infinity in any floating-point array of ``data``."""
    flat = _leaves(data)
    keyed = isinstance(data, (list, tuple, dict)) and len(flat) > 1
    names = _leaf_names(data, what) if keyed else [what]
    for name, leaf in zip(names, flat):
        array = np.asarray(leaf)
        if array.dtype.kind != "f" or array.ndim == 0:
            continue
        finite = np.isfinite(array)
        if finite.all():
            continue
        rows, cols = np.nonzero(~finite.reshape(len(array), -1))
        value = array.reshape(len(array), -1)[rows[0], cols[0]]
        raise FloatingPointError(
            f"{owner}(check_finite=True): {name} has a non-finite value ({value}) "
            f"at row {rows[0]}, column {cols[0]} (of the flattened features)"
        )


def _leaf_names(data, what):
    if isinstance(data, dict):
        return [f"{what}[{key!r}]" for key in sorted(data)]
    return [f"{what}[{i}]" for i in range(len(data))]


def check_sample_shapes(train, val, owner, what):
    """Raises if the validation arrays' per-sample shapes differ from training's."""
    if train is None or val is None:
        return
    train_leaves, val_leaves = _leaves(train), _leaves(val)
    if len(train_leaves) != len(val_leaves):
        raise ValueError(
            f"{owner}: validation_data {what} has {len(val_leaves)} arrays, but the "
            f"training {what} has {len(train_leaves)}"
        )
    for t, v in zip(train_leaves, val_leaves):
        t_shape, v_shape = np.shape(t)[1:], np.shape(v)[1:]
        if t_shape != v_shape:
            raise ValueError(
                f"{owner}: validation_data {what} has samples of shape {v_shape}, "
                f"but the training {what} has {t_shape}"
            )
