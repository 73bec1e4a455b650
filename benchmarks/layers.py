"""Layer forward + backward times of nnlib against hand-written numpy and PyTorch.

What is measured, in milliseconds per call (float32, CPU, the minimum over
repeats), each time the forward pass of one layer and the gradients with respect
to its input and all its variables for a fixed random upstream gradient ``dy``:

* ``conv1``: ``Conv2D(32, 3)`` (valid padding, bias) on a batch of 64 28x28x1;
* ``conv2``: ``Conv2D(64, 3)`` on 64 13x13x32;
* ``maxpool``: ``MaxPooling2D(2)`` on (64, 26, 26, 32);
* ``batchnorm``: ``BatchNormalization()`` in training mode on (64, 13, 13, 32)
  (batch statistics, the moving averages updated);
* ``lstm``: ``LSTM(128, return_sequences=True)`` over 32 steps of a batch of 64
  with 64 input features (so ``dy`` covers every step's output);

and one training step of a LeNet-style CNN (conv32 3x3 relu, maxpool 2, conv64 3x3
relu, maxpool 2, flatten, dense128 relu, dense10; batch 64 of 28x28x1, mean
sparse softmax cross-entropy, SGD with learning rate 0.01), for

- ``numpy``: a hand-written reference of the same computation: convolution by
  im2col on ``sliding_window_view`` plus matrix products (the input gradient
  through the transposed matrix product and one strided add per kernel tap),
  pooling by a reshape into windows (the gradient routed by an equality mask),
  closed-form batch normalization, and an LSTM forward over time with BPTT;
- ``nnlib``: the layers (``nnlib.layers.Conv2D`` ...) called on a watched tensor
  inside a ``GradientTape`` and ``tape.gradient(y, [x, *variables],
  output_gradients=dy)``; the LeNet step is a ``Sequential`` model through
  ``implicit_value_and_gradients`` and ``var.assign_sub``;
- ``torch NCHW`` and ``torch CL``: PyTorch modules on contiguous NCHW tensors and
  on ``channels_last`` tensors (modules and ``dy`` converted as well, outside the
  timing); ``.backward(dy)`` and the gradients reset to None after every call
  (``optimizer.zero_grad()`` for the LeNet step, which uses ``torch.optim.SGD``).
  The LSTM has one torch column (``nn.LSTM(batch_first=True)``).

The ratio columns and the targets compare nnlib with the faster of the two torch
layouts ("torch best"), the harder comparison. Before timing, every nnlib result
(output, input gradient, variable gradients; for LeNet the loss and all eight
gradients) is checked against the numpy reference with the same weights (max
absolute error at most 1e-3 of the reference's largest magnitude), and torch's
likewise, so that the three compute the same thing; a disagreement is listed as a
failed target and timing goes on.

The targets of the layers issue: each convolution and the pooling no slower than
the numpy reference and at most 1.2x torch; the LSTM at most 1.5x torch. They
print PASS or FAIL (SKIP without torch, or without ``nnlib.layers.LSTM``) and the
script always exits 0: this is a benchmark, not a test. The peak memory of one
LeNet step (``tracemalloc``: the largest total of bytes allocated during the step
and alive at once, numpy's arrays included) is printed for nnlib and numpy;
tracemalloc does not see PyTorch's allocator.

Threads, timing and the header follow ``ops_overhead.py`` (whose timing code this
script reuses): single-threaded by default (``--threads``), the minimum of
``--repeat`` runs of about ``--min-time`` seconds taken in turns, gc off while
timing unless ``--gc``, ``OPENBLAS_CORETYPE`` printed as found.

PyTorch is optional (the import is guarded): ``pip install torch==2.13.0``.

Run, from the repository root::

    python3 benchmarks/layers.py              # full run, about 30 s
    python3 benchmarks/layers.py --quick      # about 4 s, rougher
    python3 benchmarks/layers.py --json out.json
"""

import argparse
import gc
import json
import os
import platform
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Timing and thread setup shared with ops_overhead.py (it imports no numpy yet).
from ops_overhead import (
    Candidate,
    import_libraries,
    make_timer,
    measure,
    set_threads,
)

CASES = ("conv1", "conv2", "maxpool", "batchnorm", "lstm", "lenet")
COLUMNS = ("numpy", "nnlib", "torch NCHW", "torch CL")
LABELS = {
    "conv1": "Conv2D(32,3x3) 64x28x28x1",
    "conv2": "Conv2D(64,3x3) 64x13x13x32",
    "maxpool": "MaxPooling2D(2) 64x26x26x32",
    "batchnorm": "BatchNorm train 64x13x13x32",
    "lstm": "LSTM(128) 64x32 steps x64 in",
    "lenet": "LeNet training step, batch 64",
}
# The goals: (case, limit on nnlib/numpy or None, limit on nnlib/torch).
TARGETS = (
    ("conv1", 1.0, 1.2),
    ("conv2", 1.0, 1.2),
    ("maxpool", 1.0, 1.2),
    ("lstm", None, 1.5),
)
TOLERANCE = 1e-3
LEARNING_RATE = 0.01
BATCH, LSTM_STEPS, LSTM_FEATURES, LSTM_UNITS = 64, 32, 64, 128


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for numpy's BLAS and for torch (default 1)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shorter, rougher figures (3 repeats of about 10 ms)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="repeats per figure, the minimum is reported (default 10)",
    )
    parser.add_argument(
        "--min-time", type=float, default=None, help="seconds per repeat (default 0.1)"
    )
    parser.add_argument(
        "--gc", action="store_true", help="keep the garbage collector on while timing"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.quick else 10
    if args.min_time is None:
        args.min_time = 0.01 if args.quick else 0.1
    return args


# -- the numpy reference ------------------------------------------------------------


class Reference:
    """Hand-written numpy forward and backward passes (NHWC, Keras weight layouts)."""

    def __init__(self, np):
        self.np = np

    def im2col(self, x, kh, kw):
        """``(N*OH*OW, KH*KW*C)`` patches of NHWC ``x`` (rows match the kernel's)."""
        view = self.np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
        n, oh, ow, c = view.shape[:4]
        # (N, OH, OW, C, KH, KW) -> (N, OH, OW, KH, KW, C): C innermost copies fastest.
        cols = self.np.ascontiguousarray(view.transpose(0, 1, 2, 4, 5, 3))
        return cols.reshape(n * oh * ow, kh * kw * c)

    def conv(self, x, w, b):
        """Valid, stride-1 convolution: ``(y, cols)``."""
        kh, kw, _, f = w.shape
        n, h, wd, _ = x.shape
        cols = self.im2col(x, kh, kw)
        y = cols @ w.reshape(-1, f)
        y += b
        return y.reshape(n, h - kh + 1, wd - kw + 1, f), cols

    def conv_backward(self, dy, w, cols, x_shape, need_input=True):
        """``(dx or None, dw, db)`` of ``conv``."""
        kh, kw, c, f = w.shape
        n, oh, ow, _ = dy.shape
        dy2 = dy.reshape(-1, f)
        dw = (cols.T @ dy2).reshape(w.shape)
        db = dy2.sum(axis=0)
        dx = None
        if need_input:
            dcols = (dy2 @ w.reshape(-1, f).T).reshape(n, oh, ow, kh, kw, c)
            dx = self.np.zeros(x_shape, dy.dtype)
            for i in range(kh):  # col2im: one strided add per kernel tap
                for j in range(kw):
                    dx[:, i : i + oh, j : j + ow] += dcols[:, :, :, i, j]
        return dx, dw, db

    def maxpool(self, x, p=2):
        """Non-overlapping ``p`` x ``p`` max pooling (valid): ``(y, windows)``."""
        n, h, w, c = x.shape
        oh, ow = h // p, w // p
        win = x[:, : oh * p, : ow * p].reshape(n, oh, p, ow, p, c)
        y = win[:, :, 0, :, 0]
        for i in range(p):
            for j in range(p):
                if i or j:
                    y = self.np.maximum(y, win[:, :, i, :, j])
        return y, win

    def maxpool_backward(self, dy, y, win, x_shape):
        """Routes ``dy`` to the elements equal to their window's maximum (with
        random float inputs there are no ties)."""
        n, oh, p, ow, _, c = win.shape
        mask = win == y[:, :, None, :, None]
        dwin = (mask * dy[:, :, None, :, None]).reshape(n, oh * p, ow * p, c)
        if dwin.shape == tuple(x_shape):
            return dwin
        dx = self.np.zeros(x_shape, dy.dtype)
        dx[:, : oh * p, : ow * p] = dwin
        return dx

    def batchnorm(self, x, gamma, beta, eps, state, momentum):
        """Training-mode batch normalization over all axes but the last."""
        np = self.np
        x2 = x.reshape(-1, x.shape[-1])
        mean = x2.mean(axis=0)
        xc = x2 - mean
        var = np.einsum("ij,ij->j", xc, xc) / x2.shape[0]
        inv = 1.0 / np.sqrt(var + eps)
        xhat = xc * inv
        y = xhat * gamma + beta
        state[0] = momentum * state[0] + (1 - momentum) * mean
        state[1] = momentum * state[1] + (1 - momentum) * var
        return y.reshape(x.shape), (xhat, inv)

    def batchnorm_backward(self, dy, gamma, cache):
        xhat, inv = cache
        dy2 = dy.reshape(xhat.shape)
        m = xhat.shape[0]
        dbeta = dy2.sum(axis=0)
        dgamma = self.np.einsum("ij,ij->j", dy2, xhat)
        dx = (gamma * inv / m) * (m * dy2 - dbeta - xhat * dgamma)
        return dx.reshape(dy.shape), dgamma, dbeta

    def lstm(self, x, kernel, recurrent, bias):
        """Keras LSTM (gates i, f, c, o; zero initial state), every step's h."""
        np = self.np
        n, t, f = x.shape
        u = recurrent.shape[0]
        z = (x.reshape(n * t, f) @ kernel + bias).reshape(n, t, 4 * u)
        gates = np.empty((t, n, 4 * u), x.dtype)
        hs = np.zeros((t + 1, n, u), x.dtype)  # hs[0] is the initial state
        cs = np.zeros((t + 1, n, u), x.dtype)
        for s in range(t):
            a = z[:, s] + hs[s] @ recurrent
            g = gates[s]
            np.negative(a, out=g)
            np.exp(g, out=g)
            g += 1.0
            np.reciprocal(g, out=g)
            np.tanh(a[:, 2 * u : 3 * u], out=g[:, 2 * u : 3 * u])
            i, fg, cc, o = g[:, :u], g[:, u : 2 * u], g[:, 2 * u : 3 * u], g[:, 3 * u :]
            cs[s + 1] = fg * cs[s] + i * cc
            hs[s + 1] = o * np.tanh(cs[s + 1])
        return hs[1:].transpose(1, 0, 2), (x, gates, hs, cs)

    def lstm_backward(self, dy, kernel, recurrent, cache):
        """BPTT: ``(dx, dkernel, drecurrent, dbias)`` for ``dy`` on every step."""
        np = self.np
        x, gates, hs, cs = cache
        n, t, f = x.shape
        u = recurrent.shape[0]
        da = np.empty_like(gates)
        dh = np.zeros((n, u), x.dtype)
        dc = np.zeros((n, u), x.dtype)
        for s in reversed(range(t)):
            g = gates[s]
            i, fg, cc, o = g[:, :u], g[:, u : 2 * u], g[:, 2 * u : 3 * u], g[:, 3 * u :]
            dh += dy[:, s]
            tc = np.tanh(cs[s + 1])
            dc += dh * o * (1.0 - tc * tc)
            d = da[s]
            d[:, :u] = dc * cc * i * (1.0 - i)
            d[:, u : 2 * u] = dc * cs[s] * fg * (1.0 - fg)
            d[:, 2 * u : 3 * u] = dc * i * (1.0 - cc * cc)
            d[:, 3 * u :] = dh * tc * o * (1.0 - o)
            dc *= fg
            dh = d @ recurrent.T
        da2 = da.transpose(1, 0, 2).reshape(n * t, 4 * u)  # (batch, time) rows
        drecurrent = hs[:-1].reshape(t * n, u).T @ da.reshape(t * n, 4 * u)
        dkernel = x.reshape(n * t, f).T @ da2
        dx = (da2 @ kernel.T).reshape(n, t, f)
        return dx, dkernel, drecurrent, da2.sum(axis=0)


# -- checks ------------------------------------------------------------------------


def agree(np, got, expected):
    """The worst ``max|got - expected| / max|expected|`` over paired arrays."""
    worst = 0.0
    for g, e in zip(got, expected, strict=True):
        g, e = np.asarray(g, np.float64), np.asarray(e, np.float64)
        if g.shape != e.shape:
            return float("inf")
        scale = max(float(np.max(np.abs(e))), 1e-30)
        worst = max(worst, float(np.max(np.abs(g - e))) / scale)
    return worst


# -- the cases ---------------------------------------------------------------------


def nnlib_step(nnlib, layer, x, dy, **call_kwargs):
    """Forward + backward through an nnlib layer: ``(y, [dx, *dvariables])``."""
    sources = [x, *layer.trainable_variables]

    def step():
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, **call_kwargs)
        return y, tape.gradient(y, sources, output_gradients=dy)

    return step


def torch_step(torch, module, x, dy):
    """Forward + backward through a torch module: ``(y, [dx, *dparameters])``."""
    params = list(module.parameters())

    def step():
        y = module(x)
        if isinstance(y, tuple):  # nn.LSTM: (output, (h, c))
            y = y[0]
        y.backward(dy)
        grads = [x.grad] + [p.grad for p in params]
        x.grad = None
        for p in params:
            p.grad = None
        return y, grads

    return step


def torch_layouts(torch, make_module, x_nhwc, dy_nhwc):
    """``{"torch NCHW": step, "torch CL": step}`` for a module on NHWC data."""
    steps = {}
    for name, fmt in (
        ("torch NCHW", torch.contiguous_format),
        ("torch CL", torch.channels_last),
    ):
        module = make_module().to(memory_format=fmt)

        def tensor(a, grad=False, fmt=fmt):
            t = torch.from_numpy(a).permute(0, 3, 1, 2).clone(memory_format=fmt)
            return t.requires_grad_(grad)

        steps[name] = torch_step(torch, module, tensor(x_nhwc, True), tensor(dy_nhwc))
    return steps


def nchw(a):
    return a.permute(0, 2, 3, 1).detach().numpy()


def conv_case(libs, ref, rng, shape, filters):
    np, nnlib, torch = libs
    x = rng.standard_normal(shape, dtype=np.float32)
    layer = nnlib.layers.Conv2D(filters, 3)
    layer(x[:1])
    layer.bias.assign(rng.standard_normal(filters, dtype=np.float32) * 0.1)
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    y_shape = (shape[0], shape[1] - 2, shape[2] - 2, filters)
    dy = rng.standard_normal(y_shape, dtype=np.float32)

    def numpy_step():
        y, cols = ref.conv(x, w, b)
        return y, ref.conv_backward(dy, w, cols, x.shape)

    xt, dyt = nnlib.constant(x), nnlib.constant(dy)
    steps = {"numpy": numpy_step, "nnlib": nnlib_step(nnlib, layer, xt, dyt)}
    y, grads = numpy_step()
    expected = [y, *grads]
    y, grads = steps["nnlib"]()
    errors = {"nnlib": agree(np, [t.numpy() for t in [y, *grads]], expected)}
    if torch is not None:

        def make_module():
            module = torch.nn.Conv2d(shape[3], filters, 3)
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(w.transpose(3, 2, 0, 1)))
                module.bias.copy_(torch.from_numpy(b))
            return module

        for name, step in torch_layouts(torch, make_module, x, dy).items():
            steps[name] = step
            y, (gx, gw, gb) = step()
            got = [nchw(y), nchw(gx), gw.permute(2, 3, 1, 0).numpy(), gb.numpy()]
            errors[name] = agree(np, got, expected)
    return steps, errors


def maxpool_case(libs, ref, rng):
    np, nnlib, torch = libs
    x = rng.standard_normal((BATCH, 26, 26, 32), dtype=np.float32)
    dy = rng.standard_normal((BATCH, 13, 13, 32), dtype=np.float32)
    layer = nnlib.layers.MaxPooling2D(2)

    def numpy_step():
        y, win = ref.maxpool(x)
        return y, ref.maxpool_backward(dy, y, win, x.shape)

    xt, dyt = nnlib.constant(x), nnlib.constant(dy)
    steps = {"numpy": numpy_step, "nnlib": nnlib_step(nnlib, layer, xt, dyt)}
    expected = list(numpy_step())
    y, (gx,) = steps["nnlib"]()
    errors = {"nnlib": agree(np, [y.numpy(), gx.numpy()], expected)}
    if torch is not None:
        layouts = torch_layouts(torch, lambda: torch.nn.MaxPool2d(2), x, dy)
        for name, step in layouts.items():
            steps[name] = step
            y, (gx,) = step()
            errors[name] = agree(np, [nchw(y), nchw(gx)], expected)
    return steps, errors


def batchnorm_case(libs, ref, rng):
    np, nnlib, torch = libs
    shape = (BATCH, 13, 13, 32)
    x = rng.standard_normal(shape, dtype=np.float32) * 2 + 0.5
    dy = rng.standard_normal(shape, dtype=np.float32)
    layer = nnlib.layers.BatchNormalization()
    layer(x[:2])
    layer.gamma.assign(rng.uniform(0.5, 1.5, 32).astype(np.float32))
    layer.beta.assign(rng.standard_normal(32, dtype=np.float32))
    gamma, beta = layer.gamma.numpy(), layer.beta.numpy()
    eps, momentum = layer.epsilon, layer.momentum
    state = [np.zeros(32, np.float32), np.ones(32, np.float32)]

    def numpy_step():
        y, cache = ref.batchnorm(x, gamma, beta, eps, state, momentum)
        return y, ref.batchnorm_backward(dy, gamma, cache)

    xt, dyt = nnlib.constant(x), nnlib.constant(dy)
    steps = {
        "numpy": numpy_step,
        "nnlib": nnlib_step(nnlib, layer, xt, dyt, training=True),
    }
    y, grads = numpy_step()
    expected = [y, *grads]
    y, grads = steps["nnlib"]()  # variables in creation order: gamma, beta
    errors = {"nnlib": agree(np, [t.numpy() for t in [y, *grads]], expected)}
    if torch is not None:

        def make_module():
            # torch's momentum weighs the new batch, Keras's the old average.
            module = torch.nn.BatchNorm2d(32, eps=eps, momentum=1 - momentum)
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(gamma))
                module.bias.copy_(torch.from_numpy(beta))
            return module.train()

        for name, step in torch_layouts(torch, make_module, x, dy).items():
            steps[name] = step
            y, (gx, gg, gb) = step()
            got = [nchw(y), nchw(gx), gg.numpy(), gb.numpy()]
            errors[name] = agree(np, got, expected)
    return steps, errors


def lstm_case(libs, ref, rng):
    np, nnlib, torch = libs
    lstm_class = getattr(nnlib.layers, "LSTM", None)
    if lstm_class is None:
        return None, {}
    x = rng.standard_normal((BATCH, LSTM_STEPS, LSTM_FEATURES), dtype=np.float32)
    dy = rng.standard_normal((BATCH, LSTM_STEPS, LSTM_UNITS), dtype=np.float32)
    layer = lstm_class(LSTM_UNITS, return_sequences=True)
    layer(x[:1])
    layer.bias.assign(rng.standard_normal(4 * LSTM_UNITS, dtype=np.float32) * 0.1)
    kernel, recurrent = layer.kernel.numpy(), layer.recurrent_kernel.numpy()
    bias = layer.bias.numpy()

    def numpy_step():
        y, cache = ref.lstm(x, kernel, recurrent, bias)
        return y, ref.lstm_backward(dy, kernel, recurrent, cache)

    xt, dyt = nnlib.constant(x), nnlib.constant(dy)
    steps = {"numpy": numpy_step, "nnlib": nnlib_step(nnlib, layer, xt, dyt)}
    y, grads = numpy_step()
    expected = [y, *grads]
    y, grads = steps["nnlib"]()
    errors = {"nnlib": agree(np, [t.numpy() for t in [y, *grads]], expected)}
    if torch is not None:
        module = torch.nn.LSTM(LSTM_FEATURES, LSTM_UNITS, batch_first=True)
        with torch.no_grad():  # the same gate order (i, f, g, o) as Keras
            module.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
            module.weight_hh_l0.copy_(torch.from_numpy(recurrent.T.copy()))
            module.bias_ih_l0.copy_(torch.from_numpy(bias))
            module.bias_hh_l0.zero_()
        tx = torch.from_numpy(x).clone().requires_grad_()
        step = torch_step(torch, module, tx, torch.from_numpy(dy).clone())
        steps["torch NCHW"] = step  # the one torch column
        y, (gx, gw, gu, gb, _) = step()
        got = [y.detach().numpy(), gx.numpy(), gw.numpy().T, gu.numpy().T, gb.numpy()]
        errors["torch NCHW"] = agree(np, got, expected)
    return steps, errors


# -- the LeNet training step -----------------------------------------------------


def lenet_nnlib(nnlib):
    layers = nnlib.layers
    return nnlib.Sequential(
        [
            layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(10),
        ]
    )


def lenet_numpy(np, ref, params, x, labels):
    """One SGD step on ``params`` (updated in place); returns (loss, grads)."""
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    n = x.shape[0]
    z1, cols1 = ref.conv(x, w1, b1)
    a1 = np.maximum(z1, 0)
    p1, win1 = ref.maxpool(a1)
    z2, cols2 = ref.conv(p1, w2, b2)
    a2 = np.maximum(z2, 0)
    p2, win2 = ref.maxpool(a2)
    flat = p2.reshape(n, -1)
    z3 = flat @ w3 + b3
    a3 = np.maximum(z3, 0)
    logits = a3 @ w4 + b4
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = np.mean(np.log(total[:, 0]) - shifted[rows, labels])
    dlogits = e / total
    dlogits[rows, labels] -= 1.0
    dlogits /= n
    dw4, db4 = a3.T @ dlogits, dlogits.sum(axis=0)
    dz3 = (dlogits @ w4.T) * (z3 > 0)
    dw3, db3 = flat.T @ dz3, dz3.sum(axis=0)
    dp2 = (dz3 @ w3.T).reshape(p2.shape)
    dz2 = ref.maxpool_backward(dp2, p2, win2, a2.shape) * (z2 > 0)
    dp1, dw2, db2 = ref.conv_backward(dz2, w2, cols2, p1.shape)
    dz1 = ref.maxpool_backward(dp1, p1, win1, a1.shape) * (z1 > 0)
    _, dw1, db1 = ref.conv_backward(dz1, w1, cols1, x.shape, need_input=False)
    grads = (dw1, db1, dw2, db2, dw3, db3, dw4, db4)
    for p, g in zip(params, grads):
        p -= LEARNING_RATE * g
    return loss, grads


def lenet_torch(torch, params, memory_format):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(1600, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    # Keras flattens (H, W, C), torch (C, H, W): permute dense1's rows to match.
    w3 = w3.reshape(5, 5, 64, 128).transpose(2, 0, 1, 3).reshape(1600, 128)
    values = (
        w1.transpose(3, 2, 0, 1),
        b1,
        w2.transpose(3, 2, 0, 1),
        b2,
        w3.T,
        b3,
        w4.T,
        b4,
    )
    with torch.no_grad():
        for p, v in zip(model.parameters(), values, strict=True):
            p.copy_(torch.from_numpy(v.copy()))
    return model.to(memory_format=memory_format)


def torch_grads_as_keras(grads):
    """Torch LeNet gradients in Keras layouts (the inverse of ``lenet_torch``)."""
    g1, gb1, g2, gb2, g3, gb3, g4, gb4 = (g.numpy() for g in grads)
    g3 = g3.T.reshape(64, 5, 5, 128).transpose(1, 2, 0, 3).reshape(1600, 128)
    return [
        g1.transpose(2, 3, 1, 0),
        gb1,
        g2.transpose(2, 3, 1, 0),
        gb2,
        g3,
        gb3,
        g4.T,
        gb4,
    ]


def lenet_case(libs, ref, rng):
    """The three training steps, their agreement, and their peak memory."""
    np, nnlib, torch = libs
    x = rng.uniform(0, 1, (BATCH, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, BATCH)
    model = lenet_nnlib(nnlib)
    variables = model.trainable_variables
    start = [v.numpy().copy() for v in variables]

    xt, lt = nnlib.constant(x), nnlib.constant(labels)
    value_and_grads = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_mean(
            nnlib.sparse_softmax_cross_entropy_with_logits(lt, model(xt))
        )
    )

    def nnlib_step():
        loss, grads_and_vars = value_and_grads()
        for g, v in grads_and_vars:
            v.assign_sub(LEARNING_RATE * g)
        return loss, [g for g, _ in grads_and_vars]

    params = [p.copy() for p in start]
    steps = {
        "numpy": lambda: lenet_numpy(np, ref, params, x, labels),
        "nnlib": nnlib_step,
    }
    loss, grads = steps["numpy"]()
    expected = [loss, *grads]
    loss, grads = nnlib_step()
    errors = {"nnlib": agree(np, [t.numpy() for t in [loss, *grads]], expected)}
    if torch is not None:
        tlabels = torch.from_numpy(labels)
        for name, fmt in (
            ("torch NCHW", torch.contiguous_format),
            ("torch CL", torch.channels_last),
        ):
            tmodel = lenet_torch(torch, start, fmt)
            tx = torch.from_numpy(x).permute(0, 3, 1, 2).clone(memory_format=fmt)
            optimizer = torch.optim.SGD(tmodel.parameters(), lr=LEARNING_RATE)
            steps[name] = step = _torch_train_step(
                torch, tmodel, tx, tlabels, optimizer
            )
            loss, grads = step(keep_grads=True)
            got = [loss.detach().numpy(), *torch_grads_as_keras(grads)]
            errors[name] = agree(np, got, expected)
    memory = {name: peak_bytes(steps[name]) for name in ("numpy", "nnlib")}
    return steps, errors, memory


def _torch_train_step(torch, model, x, labels, optimizer):
    def step(keep_grads=False):
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        grads = [p.grad.clone() for p in model.parameters()] if keep_grads else None
        optimizer.step()
        optimizer.zero_grad()
        return loss, grads

    return step


def peak_bytes(fn):
    """The most bytes allocated during one call of ``fn`` and alive at once."""
    fn()  # warm caches and lazily created state first
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- report ------------------------------------------------------------------------


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.1f}"


def fmt_ratio(v):
    return "-" if v is None else f"{v:.2f}x"


def best_torch(row):
    found = [(row[c], c) for c in ("torch NCHW", "torch CL") if row.get(c)]
    return min(found) if found else (None, None)


def environment(np, torch, args):
    env = {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "numpy": np.__version__,
        "blas": _blas_name(np),
        "torch": torch.__version__ if torch is not None else None,
        "numpy_threads": args.threads,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "env": {
            k: v
            for k, v in sorted(os.environ.items())
            if k.startswith("OPENBLAS_") or k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
        },
        "statistic": "min",
        "repeat": args.repeat,
        "min_time_s": args.min_time,
        "gc_enabled": args.gc,
    }
    if torch is not None:
        try:
            env["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        except AttributeError:
            env["torch_cpu_capability"] = None
    return env


def _blas_name(np):
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except (AttributeError, KeyError, TypeError):
        return "unknown"


def print_header(env):
    print("nnlib layers: forward + backward, milliseconds per call, float32, CPU")
    print(
        f"python {env['python']} ({env['machine']}); numpy {env['numpy']} "
        f"(BLAS {env['blas']}); torch {env['torch'] or 'not installed'}"
    )
    torch_threads = (
        f"torch {env['torch_threads']} (torch.set_num_threads; CPU capability "
        f"{env.get('torch_cpu_capability')})"
        if env["torch"]
        else "torch -"
    )
    print(f"threads: numpy BLAS {env['numpy_threads']}, {torch_threads}")
    variables = ", ".join(f"{k}={v}" for k, v in env["env"].items())
    if "OPENBLAS_CORETYPE" not in env["env"]:
        variables += ", OPENBLAS_CORETYPE unset"
    print(f"environment: {variables}")
    print(
        f"statistic: min of {env['repeat']} repeats of ~{env['min_time_s']} s each, "
        f"taken in turns; gc {'on' if env['gc_enabled'] else 'off'} while timing"
    )
    sys.stdout.flush()


def print_table(results, errors, faults):
    head = (
        f"{'case':<31}"
        + "".join(f"{c:>11}" for c in COLUMNS)
        + f"{'nnlib/numpy':>13}{'nnlib/torch':>13}  torch best"
    )
    print()
    print(head)
    print("-" * len(head))
    for case in CASES:
        row = results.get(case)
        if row is None:
            print(f"{LABELS[case]:<31}" + "SKIP (nnlib.layers.LSTM not exported)")
            continue
        best, which = best_torch(row)
        print(
            f"{LABELS[case]:<31}"
            + "".join(f"{fmt_ms(row.get(c)):>11}" for c in COLUMNS)
            + f"{fmt_ratio(ratio(row['nnlib'], row['numpy'])):>13}"
            + f"{fmt_ratio(ratio(row['nnlib'], best)):>13}"
            + f"  {which or '-'}"
        )
    print()
    print(
        "minor page faults per call (best repeat): fresh arrays above glibc's mmap "
        "threshold are\nfaulted in page by page (4 KiB each), which costs time"
    )
    for case in CASES:
        if faults.get(case):
            cells = ", ".join(
                f"{k} {'-' if v is None else f'{v:.0f}'}"
                for k, v in faults[case].items()
            )
            print(f"  {case:<10} {cells}")
    print()
    print(
        "agreement with the numpy reference (max abs error / max abs reference, "
        "output and every gradient):"
    )
    for case in CASES:
        if errors.get(case):
            cells = ", ".join(f"{k} {v:.1e}" for k, v in errors[case].items())
            print(f"  {case:<10} {cells}")


def print_memory(memory):
    print()
    print("peak memory of one LeNet training step (tracemalloc, bytes alive at once):")
    for name in ("numpy", "nnlib"):
        print(f"  {name:<6} {memory[name] / 2**20:8.1f} MiB")
    print(f"  nnlib/numpy {memory['nnlib'] / memory['numpy']:.2f}x")


def targets(results, errors):
    """The checks: agreement first, then the issue's speed targets."""
    checks = []

    def check(name, value, limit):
        passed = None if value is None else value <= limit
        checks.append(
            {"target": name, "value": value, "limit": limit, "passed": passed}
        )

    for case in CASES:
        if errors.get(case):
            check(f"{case}: nnlib agrees with numpy", errors[case]["nnlib"], TOLERANCE)
    for case, numpy_limit, torch_limit in TARGETS:
        row = results.get(case) or {}
        if numpy_limit is not None:
            value = ratio(row.get("nnlib"), row.get("numpy"))
            check(f"{case} fwd+bwd: nnlib/numpy", value, numpy_limit)
        value = ratio(row.get("nnlib"), best_torch(row)[0])
        check(f"{case} fwd+bwd: nnlib/torch best", value, torch_limit)
    return checks


def print_targets(checks):
    print()
    print("targets")
    for c in checks:
        status = {True: "PASS", False: "FAIL", None: "SKIP"}[c["passed"]]
        agreement = "agrees" in c["target"]
        if c["value"] is None:
            value = "-"
        elif agreement:
            value = f"{c['value']:.1e}"
        else:
            value = f"{c['value']:.3f}x"
        limit = f"{c['limit']:.0e}" if agreement else f"{c['limit']:.2f}x"
        print(f"  [{status}] {c['target']:<38} {value:>9} <= {limit}")
    done = [c for c in checks if c["passed"] is not None]
    skipped = len(checks) - len(done)
    print(
        f"  {sum(c['passed'] for c in done)} of {len(done)} targets met"
        + (f", {skipped} skipped" if skipped else "")
    )


def main(argv=None):
    args = parse_args(argv)
    set_threads(args.threads)
    start = time.perf_counter()
    libs = import_libraries(args.threads)
    np, torch = libs[0], libs[2]
    env = environment(np, torch, args)
    print_header(env)

    ref, rng = Reference(np), np.random.default_rng(0)
    makers = {
        "conv1": lambda: conv_case(libs, ref, rng, (BATCH, 28, 28, 1), 32),
        "conv2": lambda: conv_case(libs, ref, rng, (BATCH, 13, 13, 32), 64),
        "maxpool": lambda: maxpool_case(libs, ref, rng),
        "batchnorm": lambda: batchnorm_case(libs, ref, rng),
        "lstm": lambda: lstm_case(libs, ref, rng),
    }
    results, errors, faults = {}, {}, {}
    for case, make in makers.items():
        steps, errors[case] = make()
        if steps is not None:
            faults[case] = {}
            results[case] = time_steps(steps, args, faults[case])
    steps, errors["lenet"], memory = lenet_case(libs, ref, rng)
    faults["lenet"] = {}
    results["lenet"] = time_steps(steps, args, faults["lenet"])

    print_table(results, errors, faults)
    print_memory(memory)
    checks = targets(results, errors)
    print_targets(checks)
    elapsed = time.perf_counter() - start
    print(f"\ntotal time {elapsed:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "environment": env,
                    "unit": "milliseconds per call",
                    "results": results,
                    "agreement": errors,
                    "lenet_peak_bytes": memory,
                    "minor_page_faults_per_call": faults,
                    "targets": checks,
                    "total_seconds": elapsed,
                },
                f,
                indent=2,
            )
        print(f"figures written to {args.json}")
    return 0


def time_steps(steps, args, faults):
    """``{column: milliseconds}`` for ``{column: step function}``, in turns;
    ``faults`` receives the minor page faults per call of each column."""
    candidates = {
        name: Candidate(make_timer(fn, {}, args)) for name, fn in steps.items()
    }
    return {name: us / 1000 for name, us in measure(candidates, args, faults).items()}


if __name__ == "__main__":
    main()
    sys.exit(0)
