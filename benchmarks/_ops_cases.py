"""What ``ops_overhead.py`` times: the ops three ways, and the small chain.

Not a benchmark: a part of ``ops_overhead.py``, which documents what each
candidate measures. Every function takes numpy, nnlib and torch (or None) as
arguments, so that importing this module imports neither.
"""

from _harness import Candidate, make_timer

BINARY = ("add", "multiply", "matmul")


def op_functions(np, nnlib, torch):
    """``{op: (numpy function, nnlib function, torch function or None)}``."""
    return {
        "add": (np.add, nnlib.add, torch and torch.add),
        "multiply": (np.multiply, nnlib.multiply, torch and torch.mul),
        "matmul": (np.matmul, nnlib.matmul, torch and torch.matmul),
        "tanh": (np.tanh, nnlib.tanh, torch and torch.tanh),
        "reduce_sum": (np.sum, nnlib.reduce_sum, torch and torch.sum),
    }


def taped(nnlib, fn, inputs, batch):
    """A function making ``batch`` recorded calls inside a fresh tape.

    Raises:
        RuntimeError: If the tape did not record the op (no gradient reaches x).
    """
    tape_class, x, calls = nnlib.GradientTape, inputs[0], range(batch)
    with tape_class() as tape:
        tape.watch(x)
        out = nnlib.reduce_sum(fn(*inputs))
    if tape.gradient(out, x) is None:
        raise RuntimeError(f"{fn.__name__} was not recorded by the tape")

    if len(inputs) == 2:
        y = inputs[1]

        def run():
            with tape_class() as tape:
                tape.watch(x)
                for _ in calls:
                    fn(x, y)
    else:

        def run():
            with tape_class() as tape:
                tape.watch(x)
                for _ in calls:
                    fn(x)

    return run


def op_candidates(libs, op, fns, size, args):
    """``{column: Candidate}`` for one op on ``size`` x ``size`` float32 arrays."""
    np, nnlib, torch = libs
    np_fn, nn_fn, torch_fn = fns
    rng = np.random.default_rng(0)
    arrays = [
        rng.standard_normal((size, size), dtype=np.float32)
        for _ in range(2 if op in BINARY else 1)
    ]
    stmt = "f(a, b)" if len(arrays) == 2 else "f(a)"
    names = dict(zip("ab", arrays))
    tensors = [nnlib.constant(a) for a in arrays]
    candidates = {
        "numpy": Candidate(make_timer(stmt, dict(names, f=np_fn), args)),
        "nnlib": Candidate(make_timer(stmt, dict(zip("ab", tensors), f=nn_fn), args)),
        "nnlib+tape": Candidate(
            make_timer(taped(nnlib, nn_fn, tensors, args.tape_batch), {}, args),
            calls=args.tape_batch,
        ),
    }
    if torch is not None:
        plain = [torch.from_numpy(a).clone() for a in arrays]  # torch-allocated
        grad = [t.clone().requires_grad_(i == 0) for i, t in enumerate(plain)]
        candidates["torch"] = Candidate(
            make_timer(stmt, dict(zip("ab", plain), f=torch_fn), args)
        )
        candidates["torch+grad"] = Candidate(
            make_timer(stmt, dict(zip("ab", grad), f=torch_fn), args)
        )
    return candidates


def chain_candidates(libs, args):
    """Forward + backward of ``reduce_sum(tanh(x @ W + b))`` three ways."""
    np, nnlib, torch = libs
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 64), dtype=np.float32)
    w = (rng.standard_normal((64, 64), dtype=np.float32) / 8).astype(np.float32)
    b = rng.standard_normal(64, dtype=np.float32)

    def numpy_step():
        h = np.tanh(x @ w + b)
        dz = 1.0 - h * h
        return h.sum(), x.T @ dz, dz.sum(axis=0)

    xt = nnlib.constant(x)
    wv, bv = nnlib.Variable(w, name="W"), nnlib.Variable(b, name="b")
    nnlib_step = nnlib.implicit_value_and_gradients(
        lambda: nnlib.reduce_sum(nnlib.tanh(xt @ wv + bv))
    )

    expected = numpy_step()
    loss, grads_and_vars = nnlib_step()
    got = [loss.numpy()] + [g.numpy() for g, _ in grads_and_vars]
    _check("nnlib", expected, got, np)
    candidates = {
        "numpy": Candidate(make_timer(numpy_step, {}, args)),
        "nnlib": Candidate(make_timer(nnlib_step, {}, args)),
    }
    if torch is not None:
        tx = torch.from_numpy(x).clone()
        tw = torch.from_numpy(w).clone().requires_grad_()
        tb = torch.from_numpy(b).clone().requires_grad_()

        def torch_step():
            loss = torch.tanh(tx @ tw + tb).sum()
            loss.backward()
            grads = tw.grad, tb.grad
            tw.grad = tb.grad = None
            return loss, grads

        loss, (gw, gb) = torch_step()
        _check("torch", expected, [loss.detach().numpy(), gw.numpy(), gb.numpy()], np)
        candidates["torch"] = Candidate(make_timer(torch_step, {}, args))
    return candidates


def _check(label, expected, got, np):
    for e, g in zip(expected, got):
        if not np.allclose(e, g, rtol=1e-4, atol=1e-3):
            raise RuntimeError(f"{label} chain disagrees with the numpy reference")
