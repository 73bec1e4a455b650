"""Layer forward + backward times of nnlib against hand-written numpy and PyTorch.

What is measured, in milliseconds per call (float32, CPU, the minimum over
repeats), each time the forward pass of one layer and the gradients with respect
to its input and all its variables for a fixed random upstream gradient ``dy``:

* ``conv1``: ``Conv2D(32, 3)`` (valid padding, bias) on a batch of 64 28x28x1;
* ``conv2``: ``Conv2D(64, 3)`` on 64 13x13x32;
* ``maxpool``: ``MaxPooling2D(2)`` on (64, 26, 26, 32);
* ``batchnorm``: ``BatchNormalization()`` in training mode on (64, 13, 13, 32)
  (batch statistics, the moving averages updated);
* ``lstm``: ``LSTM(128, return_sequences=True)`` over 32 steps of a batch of 64
  with 64 input features (so ``dy`` covers every step's output);

and one training step of a LeNet-style CNN (conv32 3x3 relu, maxpool 2, conv64 3x3
relu, maxpool 2, flatten, dense128 relu, dense10; batch 64 of 28x28x1, mean
sparse softmax cross-entropy, SGD with learning rate 0.01), for

- ``numpy``: a hand-written reference of the same computation: convolution by
  im2col on ``sliding_window_view`` plus matrix products (the input gradient
  through the transposed matrix product and one strided add per kernel tap),
  pooling by a reshape into windows (the gradient routed by an equality mask),
  closed-form batch normalization, and an LSTM forward over time with BPTT;
- ``nnlib``: the layers (``nnlib.layers.Conv2D`` ...) called on a watched tensor
  inside a ``GradientTape`` and ``tape.gradient(y, [x, *variables],
  output_gradients=dy)``; the LeNet step is a ``Sequential`` model through
  ``implicit_value_and_gradients`` and ``var.assign_sub``;
- ``nnlib CF``: the same with ``data_format="channels_first"`` (batch
  normalization: ``axis=1``) on contiguous NCHW copies of ``x`` and ``dy``, as
  data from outside nnlib comes (the LeNet step: the channels-first model, its
  first dense kernel's rows permuted to the (C, H, W) flattening order);
- ``torch NCHW`` and ``torch CL``: PyTorch modules on contiguous NCHW tensors and
  on ``channels_last`` tensors (modules and ``dy`` converted as well, outside the
  timing); ``.backward(dy)`` and the gradients reset to None after every call
  (``optimizer.zero_grad()`` for the LeNet step, which uses ``torch.optim.SGD``).
  The LSTM has one torch column (``nn.LSTM(batch_first=True)``).

The ratio columns and the targets compare nnlib with the faster of the two torch
layouts ("torch best"), the harder comparison; ``CF/CL`` is nnlib channels first
over channels last, timed in turns in the same run. Before timing, every nnlib result
(output, input gradient, variable gradients; for LeNet the loss and all eight
gradients) is checked against the numpy reference with the same weights (max
absolute error at most 1e-3 of the reference's largest magnitude), and torch's
likewise, so that the three compute the same thing; a disagreement is listed as a
failed target and timing goes on.

The targets of the layers issue: each convolution and the pooling no slower than
the numpy reference and at most 1.2x torch; the LSTM at most 1.5x torch; and of
the big-batch issue: channels first at most 1.2x channels last (each convolution,
the pooling, the LeNet step, the 10,000-image forward pass). They
print PASS or FAIL (SKIP without torch, or without ``nnlib.layers.LSTM``) and the
script always exits 0: this is a benchmark, not a test. The peak memory of one
LeNet step (``tracemalloc``: the largest total of bytes allocated during the step
and alive at once, numpy's arrays included) is printed for nnlib and numpy;
tracemalloc does not see PyTorch's allocator.

Then the forward pass of the same CNN on the 10,000 MNIST test images (from
``../shared/data/mnist.npz``; SKIP without it): nnlib ``model(x)`` (channels last
and first), nnlib ``model.predict(x)`` (batches of 32, the default) and torch
``model(x)`` under ``torch.no_grad()``, in seconds (the minimum of
``--cnn-repeat`` runs in turns), with the peak memory of each, measured as
``_layers_cnn.py`` says: the targets ask nnlib's call and predict to be within
1.5x torch's best time and least resident-set peak.

Threads, timing and the header follow ``ops_overhead.py`` (the two share
``_harness.py`` and ``_report.py``): single-threaded by default (``--threads``),
the minimum of
``--repeat`` runs of about ``--min-time`` seconds taken in turns, gc off while
timing unless ``--gc``, ``OPENBLAS_CORETYPE`` printed as found.

PyTorch is optional (the import is guarded): ``pip install torch==2.13.0``.

Run, from the repository root::

    python3 benchmarks/layers.py              # full run, about 3 minutes
    python3 benchmarks/layers.py --quick      # about 40 s, rougher
    python3 benchmarks/layers.py --no-cnn     # without the 10,000 images: 40 s
    python3 benchmarks/layers.py --json out.json
"""

import argparse
import sys
import time

import _layers_cnn as cnn
from _harness import import_libraries, measure_ms, parse_timing_args, set_threads
from _layers_cases import BATCH, batchnorm_case, conv_case, lstm_case, maxpool_case
from _layers_lenet import lenet_case
from _layers_reference import Reference
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

CASES = ("conv1", "conv2", "maxpool", "batchnorm", "lstm", "lenet")
COLUMNS = ("numpy", "nnlib", "nnlib CF", "torch NCHW", "torch CL")
LABELS = {
    "conv1": "Conv2D(32,3x3) 64x28x28x1",
    "conv2": "Conv2D(64,3x3) 64x13x13x32",
    "maxpool": "MaxPooling2D(2) 64x26x26x32",
    "batchnorm": "BatchNorm train 64x13x13x32",
    "lstm": "LSTM(128) 64x32 steps x64 in",
    "lenet": "LeNet training step, batch 64",
}
# The goals: (case, limit on nnlib/numpy or None, limit on nnlib/torch).
TARGETS = (
    ("conv1", 1.0, 1.2),
    ("conv2", 1.0, 1.2),
    ("maxpool", 1.0, 1.2),
    ("lstm", None, 1.5),
)
# The big-batch issue's: nnlib channels first / channels last, at most this.
CF_TARGETS = ("conv1", "conv2", "maxpool", "lenet")
CF_LIMIT = 1.2
TOLERANCE = 1e-3
# (repeat, min_time) under --quick and otherwise.
QUICK, FULL = (3, 0.01), (10, 0.1)


def parse_args(argv=None):
    """The command-line options, with ``--repeat``, ``--min-time`` and
    ``--cnn-repeat`` filled in."""
    args = parse_timing_args(__doc__, argv, QUICK, FULL, _cnn_options)
    if args.cnn_repeat is None:
        args.cnn_repeat = 1 if args.quick else 3
    args.cnn_rss = not (args.quick or args.no_rss)
    return args


def _cnn_options(parser):
    parser.add_argument(
        "--cnn-repeat",
        type=int,
        default=None,
        help="runs of each 10,000-image forward pass (default 3, 1 with --quick)",
    )
    parser.add_argument(
        "--no-cnn", action="store_true", help="skip the 10,000-image forward pass"
    )
    parser.add_argument(
        "--no-rss",
        action="store_true",
        help="skip its resident-set peaks (fresh processes; skipped with --quick)",
    )
    parser.add_argument("--cnn-child", help=argparse.SUPPRESS)


# -- report ------------------------------------------------------------------------


def fmt_ms(v):
    """Milliseconds with three significant digits or so, ``-`` when missing."""
    if v is None:
        return "-"
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.1f}"


def best_torch(row):
    """``(milliseconds, column)`` of the faster torch layout, or ``(None, None)``."""
    found = [(row[c], c) for c in ("torch NCHW", "torch CL") if row.get(c)]
    return min(found) if found else (None, None)


def header(np, torch, args):
    """The environment (for the JSON too), printed as the header."""
    env = environment(
        np,
        torch,
        args.threads,
        torch_threads=torch.get_num_threads() if torch is not None else None,
        env=environment_variables(),
        statistic="min",
        repeat=args.repeat,
        min_time_s=args.min_time,
        gc_enabled=args.gc,
        clock=clock_name(args),
    )
    if torch is not None:
        env["torch_cpu_capability"] = torch_capability(torch)
    print_header(
        "nnlib layers: forward + backward, milliseconds per call, float32, CPU",
        env,
        f"min of {env['repeat']} repeats of ~{env['min_time_s']} s each, "
        f"taken in turns; gc {'on' if env['gc_enabled'] else 'off'} while timing",
    )
    return env


def print_table(results, errors, faults):
    """Prints the times, then the page faults and the agreement per case."""
    head = (
        f"{'case':<31}"
        + "".join(f"{c:>11}" for c in COLUMNS)
        + f"{'CF/CL':>7}{'nnlib/numpy':>13}{'nnlib/torch':>13}  torch best"
    )
    print()
    print(head)
    print("-" * len(head))
    for case in CASES:
        row = results.get(case)
        if row is None:
            print(f"{LABELS[case]:<31}" + "SKIP (nnlib.layers.LSTM not exported)")
            continue
        best, which = best_torch(row)
        print(
            f"{LABELS[case]:<31}"
            + "".join(f"{fmt_ms(row.get(c)):>11}" for c in COLUMNS)
            + f"{fmt_ratio(ratio(row.get('nnlib CF'), row['nnlib'])):>7}"
            + f"{fmt_ratio(ratio(row['nnlib'], row['numpy'])):>13}"
            + f"{fmt_ratio(ratio(row['nnlib'], best)):>13}"
            + f"  {which or '-'}"
        )
    print()
    print(
        "minor page faults per call (best repeat): fresh arrays above glibc's mmap "
        "threshold are\nfaulted in page by page (4 KiB each), which costs time"
    )
    for case in CASES:
        if faults.get(case):
            cells = ", ".join(
                f"{k} {'-' if v is None else f'{v:.0f}'}"
                for k, v in faults[case].items()
            )
            print(f"  {case:<10} {cells}")
    print()
    print(
        "agreement with the numpy reference (max abs error / max abs reference, "
        "output and every gradient):"
    )
    for case in CASES:
        if errors.get(case):
            cells = ", ".join(f"{k} {v:.1e}" for k, v in errors[case].items())
            print(f"  {case:<10} {cells}")


def print_memory(memory):
    """Prints the peak memory of one LeNet step, nnlib and numpy."""
    print()
    print("peak memory of one LeNet training step (tracemalloc, bytes alive at once):")
    for name in ("numpy", "nnlib"):
        print(f"  {name:<6} {memory[name] / 2**20:8.1f} MiB")
    print(f"  nnlib/numpy {memory['nnlib'] / memory['numpy']:.2f}x")


def targets(results, errors, cnn_result):
    """The checks: agreement first, then the issues' speed and memory targets."""
    checks = Targets()
    for case in CASES:
        for column in ("nnlib", "nnlib CF"):
            if column in errors.get(case, {}):
                checks.add(
                    f"{case}: {column} agrees with numpy",
                    errors[case][column],
                    TOLERANCE,
                )
    for case, numpy_limit, torch_limit in TARGETS:
        row = results.get(case) or {}
        if numpy_limit is not None:
            value = ratio(row.get("nnlib"), row.get("numpy"))
            checks.add(f"{case} fwd+bwd: nnlib/numpy", value, numpy_limit)
        value = ratio(row.get("nnlib"), best_torch(row)[0])
        checks.add(f"{case} fwd+bwd: nnlib/torch best", value, torch_limit)
    for case in CF_TARGETS:
        row = results.get(case) or {}
        value = ratio(row.get("nnlib CF"), row.get("nnlib"))
        checks.add(f"{case} fwd+bwd: channels first/last", value, CF_LIMIT)
    cnn.add_targets(checks, cnn_result)
    return checks


def main(argv=None):
    """Runs the benchmark; always returns 0."""
    args = parse_args(argv)
    if args.cnn_child:  # one candidate's resident-set peak, in a fresh process
        cnn.rss_child(args)
        return 0
    set_threads(args.threads)
    start = time.perf_counter()
    libs = import_libraries(args.threads)
    np, torch = libs[0], libs[2]
    env = header(np, torch, args)

    ref, rng = Reference(np), np.random.default_rng(0)
    makers = {
        "conv1": lambda: conv_case(libs, ref, rng, (BATCH, 28, 28, 1), 32),
        "conv2": lambda: conv_case(libs, ref, rng, (BATCH, 13, 13, 32), 64),
        "maxpool": lambda: maxpool_case(libs, ref, rng),
        "batchnorm": lambda: batchnorm_case(libs, ref, rng),
        "lstm": lambda: lstm_case(libs, ref, rng),
    }
    results, errors, faults = {}, {}, {}
    for case, make in makers.items():
        steps, errors[case] = make()
        if steps is not None:
            faults[case] = {}
            results[case] = measure_ms(steps, args, faults[case])
    steps, errors["lenet"], memory = lenet_case(libs, ref, rng)
    faults["lenet"] = {}
    results["lenet"] = measure_ms(steps, args, faults["lenet"])
    print_table(results, errors, faults)
    print_memory(memory)

    cnn_result = None if args.no_cnn else cnn.cnn_case(libs, args, __file__)
    if not args.no_cnn:
        cnn.print_cnn(cnn_result)
    checks = targets(results, errors, cnn_result)
    print_targets(checks, 44)
    finish(
        start,
        args.json,
        {
            "environment": env,
            "unit": "milliseconds per call",
            "results": results,
            "agreement": errors,
            "lenet_peak_bytes": memory,
            "cnn10k_forward": cnn_result,
            "minor_page_faults_per_call": faults,
            "targets": checks,
        },
    )
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
