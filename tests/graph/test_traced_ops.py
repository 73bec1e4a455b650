"""Every registered op, traced and replayed on new inputs, equals eager.

The trace runs on one sample's inputs; the replay on inputs drawn anew (same
shapes and static arguments), so a value frozen into the graph at trace time
(an array a gradient rule captured, a mask, indices) shows up as a mismatch.
Forward values and first-order gradients are both checked.
"""

import numpy as np
import pytest

import nnlib
from nnlib.engine.tensor import Tensor
from nnlib.graph import TracingError
from nnlib.ops.registry import REGISTRY

_CASES = [
    pytest.param(info, i, id=f"{name}-{i}")
    for name, info in sorted(REGISTRY.items())
    for i in range(len(info.samples))
]


def _inputs(info, index, seed):
    sample = info.samples[index]
    first, kwargs = sample.build(np.random.default_rng(1000 * index))
    again, _ = sample.build(np.random.default_rng(1000 * index + seed))
    # New arrays, the first draw's everything else (static arguments).
    args = [
        b if isinstance(a, np.ndarray) and np.shape(a) == np.shape(b) else a
        for a, b in zip(first, again)
    ]
    return first, args, kwargs


def _leaves(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value.numpy() if isinstance(value, Tensor) else value]


def _assert_same(got, expected, what):
    got, expected = _leaves(got), _leaves(expected)
    assert len(got) == len(expected), what
    for g, e in zip(got, expected):
        if e is None:
            assert g is None, what
        else:
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-9, err_msg=what)


def _floats(args):
    return [
        i
        for i, a in enumerate(args)
        if isinstance(a, np.ndarray) and a.dtype.kind == "f"
    ]


def _check_replay(fn, first, args, what):
    """Traces ``fn`` on ``first``, replays it on ``args``: equal to eager, and
    seeded random ops draw as eager's do."""
    traced = nnlib.function(fn, name=what.replace(" ", "_"))
    nnlib.random.set_seed(3)
    traced(*first)
    try:
        traced.get_concrete_function(*first)
    except TracingError as err:
        pytest.fail(str(err))
    nnlib.random.set_seed(3)
    got = traced(*args)
    assert traced.trace_count == 1
    nnlib.random.set_seed(3)
    _assert_same(got, fn(*args), what)


@pytest.mark.parametrize("info, index", _CASES)
def test_a_traced_op_replays_as_eager_on_new_inputs(info, index):
    first, args, kwargs = _inputs(info, index, seed=7)
    _check_replay(
        lambda *a: info.call(*a, **kwargs), first, args, f"{info.name} forward"
    )


def _gradient_fn(info, kwargs, wrt):
    def gradients(*args):
        tensors = [nnlib.constant(a) if i in wrt else a for i, a in enumerate(args)]
        with nnlib.GradientTape() as tape:
            for i in wrt:
                tape.watch(tensors[i])
            y = info.call(*tensors, **kwargs)
            floats = [o for o in _flat(y) if o.dtype.kind == "f"]
            total = sum(nnlib.reduce_sum(o * o) for o in floats)
        return tape.gradient(total, [tensors[i] for i in wrt])

    return gradients


def _flat(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value] if isinstance(value, Tensor) else []


@pytest.mark.parametrize(
    "info, index", [c for c in _CASES if c.values[0].differentiable]
)
def test_a_traced_gradient_replays_as_eager_on_new_inputs(info, index):
    first, args, kwargs = _inputs(info, index, seed=7)
    sample = info.samples[index]
    wrt = list(sample.wrt) if sample.wrt is not None else _floats(first)
    gradients = _gradient_fn(info, kwargs, wrt)
    _check_replay(gradients, first, args, f"{info.name} gradient")
