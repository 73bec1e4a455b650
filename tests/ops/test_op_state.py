"""No op keeps state keyed on its inputs: every registered op, on its samples.

A cache keyed on a tensor's identity gives a variable's old value after
``assign``, hides the op from the next tape, and keeps its inputs alive.
"""

import gc
import importlib
import pkgutil
import weakref

import numpy as np
import pytest

import nnlib
from nnlib.engine import nest
from nnlib.ops.registry import REGISTRY

_CASES = [
    pytest.param(info, i, id=f"{name}-{i}")
    for name, info in sorted(REGISTRY.items())
    for i in range(len(info.samples))
]


def _float_positions(args):
    return [
        i
        for i, a in enumerate(args)
        if isinstance(a, np.ndarray) and a.dtype.kind == "f"
    ]


def _samples(info, index):
    """The sample's arguments, and new float values of the same shapes."""
    sample = info.samples[index]
    args, kwargs = sample.build(np.random.default_rng(index))
    new_args, _ = sample.build(np.random.default_rng(index + 100))
    positions = _float_positions(args)
    new = [new_args[i] for i in positions]
    if [np.shape(a) for a in new] != [np.shape(args[i]) for i in positions]:
        pytest.skip("the sample's shapes are random")
    return args, kwargs, positions, new


def _replaced(args, positions, values):
    args = list(args)
    for i, v in zip(positions, values):
        args[i] = v
    return args


def _values(out):
    return [np.asarray(o) for o in nest.flatten(out)]


@pytest.mark.parametrize("info, index", _CASES)
def test_an_op_reads_a_variables_value_after_assign(info, index):
    args, kwargs, positions, new = _samples(info, index)
    variables = [nnlib.Variable(args[i]) for i in positions]
    with_variables = _replaced(args, positions, variables)
    info.call(*with_variables, **kwargs)
    for v, value in zip(variables, new):
        v.assign(value)
    got = _values(info.call(*with_variables, **kwargs))
    fresh = [nnlib.constant(v) for v in new]
    want = _values(info.call(*_replaced(args, positions, fresh), **kwargs))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def _gradients(info, args, kwargs, sources):
    with nnlib.GradientTape() as tape:
        tape.watch(sources)
        out = info.call(*args, **kwargs)
    targets = [o for o in nest.flatten(out) if o.dtype.kind == "f"]
    rng = np.random.default_rng(0)  # weights, as the sum's gradient can be 0
    weights = [rng.uniform(0.5, 1.5, t.shape).astype(t.dtype) for t in targets]
    return tape.gradient(
        targets, sources, output_gradients=weights, unconnected_gradients="zero"
    )


@pytest.mark.parametrize(
    "info, index", [c for c in _CASES if c.values[0].differentiable]
)
def test_an_op_is_recorded_by_every_tape_on_the_same_inputs(info, index):
    args, kwargs, positions, _ = _samples(info, index)
    wrt = info.samples[index].wrt or positions
    tensors = [nnlib.constant(a) if i in wrt else a for i, a in enumerate(args)]
    sources = [tensors[i] for i in wrt]
    info.call(*tensors, **kwargs)  # an untaped call first
    first = _gradients(info, tensors, kwargs, sources)
    second = _gradients(info, tensors, kwargs, sources)
    fresh = [nnlib.constant(a) if i in wrt else a for i, a in enumerate(args)]
    want = _gradients(info, fresh, kwargs, [fresh[i] for i in wrt])
    assert any(np.any(w.numpy()) for w in want)  # the check can see a loss
    for a, b, w in zip(first, second, want):
        np.testing.assert_array_equal(a.numpy(), w.numpy())
        np.testing.assert_array_equal(b.numpy(), w.numpy())


def test_no_op_keeps_its_inputs_or_outputs_alive():
    refs = []
    for name, info in sorted(REGISTRY.items()):
        for index, sample in enumerate(info.samples):
            args, kwargs = sample.build(np.random.default_rng(index))
            positions = _float_positions(args)
            tensors = [
                nnlib.constant(a) if i in positions else a for i, a in enumerate(args)
            ]
            out = info.call(*tensors, **kwargs)
            if info.differentiable:
                _gradients(info, tensors, kwargs, [tensors[i] for i in positions])
            for t in [tensors[i] for i in positions] + nest.flatten(out):
                refs.append((f"{name}-{index}", weakref.ref(t)))
            del tensors, out, t
    gc.collect()
    alive = sorted({case for case, ref in refs if ref() is not None})
    assert alive == []


# Every cache in ops and engine, reviewed: each keys on shapes, dtypes, axes,
# window geometry or ints, and any array it returns is read-only.
_REVIEWED_CACHES = {
    "nnlib.ops._normalize._ones",
    "nnlib.ops._normalize.count",
    "nnlib.ops._normalize.layout",
    "nnlib.ops._windows.window",
    "nnlib.ops.poly._broadcast_strides",
    "nnlib.ops.poly._summed_axes",
    "nnlib.ops.pooling._inverse_counts",
}


def test_every_cache_in_ops_and_engine_is_reviewed():
    found = set()
    for package in (nnlib.ops, nnlib.engine):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if hasattr(obj, "cache_info") and obj.__module__ == info.name:
                    found.add(f"{info.name}.{name}")
    # A new cache: make sure it never keys on a tensor or an array, then add it.
    assert found == _REVIEWED_CACHES
