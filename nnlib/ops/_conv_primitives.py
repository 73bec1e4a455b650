"""The three bilinear primitives every convolution op reduces to, declared.

On channels-last images: the convolution (``conv``), its adjoint in the input
(``conv_input``: the input gradient, which is also the transposed convolution)
and its adjoint in the kernel (``conv_kernel``: the kernel gradient). Each one's
gradient is written with the other two, so gradients of any order come out of
the same three numpy kernels of ``_conv_kernels.py``. ``nnlib.ops.convolution``
declares the public ops on top of them.

Each primitive is declared twice, for full and depthwise kernels, under TF's
names: "conv2d", "conv2d_backprop_input" and "conv2d_backprop_kernel" (and
"depthwise_conv2d..."); conv2d_transpose is conv2d_backprop_input. The window
(``_windows.Window``: kernel, strides, dilation, pads, both sizes) is an
attribute of each, and the adjoints also take the shape they map back to.
"""

import collections

import numpy as np

from ..engine.tape import needs_gradient
from . import _conv_kernels as _kern
from ._dispatch import ACTIVE, Tensor
from .declare import declare

# ``win`` is the ``_windows.Window``; ``depthwise`` picks the kind of kernel.
Spec = collections.namedtuple("Spec", "win depthwise")

# A forward pass keeps its im2col matrix for the kernel gradient when it is at
# most this big: recomputing it costs up to ~8% of a 3x3 convolution's backward pass.
KEEP_COLS_BYTES = 32 << 20

# The hidden output of a convolution that keeps no im2col matrix.
_NO_COLS = np.empty((0, 0), np.float32)
_NO_COLS.flags.writeable = False


def conv(x, w, spec):
    """The convolution of NHWC ``x`` with ``w``: arrays in the first-order fast
    path, else the recorded op (which keeps ``x``'s im2col matrix as a hidden
    output when a tape will want the kernel's gradient)."""
    if not isinstance(x, Tensor) and not isinstance(w, Tensor):
        return _kern.conv(x, w, spec.win, spec.depthwise)
    keep = bool(ACTIVE) and not spec.depthwise and needs_gradient(w)
    return _OPS[spec.depthwise][0](x, w, win=spec.win, keep_cols=keep)


def conv_input(dy, w, spec, x_shape):
    """The input gradient of ``conv`` (a transposed convolution)."""
    if not isinstance(dy, Tensor) and not isinstance(w, Tensor):
        return _kern.conv_input(dy, w, spec.win, x_shape, spec.depthwise)
    return _OPS[spec.depthwise][1](dy, w, win=spec.win, input_shape=tuple(x_shape))


def conv_kernel(x, dy, spec, w_shape, cols=None):
    """The kernel gradient of ``conv``; ``cols``: ``x``'s im2col (arrays only)."""
    if not isinstance(x, Tensor) and not isinstance(dy, Tensor):
        return _kern.conv_kernel(x, dy, spec.win, w_shape, spec.depthwise, cols)
    return _OPS[spec.depthwise][2](x, dy, win=spec.win, kernel_shape=tuple(w_shape))


def _declare(name, depthwise):
    """The three primitives for one kind of kernel, with their gradient rules."""

    def conv_forward(x, w, win, keep_cols=False):
        if not keep_cols:
            return _kern.conv(x, w, win, depthwise), _NO_COLS
        y, cols = _kern.conv(x, w, win, depthwise, keep_cols=True)
        if cols is None or cols.nbytes > KEEP_COLS_BYTES:
            cols = _NO_COLS
        return y, cols

    def input_forward(dy, w, win, input_shape):
        return _kern.conv_input(dy, w, win, input_shape, depthwise)

    def kernel_forward(x, dy, win, kernel_shape):
        return _kern.conv_kernel(x, dy, win, kernel_shape, depthwise)

    opts = {"saves": "x", "prunes": True}
    conv_op = declare(name, conv_forward, hidden=1, **opts)
    input_op = declare(name + "_backprop_input", input_forward, **opts)
    kernel_op = declare(name + "_backprop_kernel", kernel_forward, **opts)

    @conv_op.gradient
    def _(g):
        (x, w), dy, (need_x, need_w) = g.inputs, g.dy, g.needs
        spec, cols = Spec(g.attrs["win"], depthwise), g.outputs[1]
        raw = not isinstance(dy, Tensor)
        if need_x and need_w and raw and not depthwise:
            dy = _kern.prepared(dy, x.shape[3])
        return (
            conv_input(dy, w, spec, x.shape) if need_x else None,
            conv_kernel(x, dy, spec, w.shape, cols if raw and cols.size else None)
            if need_w
            else None,
        )

    @input_op.gradient
    def _(g):
        (dy, w), (need_dy, need_w) = g.inputs, g.needs
        spec = Spec(g.attrs["win"], depthwise)
        return (
            conv(g.dy, w, spec) if need_dy else None,
            conv_kernel(g.dy, dy, spec, w.shape) if need_w else None,
        )

    @kernel_op.gradient
    def _(g):
        (x, dy), (need_x, need_dy) = g.inputs, g.needs
        spec = Spec(g.attrs["win"], depthwise)
        return (
            conv_input(dy, g.dy, spec, x.shape) if need_x else None,
            conv(x, g.dy, spec) if need_dy else None,
        )

    return conv_op, input_op, kernel_op


# By ``depthwise``: (conv, conv_input, conv_kernel).
_OPS = (_declare("conv2d", False), _declare("depthwise_conv2d", True))
