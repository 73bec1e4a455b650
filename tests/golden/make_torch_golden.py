"""Writes the PyTorch golden values that ``test_torch_golden.py`` checks nnlib against.

Run once, from the repository root, where PyTorch is installed::

    python3 tests/golden/make_torch_golden.py

It rewrites ``torch_ops_*.npz`` (one per family of ops),
``torch_recurrent.npz`` and ``torch_optimizers.npz`` beside this file (float64 throughout). Every input is
drawn from a generator seeded by the case's name, and every input, upstream
gradient, output and gradient is stored, so the test needs neither torch nor
this script. Inputs are in nnlib's layouts (channels last, HWIO kernels); the
torch functions below permute to and from torch's.

Importing this module has no side effects and needs no torch (pytest's
doctest collection imports it): torch is imported in ``main``.
"""

import os
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = 1e-12  # the optimizers' epsilon, as in tests/optimizers/test_optimizer_torch.py
STEPS = 20


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _same_pads(size, kernel, stride, dilation=1):
    """TensorFlow's "same": ``(before, after)``, the odd element after."""
    extent = dilation * (kernel - 1) + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def _op_cases(torch):
    """``{name: (family, torch function, inputs, indices of differentiable inputs)}``.

    The inputs are numpy arrays (nnlib layout); ``None`` for the indices means
    every floating-point input.
    """
    F = torch.nn.functional
    cases = {}
    family = ["elementwise"]  # the file a case goes to: torch_ops_<family>.npz

    def case(name, fn, *makers, grad=None):
        rng = _rng(name)
        cases[name] = (family[0], fn, [m(rng) for m in makers], grad)

    def n(*shape, scale=1.0):
        return lambda r: r.standard_normal(shape) * scale

    def u(lo, hi, *shape):
        return lambda r: r.uniform(lo, hi, shape)

    def signed(lo, hi, *shape):  # magnitudes in [lo, hi], random signs
        return lambda r: r.uniform(lo, hi, shape) * r.choice([-1.0, 1.0], shape)

    def const(value):
        return lambda r: np.asarray(value)

    # -- elementwise math and activations
    x34 = n(3, 4, scale=1.5)
    case("relu", F.relu, signed(0.05, 2, 3, 4))
    case("relu6", F.relu6, u(-2, 8, 3, 4))
    case("elu", lambda x: F.elu(x, alpha=1.3), x34)
    case("selu", F.selu, x34)
    case("gelu", F.gelu, x34)
    case("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), x34)
    case("sigmoid", torch.sigmoid, x34)
    case("silu", F.silu, x34)
    case("swish", F.silu, x34)
    case("softplus", F.softplus, x34)
    case("softsign", F.softsign, x34)
    # F.hardsigmoid's backward multiplies by a float32 1/6 (3e-8 off in float64)
    case("hard_sigmoid", lambda x: F.relu6(x + 3) / 6, u(-5, 5, 3, 4))
    case("leaky_relu", lambda x: F.leaky_relu(x, 0.3), signed(0.05, 2, 3, 4))
    case("tanh", torch.tanh, x34)
    case("exp", torch.exp, x34)
    case("expm1", torch.expm1, x34)
    case("log", torch.log, u(0.1, 3, 3, 4))
    case("log1p", torch.log1p, u(-0.9, 3, 3, 4))
    case("sqrt", torch.sqrt, u(0.1, 3, 3, 4))
    case("rsqrt", torch.rsqrt, u(0.1, 3, 3, 4))
    case("square", torch.square, x34)
    case("abs", torch.abs, signed(0.05, 2, 3, 4))
    case("negative", torch.neg, x34)
    case("sin", torch.sin, x34)
    case("cos", torch.cos, x34)
    case("erf", torch.erf, x34)
    case("erfc", torch.erfc, x34)
    case("clip_by_value", lambda x: torch.clamp(x, -0.5, 0.7), x34)

    # -- binary arithmetic, broadcasting
    case("add", torch.add, n(3, 1, 4), n(5, 4))
    case("subtract", torch.sub, n(4), n(2, 3, 4))
    case("multiply", torch.mul, n(2, 3, 1), n(1, 3, 4))
    case("divide", torch.div, n(3, 4), signed(0.5, 2, 4))
    case("power", torch.pow, u(0.5, 2, 2, 3), n(2, 1))
    case("maximum", torch.maximum, n(3, 4), n(4))
    case("minimum", torch.minimum, n(2, 3, 4), n(3, 1))
    case("mod", torch.remainder, n(3, 4, scale=3), u(0.5, 2, 4))
    case(
        "where",
        torch.where,
        lambda r: r.uniform(size=(3, 1)) < 0.5,
        n(3, 4),
        n(4),
        grad=[1, 2],
    )

    # -- reductions
    family[0] = "reductions_linalg"
    x345 = n(3, 4, 5)
    case("reduce_sum", lambda x: torch.sum(x, (0, 2), keepdim=True), x345)
    case("reduce_mean", lambda x: torch.mean(x, 1), x345)
    case("reduce_prod", lambda x: torch.prod(x, -1), signed(0.5, 1.5, 3, 4, 5))
    case("reduce_max", lambda x: torch.amax(x, 0), x345)
    case("reduce_min", torch.min, x345)
    case("reduce_logsumexp", lambda x: torch.logsumexp(x, 1), x345)
    case("reduce_variance", lambda x: torch.var(x, (0, 2), correction=0), x345)
    case(
        "reduce_std",
        lambda x: torch.std(x, 1, correction=0, keepdim=True),
        x345,
    )
    case("norm", lambda x: torch.linalg.vector_norm(x, dim=-1), x345)
    case("cumsum", lambda x: torch.cumsum(x, 1), x345)
    case(
        "cumsum_exclusive_reverse",
        lambda x: torch.flip(torch.cumsum(torch.flip(x, [2]), 2), [2]) - x,
        x345,
    )
    case("l2_loss", lambda x: (x * x).sum() / 2, x34)

    # -- matmul, einsum, tensordot
    case("matmul", torch.matmul, n(3, 4), n(4, 5))
    case("matmul_batched_broadcast", torch.matmul, n(2, 1, 3, 4), n(3, 4, 2))
    case("matmul_transposed", lambda a, b: a.mT @ b.mT, n(2, 4, 3), n(2, 5, 4))
    case(
        "einsum_batch",
        lambda a, b: torch.einsum("bij,bjk->bik", a, b),
        n(2, 3, 4),
        n(2, 4, 5),
    )
    case(
        "einsum_attention",
        lambda a, b: torch.einsum("bhqd,bhkd->bhqk", a, b),
        n(2, 2, 3, 4),
        n(2, 2, 5, 4),
    )
    case(
        "einsum_chain",
        lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c),
        n(2, 3),
        n(3, 4),
        n(4, 2),
    )
    case("einsum_rowdot", lambda a, b: torch.einsum("ij,ij->i", a, b), n(3, 4), n(3, 4))
    case(
        "tensordot",
        lambda a, b: torch.tensordot(a, b, dims=([1, 2], [0, 1])),
        n(2, 3, 4),
        n(3, 4, 5),
    )

    # -- softmax and cross-entropies
    case("softmax", lambda x: torch.softmax(x, -1), n(3, 5))
    case("softmax_axis1", lambda x: torch.softmax(x, 1), n(2, 4, 3))
    case("log_softmax", lambda x: torch.log_softmax(x, -1), n(3, 5))
    case("log_softmax_axis0", lambda x: torch.log_softmax(x, 0), n(4, 3))
    case(
        "softmax_cross_entropy",
        lambda labels, logits: F.cross_entropy(logits, labels, reduction="none"),
        lambda r: r.dirichlet(np.ones(5), 4),
        n(4, 5),
    )
    case(
        "sparse_softmax_cross_entropy",
        lambda labels, logits: F.cross_entropy(logits, labels, reduction="none"),
        lambda r: r.integers(0, 5, 4),
        n(4, 5),
    )
    case(
        "sigmoid_cross_entropy",
        lambda z, logits: F.binary_cross_entropy_with_logits(
            logits, z, reduction="none"
        ),
        u(0, 1, 3, 4),
        n(3, 4, scale=2),
    )

    # -- convolutions (x NWC / NHWC, kernels WIO / HWIO)
    family[0] = "conv_pool"

    def conv1d(stride=1, padding="valid", dilation=1):
        def fn(x, k):
            if padding == "same":
                pads = _same_pads(x.shape[1], k.shape[0], stride, dilation)
            else:
                pads = (0, 0) if padding == "valid" else padding
            xt = F.pad(x.permute(0, 2, 1), pads)
            y = F.conv1d(xt, k.permute(2, 1, 0), stride=stride, dilation=dilation)
            return y.permute(0, 2, 1)

        return fn

    def conv2d(stride=(1, 1), padding="valid", dilation=(1, 1), groups=1):
        def fn(x, k):
            if groups > 1:  # depthwise (KH, KW, C, M) -> (C * M, 1, KH, KW)
                kh, kw, c, m = k.shape
                w = k.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
            else:
                w = k.permute(3, 2, 0, 1)
            if padding == "same":
                (top, bottom), (left, right) = (
                    _same_pads(x.shape[1 + i], w.shape[2 + i], stride[i], dilation[i])
                    for i in range(2)
                )
            elif padding == "valid":
                top = bottom = left = right = 0
            else:
                (top, bottom), (left, right) = padding
            xt = F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom))
            y = F.conv2d(xt, w, stride=stride, dilation=dilation, groups=groups)
            return y.permute(0, 2, 3, 1)

        return fn

    def conv2d_transpose(out_hw, stride, crop_top_left):
        # The full transposed convolution, then the window the padded conv2d saw.
        def fn(x, k):
            full = F.conv_transpose2d(
                x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), stride=stride
            )
            top, left = crop_top_left
            full = full[:, :, top:, left:]
            extra = [max(o - s, 0) for o, s in zip(out_hw, full.shape[2:])]
            full = F.pad(full, (0, extra[1], 0, extra[0]))[
                :, :, : out_hw[0], : out_hw[1]
            ]
            return full.permute(0, 2, 3, 1)

        return fn

    case("conv1d_valid", conv1d(), n(2, 9, 3), n(3, 3, 4))
    case("conv1d_same_stride2", conv1d(2, "same"), n(2, 9, 3), n(4, 3, 2))
    case("conv1d_same_dilated", conv1d(1, "same", 2), n(2, 11, 2), n(3, 2, 3))
    case("conv1d_explicit_pads", conv1d(2, (2, 1)), n(2, 8, 2), n(3, 2, 3))
    case("conv2d_valid", conv2d(), n(2, 6, 7, 3), n(3, 3, 3, 4))
    case("conv2d_same_stride2", conv2d((2, 2), "same"), n(2, 7, 8, 3), n(3, 3, 3, 4))
    case(
        "conv2d_same_stride2x1_kernel2x4",
        conv2d((2, 1), "same"),
        n(1, 6, 7, 2),
        n(2, 4, 2, 3),
    )
    case("conv2d_dilated", conv2d(dilation=(2, 2)), n(2, 8, 8, 2), n(3, 3, 2, 3))
    case(
        "conv2d_explicit_pads_stride2",
        conv2d((2, 2), ((1, 0), (2, 1))),
        n(2, 6, 6, 2),
        n(3, 3, 2, 3),
    )
    case(
        "conv2d_transpose_valid_stride2",
        conv2d_transpose((7, 9), 2, (0, 0)),
        n(2, 3, 4, 3),
        n(3, 3, 2, 3),
    )
    case(
        "conv2d_transpose_same_stride2",
        conv2d_transpose((6, 8), 2, (0, 0)),
        n(2, 3, 4, 3),
        n(3, 3, 2, 3),
    )
    case(
        "conv2d_transpose_output_shape",
        conv2d_transpose((8, 8), 2, (0, 0)),
        n(2, 3, 3, 2),
        n(3, 3, 2, 2),
    )
    case(
        "depthwise_conv2d_same_stride2",
        conv2d((2, 2), "same", groups=3),
        n(2, 7, 6, 3),
        n(3, 3, 3, 2),
    )
    case(
        "depthwise_conv2d_dilated",
        conv2d(dilation=(2, 2), groups=3),
        n(2, 8, 9, 3),
        n(3, 3, 3, 2),
    )

    # -- pooling (channels last; "same" pads as TensorFlow, never counted)
    def pool(kind, size, stride, padding):
        def fn(x):
            rank = x.ndim - 2
            xt = x.permute(0, rank + 1, *range(1, rank + 1))
            pads = []
            for i in reversed(range(rank)):
                if padding == "same":
                    pads += _same_pads(x.shape[1 + i], size[i], stride[i])
                else:
                    pads += (0, 0)
            if kind == "max":
                pool_fn = F.max_pool1d if rank == 1 else F.max_pool2d
                y = pool_fn(F.pad(xt, pads, value=-float("inf")), size, stride)
            else:
                pool_fn = F.avg_pool1d if rank == 1 else F.avg_pool2d
                total = pool_fn(F.pad(xt, pads), size, stride) * float(np.prod(size))
                ones = F.pad(torch.ones_like(xt), pads)
                y = total / (pool_fn(ones, size, stride) * float(np.prod(size)))
            return y.permute(0, *range(2, rank + 2), 1)

        return fn

    case("max_pool_2x2", pool("max", (2, 2), (2, 2), "valid"), n(2, 6, 6, 3))
    case("max_pool_2x3_strides1x2", pool("max", (2, 3), (1, 2), "valid"), n(2, 5, 7, 2))
    case("max_pool_same_3_stride2", pool("max", (3, 3), (2, 2), "same"), n(2, 7, 6, 2))
    case(
        "avg_pool_valid_3_stride2", pool("avg", (3, 3), (2, 2), "valid"), n(2, 7, 7, 2)
    )
    case("avg_pool_same_3_stride1", pool("avg", (3, 3), (1, 1), "same"), n(2, 5, 6, 2))
    case("max_pool1d_same_3_stride2", pool("max", (3,), (2,), "same"), n(2, 9, 3))
    case("avg_pool1d_same_3_stride2", pool("avg", (3,), (2,), "same"), n(2, 8, 3))

    # -- normalization
    family[0] = "norm_embedding_shape"
    case(
        "batch_normalization",
        lambda x, m, v, o, s: (x - m) * torch.rsqrt(v + 1e-3) * s + o,
        n(2, 3, 4),
        n(4),
        u(0.5, 2, 4),
        n(4),
        n(4),
    )

    def fused_bn(axes):
        def fn(x, scale, offset):
            channels_first = x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))
            y = F.batch_norm(channels_first, None, None, scale, offset, True, 0.0, 1e-3)
            y = y.permute(0, *range(2, x.ndim), 1)
            return y, x.mean(axes), x.var(axes, correction=0)

        return fn

    case("fused_batch_norm_nhwc", fused_bn((0, 1, 2)), n(4, 3, 3, 2), n(2), n(2))
    case("fused_batch_norm_dense", fused_bn((0,)), n(5, 3, scale=2), n(3), n(3))
    case(
        "layer_normalization",
        lambda x, s, o: F.layer_norm(x, (5,), s, o, 1e-3),
        n(3, 5),
        n(5),
        n(5),
    )
    case(
        "layer_normalization_two_axes",
        lambda x, s, o: F.layer_norm(x, (3, 4), s, o, 1e-3),
        n(2, 3, 4),
        n(3, 4),
        n(3, 4),
    )
    case(
        "moments",
        lambda x: (x.mean((0, 1)), x.var((0, 1), correction=0)),
        n(3, 4, 2),
    )

    # -- embedding lookup, gather
    case(
        "embedding_lookup",
        lambda params, ids: F.embedding(ids, params),
        n(7, 3),
        const([[0, 3, 3, 6], [1, 0, 6, 6]]),
    )
    case(
        "gather_axis1",
        lambda params, idx: params[:, idx],
        n(3, 5, 2),
        const([[4, 0, 4], [2, 2, 1]]),
    )

    # -- shape ops
    x234 = n(2, 3, 4)
    case("reshape", lambda x: x.reshape(4, 6), x234)
    case("reshape_inferred", lambda x: x.reshape(-1, 2), x234)
    case("transpose", lambda x: x.permute(2, 0, 1), x234)
    case(
        "concat",
        lambda a, b, c: torch.cat([a, b, c], 1),
        n(2, 1, 3),
        n(2, 4, 3),
        n(2, 2, 3),
    )
    case("stack", lambda a, b, c: torch.stack([a, b, c], 1), n(3, 2), n(3, 2), n(3, 2))
    case("split", lambda x: torch.split(x, [1, 2, 3], 1), n(2, 6, 3))
    case("unstack", lambda x: torch.unbind(x, 1), n(3, 2, 4))
    x456 = n(4, 5, 6)
    case("getitem_slices", lambda x: x[1:, ::2, -3:], x456)
    case("getitem_index_newaxis", lambda x: x[1, ..., None, 0:2], x456)
    case("getitem_reversed", lambda x: torch.flip(x, [0])[:, 2], x456)
    case("getitem_repeated_indices", lambda x: x[torch.tensor([0, 2, 2])], x456)
    case("pad_constant", lambda x: F.pad(x, (2, 1, 1, 2)), x234)
    case("pad_reflect", lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), n(2, 4, 5))
    case("tile", lambda x: x.repeat(1, 3, 2), n(2, 1, 3))
    case("broadcast_to", lambda x: torch.broadcast_to(x, (2, 3, 4)), n(3, 1))
    case("expand_dims", lambda x: x.unsqueeze(1), n(3, 4))
    case("squeeze", torch.squeeze, n(3, 1, 4, 1))
    case(
        "boolean_mask",
        lambda x, mask: x[mask],
        n(5, 3),
        const([True, False, True, True, False]),
    )
    return cases


def _gradients(torch, fn, inputs, grad, rng):
    """``(outputs, upstream gradients, input gradients)`` of ``fn`` on ``inputs``."""
    if grad is None:
        grad = [i for i, a in enumerate(inputs) if a.dtype.kind == "f"]
    tensors = [torch.tensor(a, requires_grad=i in grad) for i, a in enumerate(inputs)]
    out = fn(*tensors)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    dys = [rng.standard_normal(tuple(o.shape)) for o in outs]
    grads = torch.autograd.grad(
        outs, [tensors[i] for i in grad], [torch.tensor(d) for d in dys]
    )
    return (
        [o.detach().numpy() for o in outs],
        dys,
        dict(zip(grad, (g.numpy() for g in grads))),
    )


def make_ops(torch):
    """``{family: arrays}``: per case, inputs ``<case>.x<i>``, outputs ``y<j>``,
    upstream gradients ``dy<j>`` and input gradients ``g<i>``."""
    stores = {}
    for name, (family, fn, inputs, grad) in _op_cases(torch).items():
        store = stores.setdefault(family, {})
        outs, dys, grads = _gradients(torch, fn, inputs, grad, _rng(name + "/dy"))
        for i, a in enumerate(inputs):
            store[f"{name}.x{i}"] = a
        for j, (y, dy) in enumerate(zip(outs, dys)):
            store[f"{name}.y{j}"] = y
            store[f"{name}.dy{j}"] = dy
        for i, g in grads.items():
            store[f"{name}.g{i}"] = g
    return stores


def make_recurrent(torch):
    """LSTM, GRU and RNN (torch.nn, batch first) on one step and on five steps.

    Per case: ``x`` (batch, time, 3), ``h0`` (and ``c0``) (batch, 4), the
    module's parameters in torch's layout under ``param.<name>``, the outputs
    ``y0`` (the sequence), ``y1`` (last h) and ``y2`` (last c), their upstream
    gradients ``dy<j>``, and the gradients ``grad.<x|h0|c0|param name>``.
    """
    store = {}
    modules = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "simple_rnn": torch.nn.RNN}
    for kind, cls in modules.items():
        for steps in (1, 5):
            name = f"{kind}_t{steps}"
            rng = _rng(name)
            module = cls(3, 4, batch_first=True).double()
            with torch.no_grad():
                for p in module.parameters():
                    p.copy_(torch.tensor(rng.uniform(-0.6, 0.6, tuple(p.shape))))
            arrays = {
                "x": rng.standard_normal((2, steps, 3)),
                "h0": rng.standard_normal((2, 4)) * 0.5,
            }
            if kind == "lstm":
                arrays["c0"] = rng.standard_normal((2, 4)) * 0.5
            inputs = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
            if kind == "lstm":
                seq, (h, c) = module(
                    inputs["x"], (inputs["h0"][None], inputs["c0"][None])
                )
                outs = [seq, h[0], c[0]]
            else:
                seq, h = module(inputs["x"], inputs["h0"][None])
                outs = [seq, h[0]]
            params = dict(module.named_parameters())
            dys = [rng.standard_normal(tuple(o.shape)) for o in outs]
            sources = {**inputs, **params}
            grads = torch.autograd.grad(
                outs, list(sources.values()), [torch.tensor(d) for d in dys]
            )
            for k, v in arrays.items():
                store[f"{name}.{k}"] = v
            for k, p in params.items():
                store[f"{name}.param.{k}"] = p.detach().numpy().copy()
            for j, (o, dy) in enumerate(zip(outs, dys)):
                store[f"{name}.y{j}"] = o.detach().numpy()
                store[f"{name}.dy{j}"] = dy
            for k, g in zip(sources, grads):
                store[f"{name}.grad.{k}"] = g.numpy()
    return store


def _optimizer_cases(torch):
    """The configurations of tests/optimizers/test_optimizer_torch.py, torch side."""
    o = torch.optim
    cases = {
        "sgd": lambda p: o.SGD(p, lr=0.1),
        "momentum": lambda p: o.SGD(p, lr=0.05, momentum=0.9),
        "nesterov": lambda p: o.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        "adam": lambda p: o.Adam(p, lr=0.01, eps=TINY),
        "amsgrad": lambda p: o.Adam(p, lr=0.01, eps=TINY, amsgrad=True),
        "adamw": lambda p: o.AdamW(p, lr=0.01, weight_decay=0.01, eps=TINY),
        "adamax": lambda p: o.Adamax(p, lr=0.01, eps=TINY),
        "nadam": lambda p: o.NAdam(p, lr=0.01, eps=TINY, momentum_decay=1.0),
        "rmsprop": lambda p: o.RMSprop(p, lr=0.01, alpha=0.9, eps=TINY),
        "rmsprop_centered_momentum": lambda p: o.RMSprop(
            p, lr=0.01, alpha=0.9, eps=TINY, momentum=0.5, centered=True
        ),
        "adagrad": lambda p: o.Adagrad(
            p, lr=0.1, initial_accumulator_value=0.1, eps=TINY
        ),
        "adadelta": lambda p: o.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6),
    }
    if hasattr(o, "Lion"):
        cases["lion"] = lambda p: o.Lion(p, lr=0.01, betas=(0.9, 0.99))
    return cases


def make_optimizers(torch):
    """20 steps of each optimizer on ``0.5 * sum(a * (w - c) ** 2)`` plus noise.

    The gradient at step t is ``a * (w_t - c) + noise[t]`` (computed in numpy
    from the current parameters; the test does the same). Stored: the problem
    under ``problem.*`` (``w<i>`` initial values, ``a<i>``, ``c<i>``,
    ``noise<i>`` (20, ...)), and per optimizer ``<case>.w<i>`` the trajectory
    (21, ...): the initial value, then the value after each step.
    """
    rng = _rng("optimizers")
    shapes = [(5, 4), (4,)]
    problem = {}
    for i, s in enumerate(shapes):
        problem[f"w{i}"] = rng.standard_normal(s)
        problem[f"a{i}"] = rng.uniform(0.2, 2.0, s)
        problem[f"c{i}"] = rng.standard_normal(s)
        problem[f"noise{i}"] = rng.standard_normal((STEPS, *s)) * 0.3
    store = {f"problem.{k}": v for k, v in problem.items()}
    for name, make in _optimizer_cases(torch).items():
        params = [torch.tensor(problem[f"w{i}"], requires_grad=True) for i in range(2)]
        opt = make(params)
        path = [[p.detach().numpy().copy()] for p in params]
        for t in range(STEPS):
            for i, p in enumerate(params):
                w = p.detach().numpy()
                g = problem[f"a{i}"] * (w - problem[f"c{i}"]) + problem[f"noise{i}"][t]
                p.grad = torch.tensor(g)
            opt.step()
            for i, p in enumerate(params):
                path[i].append(p.detach().numpy().copy())
        for i in range(2):
            store[f"{name}.w{i}"] = np.stack(path[i])
    return store


def main():
    import torch

    torch.set_default_dtype(torch.float64)
    files = {f"torch_ops_{k}.npz": v for k, v in make_ops(torch).items()}
    files["torch_recurrent.npz"] = make_recurrent(torch)
    files["torch_optimizers.npz"] = make_optimizers(torch)
    for filename, store in files.items():
        path = os.path.join(HERE, filename)
        np.savez_compressed(path, **store)
        print(f"{path}: {len(store)} arrays, {os.path.getsize(path)} bytes")
    print(f"torch {torch.__version__}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
