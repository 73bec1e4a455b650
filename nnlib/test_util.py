"""Checking gradients against finite differences, for nnlib's tests and yours."""

import numpy as np

from .engine import nest
from .engine.gradient_tape import GradientTape
from .engine.tensor import Tensor, constant

__all__ = ["check_gradients", "numerical_gradient"]


def check_gradients(
    f, *args, wrt=None, order=1, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0
):
    """Checks the gradients of ``f`` at ``args`` against central finite differences.

    Floating-point arguments are converted to float64; the check compares the
    vector-Jacobian product for a random upstream gradient (never all ones, which
    hides transposition bugs) with ``(f(x + eps) - f(x - eps)) / 2 eps`` of the
    same weighted sum.

    Args:
        f: A function of tensors returning a tensor or a list/tuple/dict of them.
        *args: Its arguments: arrays or numbers (differentiated when floating
            point) and anything else (integer indices, masks), passed unchanged.
        wrt: Positions to differentiate; default every floating-point argument.
        order: 2 also checks the second derivatives, by checking the gradient
            function itself.
        eps: The finite-difference step.
        rtol: Relative tolerance.
        atol: Absolute tolerance.
        seed: Seed of the random upstream gradients.

    Raises:
        AssertionError: Naming the argument, the worst element and both values.

    Examples:
        >>> nnlib.test_util.check_gradients(lambda x: nnlib.tanh(x) * x, np.ones((2, 3)))
        >>> wrong = nnlib.custom_gradient(lambda x: (x * x, lambda dy: dy * x))
        >>> nnlib.test_util.check_gradients(wrong, np.ones(3))
        Traceback (most recent call last):
        ...
        AssertionError: gradient of argument 0 differs from finite differences ...
    """
    args = [_as_float64(a) for a in args]
    if wrt is None:
        wrt = [i for i, a in enumerate(args) if _is_float_array(a)]
    wrt = list(wrt)
    fn = f
    for level in range(1, order + 1):
        dys = _check_once(
            fn,
            args,
            wrt,
            level,
            eps,
            rtol * 10 ** (level - 1),
            atol * 10 ** (level - 1),
            seed + level,
        )
        fn = _gradient_function(fn, wrt, dys)


def _check_once(f, args, wrt, level, eps, rtol, atol, seed):
    rng = np.random.default_rng(seed)
    tensors = [constant(a) if i in wrt else a for i, a in enumerate(args)]
    with GradientTape() as tape:
        for i in wrt:
            tape.watch(tensors[i])
        outputs = _float_outputs(f(*tensors))
    dys = [rng.standard_normal(o.shape).astype(o.dtype) for o in outputs]
    analytic = tape.gradient(
        outputs,
        [tensors[i] for i in wrt],
        output_gradients=[constant(d) for d in dys],
        unconnected_gradients="zero",
    )
    for position, grad in zip(wrt, analytic):
        numeric = numerical_gradient(f, args, position, dys, eps)
        _compare(position, np.asarray(grad), numeric, rtol, atol, level)
    return dys


def numerical_gradient(f, args, position, dys, eps=1e-6):
    """Central-difference gradient of ``sum(dy * f(args))`` w.r.t. ``args[position]``.

    Examples:
        >>> numerical_gradient(lambda x: x * x, [np.array([3.0])], 0,
        ...                    [np.array([1.0])]).round(6)
        array([6.])
    """
    args = [
        np.array(a, dtype=np.float64) if i == position else a
        for i, a in enumerate(args)
    ]
    x = args[position]
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = _weighted_sum(f, args, dys)
        x[index] = original - eps
        minus = _weighted_sum(f, args, dys)
        x[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def _weighted_sum(f, args, dys):
    tensors = [constant(a) if _is_float_array(a) else a for a in args]
    outputs = _float_outputs(f(*tensors))
    return sum(
        float(np.sum(np.asarray(o, np.float64) * d)) for o, d in zip(outputs, dys)
    )


def _gradient_function(f, wrt, dys):
    def gradients(*tensors):
        with GradientTape() as tape:
            for i in wrt:
                tape.watch(tensors[i])
            outputs = _float_outputs(f(*tensors))
        return tape.gradient(
            outputs,
            [tensors[i] for i in wrt],
            output_gradients=[constant(d) for d in dys],
            unconnected_gradients="zero",
        )

    return gradients


def _compare(position, analytic, numeric, rtol, atol, level):
    if analytic.shape != numeric.shape:
        raise AssertionError(
            f"gradient of argument {position} has shape {analytic.shape}, "
            f"expected {numeric.shape}"
        )
    if np.allclose(analytic, numeric, rtol=rtol, atol=atol):
        return
    error = np.abs(analytic - numeric) - rtol * np.abs(numeric)
    worst = np.unravel_index(np.argmax(error), error.shape) if error.ndim else ()
    raise AssertionError(
        f"gradient of argument {position} differs from finite differences "
        f"(derivative of order {level}): at index {tuple(int(i) for i in worst)} analytic "
        f"{analytic[worst]:.8g}, numeric {numeric[worst]:.8g}; "
        f"max abs error {np.max(np.abs(analytic - numeric)):.3g}"
    )


def _float_outputs(out):
    leaves = [o for o in nest.flatten(out) if o is not None]
    return [
        o if isinstance(o, Tensor) else constant(o)
        for o in leaves
        if np.asarray(o).dtype.kind in "fc"
    ]


def _is_float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _as_float64(a):
    if isinstance(a, float) or (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
        return np.asarray(a, dtype=np.float64)
    if isinstance(a, Tensor) and a.dtype.kind == "f":
        return np.asarray(a.numpy(), dtype=np.float64)
    return a
