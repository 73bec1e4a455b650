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

import sys
import time

from _harness import import_libraries, measure, parse_timing_args, set_threads
from _ops_cases import chain_candidates, op_candidates, op_functions
from _report import (
    Targets,
    clock_name,
    environment,
    environment_variables,
    finish,
    fmt_ratio,
    print_header,
    print_targets,
    ratio,
    torch_capability,
)

OPS = ("add", "multiply", "matmul", "tanh", "reduce_sum")
SIZES = (8, 256)
COLUMNS = ("numpy", "nnlib", "nnlib+tape", "torch", "torch+grad")
CHAIN = ("numpy", "nnlib", "torch")
# (repeat, min_time) under --quick and otherwise.
QUICK, FULL = (8, 0.006), (10, 0.05)

# The goals, as limits on time ratios.
SMALL_NO_TAPE_VS_TORCH = 1.0
SMALL_TAPE_VS_TORCH = 2.0
CHAIN_VS_TORCH = 0.6
LARGE_VS_NUMPY = 1.10


def parse_args(argv=None):
    """The command-line options, with ``--repeat`` and ``--min-time`` filled in."""

    def tape_batch(parser):
        parser.add_argument(
            "--tape-batch",
            type=int,
            default=50,
            help="recorded calls per fresh GradientTape (default 50)",
        )

    return parse_timing_args(__doc__, argv, QUICK, FULL, tape_batch)


# -- report -----------------------------------------------------------------------


def fmt_us(v):
    """Microseconds with three significant digits or so, ``-`` when missing."""
    if v is None:
        return "-"
    return f"{v:.3f}" if v < 10 else f"{v:.2f}" if v < 100 else f"{v:.1f}"


def header(np, torch, args):
    """The environment (for the JSON too), printed as the header."""
    env = environment(
        np,
        torch,
        args.threads,
        torch_threads=None if torch is None else torch.get_num_threads(),
        torch_interop_threads=(
            None if torch is None else torch.get_num_interop_threads()
        ),
        torch_cpu_capability=torch_capability(torch),
        env=environment_variables(),
        statistic="min",
        repeat=args.repeat,
        min_time_s=args.min_time,
        tape_batch=args.tape_batch,
        gc_enabled=args.gc,
        clock=clock_name(args),
    )
    torch_threads = (
        f"torch {env['torch_threads']} intra-op / "
        f"{env['torch_interop_threads']} inter-op (torch.set_num_threads; "
        f"CPU capability {env['torch_cpu_capability']})"
        if env["torch"]
        else "torch -"
    )
    print_header(
        "nnlib per-op overhead: microseconds per call, float32, CPU",
        env,
        f"min of {env['repeat']} repeats of ~{env['min_time_s']} s each; "
        f"nnlib+tape: {env['tape_batch']} calls per fresh tape, tape cost included; "
        f"gc {'on' if env['gc_enabled'] else 'off'} while timing",
        threads=f"threads: numpy BLAS {env['numpy_threads']} (OPENBLAS_NUM_THREADS, "
        f"OMP_NUM_THREADS; numpy's elementwise ops use one), {torch_threads}",
    )
    return env


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
    """The target checks (``passed`` is None when torch is absent)."""
    checks = Targets()
    for column, label, limit in (
        ("nnlib", "no tape: nnlib/torch", SMALL_NO_TAPE_VS_TORCH),
        ("nnlib+tape", "with tape: nnlib+tape/torch", SMALL_TAPE_VS_TORCH),
    ):
        for op in OPS:
            r = results[op]["8x8"]
            checks.add(f"8x8 {op}, {label}", ratio(r[column], r.get("torch")), limit)
    checks.add(
        "chain fwd+bwd: nnlib/torch",
        ratio(chain["nnlib"], chain.get("torch")),
        CHAIN_VS_TORCH,
    )
    for op in OPS:
        r = results[op]["256x256"]
        # Strictly less than +10%; equality counts as a miss.
        checks.add(
            f"256x256 {op}, no tape: nnlib/numpy",
            ratio(r["nnlib"], r["numpy"]),
            LARGE_VS_NUMPY,
            strict=True,
        )
    return checks


def main(argv=None):
    """Runs the benchmark; always returns 0."""
    args = parse_args(argv)
    set_threads(args.threads)
    start = time.perf_counter()
    np, nnlib, torch = libs = import_libraries(args.threads)
    env = header(np, torch, args)

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
    print_targets(
        checks,
        44,
        missing="no torch",
        skip_note=" (torch not installed)",
        op=lambda c: "<" if c["target"].startswith("256x256") else "<=",
    )
    finish(
        start,
        args.json,
        {
            "environment": env,
            "unit": "microseconds per call",
            "ops": results,
            "chain": chain,
            "targets": checks,
            "minor_page_faults_per_call": faults,
        },
    )
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
