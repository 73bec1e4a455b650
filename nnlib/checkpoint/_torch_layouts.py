"""The layout conversions between PyTorch modules and nnlib layers.

``entries(layer)`` lists, for an nnlib layer, each variable's attribute, the
torch parameter names it comes from, and the two conversions;
``torch_units`` groups a ``state_dict``'s keys by module (and by layer and
direction within a recurrent module). ``torch_mapping`` pairs and loads.
"""

import re

import numpy as np

from ..layers import (
    batch_normalization,
    convolutional,
    core,
    embedding,
    normalization,
    recurrent,
)
from ..layers.recurrent import RNNBase
from .safetensors_io import to_numpy

__all__ = ["SUPPORTED", "entries", "nchw_to_nhwc_columns", "torch_units"]

SUPPORTED = (
    "Dense, Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, BatchNormalization, "
    "LayerNormalization, Embedding, SimpleRNN, LSTM, GRU (and Bidirectional ones)"
)
_UNIT_KEY = re.compile(r"^(\w+?)_l(\d+)(_reverse)?$")  # weight_ih_l0_reverse


def _same(a):
    return a


def _transposed(a):
    return a.T


def _to_hwio(w):  # (O, I, *spatial) -> (*spatial, I, O); also ConvTranspose's
    return w.transpose(*range(2, w.ndim), 1, 0)


def _to_oihw(k):
    return k.transpose(k.ndim - 1, k.ndim - 2, *range(k.ndim - 2))


def _gates_swapped(a):
    """Swaps the first two thirds of axis 0: torch's r, z, n <-> Keras's z, r, h."""
    if a.shape[0] % 3:
        return a  # a wrong shape: the shape check reports it
    r, z, n = np.split(a, 3)
    return np.concatenate([z, r, n])


def entries(layer):
    """``([(attribute, torch names, to nnlib, to torch)], ignored torch names)``
    for the layer's kind, or None for a kind without a mapping.

    ``to nnlib`` takes one array per torch name; ``to torch`` returns one (or a
    tuple, for several names).

    Examples:
        >>> from nnlib.checkpoint._torch_layouts import entries
        >>> dense = nnlib.layers.Dense(2)
        >>> [(attr, names) for attr, names, _, _ in entries(dense)[0]]
        [('kernel', ('weight',)), ('bias', ('bias',))]
    """
    if isinstance(layer, recurrent.GRU):
        if not layer.reset_after:
            raise ValueError(
                f"nnlib GRU '{layer.name}' has reset_after=False: torch.nn.GRU "
                "applies the reset gate after the recurrent matmul, so build it "
                "with GRU(..., reset_after=True)"
            )
        return [
            ("kernel", ("weight_ih",), _gru_kernel, _gru_weight),
            ("recurrent_kernel", ("weight_hh",), _gru_kernel, _gru_weight),
            ("bias", ("bias_ih", "bias_hh"), _gru_bias, _gru_biases),
        ], ()
    if isinstance(layer, RNNBase):  # LSTM: torch's i, f, g, o is Keras's i, f, c, o
        return [
            ("kernel", ("weight_ih",), _transposed, _transposed),
            ("recurrent_kernel", ("weight_hh",), _transposed, _transposed),
            ("bias", ("bias_ih", "bias_hh"), np.add, lambda b: (b, np.zeros_like(b))),
        ], ()
    if isinstance(layer, convolutional.DepthwiseConv2D):
        return [
            ("depthwise_kernel", ("weight",), _depthwise(layer), _depthwise_weight),
            ("bias", ("bias",), _same, _same),
        ], ()
    if isinstance(layer, convolutional._Conv):
        return [
            ("kernel", ("weight",), _to_hwio, _to_oihw),
            ("bias", ("bias",), _same, _same),
        ], ()
    if isinstance(layer, core.Dense):
        return [
            ("kernel", ("weight",), _transposed, _transposed),
            ("bias", ("bias",), _same, _same),
        ], ()
    if isinstance(layer, batch_normalization.BatchNormalization):
        return [
            ("gamma", ("weight",), _same, _same),
            ("beta", ("bias",), _same, _same),
            ("moving_mean", ("running_mean",), _same, _same),
            ("moving_variance", ("running_var",), _same, _same),
        ], ("num_batches_tracked",)
    if isinstance(layer, normalization.LayerNormalization):
        return [
            ("gamma", ("weight",), _same, _same),
            ("beta", ("bias",), _same, _same),
        ], ()
    if isinstance(layer, embedding.Embedding):
        return [("embeddings", ("weight",), _same, _same)], ()
    return None


def _depthwise(layer):
    def to_nnlib(w):  # (C * m, 1, H, W), output channel c * m + j -> (H, W, C, m)
        h, w_, c, m = layer.depthwise_kernel.shape
        if w.shape != (c * m, 1, h, w_):
            return _to_hwio(w)  # a wrong shape: the shape check reports it
        return w.reshape(c, m, h, w_).transpose(2, 3, 0, 1)

    return to_nnlib


def _depthwise_weight(k):
    return k.transpose(2, 3, 0, 1).reshape(-1, 1, *k.shape[:2])


def _gru_kernel(w):
    return _gates_swapped(w).T


def _gru_weight(k):
    return _gates_swapped(k.T)


def _gru_bias(bias_ih, bias_hh):
    return np.stack([_gates_swapped(bias_ih), _gates_swapped(bias_hh)])


def _gru_biases(b):
    return _gates_swapped(b[0]), _gates_swapped(b[1])


def nchw_to_nhwc_columns(weight, shape):
    """A Linear weight after a channels-first flatten, for nnlib's channels-last.

    Args:
        weight: The torch ``(out, C * H * W)`` weight of the Linear that follows
            ``nn.Flatten`` of a ``(C, H, W)`` feature map.
        shape: ``(C, H, W)``.

    Returns:
        The ``(out, H * W * C)`` weight to put in the state_dict instead, for a
        Dense after nnlib's ``Flatten`` of the ``(H, W, C)`` map.

    Examples:
        >>> from nnlib.checkpoint import nchw_to_nhwc_columns
        >>> w = np.arange(4.).reshape(1, 4)          # C=2, H=1, W=2
        >>> nchw_to_nhwc_columns(w, (2, 1, 2))
        array([[0., 2., 1., 3.]])
    """
    weight = to_numpy(weight)
    c, h, w = shape
    return weight.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(len(weight), -1)


def torch_units(keys):
    """``{module prefix: [(label, {local name: key})]}`` in order of appearance.

    Examples:
        >>> from nnlib.checkpoint._torch_layouts import torch_units
        >>> units = torch_units(["fc.weight", "rnn.weight_ih_l0", "rnn.bias_ih_l1"])
        >>> units["fc"]
        [('fc', {'weight': 'fc.weight'})]
        >>> [label for label, _ in units["rnn"]]
        ['rnn (l0)', 'rnn (l1)']
    """
    modules = {}
    for key in keys:
        prefix, _, name = key.rpartition(".")
        match = _UNIT_KEY.match(name)
        unit = (int(match[2]), bool(match[3])) if match else (-1, False)
        local = match[1] if match else name
        modules.setdefault(prefix, {}).setdefault(unit, {})[local] = key
    return {
        prefix: [(_label(prefix, unit), units[unit]) for unit in sorted(units)]
        for prefix, units in modules.items()
    }


def _label(prefix, unit):
    label = prefix or "<root>"
    if unit[0] >= 0:
        label += f" (l{unit[0]}{'_reverse' if unit[1] else ''})"
    return label
