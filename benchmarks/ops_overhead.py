"""Per-op overhead of nnlib against raw numpy and PyTorch eager, on the CPU.

What is measured, in microseconds per call (the minimum over repeats, the usual
statistic for microbenchmarks: noise only ever adds time):

* ``add``, ``multiply``, ``matmul``, ``tanh`` and ``reduce_sum`` (sum of all
  elements) on 8x8 and 256x256 float32 arrays, for

  - ``numpy``: the numpy call on arrays (``np.add(a, b)``, ``np.sum(a)``, ...);
  - ``nnlib``: the nnlib function on Tensors, no tape active;
  - ``nnlib+tape``: the same inside ``with nnlib.GradientTape() as tape:
    tape.watch(x)``, so every call is recorded. Calls run in batches of
    ``--tape-batch`` per fresh tape, so the record cannot grow without bound;
    creating, entering and leaving the tape is part of the time (nothing is
    subtracted);
  - ``torch``: the PyTorch function on tensors without ``requires_grad``;
  - ``torch+grad`` (for reference): the first input ``requires_grad=True``, so
    autograd builds a graph node per call, as the tape records one.

* the forward and backward pass of ``reduce_sum(tanh(x @ W + b))`` with x 32x64,
  W 64x64 and b 64 (float32): hand-written numpy, nnlib through
  ``implicit_value_and_gradients`` with W and b as ``nnlib.Variable``, and PyTorch
  with ``requires_grad`` leaves, ``.backward()`` and the gradients reset to None
  after every step (what ``optimizer.zero_grad()`` does).

The "targets" section checks the goals of the overhead issue: every nnlib op on
8x8 without a tape at most 1.0x PyTorch and with a tape at most 2x PyTorch; the
small chain at most 0.6x PyTorch; on 256x256 nnlib adds less than 10% to numpy.
It prints PASS or FAIL for each and always exits 0: this is a benchmark, not a
test.

Both libraries run single-threaded by default (``--threads 1``) for a fair
comparison on small machines: ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
``MKL_NUM_THREADS`` are set before numpy is imported, and torch gets
``torch.set_num_threads``. ``OPENBLAS_CORETYPE`` is left as found and printed.
Each figure is the minimum of ``--repeat`` (10) runs of about ``--min-time``
(0.05) seconds, so about 0.5 s of timing per figure; within one table row the
candidates take turns. On a small shared machine many short runs taken in turns
gave much steadier ratios than five runs of 0.2 s (nnlib/numpy for 256x256 add
stayed within 1.07-1.09 over repeated trials, against 0.76-1.25). As in
``timeit``, the garbage collector is off while timing unless ``--gc``. Minor page
faults per call are counted too: a tape keeps what gradient rules save (tanh keeps
its output), and when a tape frees megabytes at once glibc hands them back to the
system, so the next batch faults them in again; the table marks such cells.

PyTorch is optional (the import is guarded): ``pip install torch==2.13.0``.

Run, from the repository root::

    python3 benchmarks/ops_overhead.py              # full run, under a minute
    python3 benchmarks/ops_overhead.py --quick      # a few seconds, rougher
    python3 benchmarks/ops_overhead.py --json out.json
"""

import argparse
import json
import math
import os
import platform
import sys
import time
import timeit

try:
    import resource
except ImportError:  # not on Windows: page faults are then not counted
    resource = None

OPS = ("add", "multiply", "matmul", "tanh", "reduce_sum")
BINARY = ("add", "multiply", "matmul")
SIZES = (8, 256)
COLUMNS = ("numpy", "nnlib", "nnlib+tape", "torch", "torch+grad")
CHAIN = ("numpy", "nnlib", "torch")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# The goals, as limits on time ratios.
SMALL_NO_TAPE_VS_TORCH = 1.0
SMALL_TAPE_VS_TORCH = 2.0
CHAIN_VS_TORCH = 0.6
LARGE_VS_NUMPY = 1.10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for numpy's BLAS and for torch (default 1)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shorter, rougher figures (8 repeats of about 6 ms)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="repeats per figure, the minimum is reported (default 10)",
    )
    parser.add_argument(
        "--min-time", type=float, default=None, help="seconds per repeat (default 0.05)"
    )
    parser.add_argument(
        "--tape-batch",
        type=int,
        default=50,
        help="recorded calls per fresh GradientTape (default 50)",
    )
    parser.add_argument(
        "--gc", action="store_true", help="keep the garbage collector on while timing"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 8 if args.quick else 10
    if args.min_time is None:
        args.min_time = 0.006 if args.quick else 0.05
    return args


def set_threads(threads):
    """Sets the thread variables; they only take effect before numpy is imported."""
    late = "numpy" in sys.modules
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    if late:
        print(
            "warning: numpy was imported before --threads could apply; "
            "its BLAS may use more threads",
            file=sys.stderr,
        )


def import_libraries(threads):
    """Imports numpy, nnlib (from this checkout) and torch when installed."""
    import numpy as np

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)  # measure this checkout's nnlib
    import nnlib

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:  # only allowed before torch's first parallel work
            pass
    return np, nnlib, torch


# -- timing -----------------------------------------------------------------------


class Candidate:
    """One thing to time: a ``timeit.Timer`` and how many op calls one loop makes."""

    def __init__(self, timer, calls=1):
        self.timer = timer
        self.calls = calls
        self.number = 1
        self.best = math.inf
        self.faults = None  # minor page faults per call in the best repeat

    def calibrate(self, min_time):
        """Picks ``number`` so that one repeat takes about ``min_time`` seconds."""
        number = 1
        while True:
            elapsed = self.timer.timeit(number)
            if elapsed >= min_time / 10:
                break
            number *= 10 if elapsed < min_time / 100 else 2
        self.number = max(1, math.ceil(number * min_time / elapsed))

    def run(self):
        faults = _minor_faults()
        elapsed = self.timer.timeit(self.number) / (self.number * self.calls)
        if elapsed < self.best:
            self.best = elapsed
            if faults is not None:
                self.faults = (_minor_faults() - faults) / (self.number * self.calls)

    @property
    def microseconds(self):
        return self.best * 1e6


def _minor_faults():
    if resource is None:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(candidates, args, faults=None):
    """Times a dict of candidates in turns; returns ``{name: microseconds}``.

    Many short repeats taken in turns give steadier ratios than a few long ones
    on a small, shared machine: a slow spell then hits every candidate alike.
    ``faults``, a dict, receives the minor page faults per call of each candidate.
    """
    for c in candidates.values():
        c.calibrate(args.min_time)
    for _ in range(args.repeat):
        for c in candidates.values():
            c.run()
    if faults is not None:
        faults.update({name: c.faults for name, c in candidates.items()})
    return {name: c.microseconds for name, c in candidates.items()}


def make_timer(stmt, namespace, args):
    setup = "import gc; gc.enable()" if args.gc else "pass"
    if callable(stmt):
        namespace = dict(namespace, _stmt=stmt)
        stmt = "_stmt()"
    return timeit.Timer(stmt, setup=setup, globals=namespace)


# -- what is timed ----------------------------------------------------------------


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


# -- report -----------------------------------------------------------------------


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_us(v):
    if v is None:
        return "-"
    return f"{v:.3f}" if v < 10 else f"{v:.2f}" if v < 100 else f"{v:.1f}"


def fmt_ratio(v):
    return "-" if v is None else f"{v:.2f}x"


def environment(np, torch, args):
    env = {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "numpy": np.__version__,
        "blas": _blas_name(np),
        "torch": torch.__version__ if torch is not None else None,
        "numpy_threads": args.threads,
        "torch_threads": None,
        "torch_interop_threads": None,
        "torch_cpu_capability": _torch_capability(torch),
        "env": {
            k: v
            for k, v in sorted(os.environ.items())
            if k.startswith("OPENBLAS_") or k in THREAD_VARS
        },
        "statistic": "min",
        "repeat": args.repeat,
        "min_time_s": args.min_time,
        "tape_batch": args.tape_batch,
        "gc_enabled": args.gc,
    }
    if torch is not None:
        env["torch_threads"] = torch.get_num_threads()
        env["torch_interop_threads"] = torch.get_num_interop_threads()
    return env


def _torch_capability(torch):
    try:
        return torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # torch not installed, or too old to say
        return None


def _blas_name(np):
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except (AttributeError, KeyError, TypeError):  # older numpy: no dict mode
        return "unknown"


def print_header(env):
    print("nnlib per-op overhead: microseconds per call, float32, CPU")
    print(
        f"python {env['python']} ({env['machine']}); numpy {env['numpy']} "
        f"(BLAS {env['blas']}); torch {env['torch'] or 'not installed'}"
    )
    torch_threads = (
        f"torch {env['torch_threads']} intra-op / "
        f"{env['torch_interop_threads']} inter-op (torch.set_num_threads; "
        f"CPU capability {env['torch_cpu_capability']})"
        if env["torch"]
        else "torch -"
    )
    print(
        f"threads: numpy BLAS {env['numpy_threads']} (OPENBLAS_NUM_THREADS, "
        f"OMP_NUM_THREADS; numpy's elementwise ops use one), {torch_threads}"
    )
    variables = ", ".join(f"{k}={v}" for k, v in env["env"].items())
    if "OPENBLAS_CORETYPE" not in env["env"]:
        variables += ", OPENBLAS_CORETYPE unset"
    print(f"environment: {variables}")
    print(
        f"statistic: min of {env['repeat']} repeats of ~{env['min_time_s']} s each; "
        f"nnlib+tape: {env['tape_batch']} calls per fresh tape, tape cost included; "
        f"gc {'on' if env['gc_enabled'] else 'off'} while timing"
    )


def print_ops(results, faults):
    head = (
        f"{'op':<11}{'size':>8}"
        + "".join(f"{c:>12}" for c in COLUMNS)
        + f"{'nnlib/torch':>13}{'tape/torch':>12}{'nnlib/numpy':>13}"
    )
    print()
    print(head)
    print("-" * len(head))
    for op in OPS:
        for size in SIZES:
            r = results[op][f"{size}x{size}"]
            f = faults[op][f"{size}x{size}"]
            cells = [
                fmt_us(r.get(c)) + ("*" if (f.get(c) or 0) >= 1 else "")
                for c in COLUMNS
            ]
            print(
                f"{op:<11}{f'{size}x{size}':>8}"
                + "".join(f"{v:>12}" for v in cells)
                + f"{fmt_ratio(ratio(r['nnlib'], r.get('torch'))):>13}"
                + f"{fmt_ratio(ratio(r['nnlib+tape'], r.get('torch'))):>12}"
                + f"{fmt_ratio(ratio(r['nnlib'], r['numpy'])):>13}"
            )
    marked = [
        f"{op} {size} {c} ({n:.0f} faults/call)"
        for op in OPS
        for size, cells in faults[op].items()
        for c, n in cells.items()
        if (n or 0) >= 1
    ]
    if marked:
        print(
            "* minor page faults per call >= 1, memory handed back to the system and "
            "faulted in again:\n  " + "; ".join(marked)
        )


def print_chain(chain):
    print()
    print("forward + backward of reduce_sum(tanh(x @ W + b)), x 32x64, W 64x64, b 64")
    labels = {
        "numpy": "numpy (hand-written gradient)",
        "nnlib": "nnlib (implicit_value_and_gradients)",
        "torch": "torch (.backward(), grads set to None)",
    }
    for name in CHAIN:
        value = chain.get(name)
        shown = "not installed" if value is None else f"{fmt_us(value):>10} us"
        print(f"  {labels[name]:<42}{shown}")
    bases = (("nnlib/torch", chain.get("torch")), ("nnlib/numpy", chain["numpy"]))
    for name, base in bases:
        print(f"  {name:<42}{fmt_ratio(ratio(chain['nnlib'], base)):>10}")


def targets(results, chain):
    """Returns the target checks as dicts (``passed`` is None when torch is absent)."""
    checks = []

    def check(name, value, limit):
        passed = None if value is None else value <= limit
        checks.append(
            {"target": name, "value": value, "limit": limit, "passed": passed}
        )

    for op in OPS:
        r = results[op]["8x8"]
        check(
            f"8x8 {op}, no tape: nnlib/torch",
            ratio(r["nnlib"], r.get("torch")),
            SMALL_NO_TAPE_VS_TORCH,
        )
    for op in OPS:
        r = results[op]["8x8"]
        check(
            f"8x8 {op}, with tape: nnlib+tape/torch",
            ratio(r["nnlib+tape"], r.get("torch")),
            SMALL_TAPE_VS_TORCH,
        )
    check(
        "chain fwd+bwd: nnlib/torch",
        ratio(chain["nnlib"], chain.get("torch")),
        CHAIN_VS_TORCH,
    )
    for op in OPS:
        r = results[op]["256x256"]
        # Strictly less than +10%; equality counts as a miss.
        value = ratio(r["nnlib"], r["numpy"])
        checks.append(
            {
                "target": f"256x256 {op}, no tape: nnlib/numpy",
                "value": value,
                "limit": LARGE_VS_NUMPY,
                "passed": value < LARGE_VS_NUMPY,
            }
        )
    return checks


def print_targets(checks):
    print()
    print("targets")
    for c in checks:
        status = {True: "PASS", False: "FAIL", None: "SKIP"}[c["passed"]]
        value = "no torch" if c["value"] is None else f"{c['value']:.3f}x"
        op = "<" if c["target"].startswith("256x256") else "<="
        print(f"  [{status}] {c['target']:<44} {value:>9} {op} {c['limit']:.2f}x")
    done = [c for c in checks if c["passed"] is not None]
    print(
        f"  {sum(c['passed'] for c in done)} of {len(done)} targets met"
        + (
            f", {len(checks) - len(done)} skipped (torch not installed)"
            if len(done) < len(checks)
            else ""
        )
    )


def main(argv=None):
    args = parse_args(argv)
    set_threads(args.threads)
    start = time.perf_counter()
    np, nnlib, torch = libs = import_libraries(args.threads)
    env = environment(np, torch, args)
    print_header(env)
    sys.stdout.flush()

    functions = op_functions(np, nnlib, torch)
    results = {op: {} for op in OPS}
    faults = {op: {} for op in OPS}
    for op in OPS:
        for size in SIZES:
            key = f"{size}x{size}"
            candidates = op_candidates(libs, op, functions[op], size, args)
            faults[op][key] = {}
            results[op][key] = measure(candidates, args, faults[op][key])
    chain = measure(chain_candidates(libs, args), args)

    print_ops(results, faults)
    print_chain(chain)
    checks = targets(results, chain)
    print_targets(checks)
    elapsed = time.perf_counter() - start
    print(f"\ntotal time {elapsed:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "environment": env,
                    "unit": "microseconds per call",
                    "ops": results,
                    "chain": chain,
                    "targets": checks,
                    "minor_page_faults_per_call": faults,
                    "total_seconds": elapsed,
                },
                f,
                indent=2,
            )
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
