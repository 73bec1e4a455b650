"""The generic gradient test: every registered op against finite differences."""

import numpy as np
import pytest

import nnlib
from nnlib.ops.registry import REGISTRY
from nnlib.test_util import check_gradients

_CASES = [
    pytest.param(info, i, id=f"{name}-{i}")
    for name, info in sorted(REGISTRY.items())
    if info.differentiable
    for i in range(len(info.samples))
]


@pytest.mark.parametrize("info, index", _CASES)
def test_gradient_matches_finite_differences(info, index):
    sample = info.samples[index]
    args, kwargs = sample.build(np.random.default_rng(index))
    check_gradients(
        lambda *a: info.call(*a, **kwargs),
        *args,
        wrt=sample.wrt,
        order=2 if info.second_order else 1,
    )


def test_every_public_op_is_registered():
    """An op exported by nnlib.ops that the generic test cannot see fails here."""
    registered = {info.fn for info in REGISTRY.values()}
    missing = [
        name for name in nnlib.ops.__all__ if getattr(nnlib.ops, name) not in registered
    ]
    assert missing == []


def test_checker_rejects_a_wrong_gradient_rule():
    @nnlib.custom_gradient
    def wrong_square(x):
        return x * x, lambda dy: dy * x  # should be 2 * x * dy

    with pytest.raises(AssertionError, match="differs from finite differences"):
        check_gradients(wrong_square, np.linspace(0.5, 1.5, 4))


def test_checker_rejects_a_wrong_second_derivative():
    @nnlib.custom_gradient
    def cube(x):
        # First derivative right (3x^2), but built from a constant, so the
        # second derivative it implies is 0 instead of 6x.
        slope = nnlib.constant(3 * x.numpy() ** 2)
        return x * x * x, lambda dy: dy * slope

    check_gradients(cube, np.linspace(0.5, 1.5, 4))
    with pytest.raises(AssertionError, match="derivative of order 2"):
        check_gradients(cube, np.linspace(0.5, 1.5, 4), order=2)
