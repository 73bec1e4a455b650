"""Convolutions over batch pieces under a memory budget: same results, bounded scratch."""

import tracemalloc

import numpy as np
import pytest

import nnlib
from nnlib.ops.registry import REGISTRY
from nnlib.test_util import check_gradients

_CONV_OPS = ("conv1d", "conv2d", "depthwise_conv2d", "conv2d_transpose")

# (op, x shape, kernel shape, kwargs): channel-major (C < 8) and channel-minor
# im2col, padding, strides, dilation, channels first, depth multipliers, batch 5
# so that pieces of 2 leave a remainder.
_CASES = [
    ("conv2d", (5, 7, 6, 3), (3, 3, 3, 4), {}),
    ("conv2d", (5, 7, 6, 9), (3, 2, 9, 4), {"padding": "same", "strides": 2}),
    ("conv2d", (5, 8, 8, 10), (2, 2, 10, 3), {"strides": 2}),  # disjoint taps
    ("conv2d", (5, 3, 7, 6), (2, 3, 6, 2), {"dilation": 2, "padding": "same"}),
    ("conv2d", (5, 9, 6, 7), (3, 3, 9, 2), {"data_format": "channels_first"}),
    ("conv1d", (5, 9, 8), (3, 8, 2), {"padding": "same"}),
    ("conv1d", (5, 2, 9), (3, 2, 3), {"data_format": "channels_first"}),
    ("depthwise_conv2d", (5, 6, 6, 3), (3, 3, 3, 2), {"padding": "same"}),
    ("depthwise_conv2d", (5, 7, 7, 2), (3, 3, 2, 1), {"strides": 2}),
    ("conv2d_transpose", (5, 3, 4, 9), (3, 3, 2, 9), {"strides": 2}),
    ("conv2d_transpose", (5, 3, 3, 2), (2, 2, 10, 2), {"padding": "same"}),
]
_IDS = [f"{op}-{i}" for i, (op, *_) in enumerate(_CASES)]


@pytest.fixture
def budget():
    """Sets the budget for one test (``budget(nbytes)``), restored afterwards."""
    previous = nnlib.ops.get_conv_memory_budget()
    yield nnlib.ops.set_conv_memory_budget
    nnlib.ops.set_conv_memory_budget(previous)


def _rand(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)


def _run(op, x, k, kwargs, dy):
    """Forward, first-order gradients, and the gradient of a weighted sum of them."""
    x, k = nnlib.constant(x), nnlib.constant(k)
    with nnlib.GradientTape() as outer:
        outer.watch([x, k])
        with nnlib.GradientTape() as inner:
            inner.watch([x, k])
            y = getattr(nnlib, op)(x, k, **kwargs)
        dx, dk = inner.gradient(y, [x, k], output_gradients=nnlib.constant(dy))
        total = nnlib.reduce_sum(dx * dx) + nnlib.reduce_sum(dk * dk)
    ddx, ddk = outer.gradient(total, [x, k])
    return [t.numpy() for t in (y, dx, dk, ddx, ddk)]


def test_budget_is_set_read_and_reset(budget):
    default = nnlib.ops.get_conv_memory_budget()
    assert default == nnlib.ops.set_conv_memory_budget(1 << 20)
    assert nnlib.ops.get_conv_memory_budget() == 1 << 20
    assert nnlib.ops.set_conv_memory_budget(None) == 1 << 20
    assert nnlib.ops.get_conv_memory_budget() == default


@pytest.mark.parametrize("bad", [0, -1, 1.5, "1GB", True])
def test_a_bad_budget_is_refused(bad):
    with pytest.raises(ValueError, match=r"set_conv_memory_budget: nbytes must be"):
        nnlib.ops.set_conv_memory_budget(bad)


@pytest.mark.parametrize("op, x_shape, k_shape, kwargs", _CASES, ids=_IDS)
@pytest.mark.parametrize("nbytes", [1, 2000])  # one item per piece; a few per piece
def test_pieces_give_the_unpieced_results(budget, op, x_shape, k_shape, kwargs, nbytes):
    """Forward, gradients and second-order gradients, float64 and float32."""
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        x, k = _rand(x_shape, 0, dtype), _rand(k_shape, 1, dtype)
        y_shape = getattr(nnlib, op)(x, k, **kwargs).shape
        dy = _rand(y_shape, 2, dtype)
        whole = _run(op, x, k, kwargs, dy)
        budget(nbytes)
        pieces = _run(op, x, k, kwargs, dy)
        budget(None)
        for got, want in zip(pieces, whole, strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _conv_samples():
    for name in _CONV_OPS:
        for index, sample in enumerate(REGISTRY[name].samples):
            yield pytest.param(name, sample, index, id=f"{name}-{index}")


@pytest.mark.parametrize("name, sample, index", list(_conv_samples()))
def test_registered_samples_pieced_match_finite_differences(
    budget, name, sample, index
):
    """The generic gradient test's samples, batch doubled, one item per piece."""
    args, kwargs = sample.build(np.random.default_rng(index))
    x = np.concatenate([args[0], args[0][::-1] * 0.5 + 0.25])
    budget(1)
    check_gradients(
        lambda a, b: REGISTRY[name].call(a, b, **kwargs), x, args[1], order=2
    )


@pytest.mark.parametrize("op, x_shape, k_shape, kwargs", _CASES, ids=_IDS)
def test_pieced_gradients_match_finite_differences(
    budget, op, x_shape, k_shape, kwargs
):
    budget(1500)
    x, k = _rand(x_shape, 0), _rand(k_shape, 1)
    check_gradients(lambda a, b: getattr(nnlib, op)(a, b, **kwargs), x, k)


def _peak(fn):
    fn()
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# A batch of 64 whose im2col is 7.2 MB (64 x 14 x 14 x 144 float32): under a 1 MiB
# budget the scratch beyond the arrays the call must return stays near 1 MiB.
_X = _rand((64, 16, 16, 16), 0, np.float32)
_K = _rand((3, 3, 16, 8), 1, np.float32)
_SLACK = 256 << 10  # Python objects and the small per-piece arrays


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_forward_scratch_stays_within_the_budget(budget, padding):
    budget(1 << 20)
    y, peak = _peak(lambda: nnlib.conv2d(_X, _K, padding=padding).numpy())
    assert peak <= y.nbytes + (1 << 20) + _SLACK


def test_gradient_scratch_stays_within_the_budget(budget):
    x, k = nnlib.constant(_X), nnlib.constant(_K)
    dy = nnlib.constant(_rand((64, 14, 14, 8), 2, np.float32))

    def gradients():
        with nnlib.GradientTape() as tape:
            tape.watch([x, k])
            y = nnlib.conv2d(x, k)
        return tape.gradient(y, [x, k], output_gradients=dy)

    budget(1 << 20)
    (dx, _), peak = _peak(gradients)
    # The output y (kept by nothing but the tape) and dx must exist; dk is small.
    assert peak <= 64 * 14 * 14 * 8 * 4 + dx.numpy().nbytes + (1 << 20) + _SLACK


def test_large_batch_layer_output_does_not_depend_on_the_budget(budget):
    layers = nnlib.layers
    model = nnlib.Sequential(
        [
            layers.Conv2D(8, 3, activation="relu", input_shape=(12, 12, 1)),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dense(3),
        ]
    )
    x = _rand((300, 12, 12, 1), 0, np.float32)
    whole = model(x).numpy()
    budget(64 << 10)
    np.testing.assert_allclose(model(x).numpy(), whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        model.predict(x, batch_size=128), whole, rtol=1e-5, atol=1e-6
    )
