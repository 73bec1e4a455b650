"""The fused GRU op: a whole GRU sequence recorded as one declared op.

Like ``nnlib.lstm`` (see ``recurrent.py`` for why), the time loop runs on numpy
arrays and records once; the input projection ``x @ kernel + input_bias``
stays outside as one matmul for every step. The gradient rule works on numpy
arrays (first order, reading the activations the forward returned as hidden
outputs) and on Tensors (recomputing the forward with nnlib ops, so second
derivatives are right).
"""

import numpy as np

from ..engine.tape import needs_gradient
from . import poly as _poly
from ._dispatch import ACTIVE, Tensor
from .activations import sigmoid
from .declare import declare
from .joining import split, stack, unstack
from .linalg import matmul
from .math import tanh
from .recurrent import (
    SAMPLE_MASKS,
    _check_shapes,
    _concat,
    _dtype,
    _float_operands,
    _kernel_gradient,
    _mask_array,
    _step_mask,
    _unstack,
)
from .registry import Sample, register

__all__ = ["gru"]


def _gru_sample(batch, time, units, bias, reset_after, masked=False):
    def make(rng):
        args = [
            rng.uniform(-2, 2, (batch, time, 3 * units)),
            rng.uniform(-1, 1, (batch, units)),
            rng.uniform(-1, 1, (units, 3 * units)),
        ]
        args += [rng.uniform(-1, 1, 3 * units)] if bias else []
        kwargs = {"reset_after": reset_after}
        if masked:
            kwargs["mask"] = SAMPLE_MASKS[batch, time]
        return args, kwargs

    return Sample(make=make)


@register(
    _gru_sample(2, 3, 2, bias=True, reset_after=True),
    _gru_sample(2, 3, 2, bias=True, reset_after=False),
    _gru_sample(1, 2, 3, bias=False, reset_after=True),
    _gru_sample(1, 2, 3, bias=False, reset_after=False),
    _gru_sample(2, 3, 2, bias=True, reset_after=True, masked=True),
    _gru_sample(3, 4, 2, bias=True, reset_after=False, masked=True),
    second_order=True,
)
def gru(
    inputs,
    initial_h,
    recurrent_kernel,
    recurrent_bias=None,
    reset_after=True,
    input_bias=None,
    mask=None,
):
    """Runs a GRU over a sequence whose input projection is already computed.

    With the gates in Keras's order (update ``z``, reset ``r``, candidate
    ``hh``), ``inputs[:, t] + input_bias`` split into ``x_z, x_r, x_h``, ``U``
    the recurrent kernel and ``b`` the recurrent bias (zero when None), step
    ``t`` computes::

        reset_after=True (Keras's default, PyTorch's nn.GRU)
            m_z, m_r, m_h = h @ U + b
            z = sigmoid(x_z + m_z), r = sigmoid(x_r + m_r)
            hh = tanh(x_h + r * m_h)
        reset_after=False (b is added like an input bias)
            z = sigmoid(x_z + h @ U_z + b_z), r likewise
            hh = tanh(x_h + (r * h) @ U_h + b_h)
        h = z * h + (1 - z) * hh

    Args:
        inputs: ``x @ kernel`` for every step, shape (batch, time, 3 * units),
            with or without the input bias.
        initial_h: The first hidden state, (batch, units).
        recurrent_kernel: ``U`` (units, 3 * units).
        recurrent_bias: Optional (3 * units,): Keras's second bias row with
            ``reset_after``.
        reset_after: Apply the reset gate after the recurrent matmul (above).
        input_bias: Optional (3 * units,), added to ``inputs`` here (it saves
            a pass over them): Keras's first bias row with ``reset_after``,
            its only bias without.
        mask: Optional (batch, time) booleans, false at the steps to skip
            (padding): there ``h`` carries over unchanged and the step's
            inputs get no gradient. Not differentiable.

    Returns:
        A tuple ``(sequence, h)``: every step's ``h`` (batch, time, units)
        (with a mask, the carried ``h`` at skipped steps) and the last one
        (batch, units).

    Raises:
        ValueError: If the shapes do not fit together (or there is no time
            step), naming them all.
        TypeError: If an operand is not floating point.

    Examples:
        >>> seq, h = nnlib.gru(np.zeros((2, 5, 9)), np.ones((2, 3)),
        ...                    np.zeros((3, 9)))
        >>> seq.shape, h.numpy()[0]  # z = 0.5, hh = 0: h halves every step
        ((2, 5, 3), array([0.03125, 0.03125, 0.03125]))
    """
    operands, _ = _float_operands(
        "gru", inputs, initial_h, recurrent_kernel, recurrent_bias, input_bias
    )
    x, h0, kernel, bias, in_bias = operands
    batch, time, units = _check_shapes("gru", 3, x, h0, None, kernel, bias)
    if in_bias is not None and in_bias.shape != (3 * units,):
        raise ValueError(
            f"gru: expected input_bias ({3 * units},) for inputs {x.shape}, "
            f"got shape {in_bias.shape}"
        )
    mask = _mask_array("gru", mask, batch, time)
    keep = bool(ACTIVE) and any(needs_gradient(v) for v in operands)
    return GRU(
        x, h0, kernel, bias, in_bias, mask, reset_after=bool(reset_after), keep=keep
    )


def _gru_forward(x, h0, kernel, bias, in_bias, mask, reset_after, keep):
    """The loop; ``keep``: keep every step's activations for the gradient rule
    (else they are scratch, and the hidden outputs hold one step or nothing)."""
    dtype = _dtype(x, h0, kernel, bias, in_bias)
    (batch, time, _), units = x.shape, kernel.shape[0]
    steps_mask = _step_mask(mask, dtype)
    u2 = 2 * units
    kv = kernel.astype(dtype, copy=False)
    b_zr, b_in, b_rec = _bias_parts(bias, in_bias, reset_after, u2, dtype)
    seq = np.empty((batch, time, units), dtype)
    # z, r, hh (and m_h) of every step for the gradient rule, else scratch
    acts = np.empty((time if keep else 1, batch, 3 * units), dtype)
    kept_mh = _NOTHING
    if reset_after:
        m = np.empty((batch, 3 * units), dtype)  # np.dot writes only contiguous
        if keep:
            kept_mh = np.empty((time, batch, units), dtype)
    else:
        kzr, kh = _kernel_blocks(kv, u2)
        mzr, mh = np.empty((batch, u2), dtype), np.empty((batch, units), dtype)
        rh = np.empty((batch, units), dtype)
    h = h0.astype(dtype, copy=False)
    for t in range(time):
        a, xt = acts[t if keep else 0], x[:, t]
        zr, r, hh = a[:, :u2], a[:, units:u2], a[:, u2:]
        if reset_after:
            np.dot(h, kv, out=m)
            mh = m[:, u2:]
            if b_rec is not None:
                mh += b_rec
            np.add(xt[:, :u2], m[:, :u2], out=zr)
        else:
            np.dot(h, kzr, out=mzr)
            np.add(xt[:, :u2], mzr, out=zr)
        if b_zr is not None:
            zr += b_zr
        # sigmoid(v) = 0.5 tanh(v / 2) + 0.5, stable for any v
        zr *= 0.5
        np.tanh(zr, out=zr)
        zr *= 0.5
        zr += 0.5
        if reset_after:
            np.multiply(r, mh, out=hh)
            hh += xt[:, u2:]
            if keep:
                kept_mh[t] = mh
        else:
            np.multiply(r, h, out=rh)
            np.dot(rh, kh, out=mh)
            np.add(mh, xt[:, u2:], out=hh)
        if b_in is not None:
            hh += b_in
        np.tanh(hh, out=hh)
        h_new = seq[:, t]
        np.subtract(h, hh, out=h_new)
        h_new *= a[:, :units]
        h_new += hh
        if steps_mask is not None:
            np.copyto(h_new, h, where=steps_mask[2][t])
        h = h_new
    return seq, h.copy(), acts, kept_mh


# A hidden output the forward did not keep.
_NOTHING = np.empty((0,), np.float32)
_NOTHING.flags.writeable = False

# Inputs ``(x, h0, kernel, bias, in_bias, mask)``; ``(sequence, h)``, then
# hidden every step's ``z, r, hh`` (time, batch, 3 * units) and, with
# ``reset_after``, ``m_h`` (time, batch, units).
GRU = declare("gru", _gru_forward, outputs=2, hidden=2, prunes=True)


@GRU.gradient
def _(g):
    (x, h0, kernel, bias, in_bias, mask), seq = g.inputs, g.outputs[0]
    reset_after, need = g.attrs["reset_after"], g.needs
    steps_mask = _step_mask(mask, seq.dtype)
    if isinstance(g.dy[0], Tensor):
        forward = _gru_recompute(x, h0, kernel, bias, in_bias, reset_after, steps_mask)
        weights = kernel
    else:
        acts, kept_mh = g.outputs[2:]
        units, u2 = seq.shape[2], 2 * seq.shape[2]
        h_prev = np.concatenate([h0[:, None], seq[:, :-1]], axis=1)
        blocks = acts.transpose(1, 0, 2)  # batch-major views, like seq
        z, r, hh = blocks[..., :units], blocks[..., units:u2], blocks[..., u2:]
        kv = kernel.astype(seq.dtype, copy=False)
        if reset_after:
            mh, weights = kept_mh.transpose(1, 0, 2), kv
        else:
            mh, weights = None, _kernel_blocks(kv, u2)
        forward = (z, r, hh, h_prev, mh)
    return (*_gru_rule(g.dy, forward, weights, reset_after, need, steps_mask), None)


def _kernel_blocks(kernel, u2):
    """``(U_zr, U_h)``, contiguous: the products of every step read them."""
    return np.ascontiguousarray(kernel[:, :u2]), np.ascontiguousarray(kernel[:, u2:])


def _bias_parts(bias, in_bias, reset_after, u2, dtype):
    """The biases as the loop adds them: to the ``z, r`` pre-activations, to
    the candidate's, and (with ``reset_after``) to ``m_h`` inside the reset."""
    b_rec, b_in = [
        None if v is None else v.astype(dtype, copy=False) for v in (bias, in_bias)
    ]
    if not reset_after:
        b_in, b_rec = _add(b_in, b_rec), None

    def cut(v, part):
        return None if v is None else v[part]

    head, tail = slice(None, u2), slice(u2, None)
    return _add(cut(b_in, head), cut(b_rec, head)), cut(b_in, tail), cut(b_rec, tail)


def _add(a, b):
    return a if b is None else b if a is None else a + b


def _gru_recompute(x, h0, kernel, bias, in_bias, reset_after, steps_mask=None):
    """The forward again in nnlib ops: ``z, r, hh``, ``h`` before every step and
    (with ``reset_after``) ``m_h``, each stacked to (batch, time, units)."""
    units = h0.shape[-1]
    h, values = h0, []
    if not reset_after:
        kzr, kh = kernel[:, : 2 * units], kernel[:, 2 * units :]
    if in_bias is not None:
        x = x + in_bias
    if not reset_after and bias is not None:
        x = x + bias
    for t, xt in enumerate(unstack(x, axis=1)):
        xz, xr, xh = split(xt, 3, axis=-1)
        if reset_after:
            m = matmul(h, kernel)
            mz, mr, mh = split(m if bias is None else m + bias, 3, axis=-1)
            z, r = sigmoid(xz + mz), sigmoid(xr + mr)
            hh = tanh(xh + r * mh)
        else:
            mz, mr = split(matmul(h, kzr), 2, axis=-1)
            z, r = sigmoid(xz + mz), sigmoid(xr + mr)
            hh, mh = tanh(xh + matmul(r * h, kh)), None
        values.append((z, r, hh, h, mh))
        h_new = z * h + (1.0 - z) * hh
        if steps_mask is None:
            h = h_new
        else:
            h = h_new * steps_mask[0][t] + h * steps_mask[1][t]
    return [None if v[0] is None else stack(v, axis=1) for v in zip(*values)]


def _gru_rule(dys, forward, kernel, reset_after, need, steps_mask=None):
    """Backpropagation through time, written for arrays and Tensors alike.

    ``forward`` holds ``z, r, hh``, ``h`` before every step and ``m_h`` (None
    without ``reset_after``), each (batch, time, units). ``kernel`` is ``U``
    with ``reset_after``; without it ``(U_zr, U_h)`` as arrays, or ``U`` as a
    Tensor (sliced here). At a skipped step (``steps_mask``) the gradient of
    ``h`` passes to the step before unchanged.
    """
    dseq, dh = dys
    z, r, hh, h_prev, mh = forward
    batch, time, units = h_prev.shape
    raw = not isinstance(dh, Tensor)
    if not reset_after and not raw:
        kernel = (kernel[:, : 2 * units], kernel[:, 2 * units :])
    # What the loop multiplies dh by, for every step at once: far fewer (and
    # larger) array operations than computing them step by step.
    dhh_dh = _unstack((1.0 - z) * (1.0 - hh * hh))
    dz_dh = _unstack((h_prev - hh) * z * (1.0 - z))
    dr_dm = _unstack(r * (1.0 - r) * (mh if reset_after else h_prev))
    dseq, zs, rs = _unstack(dseq), _unstack(z), _unstack(r)
    # Arrays go straight into their place in the result; Tensors are stacked.
    out = np.empty((batch, time, 3 * units), dh.dtype) if raw else None
    scratch = np.empty((batch, 3 * units), dh.dtype) if raw else None
    dxs = [None] * time
    for t in reversed(range(time)):
        dh = dh + dseq[t]
        if steps_mask is not None:
            dh_carried, dh = dh * steps_mask[1][t], dh * steps_mask[0][t]
        dah = dh * dhh_dh[t]
        daz = dh * dz_dh[t]
        if reset_after:
            dar = dah * dr_dm[t]
            dxs[t] = _concat([daz, dar, dah], out[:, t] if raw else None)
            if t or need[1]:
                # the gradient of h @ U + b, whose h block r scales
                dm = _concat([daz, dar, dah * rs[t]], scratch)
                dh = dh * zs[t] + _poly.matmul(dm, kernel, transpose_b=True)
        else:
            drh = _poly.matmul(dah, kernel[1], transpose_b=True)
            parts = [daz, drh * dr_dm[t], dah]
            dxs[t] = dx = _concat(parts, out[:, t] if raw else None)
            if t or need[1]:
                dzr = _poly.matmul(dx[:, : 2 * units], kernel[0], transpose_b=True)
                dh = dh * zs[t] + drh * rs[t] + dzr
        if steps_mask is not None:
            dh = dh + dh_carried
    dx = out if raw else stack(dxs, axis=1)
    u2 = 2 * units
    dx_zr, dx_h = dx[..., :u2], dx[..., u2:]
    # The recurrent weights' gradients: the h block pairs h with dx_h * r
    # (reset after the matmul) or r * h with dx_h (before).
    if reset_after and (need[2] or need[3]):
        h_pair, dm_h = h_prev, dx_h * r
    elif need[2]:
        h_pair, dm_h = r * h_prev, dx_h
    dkernel = dbias = None
    if need[2]:
        dkernel = _concat(
            [
                _kernel_gradient(h_prev, dx_zr, True),
                _kernel_gradient(h_pair, dm_h, True),
            ],
            None,
        )
    if need[3] and reset_after:
        parts = [_poly.reduce_sum(v, axis=(0, 1)) for v in (dx_zr, dm_h)]
        dbias = _concat(parts, None)
    elif need[3]:
        dbias = _poly.reduce_sum(dx, axis=(0, 1))
    return (
        dx if need[0] else None,
        dh if need[1] else None,
        dkernel,
        dbias,
        _poly.reduce_sum(dx, axis=(0, 1)) if need[4] else None,
    )
