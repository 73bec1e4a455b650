"""How losses and metrics read their inputs: dtypes, Keras's trailing-1 rule, weights.

The shape rules work on shapes (tuples), so losses (on Tensors) and metrics
(on numpy arrays) apply the very same rules and raise the same messages.
"""

import numpy as np

from ..engine.tensor import Tensor, to_array, wrap
from ..ops import poly as _poly
from ..ops.shape import cast

EPSILON = 1e-7  # Keras's backend.epsilon(): the clip of probabilities


def aligned_shapes(true_shape, pred_shape):
    """Keras's ``squeeze_or_expand_to_same_rank`` on shapes.

    When the ranks differ by one and the longer shape ends in 1, that axis
    goes; except that a rank-1 partner gains a trailing 1 instead, so
    ``(32,)`` against ``(32, 1)`` becomes ``(32, 1)`` twice and a loss reduced
    over the last axis still gives one value per example.
    """
    t, p = tuple(true_shape), tuple(pred_shape)
    if len(t) == len(p) + 1 and t[-1] == 1:
        return (t, p + (1,)) if len(p) == 1 else (t[:-1], p)
    if len(p) == len(t) + 1 and p[-1] == 1:
        return (t + (1,), p) if len(t) == 1 else (t, p[:-1])
    return t, p


def same_shape(y_true, y_pred, owner):
    """``y_true`` and ``y_pred`` (Tensors or arrays) reshaped by the trailing-1
    rule; anything else that differs raises instead of broadcasting."""
    t, p = aligned_shapes(y_true.shape, y_pred.shape)
    if t != p:
        raise ValueError(
            f"{owner}: y_true and y_pred must have the same shape, got y_true "
            f"{tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)} (only a "
            "trailing axis of size 1 may differ, as in Keras)"
        )
    if t != y_true.shape:
        y_true = _poly.reshape(y_true, t)
    if p != y_pred.shape:
        y_pred = _poly.reshape(y_pred, p)
    return y_true, y_pred


def weight_shape(weights, values, owner):
    """The shape a ``sample_weight`` of shape ``weights`` takes to multiply values
    of shape ``values``.

    A weight covers the leading axes of the values (one weight per example,
    or per example and time step, ...): a trailing axis of size 1 too many is
    dropped, missing trailing axes become 1, and each axis must be the
    values' size or 1. Anything else raises rather than broadcasting.
    """
    w, v = tuple(weights), tuple(values)
    if len(w) == len(v) + 1 and w[-1] == 1:
        w = w[:-1]
    fits = len(w) <= len(v) and all(a in (b, 1) for a, b in zip(w, v))
    if not fits:
        if not v:
            expected = (
                "a single number: the loss reduced y_pred's last axis to one "
                "value; give y_pred a trailing axis of size 1 for one loss per "
                "example"
            )
        else:
            expected = f"one weight per example, shape {v[:1]}"
            if len(v) > 1:
                expected += f", or a shape that covers the leading axes of {v}"
        raise ValueError(
            f"{owner}: sample_weight of shape {tuple(weights)} does not fit "
            f"values of shape {v}: expected {expected}"
        )
    return w + (1,) * (len(v) - len(w))


def mask_of(y_pred):
    """The mask ``y_pred`` carries (``_keras_mask``, set by a masking layer),
    as a numpy bool array, or None."""
    mask = getattr(y_pred, "_keras_mask", None)
    return None if mask is None else np.asarray(as_numpy(mask)) != 0


def mask_for(mask, values_shape, owner):
    """``mask`` broadcast to ``values_shape``: a mask covers the leading axes of
    the values (one flag per example and time step), as a sample weight does.

    Raises:
        ValueError: If the mask does not cover the values' leading axes.
    """
    m, v = mask.shape, tuple(values_shape)
    if len(m) == len(v) + 1 and m[-1] == 1:
        m = m[:-1]
    if not (len(m) <= len(v) and m == v[: len(m)]):
        raise ValueError(
            f"{owner}: y_pred carries a mask of shape {mask.shape}, which does "
            f"not fit the per-example values of shape {v}: a mask has one flag "
            "per example and time step, for a loss or metric that keeps the "
            "time axis"
        )
    return np.broadcast_to(mask.reshape(m + (1,) * (len(v) - len(m))), v)


def tensor_weights(sample_weight, values, owner):
    """``sample_weight`` as a Tensor of ``values``' dtype, shaped to multiply it."""
    w = tensor(sample_weight)
    if w.dtype != values.dtype:
        w = cast(w, values.dtype)
    shape = weight_shape(w.shape, values.shape, owner)
    return w if shape == w.shape else _poly.reshape(w, shape)


def as_numpy(x):
    """The numpy value of a Tensor, array, list or number (no copy for Tensors)."""
    if isinstance(x, Tensor):
        return x._value
    return x if isinstance(x, np.ndarray) else to_array(x)


def tensor(x):
    """``x`` as a Tensor (no copy when it already is one)."""
    return x if isinstance(x, Tensor) else wrap(to_array(x))


def predictions(y_pred):
    """``y_pred`` as a floating-point Tensor (integers and bools become float32)."""
    y_pred = tensor(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = cast(y_pred, np.float32)  # Keras's floatx
    return y_pred


def targets(y_true, y_pred):
    """``y_true`` as a Tensor of ``y_pred``'s dtype (the cast is recorded)."""
    y_true = tensor(y_true)
    return y_true if y_true.dtype == y_pred.dtype else cast(y_true, y_pred.dtype)


def pair(y_true, y_pred, owner):
    """Targets and predictions of one dtype and one shape (see ``same_shape``)."""
    y_pred = predictions(y_pred)
    return same_shape(targets(y_true, y_pred), y_pred, owner)


def _number(v):
    v = v.item()
    return int(v) if isinstance(v, float) and v.is_integer() else v


def class_ids(y_true, pred_shape, axis, owner, ignore_class=None):
    """Integer class ids from ``y_true``, checked before anything is computed.

    ``y_true`` must have ``pred_shape`` without the class ``axis`` (a trailing
    axis of size 1 is dropped, as Keras does); float labels must be whole.

    Returns:
        ``(labels, valid)``: an int64 array, and None or the boolean mask of the
        labels that are not ``ignore_class`` (those read as class 0).
    """
    given = as_numpy(y_true)
    labels = given
    expected = pred_shape[:axis] + pred_shape[axis + 1 :]
    if labels.ndim == len(pred_shape) and labels.shape[-1:] == (1,):
        labels = labels.reshape(labels.shape[:-1])
    if labels.shape != expected:
        raise ValueError(
            f"{owner}: y_true of shape {given.shape} does not match y_pred of "
            f"shape {tuple(pred_shape)}: expected integer class ids of shape "
            f"{expected}; for one-hot targets of y_pred's shape use "
            "categorical_crossentropy"
        )
    if labels.dtype.kind == "f":
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            raise ValueError(
                f"{owner}: class ids must be whole numbers, got "
                f"{_number(labels[~whole].flat[0])}"
            )
    elif labels.dtype.kind not in "iu":
        raise TypeError(f"{owner}: class ids must be integers, got {labels.dtype}")
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = np.where(valid, labels, 0)
    classes = pred_shape[axis]
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise ValueError(
            f"{owner}: label {_number(labels[bad].flat[0])} outside [0, {classes}) "
            f"(y_pred of shape {tuple(pred_shape)} has {classes} classes)"
        )
    return labels.astype(np.int64, copy=False), valid
