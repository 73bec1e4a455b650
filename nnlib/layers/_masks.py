"""How a mask travels from layer to layer: on the tensors themselves.

A layer that makes a mask (``Embedding(mask_zero=True)``, ``Masking``)
attaches it to its output as ``output._keras_mask``, Keras 3's attribute; the
next layer's ``__call__`` reads it off its input, passes it to ``call`` as
``mask=`` when ``call`` has such a parameter, and attaches
``compute_mask(inputs, mask)`` to its own output when the layer supports
masking. Ops never touch masks: only ``Layer.__call__`` reads or writes them.
"""

import numpy as np

from .._warn import warn
from ..engine import nest
from ..engine.tensor import Tensor, wrap

__all__ = ["attach", "carry", "of", "step_mask"]


def of(inputs):
    """The mask ``inputs`` carry: a Tensor's mask, or for a list or tuple of
    inputs the list of their masks (None when none has one); else None."""
    if isinstance(inputs, Tensor):
        return getattr(inputs, "_keras_mask", None)
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(x, "_keras_mask", None) for x in inputs]
        if any(m is not None for m in masks):
            return masks
    return None


def carry(original, converted):
    """Copies the masks of ``original`` inputs onto their converted (cast)
    tensors, so that casting to the layer's dtype keeps the mask."""
    mask = of(original)
    if mask is None:
        return
    if isinstance(converted, Tensor):
        converted._keras_mask = mask
        return
    for item, m in zip(converted, mask):
        if m is not None and isinstance(item, Tensor):
            item._keras_mask = m


def attach(layer, inputs, outputs, previous):
    """After a call: attaches ``layer.compute_mask(inputs, previous)`` to the
    outputs that carry no mask yet (Keras 3's ``_set_mask_metadata``).

    A layer that does not support masking drops the mask; given a masked
    input, a leaf layer warns as Keras does (a layer made of layers passes its
    inputs, masks included, to those layers, and a layer that returns its
    input returns the mask with it: both stay quiet).
    """
    if not layer.supports_masking:
        if (
            previous is not None
            and outputs is not inputs
            and not layer._nnlib.sublayers
        ):
            warn(
                f"layer '{layer.name}' ({type(layer).__name__}) was given a "
                "masked input but does not support masking, so the mask stops "
                "here: the layers after it see no mask. A layer that keeps the "
                "time steps apart can set supports_masking = True (or define "
                "compute_mask)."
            )
        return
    flat = _tensors(outputs)
    if all(getattr(t, "_keras_mask", None) is not None for t in flat):
        return  # an inner layer set them (a network's output, Masking)
    masks = layer.compute_mask(inputs, previous)
    if masks is None:
        return
    single = isinstance(outputs, Tensor) or not isinstance(masks, (list, tuple))
    for tensor, mask in zip(flat, [masks] if single else nest.flatten(masks)):
        if (
            mask is not None
            and isinstance(tensor, Tensor)
            and getattr(tensor, "_keras_mask", None) is None
        ):
            tensor._keras_mask = mask if isinstance(mask, Tensor) else _tensor(mask)


def _tensors(outputs):
    if isinstance(outputs, (list, tuple)):
        return nest.flatten(outputs)
    return [outputs]


def _tensor(mask):
    return wrap(np.asarray(mask, dtype=bool))


def step_mask(mask, inputs, owner, time_axis=1):
    """A (batch, time) mask as a numpy bool array (true: a step to read),
    checked against ``inputs``; None stays None.

    Raises:
        ValueError: For a mask of another shape, naming ``owner``.
    """
    if mask is None:
        return None
    value = np.asarray(mask._value if isinstance(mask, Tensor) else mask)
    expected = (inputs.shape[0], inputs.shape[time_axis])
    if value.ndim == 3 and value.shape[-1] == 1:
        value = value[..., 0]  # Keras also takes (batch, time, 1)
    if value.shape != expected:
        raise ValueError(
            f"{owner}: expected a mask of shape (batch, time) = {expected} for "
            f"inputs of shape {tuple(inputs.shape)}, got {value.shape}"
        )
    return value if value.dtype == np.bool_ else value != 0
