"""The MNIST CNN's forward pass on 10,000 images under each convolution budget.

``nnlib.ops.set_conv_memory_budget`` bounds the scratch memory of a convolution
(its im2col matrix and padded input); past it the batch runs in pieces. This
script times ``layers.py``'s CNN (conv32 3x3 relu, maxpool 2, conv64 3x3 relu,
maxpool 2, flatten, dense128 relu, dense10) on MNIST's 10,000 test images (from
``../shared/data/mnist.npz``; SKIP without it) at budgets of 4 to 512 MiB, and
once with no budget to speak of (the whole batch in one piece). For each:

* ``model s`` and its ``peak``: ``model(x)`` on the 10,000 images, in seconds
  (the minimum of ``--repeat`` calls, the budgets taken in turns) and the MiB
  allocated during one call and alive at once (``tracemalloc``, which sees
  numpy's arrays; the input excluded). The whole model's peak is its
  activations (the first convolution's output and its relu: 1.6 GiB) at any
  budget that keeps the scratch below them;
* ``conv2 s`` and its ``peak``: the second ``Conv2D``'s convolution alone
  (``nnlib.conv2d``, no bias or relu) on its input (the first pooling's output,
  computed once), where the scratch is largest: 1.3 GiB of im2col for the whole
  batch. Its peak is its output (295 MiB) plus its scratch;
* ``pieces``: how many pieces that convolution's forward runs in;
* the agreement of the outputs with the whole batch's (max abs difference over
  the largest magnitude).

The budget's default (64 MiB) was chosen from this table; ``_budget.py`` cites
it. Timings in pieces vary with the cache: a piece whose scratch fits the last
level cache reads it back from there. The script always exits 0.

Run, from the repository root::

    python3 benchmarks/conv_budget.py                   # about 6 minutes
    python3 benchmarks/conv_budget.py --quick           # 1 run each, no whole batch
    python3 benchmarks/conv_budget.py --channels-first  # the NCHW model as well
    python3 benchmarks/conv_budget.py --cpu-time        # CPU time: a busy machine
"""

import argparse
import gc
import sys
import time
import tracemalloc

from _harness import (
    add_gc_option,
    add_json_option,
    add_threads_option,
    agree,
    import_libraries,
    measure_ms,
    set_threads,
)
from _layers_cnn import load_images
from _layers_lenet import channels_first_weights, lenet_nnlib
from _report import environment, environment_variables, finish, print_header

MIB = 2**20
BUDGETS = (4, 8, 16, 32, 64, 128, 256, 512)
WHOLE = "whole"  # a budget above any scratch: one piece
# The second convolution's scratch per image: its im2col (11 * 11 outputs x 9
# taps x 32 channels) in float32, as ``_conv_kernels.py`` counts it.
CONV2_ITEM_BYTES = 11 * 11 * 9 * 32 * 4


def parse_args(argv=None):
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_threads_option(parser)
    parser.add_argument(
        "--quick", action="store_true", help="one run per budget, no whole batch"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per budget (default 3)"
    )
    parser.add_argument(
        "--budgets",
        default=",".join(map(str, BUDGETS)),
        help="MiB, comma-separated (default 4,8,...,512)",
    )
    parser.add_argument(
        "--no-whole",
        action="store_true",
        help="skip the whole batch in one piece (about 1.5 GB of scratch)",
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with the process's CPU time rather than the wall clock",
    )
    parser.add_argument(
        "--channels-first",
        action="store_true",
        help="also the channels-first model on the (10000, 1, 28, 28) batch",
    )
    add_gc_option(parser)
    add_json_option(parser)
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    args.whole = not (args.quick or args.no_whole)
    args.budget_list = [int(b) for b in args.budgets.split(",") if b.strip()]
    return args


def budget_bytes(budget):
    """The budget in bytes: MiB, or far above any scratch for ``WHOLE``."""
    return 1 << 40 if budget == WHOLE else budget * MIB


def conv2_pieces(images, budget):
    """How many pieces the second convolution's forward runs in."""
    if images * CONV2_ITEM_BYTES <= budget_bytes(budget):
        return 1
    step = max(1, budget_bytes(budget) // CONV2_ITEM_BYTES)
    return -(-images // step)


def traced_peak(fn):
    """The most bytes allocated during one call of ``fn`` and alive at once."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def models(np, nnlib, x, args):
    """``{layout: (model, its input, conv2's input)}``, the same weights."""
    nnlib.random.set_seed(0)
    model = lenet_nnlib(nnlib)
    out = {"channels_last": (model, x)}
    if args.channels_first:
        model_cf = lenet_nnlib(nnlib, "channels_first")
        params = [v.numpy() for v in model.trainable_variables]
        model_cf.set_weights(channels_first_weights(params))
        out["channels_first"] = (
            model_cf,
            np.ascontiguousarray(x.transpose(0, 3, 1, 2)),
        )
    return {
        layout: (m, data, m.layers[1](m.layers[0](data)).numpy())
        for layout, (m, data) in out.items()
    }


def _step(set_budget, fn, data, nbytes):
    def step():
        set_budget(nbytes)
        return fn(data).numpy()

    return step


def _conv_op(nnlib, layer):
    """The layer's convolution alone (no bias, no relu): its output and scratch."""

    def conv(data):
        return nnlib.conv2d(data, layer.kernel, data_format=layer.data_format)

    return conv


def steps_of(nnlib, built, budgets):
    """``{(layout, part, budget): step}``; part ``model`` or ``conv2``."""
    set_budget = nnlib.ops.set_conv_memory_budget
    steps = {}
    for layout, (model, data, h) in built.items():
        for budget in budgets:
            nbytes = budget_bytes(budget)
            steps[layout, "model", budget] = _step(set_budget, model, data, nbytes)
            conv2 = _conv_op(nnlib, model.layers[2])
            steps[layout, "conv2", budget] = _step(set_budget, conv2, h, nbytes)
    return steps


def main(argv=None):
    """Runs the benchmark; always returns 0."""
    args = parse_args(argv)
    set_threads(args.threads)
    start = time.perf_counter()
    np, nnlib, torch = import_libraries(args.threads)
    env = environment(
        np,
        torch,  # not timed: the header names it only
        args.threads,
        env=environment_variables(),
        repeat=args.repeat,
        gc_enabled=args.gc,
        clock="process CPU time" if args.cpu_time else "wall clock",
    )
    print_header(
        "nnlib convolution memory budget: MNIST CNN forward on 10,000 images",
        env,
        f"seconds: min of {args.repeat} runs, budgets in turns ({env['clock']}); "
        "peak: tracemalloc of one run",
        threads=f"threads: numpy BLAS {args.threads}",
    )
    x = load_images(np)
    if x is None:
        print("SKIP: ../shared/data/mnist.npz not found")
        return 0
    budgets = list(args.budget_list) + ([WHOLE] if args.whole else [])
    previous = nnlib.ops.get_conv_memory_budget()
    try:
        built = models(np, nnlib, x, args)
        steps = steps_of(nnlib, built, budgets)
        results = {key: step() for key, step in steps.items()}  # warm-up too
        timing = argparse.Namespace(
            repeat=args.repeat, min_time=0.0, gc=args.gc, cpu_time=args.cpu_time
        )
        ms = measure_ms(
            {" ".join(map(str, k)): f for k, f in steps.items()}, timing, {}
        )
        peaks = {key: traced_peak(step) for key, step in steps.items()}
    finally:
        nnlib.ops.set_conv_memory_budget(previous)
    rows = []
    for layout in built:
        for budget in budgets:
            row = {"layout": layout, "budget_mib": budget}
            row["conv2_pieces"] = conv2_pieces(len(x), budget)
            for part in ("model", "conv2"):
                key = (layout, part, budget)
                row[f"{part}_seconds"] = ms[" ".join(map(str, key))] / 1000
                row[f"{part}_peak_bytes"] = peaks[key]
                whole = results[layout, part, budgets[-1]]
                row[f"{part}_agreement"] = agree(np, [results[key]], [whole])
            rows.append(row)
    conv2_out = results[next(iter(built)), "conv2", budgets[-1]].nbytes
    print_rows(rows, x.nbytes, conv2_out)
    finish(
        start,
        args.json,
        {
            "environment": env,
            "images": len(x),
            "input_bytes": x.nbytes,
            "conv2_output_bytes": conv2_out,
            "rows": rows,
        },
    )
    return 0


def print_rows(rows, input_bytes, conv2_out):
    """Prints the table, one row per layout and budget."""
    print(
        f"\nmodel: the whole CNN on the 10,000 images ({input_bytes / MIB:.0f} MiB in); "
        f"conv2: the second Conv2D's\nconvolution alone, on its input (its output "
        f"alone is {conv2_out / MIB:.0f} MiB); peak = MiB allocated during the call "
        "and alive at once;\nagreement: max abs difference from the last row / max "
        "abs value"
    )
    head = (
        f"{'layout':<15}{'budget MiB':>11}{'pieces':>7}{'model s':>9}{'peak':>7}"
        f"{'conv2 s':>9}{'peak':>7}  agreement"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['layout']:<15}{r['budget_mib']:>11}{r['conv2_pieces']:>7}"
            f"{r['model_seconds']:>9.2f}{r['model_peak_bytes'] / MIB:>7.0f}"
            f"{r['conv2_seconds']:>9.2f}{r['conv2_peak_bytes'] / MIB:>7.0f}"
            f"  {max(r['model_agreement'], r['conv2_agreement']):.1e}"
        )


if __name__ == "__main__":
    main()
    sys.exit(0)
