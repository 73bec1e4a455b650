"""nnlib against values PyTorch computed once (``make_torch_golden.py``; no torch here).

The live comparisons with torch (tests/ops, tests/layers, tests/optimizers)
skip where torch is not installed; these run everywhere on the stored values:

- ops: forward values and the gradients of every input for a random upstream
  gradient, one or more cases per family of ops (float64, 1e-10 relative);
- LSTM, GRU and SimpleRNN layers, one step and five, fused and step by step:
  outputs and the gradients of inputs, initial states and weights, the
  weights mapped from torch's layout by hand and by ``from_torch_state_dict``;
- optimizers: 20-step trajectories on a noisy quadratic, with the
  configurations of tests/optimizers/test_optimizer_torch.py.
"""

import glob
import os

import numpy as np
import pytest

import nnlib
from nnlib import optimizers
from nnlib.checkpoint import from_torch_state_dict

HERE = os.path.dirname(os.path.abspath(__file__))
RTOL = 1e-10
ATOL = 1e-12


def _load(pattern):
    arrays = {}
    for path in sorted(glob.glob(os.path.join(HERE, pattern))):
        with np.load(path) as data:
            arrays.update({k: data[k] for k in data.files})
    return arrays


def _close(got, want, what, rtol=RTOL, atol=ATOL):
    got = got.numpy() if hasattr(got, "numpy") else np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, torch {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


# -- ops -----------------------------------------------------------------------

# One nnlib call per stored case; the inputs come in the stored order, the
# torch side's layout changes are in make_torch_golden.py.
OPS = {
    # elementwise math and activations
    "relu": nnlib.relu,
    "relu6": nnlib.relu6,
    "elu": lambda x: nnlib.elu(x, alpha=1.3),
    "selu": nnlib.selu,
    "gelu": nnlib.gelu,
    "gelu_tanh": lambda x: nnlib.gelu(x, approximate=True),
    "sigmoid": nnlib.sigmoid,
    "silu": nnlib.silu,
    "swish": nnlib.swish,
    "softplus": nnlib.softplus,
    "softsign": nnlib.softsign,
    "hard_sigmoid": nnlib.hard_sigmoid,
    "leaky_relu": lambda x: nnlib.leaky_relu(x, alpha=0.3),
    "tanh": nnlib.tanh,
    "exp": nnlib.exp,
    "expm1": nnlib.expm1,
    "log": nnlib.log,
    "log1p": nnlib.log1p,
    "sqrt": nnlib.sqrt,
    "rsqrt": nnlib.rsqrt,
    "square": nnlib.square,
    "abs": nnlib.abs,
    "negative": nnlib.negative,
    "sin": nnlib.sin,
    "cos": nnlib.cos,
    "erf": nnlib.erf,
    "erfc": nnlib.erfc,
    "clip_by_value": lambda x: nnlib.clip_by_value(x, -0.5, 0.7),
    # binary arithmetic with broadcasting
    "add": nnlib.add,
    "subtract": nnlib.subtract,
    "multiply": nnlib.multiply,
    "divide": nnlib.divide,
    "power": nnlib.power,
    "maximum": nnlib.maximum,
    "minimum": nnlib.minimum,
    "mod": nnlib.mod,
    "where": nnlib.where,
    # reductions
    "reduce_sum": lambda x: nnlib.reduce_sum(x, axis=(0, 2), keepdims=True),
    "reduce_mean": lambda x: nnlib.reduce_mean(x, axis=1),
    "reduce_prod": lambda x: nnlib.reduce_prod(x, axis=-1),
    "reduce_max": lambda x: nnlib.reduce_max(x, axis=0),
    "reduce_min": nnlib.reduce_min,
    "reduce_logsumexp": lambda x: nnlib.reduce_logsumexp(x, axis=1),
    "reduce_variance": lambda x: nnlib.reduce_variance(x, axis=(0, 2)),
    "reduce_std": lambda x: nnlib.reduce_std(x, axis=1, keepdims=True),
    "norm": lambda x: nnlib.norm(x, axis=-1),
    "cumsum": lambda x: nnlib.cumsum(x, axis=1),
    "cumsum_exclusive_reverse": lambda x: nnlib.cumsum(
        x, axis=2, exclusive=True, reverse=True
    ),
    "l2_loss": nnlib.l2_loss,
    # matmul, einsum, tensordot
    "matmul": nnlib.matmul,
    "matmul_batched_broadcast": nnlib.matmul,
    "matmul_transposed": lambda a, b: nnlib.matmul(
        a, b, transpose_a=True, transpose_b=True
    ),
    "einsum_batch": lambda a, b: nnlib.einsum("bij,bjk->bik", a, b),
    "einsum_attention": lambda a, b: nnlib.einsum("bhqd,bhkd->bhqk", a, b),
    "einsum_chain": lambda a, b, c: nnlib.einsum("ij,jk,kl->il", a, b, c),
    "einsum_rowdot": lambda a, b: nnlib.einsum("ij,ij->i", a, b),
    "tensordot": lambda a, b: nnlib.tensordot(a, b, axes=([1, 2], [0, 1])),
    # softmax and cross-entropies
    "softmax": nnlib.softmax,
    "softmax_axis1": lambda x: nnlib.softmax(x, axis=1),
    "log_softmax": nnlib.log_softmax,
    "log_softmax_axis0": lambda x: nnlib.log_softmax(x, axis=0),
    "softmax_cross_entropy": nnlib.softmax_cross_entropy_with_logits,
    "sparse_softmax_cross_entropy": nnlib.sparse_softmax_cross_entropy_with_logits,
    "sigmoid_cross_entropy": nnlib.sigmoid_cross_entropy_with_logits,
    # convolutions (NWC / NHWC, kernels WIO / HWIO)
    "conv1d_valid": nnlib.conv1d,
    "conv1d_same_stride2": lambda x, k: nnlib.conv1d(x, k, 2, "same"),
    "conv1d_same_dilated": lambda x, k: nnlib.conv1d(x, k, 1, "same", dilation=2),
    "conv1d_explicit_pads": lambda x, k: nnlib.conv1d(x, k, 2, (2, 1)),
    "conv2d_valid": nnlib.conv2d,
    "conv2d_same_stride2": lambda x, k: nnlib.conv2d(x, k, 2, "same"),
    "conv2d_same_stride2x1_kernel2x4": lambda x, k: nnlib.conv2d(x, k, (2, 1), "same"),
    "conv2d_dilated": lambda x, k: nnlib.conv2d(x, k, dilation=2),
    "conv2d_explicit_pads_stride2": lambda x, k: nnlib.conv2d(
        x, k, 2, ((1, 0), (2, 1))
    ),
    "conv2d_transpose_valid_stride2": lambda x, k: nnlib.conv2d_transpose(
        x, k, strides=2
    ),
    "conv2d_transpose_same_stride2": lambda x, k: nnlib.conv2d_transpose(
        x, k, strides=2, padding="same"
    ),
    "conv2d_transpose_output_shape": lambda x, k: nnlib.conv2d_transpose(
        x, k, (8, 8), strides=2
    ),
    "depthwise_conv2d_same_stride2": lambda x, k: nnlib.depthwise_conv2d(
        x, k, 2, "same"
    ),
    "depthwise_conv2d_dilated": lambda x, k: nnlib.depthwise_conv2d(x, k, dilation=2),
    # pooling
    "max_pool_2x2": lambda x: nnlib.max_pool(x, 2),
    "max_pool_2x3_strides1x2": lambda x: nnlib.max_pool(x, (2, 3), (1, 2)),
    "max_pool_same_3_stride2": lambda x: nnlib.max_pool(x, 3, 2, "same"),
    "avg_pool_valid_3_stride2": lambda x: nnlib.avg_pool(x, 3, 2),
    "avg_pool_same_3_stride1": lambda x: nnlib.avg_pool(x, 3, 1, "same"),
    "max_pool1d_same_3_stride2": lambda x: nnlib.max_pool(x, 3, 2, "same"),
    "avg_pool1d_same_3_stride2": lambda x: nnlib.avg_pool(x, 3, 2, "same"),
    # normalization
    "batch_normalization": lambda x, m, v, o, s: nnlib.batch_normalization(
        x, m, v, o, s, variance_epsilon=1e-3
    ),
    "fused_batch_norm_nhwc": lambda x, s, o: nnlib.fused_batch_norm(
        x, s, o, axes=(0, 1, 2), epsilon=1e-3
    ),
    "fused_batch_norm_dense": lambda x, s, o: nnlib.fused_batch_norm(
        x, s, o, axes=(0,), epsilon=1e-3
    ),
    "layer_normalization": lambda x, s, o: nnlib.layer_normalization(
        x, s, o, epsilon=1e-3
    ),
    "layer_normalization_two_axes": lambda x, s, o: nnlib.layer_normalization(
        x, s, o, axis=(1, 2), epsilon=1e-3
    ),
    "moments": lambda x: nnlib.moments(x, axes=(0, 1)),
    # embedding lookup, gather
    "embedding_lookup": nnlib.embedding_lookup,
    "gather_axis1": lambda p, i: nnlib.gather(p, i, axis=1),
    # shape ops
    "reshape": lambda x: nnlib.reshape(x, (4, 6)),
    "reshape_inferred": lambda x: nnlib.reshape(x, (-1, 2)),
    "transpose": lambda x: nnlib.transpose(x, (2, 0, 1)),
    "concat": lambda *xs: nnlib.concat(list(xs), axis=1),
    "stack": lambda *xs: nnlib.stack(list(xs), axis=1),
    "split": lambda x: nnlib.split(x, [1, 2, 3], axis=1),
    "unstack": lambda x: nnlib.unstack(x, axis=1),
    "getitem_slices": lambda x: x[1:, ::2, -3:],
    "getitem_index_newaxis": lambda x: x[1, ..., None, 0:2],
    "getitem_reversed": lambda x: x[::-1, 2],
    "getitem_repeated_indices": lambda x: x[np.array([0, 2, 2])],
    "pad_constant": lambda x: nnlib.pad(x, [[0, 0], [1, 2], [2, 1]]),
    "pad_reflect": lambda x: nnlib.pad(x, [[0, 0], [1, 2], [2, 1]], mode="reflect"),
    "tile": lambda x: nnlib.tile(x, (1, 3, 2)),
    "broadcast_to": lambda x: nnlib.broadcast_to(x, (2, 3, 4)),
    "expand_dims": lambda x: nnlib.expand_dims(x, 1),
    "squeeze": nnlib.squeeze,
    "boolean_mask": nnlib.boolean_mask,
}


@pytest.fixture(scope="module")
def op_values():
    return _load("torch_ops_*.npz")


def _case(values, name, letter):
    """The case's arrays ``<name>.<letter><i>`` as ``{i: array}``."""
    prefix = f"{name}.{letter}"
    return {
        int(k[len(prefix) :]): v
        for k, v in values.items()
        if k.startswith(prefix) and k[len(prefix) :].isdigit()
    }


def test_every_stored_op_case_is_checked(op_values):
    stored = {k.rsplit(".", 1)[0] for k in op_values}
    assert stored == set(OPS)


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_torch(op_values, name):
    xs, ys, dys, gs = (_case(op_values, name, c) for c in ("x", "y", "dy", "g"))
    inputs = [nnlib.constant(xs[i]) for i in range(len(xs))]
    watched = [inputs[i] for i in sorted(gs)]
    with nnlib.GradientTape() as tape:
        tape.watch(watched)
        out = OPS[name](*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    assert len(outs) == len(ys), f"{name}: {len(outs)} outputs, torch {len(ys)}"
    for j, y in enumerate(outs):
        _close(y, ys[j], f"{name} output {j}")
    grads = tape.gradient(
        outs, watched, output_gradients=[nnlib.constant(dys[j]) for j in range(len(ys))]
    )
    for i, g in zip(sorted(gs), grads):
        assert g is not None, f"{name}: no gradient for input {i}"
        _close(g, gs[i], f"{name} gradient of input {i}")


# -- recurrent layers ----------------------------------------------------------

RECURRENT_CASES = [f"{k}_t{t}" for k in ("lstm", "gru", "simple_rnn") for t in (1, 5)]


@pytest.fixture(scope="module")
def recurrent_values():
    return _load("torch_recurrent.npz")


def _reorder_gru(a):
    """torch's gates r, z, n along axis 0 -> Keras's (and nnlib's) z, r, h."""
    r, z, n = np.split(a, 3)
    return np.concatenate([z, r, n])


def _recurrent_layer(kind, fused):
    """The nnlib layer (float64) matching the torch module; ``fused=False`` takes
    the generic step-by-step path instead of the fused ``lstm``/``gru`` op."""
    layers = nnlib.layers
    kwargs = {"return_sequences": True, "return_state": True, "dtype": "float64"}
    if not fused:
        kwargs["activation"] = lambda x: nnlib.tanh(x)
    if kind == "lstm":
        return layers.LSTM(4, **kwargs)
    if kind == "gru":
        return layers.GRU(4, reset_after=True, **kwargs)
    return layers.SimpleRNN(4, **kwargs)


def _to_nnlib(kind, p):
    """``[kernel, recurrent_kernel, bias]`` from torch's parameters, by hand.

    LSTM: torch's gates i, f, g, o are Keras's i, f, c, o; the two biases add.
    GRU (reset_after): gates r, z, n -> z, r, h; the biases stay two rows.
    """
    w_ih, w_hh, b_ih, b_hh = (
        p[f"{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )
    if kind == "gru":
        return [
            _reorder_gru(w_ih).T,
            _reorder_gru(w_hh).T,
            np.stack([_reorder_gru(b_ih), _reorder_gru(b_hh)]),
        ]
    return [w_ih.T, w_hh.T, b_ih + b_hh]


def _params(values, name):
    prefix = f"{name}.param."
    return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "stepwise"])
@pytest.mark.parametrize("name", RECURRENT_CASES)
def test_recurrent_layer_matches_torch(recurrent_values, name, fused):
    kind = name.rsplit("_t", 1)[0]
    v = {
        k[len(name) + 1 :]: a
        for k, a in recurrent_values.items()
        if k.startswith(name + ".")
    }
    p = _params(recurrent_values, name)
    layer = _recurrent_layer(kind, fused)
    layer(v["x"])
    layer.set_weights(_to_nnlib(kind, p))
    state_names = ["h0", "c0"] if kind == "lstm" else ["h0"]
    x = nnlib.constant(v["x"])
    states = [nnlib.constant(v[s]) for s in state_names]
    with nnlib.GradientTape() as tape:
        tape.watch([x, *states])
        outs = layer(x, initial_state=states)
    assert len(outs) == len(state_names) + 1
    for j, y in enumerate(outs):
        _close(y, v[f"y{j}"], f"{name} output {j}")
    kernel, recurrent, bias = layer.trainable_variables
    grads = tape.gradient(
        outs,
        [x, *states, kernel, recurrent, bias],
        output_gradients=[nnlib.constant(v[f"dy{j}"]) for j in range(len(outs))],
    )
    g = dict(zip(["x", *state_names, "kernel", "recurrent", "bias"], grads))
    for s in ["x", *state_names]:
        _close(g[s], v[f"grad.{s}"], f"{name} gradient of {s}")
    # The weights' gradients, mapped to nnlib's layout as the weights were.
    grad_params = {k: v[f"grad.{k}"] for k in p}
    want = _to_nnlib(kind, grad_params)
    if kind != "gru":  # b_ih + b_hh: both have the bias's gradient
        _close(grad_params["bias_ih_l0"], grad_params["bias_hh_l0"], "torch's")
        want[2] = grad_params["bias_ih_l0"]
    for what, got, w in zip(("kernel", "recurrent_kernel", "bias"), grads[-3:], want):
        _close(got, w, f"{name} gradient of {what}")


@pytest.mark.parametrize("name", RECURRENT_CASES)
def test_from_torch_state_dict_maps_recurrent_weights_as_by_hand(
    recurrent_values, name
):
    kind = name.rsplit("_t", 1)[0]
    p = _params(recurrent_values, name)
    x = recurrent_values[f"{name}.x"]
    layer = _recurrent_layer(kind, fused=True)
    layer(x)
    from_torch_state_dict(layer, p)
    for got, want in zip(layer.get_weights(), _to_nnlib(kind, p)):
        np.testing.assert_array_equal(got, want)
    states = [
        recurrent_values[f"{name}.{s}"]
        for s in ("h0", "c0")
        if f"{name}.{s}" in recurrent_values
    ]
    _close(layer(x, initial_state=states)[0], recurrent_values[f"{name}.y0"], name)


# -- optimizers ----------------------------------------------------------------

TINY = 1e-12

# The nnlib side of tests/optimizers/test_optimizer_torch.py's CASES, with the
# same hyperparameter mappings (the torch side is in make_torch_golden.py).
OPTIMIZERS = {
    "sgd": lambda: optimizers.GradientDescent(0.1),
    "momentum": lambda: optimizers.Momentum(0.05, momentum=0.9),
    "nesterov": lambda: optimizers.Momentum(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(0.01, epsilon=TINY),
    "amsgrad": lambda: optimizers.Adam(0.01, epsilon=TINY, amsgrad=True),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.01, epsilon=TINY),
    "adamax": lambda: optimizers.Adamax(0.01, epsilon=TINY),
    "nadam": lambda: optimizers.Nadam(0.01, epsilon=TINY),
    "rmsprop": lambda: optimizers.RMSProp(0.01, rho=0.9, epsilon=TINY),
    "rmsprop_centered_momentum": lambda: optimizers.RMSProp(
        0.01, momentum=0.5, epsilon=TINY, centered=True
    ),
    "adagrad": lambda: optimizers.Adagrad(
        0.1, initial_accumulator_value=0.1, epsilon=TINY
    ),
    "adadelta": lambda: optimizers.Adadelta(1.0, rho=0.9, epsilon=1e-6),
    # torch 2.13 has no Lion: the generator stores it when run with a torch that
    # has one, and it is then checked here (Lion's numpy-formula test covers it
    # meanwhile: tests/optimizers/test_optimizer_formulas.py::test_lion).
    "lion": lambda: optimizers.Lion(0.01),
}


# Absolute tolerances where nnlib puts epsilon (1e-12) where Keras does and
# torch elsewhere (Adam: Keras adds it to sqrt(v), torch to sqrt(v / (1 -
# beta_2**t)); RMSProp: TensorFlow inside the square root, torch outside):
# measured 1.5e-11 (Adam) and 7.8e-10 (RMSProp) on parameters of size 1.
EPSILON_ATOL = {
    "adam": 1e-10,
    "amsgrad": 1e-10,
    "adamw": 1e-10,
    "rmsprop": 4e-9,
    "rmsprop_centered_momentum": 4e-9,
}


@pytest.fixture(scope="module")
def trajectories():
    return _load("torch_optimizers.npz")


def test_every_stored_optimizer_is_checked(trajectories):
    stored = {k.split(".")[0] for k in trajectories} - {"problem"}
    assert stored <= set(OPTIMIZERS)
    assert stored >= set(OPTIMIZERS) - {"lion"}


def _stored_optimizers():
    with np.load(os.path.join(HERE, "torch_optimizers.npz")) as stored:
        return sorted({k.split(".")[0] for k in stored.files} - {"problem"})


@pytest.mark.parametrize("name", _stored_optimizers())
def test_optimizer_follows_torch_trajectory(trajectories, name):
    problem = {
        k.split(".", 1)[1]: v
        for k, v in trajectories.items()
        if k.startswith("problem.")
    }
    paths = [trajectories[f"{name}.w{i}"] for i in range(2)]
    variables = [nnlib.Variable(problem[f"w{i}"], name=f"w{i}") for i in range(2)]
    opt = OPTIMIZERS[name]()
    steps = len(problem["noise0"])
    atol = EPSILON_ATOL.get(name, ATOL)
    for t in range(steps):
        grads = [
            problem[f"a{i}"] * (v.numpy() - problem[f"c{i}"]) + problem[f"noise{i}"][t]
            for i, v in enumerate(variables)
        ]
        opt.apply_gradients(zip(grads, variables))
        for i, v in enumerate(variables):
            _close(v, paths[i][t + 1], f"{name}: w{i} after step {t + 1}", atol=atol)
