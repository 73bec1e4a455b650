"""Every op is declared once (``nnlib.ops.declare``), and its record can be replayed.

Graph tracing and the ONNX exporter read an op from its record: the ``Op``, its
attributes and its hidden outputs. This test runs every registered sample with
its gradient under an outer tape (so the gradient rules' own ops are recorded
too) and checks that each recorded op is declared and that running its
``forward`` again on the recorded inputs gives the recorded outputs.
"""

import numpy as np
import pytest

import nnlib
from nnlib.engine import tape as _tape
from nnlib.engine.tensor import Tensor
from nnlib.ops.declare import Op, Spec, declare
from nnlib.ops.registry import REGISTRY


class _Records:
    """Collects every op recorded while pushed: ``(name, inputs, outputs, node)``."""

    def __init__(self):
        self.seen = []

    def observe(self, name, inputs, outputs, backward, raw=False, node=None):
        self.seen.append((name, inputs, outputs, node))


def _recorded(info, sample_index):
    sample = info.samples[sample_index]
    args, kwargs = sample.build(np.random.default_rng(sample_index))
    tensors = [
        nnlib.constant(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in args
    ]
    records = _Records()
    stack = _tape.push(records)
    try:
        with nnlib.GradientTape(persistent=True) as outer:
            with nnlib.GradientTape() as inner:
                for t in tensors:
                    if isinstance(t, Tensor):
                        inner.watch(t)
                        outer.watch(t)
                y = info.call(*tensors, **kwargs)
                floats = [o for o in _flat(y) if o.dtype.kind == "f"]
                total = sum(nnlib.reduce_sum(o * o) for o in floats) if floats else None
            if total is not None and info.differentiable:
                inner.gradient(total, [t for t in tensors if isinstance(t, Tensor)])
    finally:
        _tape.pop(stack, records)
    return records.seen


def _flat(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value] if isinstance(value, Tensor) else []


_CASES = [
    pytest.param(info, i, id=f"{name}-{i}")
    for name, info in sorted(REGISTRY.items())
    for i in range(max(1, len(info.samples)))
    if info.samples
]


def _values(xs):
    xs = xs if isinstance(xs, tuple) else (xs,)
    # None stays None: an optional input left out (a bias, a mask).
    return [
        x._value if isinstance(x, Tensor) else None if x is None else np.asarray(x)
        for x in xs
    ]


@pytest.mark.parametrize("info, index", _CASES)
def test_every_recorded_op_is_declared_and_replays(info, index):
    undeclared = set()
    for name, inputs, outputs, node in _recorded(info, index):
        if node is None:
            undeclared.add(name)
            continue
        op, attrs, hidden = node
        assert isinstance(op, Op) and op.name == name
        if name in _RANDOM:
            continue
        again = op.forward(*_values(tuple(inputs)), **attrs)
        expected = _values(outputs) + _values(hidden)
        got = list(again) if isinstance(again, tuple) else [again]
        assert len(got) == len(expected), name
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(np.asarray(g), e, err_msg=name)
    assert not undeclared, (
        f"{sorted(undeclared)} record without a declaration: "
        "declare them with nnlib.ops.declare"
    )


_RANDOM = {"dropout"}


def test_inferred_specs_match_the_outputs():
    add = nnlib.ops.add.op
    assert add.infer(Spec((2, 1), "float32"), Spec((3,), "float64")) == Spec(
        (2, 3), "float64"
    )
    double = declare("double", lambda x: x * 2)
    assert double.infer(Spec((4,), "float32")) == Spec((4,), "float32")


def test_hidden_outputs_reach_the_rule_and_the_record():
    def forward(x):
        keep = x > 0
        return np.where(keep, x, 0.0), keep

    relu_like = declare("relu_like", forward, hidden=1, saves="")

    @relu_like.gradient
    def _(g):
        (keep,) = g.outputs[1:]
        return (g.dy * keep,)

    x = nnlib.constant([-1.0, 2.0])
    records = _Records()
    stack = _tape.push(records)
    try:
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            y = relu_like(x)
        grad = tape.gradient(y, x)
    finally:
        _tape.pop(stack, records)
    np.testing.assert_array_equal(grad.numpy(), [0.0, 1.0])
    (name, _, _, (op, _attrs, hidden)), *_ = records.seen
    assert name == "relu_like" and op is relu_like
    np.testing.assert_array_equal(hidden[0].numpy(), [False, True])


def test_a_declared_broadcasting_op_sums_gradients_back_to_each_operand():
    x = nnlib.constant(np.ones((2, 3), np.float32))
    b = nnlib.constant(np.ones(3, np.float64))
    with nnlib.GradientTape() as tape:
        tape.watch([x, b])
        y = nnlib.add(x, b)
    dx, db = tape.gradient(y, [x, b])
    assert dx.shape == (2, 3) and dx.dtype == np.float32
    assert db.shape == (3,) and db.dtype == np.float64
    np.testing.assert_array_equal(db.numpy(), [2.0, 2.0, 2.0])
