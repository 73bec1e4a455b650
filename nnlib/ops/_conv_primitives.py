"""The three bilinear primitives every convolution op reduces to, recorded.

On channels-last images: the convolution (``conv``), its adjoint in the input
(``conv_input``: the input gradient, which is also the transposed convolution)
and its adjoint in the kernel (``conv_kernel``: the kernel gradient). Each one's
gradient is written with the other two, so gradients of any order come out of
the same three numpy kernels of ``_conv_kernels.py``. ``nnlib.ops.convolution``
declares the public ops on top of them.
"""

import collections

from ..engine.tape import needs_gradient
from . import _conv_kernels as _kern
from . import poly as _poly
from ._dispatch import ACTIVE, Tensor, as_tensor, record, wrap

# ``name`` is the kind of convolution, "conv2d" or "depthwise_conv2d"; the three
# primitives record as it, its "_backprop_input" and its "_backprop_kernel" (TF's
# names; conv2d_transpose is conv2d_backprop_input).
Spec = collections.namedtuple("Spec", "win depthwise name")

# A forward pass keeps its im2col matrix for the kernel gradient when it is at
# most this big: recomputing it costs up to ~8% of a 3x3 convolution's backward pass.
KEEP_COLS_BYTES = 32 << 20


def conv(x, w, spec):
    """The convolution of NHWC ``x`` with ``w``, recorded (arrays in, arrays out)."""
    if not isinstance(x, Tensor) and not isinstance(w, Tensor):
        return _kern.conv(x, w, spec.win, spec.depthwise)
    x, w = as_tensor(x), as_tensor(w)
    if not ACTIVE:
        return wrap(_kern.conv(x._value, w._value, spec.win, spec.depthwise))
    need_x, need_w = needs_gradient(x), needs_gradient(w)
    y, cols = _kern.conv(x._value, w._value, spec.win, spec.depthwise, keep_cols=True)
    y = wrap(y)
    x_shape, w_shape = x.shape, w.shape
    keep_x, keep_w = (x if need_w else None), (w if need_x else None)
    cols = (
        cols if need_w and cols is not None and cols.nbytes <= KEEP_COLS_BYTES else None
    )

    def backward(dy):
        sx, sw = _poly.saved(dy, keep_x, keep_w)
        if need_x and need_w and not isinstance(dy, Tensor) and not spec.depthwise:
            dy = _kern.prepared(dy, x_shape[3])
        return (
            conv_input(dy, sw, spec, x_shape) if need_x else None,
            conv_kernel(sx, dy, spec, w_shape, cols) if need_w else None,
        )

    record(spec.name, (x, w), y, backward, raw=True)
    return y


def conv_input(dy, w, spec, x_shape):
    """The input gradient of ``conv`` (a transposed convolution), recorded."""
    if not isinstance(dy, Tensor) and not isinstance(w, Tensor):
        return _kern.conv_input(dy, w, spec.win, x_shape, spec.depthwise)
    dy, w = as_tensor(dy), as_tensor(w)
    dx = wrap(_kern.conv_input(dy._value, w._value, spec.win, x_shape, spec.depthwise))
    if ACTIVE:
        need_dy, need_w = needs_gradient(dy), needs_gradient(w)
        w_shape = w.shape
        keep_dy, keep_w = (dy if need_w else None), (w if need_dy else None)

        def backward(g):
            sdy, sw = _poly.saved(g, keep_dy, keep_w)
            return (
                conv(g, sw, spec) if need_dy else None,
                conv_kernel(g, sdy, spec, w_shape) if need_w else None,
            )

        record(spec.name + "_backprop_input", (dy, w), dx, backward, raw=True)
    return dx


def conv_kernel(x, dy, spec, w_shape, cols=None):
    """The kernel gradient of ``conv``, recorded; ``cols``: ``x``'s im2col."""
    if not isinstance(x, Tensor) and not isinstance(dy, Tensor):
        return _kern.conv_kernel(x, dy, spec.win, w_shape, spec.depthwise, cols)
    x, dy = as_tensor(x), as_tensor(dy)
    dw = _kern.conv_kernel(x._value, dy._value, spec.win, w_shape, spec.depthwise, cols)
    dw = wrap(dw)
    if ACTIVE:
        need_x, need_dy = needs_gradient(x), needs_gradient(dy)
        x_shape = x.shape
        keep_x, keep_dy = (x if need_dy else None), (dy if need_x else None)

        def backward(g):
            sx, sdy = _poly.saved(g, keep_x, keep_dy)
            return (
                conv_input(sdy, g, spec, x_shape) if need_x else None,
                conv(sx, g, spec) if need_dy else None,
            )

        record(spec.name + "_backprop_kernel", (x, dy), dw, backward, raw=True)
    return dw
