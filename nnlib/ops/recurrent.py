"""Fused recurrent ops: a whole LSTM sequence recorded as one declared op.

Built from per-step ops, an LSTM records about fifteen small ops per time step,
and at the sizes recurrent layers run on a CPU (a batch of 64, 128 units) their
dispatch and taping cost as much as the arithmetic. These ops run the time loop
on numpy arrays and record once. The input projection (``x @ kernel`` for
every step) stays outside, one matmul for the whole sequence, so the ops
take it precomputed.

Gradient rules work in both modes of ``nnlib.ops.poly``: on numpy arrays (the
first-order fast path) they read the gate activations the forward pass
returned as hidden outputs; on Tensors (when an outer tape records the
backward pass) they recompute those activations with nnlib ops from the
inputs, so that the outer tape sees how they depend on the inputs and second
derivatives come out right. The mask is an input (not differentiable) that
forward and rule turn into their step masks.
"""

import numpy as np

from . import poly as _poly
from ._dispatch import Tensor, as_tensor
from .activations import sigmoid
from .declare import declare
from .joining import concat, split, stack, unstack
from .linalg import matmul
from .math import tanh
from .registry import Sample, register

__all__ = ["lstm"]


def _float_operands(op, *values):
    tensors = [None if v is None else as_tensor(v) for v in values]
    dtype = np.result_type(*[t.dtype for t in tensors if t is not None])
    if dtype.kind != "f":
        raise TypeError(f"{op}: operands must be floating point, got {dtype}")
    return tensors, dtype


def _check_shapes(op, gates, z, h, c, kernel, bias):
    """``(batch, time, units)`` after checking every operand's shape."""
    given = [t for t in (z, h, c, kernel, bias) if t is not None]
    ok = z.ndim == 3 and kernel.ndim == 2 and h.ndim == 2 and z.shape[1] > 0
    if ok:
        batch, time, width = z.shape
        units = kernel.shape[0]
        ok = width == gates * units and kernel.shape[1] == width
        ok = ok and h.shape == (batch, units) and (c is None or c.shape == h.shape)
        ok = ok and (bias is None or bias.shape == (width,))
    if not ok:
        state = "initial_h (b, u), initial_c (b, u)" if c is not None else "initial_h"
        raise ValueError(
            f"{op}: expected inputs (b, t, {gates}u) with t >= 1, {state}, "
            f"recurrent_kernel (u, {gates}u) and bias ({gates}u,) or None, got "
            f"shapes {', '.join(str(t.shape) for t in given)}"
        )
    return batch, time, units


def _mask_array(op, mask, batch, time):
    """``mask`` as a (batch, time) array, checked; None for no mask."""
    if mask is None:
        return None
    m = np.asarray(mask._value if isinstance(mask, Tensor) else mask)
    if m.shape != (batch, time):
        raise ValueError(
            f"{op}: expected a mask of shape (batch, time) = {(batch, time)}, "
            f"got {m.shape}"
        )
    return m


def _step_mask(mask, dtype):
    """``mask`` (batch, time), true where a step is read, as time-major
    ``(keep, skip)`` float arrays (time, batch, 1) and ``skip`` as booleans; or
    None for no mask. A skipped step carries every state over unchanged."""
    if mask is None:
        return None
    skip = (mask == 0).T[..., None]
    keep = (~skip).astype(dtype)
    return keep, 1.0 - keep, skip


def _dtype(*values):
    """The floating dtype the loop runs in: that of the operands together."""
    return np.result_type(*[v for v in values if v is not None])


def _block_vectors(gates, tanh_block, units, dtype):
    """Per-column scale and offset so that ``scale * tanh(scale * z) + offset`` is
    the sigmoid on sigmoid blocks (``0.5 tanh(z / 2) + 0.5``, stable for any z)
    and tanh on the ``tanh_block``: every gate activation in three array ops."""
    scale = np.full(gates * units, 0.5, dtype)
    offset = np.full(gates * units, 0.5, dtype)
    scale[tanh_block * units : (tanh_block + 1) * units] = 1.0
    offset[tanh_block * units : (tanh_block + 1) * units] = 0.0
    return scale, offset


def _unstack(v):
    """The time steps of ``v`` (batch, time, ...): ``unstack`` or array views."""
    if isinstance(v, Tensor):
        return unstack(v, axis=1)
    return [v[:, t] for t in range(v.shape[1])]


def _concat(values, out):
    """Gate blocks side by side: ``concat``, or ``np.concatenate`` into ``out``."""
    if isinstance(values[0], Tensor):
        return concat(values, axis=-1)
    return np.concatenate(values, axis=-1, out=out)


def _kernel_gradient(h_prev, dz, need):
    """The recurrent kernel's gradient, one matmul over every step."""
    if not need:
        return None
    b, t, u = h_prev.shape
    return _poly.matmul(
        _poly.reshape(h_prev, (b * t, u)),
        _poly.reshape(dz, (b * t, dz.shape[-1])),
        transpose_a=True,
    )


# Sample masks: skipped steps first, between and last, and a sequence whose
# every step is skipped (its states pass through untouched).
SAMPLE_MASKS = {
    (2, 3): np.array([[True, False, True], [False, True, False]]),
    (3, 4): np.array([[False, True, True, False], [True] * 4, [False] * 4]),
}


def _lstm_forward(z, h0, c0, kernel, bias, mask):
    dtype = _dtype(z, h0, c0, kernel, bias)
    (batch, time, width), units = z.shape, kernel.shape[0]
    steps_mask = _step_mask(mask, dtype)
    kv = kernel.astype(dtype, copy=False)
    scale, offset = _block_vectors(4, 2, units, dtype)
    seq = np.empty((batch, time, units), dtype)
    gates = np.empty((time, batch, width), dtype)  # activations, for the rule
    cells = np.empty((time + 1, batch, units), dtype)  # cells[t] is c before step t
    tanh_c = np.empty((time, batch, units), dtype)
    cells[0] = c0
    h = h0.astype(dtype, copy=False)
    for t in range(time):
        a = gates[t]
        np.dot(h, kv, out=a)
        a += z[:, t]
        if bias is not None:
            a += bias
        a *= scale
        np.tanh(a, out=a)
        a *= scale
        a += offset
        c = cells[t + 1]
        np.multiply(a[:, units : 2 * units], cells[t], out=c)
        c += a[:, :units] * a[:, 2 * units : 3 * units]
        np.tanh(c, out=tanh_c[t])
        h_prev, h = h, seq[:, t]
        np.multiply(a[:, 3 * units :], tanh_c[t], out=h)
        if steps_mask is not None:
            np.copyto(c, cells[t], where=steps_mask[2][t])
            np.copyto(h, h_prev, where=steps_mask[2][t])
    return seq, h.copy(), cells[time], gates, cells, tanh_c


# Inputs ``(z, h0, c0, kernel, bias, mask)``; ``(sequence, h, c)``, then hidden
# every step's gate activations, cell states (the first one included) and
# ``tanh`` of them, time-major.
LSTM = declare("lstm", _lstm_forward, outputs=3, hidden=3, prunes=True)


@LSTM.gradient
def _(g):
    (z, h0, c0, kernel, bias, mask), seq = g.inputs, g.outputs[0]
    steps_mask = _step_mask(mask, seq.dtype)
    if isinstance(g.dy[0], Tensor):
        steps = _lstm_recompute(z, h0, c0, kernel, bias, steps_mask)
        h_prev = stack([h0] + [s[-1] for s in steps[:-1]], axis=1)
    else:
        gates, cells, tanh_c = g.outputs[3:]
        steps = [
            (*np.split(gates[t], 4, axis=-1), cells[t], tanh_c[t])
            for t in range(len(gates))
        ]
        h_prev = np.concatenate([h0[:, None], seq[:, :-1]], axis=1)
        kernel = kernel.astype(seq.dtype, copy=False)
    return (*_lstm_rule(g.dy, steps, h_prev, kernel, g.needs, steps_mask), None)


def _lstm_sample(batch, time, units, bias, masked=False):
    def make(rng):
        args = [
            rng.uniform(-2, 2, (batch, time, 4 * units)),
            rng.uniform(-1, 1, (batch, units)),
            rng.uniform(-1, 1, (batch, units)),
            rng.uniform(-1, 1, (units, 4 * units)),
        ]
        kwargs = {"mask": SAMPLE_MASKS[batch, time]} if masked else {}
        return args + ([rng.uniform(-1, 1, 4 * units)] if bias else []), kwargs

    return Sample(make=make)


@register(
    _lstm_sample(2, 3, 2, bias=True),
    _lstm_sample(1, 2, 3, bias=False),
    _lstm_sample(2, 3, 2, bias=True, masked=True),
    _lstm_sample(3, 4, 2, bias=False, masked=True),
    second_order=True,
)
def lstm(inputs, initial_h, initial_c, recurrent_kernel, bias=None, mask=None):
    """Runs an LSTM over a sequence whose input projection is already computed.

    With the gates in Keras's order (input ``i``, forget ``f``, candidate ``g``,
    output ``o``), step ``t`` computes
    ``z = inputs[:, t] + h @ recurrent_kernel + bias``,
    ``i, f, o = sigmoid(z_i, z_f, z_o)``, ``g = tanh(z_g)``,
    ``c = f * c + i * g`` and ``h = o * tanh(c)``.

    Args:
        inputs: ``x @ kernel`` for every step, shape (batch, time, 4 * units).
        initial_h: The first hidden state, (batch, units).
        initial_c: The first cell state, (batch, units).
        recurrent_kernel: (units, 4 * units).
        bias: Optional (4 * units,); added here, it saves a pass over the
            projected inputs.
        mask: Optional (batch, time) booleans (or numbers, non-zero true),
            false at the steps to skip (padding): there ``h`` and ``c`` carry
            over unchanged, and the step's inputs get no gradient. Not
            differentiable.

    Returns:
        A tuple ``(sequence, h, c)``: every step's ``h`` (batch, time, units)
        (with a mask, the carried ``h`` at skipped steps), and the last hidden
        and cell states (batch, units).

    Raises:
        ValueError: If the shapes do not fit together (or there is no time
            step), naming them all.
        TypeError: If an operand is not floating point.

    Examples:
        >>> seq, h, c = nnlib.lstm(np.zeros((2, 5, 12)), np.zeros((2, 3)),
        ...                        np.zeros((2, 3)), np.zeros((3, 12)))
        >>> seq.shape, h.shape, float(c.numpy().sum())
        ((2, 5, 3), (2, 3), 0.0)
        >>> seq, h, c = nnlib.lstm(np.ones((1, 3, 4)), np.zeros((1, 1)),
        ...                        np.zeros((1, 1)), np.zeros((1, 4)),
        ...                        mask=[[True, True, False]])
        >>> bool(np.all(seq.numpy()[:, 2] == seq.numpy()[:, 1]))  # carried over
        True
    """
    operands, _ = _float_operands(
        "lstm", inputs, initial_h, initial_c, recurrent_kernel, bias
    )
    z, h0, c0, kernel, bias = operands
    batch, time, _ = _check_shapes("lstm", 4, z, h0, c0, kernel, bias)
    return LSTM(z, h0, c0, kernel, bias, _mask_array("lstm", mask, batch, time))


def _lstm_recompute(z, h0, c0, kernel, bias, steps_mask):
    """The forward again in nnlib ops: per step ``(i, f, g, o, c_prev, tanh c, h)``
    (``c_prev`` and ``h`` the carried states)."""
    h, c, steps = h0, c0, []
    for t, zt in enumerate(unstack(z, axis=1)):
        zt = zt + matmul(h, kernel)
        zi, zf, zg, zo = split(zt if bias is None else zt + bias, 4, axis=-1)
        i, f, g, o = sigmoid(zi), sigmoid(zf), tanh(zg), sigmoid(zo)
        c_prev, c = c, f * c + i * g
        tc = tanh(c)
        h_new = o * tc
        if steps_mask is None:
            h = h_new
        else:
            keep, skip = steps_mask[0][t], steps_mask[1][t]
            h, c = h_new * keep + h * skip, c * keep + c_prev * skip
        steps.append((i, f, g, o, c_prev, tc, h))
    return steps


def _lstm_rule(dys, steps, h_prev, kernel, need, steps_mask=None):
    """Backpropagation through time, written for arrays and Tensors alike.

    At a skipped step (``steps_mask``) the gradients of ``h`` and ``c`` pass to
    the step before unchanged, and none reaches the step's gates."""
    dseq, dh, dc = dys
    dseq = _unstack(dseq)
    time = len(steps)
    # Arrays go straight into their place in the result; Tensors are stacked.
    raw = not isinstance(dh, Tensor)
    dz_all = np.empty(h_prev.shape[:2] + kernel.shape[1:], dh.dtype) if raw else None
    dzs = [None] * time
    for t in reversed(range(time)):
        i, f, g, o, c_prev, tc = steps[t][:6]
        dh = dh + dseq[t]
        if steps_mask is not None:
            keep, skip = steps_mask[0][t], steps_mask[1][t]
            dh_carried, dc_carried = dh * skip, dc * skip
            dh, dc = dh * keep, dc * keep
        dct = dc + dh * o * (1.0 - tc * tc)
        parts = [
            dct * g * i * (1.0 - i),
            dct * c_prev * f * (1.0 - f),
            dct * i * (1.0 - g * g),
            dh * tc * o * (1.0 - o),
        ]
        dzs[t] = dz = _concat(parts, dz_all[:, t] if raw else None)
        dc = dct * f
        if t or need[1]:
            dh = _poly.matmul(dz, kernel, transpose_b=True)
        if steps_mask is not None:
            dh, dc = dh + dh_carried, dc + dc_carried
    dz = dz_all if raw else stack(dzs, axis=1)
    return (
        dz if need[0] else None,
        dh if need[1] else None,
        dc if need[2] else None,
        _kernel_gradient(h_prev, dz, need[3]),
        _poly.reduce_sum(dz, axis=(0, 1)) if need[4] else None,
    )
