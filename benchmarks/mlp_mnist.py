"""Training an MNIST MLP with nnlib, hand-written numpy and PyTorch, on the CPU.

The network is 784-512-512-10 with ReLU, trained on batches of 128 (pixels
scaled to [0, 1], float32) with mean sparse softmax cross-entropy on the logits
and SGD with momentum 0.9, learning rate 0.01. Every candidate starts from the
same weights (nnlib's Glorot-uniform initialisation, copied). What is measured:

* milliseconds per training step (the median over all timed steps) for

  - ``numpy``: a hand-written forward pass, backward pass and momentum update
    (in place where it saves a pass), the numpy limit;
  - ``nnlib loop``: ``nnlib.implicit_value_and_gradients`` of the compiled
    loss's class (``SparseCategoricalCrossentropy(from_logits=True)``) on a
    ``Sequential`` of ``Dense`` layers, then ``Momentum.apply_gradients``;
  - ``nnlib fit``: ``model.fit(..., verbose=0)`` on the whole training set
    after ``compile(optimizer=Momentum(...), loss=...)``, timed from inside by
    a callback that timestamps ``on_train_batch_end``;
  - ``torch``: ``nn.Sequential(Linear, ReLU, ...)``, ``F.cross_entropy``,
    ``torch.optim.SGD(momentum=0.9)`` with ``zero_grad()``;
  - ``numpy products``: only the eight matrix products of the numpy step (on
    one fixed batch, no batch drawn), so the table shows what share of the
    numpy step is BLAS.

  A step's time is the gap between the ends of consecutive steps, so it covers
  everything a training loop does per step: every loop draws its batch the way
  ``fit`` does (``x[order[i:i + 128]]`` from a permutation drawn each epoch,
  torch through ``torch.from_numpy`` of that batch). The candidates take turns
  in rounds (the order rotating), so a slow spell of a shared machine hits
  them alike; ``fit`` runs ``--steps + 1`` steps per call and its first gap is
  dropped (the epoch's setup, about 1 ms per 469 steps, is not counted). The
  garbage collector is off while timing unless ``--gc``, as in ``timeit``.

* peak memory of one training step, after warm-up steps: for numpy and nnlib
  ``tracemalloc`` (the most bytes allocated during the step and alive at once,
  numpy's arrays and Python objects); ``tracemalloc`` does not see PyTorch's
  allocator, so torch's figure is the same quantity taken from the PyTorch
  profiler's memory events (``profile_memory=True``: the most bytes of tensor
  storage allocated during the step and alive at once, Python objects not
  counted, nor its C++ autograd graph, while tracemalloc counts nnlib's tape).
  The two are close to comparable, not strictly. The RSS columns measure every
  candidate alike, each in a fresh process on a synthetic batch: how much the
  resident set grew over the first step and over later ones (the median of 5
  after 10 warm-up steps), and its peak growth during them (Linux: the
  high-water mark is reset through ``/proc/self/clear_refs`` before the step).
  These processes run with ``MALLOC_MMAP_THRESHOLD_=65536``, so that glibc maps
  every block of 64 KiB or more on its own and unmaps it when freed: the
  resident set then follows live memory, to the 4 KiB page (with glibc's
  default, freed blocks stay resident and a warm step grows nothing).

* test accuracy after one epoch (469 steps, shuffled) of ``nnlib fit`` and of
  torch, from the same initial weights, with the epoch's wall time.

Before timing, one step of each candidate from the same weights on the same
batch is checked against numpy (the loss and each weight's change, max absolute
error at most 1e-3 of the largest change), so that all four compute the same
step. The targets of the issue: the nnlib loop's step at most 1.1x the numpy
step; ``fit`` adds less than 5% to the nnlib loop; nnlib's peak memory (loop
and fit) no more than torch's. They print PASS, FAIL or SKIP (no torch), and
the script always exits 0: this is a benchmark, not a test.

Threads and the header follow ``ops_overhead.py`` (the scripts share
``_harness.py`` and ``_report.py``): single-threaded by default
(``--threads``), ``OPENBLAS_CORETYPE`` left as found and printed. MNIST is read
from ``../shared/data/mnist.npz`` beside the checkout (``--data``); without it
the script prints SKIP.

PyTorch is optional (the import is guarded): ``pip install torch==2.13.0``.

Run, from the repository root::

    python3 benchmarks/mlp_mnist.py              # about 35 s
    python3 benchmarks/mlp_mnist.py --quick      # about 13 s, no accuracy epoch
    python3 benchmarks/mlp_mnist.py --json out.json
    python3 benchmarks/mlp_mnist.py --profile    # plus cProfile of the nnlib loop
"""

import argparse
import os
import sys
import time

from _harness import (
    add_gc_option,
    add_json_option,
    add_threads_option,
    import_libraries,
    set_threads,
)
from _mlp_memory import peak_memory, rss_all, rss_child
from _mlp_models import load, make_candidates, nnlib_model
from _mlp_timing import accuracy, agreement, profile_loop, summarize, time_steps
from _report import (
    Targets,
    environment,
    environment_variables,
    finish,
    fmt_ratio,
    print_header,
    print_targets,
    ratio,
    torch_capability,
)

TOLERANCE = 1e-3
STEPS = ("numpy", "nnlib loop", "nnlib fit", "torch")
TIMED = STEPS + ("numpy products",)
LABELS = {
    "numpy": "numpy, hand-written",
    "nnlib loop": "nnlib loop (implicit_value_and_gradients)",
    "nnlib fit": "nnlib model.fit",
    "torch": "torch (nn.Sequential, optim.SGD)",
    "numpy products": "numpy, the 8 matrix products only",
}
# The goals.
LOOP_VS_NUMPY = 1.10  # at most
FIT_VS_LOOP = 1.05  # strictly less: fit adds under 5%


def parse_args(argv=None):
    """The command-line options, with the defaults that ``--quick`` changes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_threads_option(parser)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer timed steps (4 rounds of 10) and no accuracy epoch",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="timing rounds (default 12)"
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="timed steps per candidate per round (default 40)",
    )
    parser.add_argument(
        "--no-accuracy", action="store_true", help="skip the one-epoch accuracy runs"
    )
    add_gc_option(parser)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print cProfile's top functions over 100 steps of the nnlib loop",
    )
    parser.add_argument("--data", default=None, help="path of mnist.npz")
    add_json_option(parser)
    parser.add_argument("--rss-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 4 if args.quick else 12
    if args.steps is None:
        args.steps = 10 if args.quick else 40
    args.accuracy = not (args.quick or args.no_accuracy)
    return args


# -- report -----------------------------------------------------------------------


def fmt_mib(v):
    """Bytes as MiB with two decimals, ``-`` when missing."""
    return "-" if v is None else f"{v / 2**20:.2f}"


def header(np, torch, args):
    """The environment (for the JSON too), printed as the header."""
    env = environment(
        np,
        torch,
        args.threads,
        torch_threads=torch.get_num_threads() if torch is not None else None,
        torch_cpu_capability=torch_capability(torch),
        env=environment_variables(),
        statistic="median",
        rounds=args.rounds,
        steps_per_round=args.steps,
        gc_enabled=args.gc,
    )
    print_header(
        "nnlib MLP 784-512-512-10 on MNIST: batch 128, SGD momentum 0.9, float32, CPU",
        env,
        f"median of {env['rounds']} rounds x {env['steps_per_round']} steps per "
        f"candidate, taken in turns; gc {'on' if env['gc_enabled'] else 'off'} "
        "while timing",
    )
    return env


def print_steps(summary):
    """Prints the step times and the matrix products' share of numpy's."""
    numpy, torch = summary["numpy"]["median_ms"], summary.get("torch", {})
    head = (
        f"{'ms per training step':<44}{'median':>8}{'min':>8}{'p90':>8}"
        f"{'/numpy':>8}{'/torch':>8}"
    )
    print()
    print(head)
    print("-" * len(head))
    for name in TIMED:
        s = summary.get(name)
        if s is None:
            print(f"{LABELS[name]:<44}{'not installed':>16}")
            continue
        print(
            f"{LABELS[name]:<44}{s['median_ms']:>8.3f}{s['min_ms']:>8.3f}"
            f"{s['p90_ms']:>8.3f}{fmt_ratio(ratio(s['median_ms'], numpy)):>8}"
            f"{fmt_ratio(ratio(s['median_ms'], torch.get('median_ms'))):>8}"
        )
    share = summary["numpy products"]["median_ms"] / numpy
    fit_over = ratio(
        summary["nnlib fit"]["median_ms"], summary["nnlib loop"]["median_ms"]
    )
    print(f"matrix products: {share:.0%} of the numpy step; fit/loop {fit_over:.3f}x")


def print_memory(memory, rss, gradient_bytes):
    """Prints each candidate's peak and resident-set growth, and what they mean."""
    head = (
        f"{'memory of one step, MiB':<26}{'peak':>8}  {'method':<12}"
        f"{'RSS 1st step':>14}{'RSS later step':>16}"
    )
    print()
    print(head)
    print(f"{'':<48}{'growth/peak':>14}{'growth/peak':>16}")
    print("-" * len(head))
    for name in STEPS:
        if name not in memory:
            print(f"{name:<26}{'not installed':>16}")
            continue
        method = "profiler" if name == "torch" else "tracemalloc"
        cells = []
        for key in ("first", "later"):
            r = (rss.get(name) or {}).get(key)
            cells.append(
                "-" if r is None else f"{fmt_mib(r['delta'])}/{fmt_mib(r['peak'])}"
            )
        print(
            f"{name:<26}{fmt_mib(memory[name]):>8}  {method:<12}"
            f"{cells[0]:>14}{cells[1]:>16}"
        )
    torch_peak = memory.get("torch")
    if torch_peak is not None:
        later = (rss.get("torch") or {}).get("later") or {}
        for name in ("nnlib loop", "nnlib fit"):
            mine = (rss.get(name) or {}).get("later") or {}
            rss_diff = (
                f"{(mine['peak'] - later['peak']) / 1024:+.0f} KiB"
                if mine.get("peak") is not None and later.get("peak") is not None
                else "-"
            )
            print(
                f"{name} - torch: peak {(memory[name] - torch_peak) / 1024:+.1f} KiB, "
                f"RSS peak of a later step {rss_diff}"
            )
    print(
        f"The gradients alone take {fmt_mib(gradient_bytes)} MiB. peak: bytes "
        "allocated during a warm step and alive\nat once; tracemalloc counts "
        "Python objects too (nnlib's tape), the profiler only torch's\ntensor "
        "storage (not its C++ autograd graph). RSS: growth of the resident set "
        "over the step /\nits peak growth during it, each candidate in a fresh "
        "process with MALLOC_MMAP_THRESHOLD_=65536\n(freed blocks leave the "
        "resident set); later step: the median of 5 after 10 warm-up steps.\n"
        "RSS counts 4 KiB pages, the same way for all; it moves by about 100 KiB "
        "between runs."
    )


def print_accuracy(acc):
    """Prints the test accuracy and time of one epoch."""
    print()
    print("one epoch (469 steps) from the same initial weights:")
    for name, r in acc.items():
        print(
            f"  {name:<10} test accuracy {r['accuracy']:.4f}   epoch "
            f"{r['seconds']:.2f} s ({r['seconds'] / 469 * 1e3:.2f} ms/step)"
        )


def targets(summary, memory, errors):
    """The checks: agreement first, then the issue's speed and memory targets."""
    checks = Targets(record_op=True)
    for name, error in errors.items():
        checks.add(f"{name}: first step agrees with numpy", error, TOLERANCE)
    med = {k: v["median_ms"] for k, v in summary.items()}
    checks.add(
        "nnlib loop step / numpy step",
        ratio(med["nnlib loop"], med["numpy"]),
        LOOP_VS_NUMPY,
    )
    checks.add(
        "nnlib fit step / nnlib loop step",
        ratio(med["nnlib fit"], med["nnlib loop"]),
        FIT_VS_LOOP,
        strict=True,
    )
    for name in ("nnlib loop", "nnlib fit"):
        checks.add(
            f"{name} peak memory / torch", ratio(memory[name], memory.get("torch")), 1.0
        )
    return checks


def main(argv=None):
    """Runs the benchmark (or, with ``--rss-child``, one RSS measurement)."""
    args = parse_args(argv)
    set_threads(args.threads)
    if args.rss_child:
        rss_child(args)
        return 0
    start = time.perf_counter()
    libs = import_libraries(args.threads)
    np, nnlib, torch = libs
    env = header(np, torch, args)
    data, path = load(np, args.data)
    if data is None:
        print(f"SKIP: MNIST not found at {path} (give --data PATH)")
        return 0

    nnlib.random.set_seed(0)
    weights = nnlib_model(nnlib).get_weights()
    errors = agreement(libs, weights, data)
    candidates = make_candidates(libs, weights)
    summary = summarize(time_steps(libs, candidates, data, args))
    memory = peak_memory(libs, candidates, data)
    rss = rss_all(list(candidates), args, os.path.abspath(__file__))
    acc = accuracy(libs, weights, data) if args.accuracy else None

    print_steps(summary)
    print_memory(memory, rss, sum(w.nbytes for w in weights))
    if acc:
        print_accuracy(acc)
    checks = targets(summary, memory, errors)
    print_targets(
        checks,
        40,
        skip_note=" (torch not installed)",
        op=lambda c: f"{c['op']:>2}",
    )
    if args.profile:
        profile_loop(libs, weights, data)
    finish(
        start,
        args.json,
        {
            "environment": env,
            "unit": "milliseconds per training step",
            "steps": summary,
            "products_share_of_numpy_step": summary["numpy products"]["median_ms"]
            / summary["numpy"]["median_ms"],
            "peak_bytes": memory,
            "rss_bytes": rss,
            "accuracy": acc,
            "agreement": errors,
            "targets": checks,
        },
    )
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
