"""Agreement with torch.optim over 20 steps on the same gradients (float64).

Keras and PyTorch place epsilon differently in Adam, Adamax, RMSProp and
Adagrad; with a tiny epsilon on both sides the difference is far below the
tolerance. Keras's SGD momentum equals PyTorch's for a constant learning rate;
Keras's Nadam is PyTorch's NAdam with ``momentum_decay=1``.
"""

import numpy as np
import pytest

import nnlib
from nnlib import optimizers

torch = pytest.importorskip("torch")

TINY = 1e-12

CASES = {
    "sgd": (
        lambda: optimizers.GradientDescent(0.1),
        lambda p: torch.optim.SGD(p, lr=0.1),
    ),
    "momentum": (
        lambda: optimizers.Momentum(0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "nesterov": (
        lambda: optimizers.Momentum(0.05, momentum=0.9, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    ),
    "adam": (
        lambda: optimizers.Adam(0.01, epsilon=TINY),
        lambda p: torch.optim.Adam(p, lr=0.01, eps=TINY),
    ),
    "amsgrad": (
        lambda: optimizers.Adam(0.01, epsilon=TINY, amsgrad=True),
        lambda p: torch.optim.Adam(p, lr=0.01, eps=TINY, amsgrad=True),
    ),
    "adamw": (
        lambda: optimizers.AdamW(0.01, weight_decay=0.01, epsilon=TINY),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.01, eps=TINY),
    ),
    "adamax": (
        lambda: optimizers.Adamax(0.01, epsilon=TINY),
        lambda p: torch.optim.Adamax(p, lr=0.01, eps=TINY),
    ),
    "nadam": (
        lambda: optimizers.Nadam(0.01, epsilon=TINY),
        lambda p: torch.optim.NAdam(p, lr=0.01, eps=TINY, momentum_decay=1.0),
    ),
    "rmsprop": (
        lambda: optimizers.RMSProp(0.01, rho=0.9, epsilon=TINY),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=TINY),
    ),
    "rmsprop_centered_momentum": (
        lambda: optimizers.RMSProp(0.01, momentum=0.5, epsilon=TINY, centered=True),
        lambda p: torch.optim.RMSprop(
            p, lr=0.01, alpha=0.9, eps=TINY, momentum=0.5, centered=True
        ),
    ),
    "adagrad": (
        lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.1, epsilon=TINY),
        lambda p: torch.optim.Adagrad(
            p, lr=0.1, initial_accumulator_value=0.1, eps=TINY
        ),
    ),
    "adadelta": (
        lambda: optimizers.Adadelta(1.0, rho=0.9, epsilon=1e-6),
        lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6),
    ),
}
# Lion's formula is checked against numpy in test_optimizer_formulas.py::test_lion
# whatever torch has; here it is also compared with torch's, where torch has one.
if hasattr(torch.optim, "Lion"):  # not in torch 2.13
    CASES["lion"] = (
        lambda: optimizers.Lion(0.01),
        lambda p: torch.optim.Lion(p, lr=0.01, betas=(0.9, 0.99)),
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_torch_over_20_steps(case):
    make_ours, make_theirs = CASES[case]
    rng = np.random.default_rng(3)
    shapes = [(5, 4), (4,)]
    inits = [rng.standard_normal(s) for s in shapes]
    ours = [nnlib.Variable(w, name=f"w{i}") for i, w in enumerate(inits)]
    theirs = [torch.tensor(w, requires_grad=True) for w in inits]
    opt, torch_opt = make_ours(), make_theirs(theirs)
    for _ in range(20):
        grads = [rng.standard_normal(s) for s in shapes]
        opt.apply_gradients(zip(grads, ours))
        for p, g in zip(theirs, grads):
            p.grad = torch.tensor(g)
        torch_opt.step()
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(
            mine.numpy(), other.detach().numpy(), rtol=1e-7, atol=1e-9
        )
