"""Recurrent layers of nnlib against PyTorch: forward, and forward + backward.

What is measured, in milliseconds per call (the minimum over ``--repeat``
repeats taken in turns), for ``SimpleRNN``, ``LSTM`` and ``GRU`` with 128 units
over a batch of 64 sequences of 32 steps of 64 features, returning the whole
sequence (float32, one thread by default):

* ``nnlib fwd``: the layer called on a Tensor, nothing recording (inference);
* ``nnlib fwd+bwd``: the call inside a ``GradientTape`` and the gradients of the
  input, the kernel, the recurrent kernel and the bias for an upstream gradient
  of ones;
* ``torch fwd`` under ``torch.no_grad()`` and ``torch fwd+bwd`` with
  ``.backward()`` (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``, ``batch_first=True``),
  when PyTorch is installed;
* with ``--tree PATH``, ``tree fwd`` and ``tree fwd+bwd``: the same layers of
  the nnlib in another checkout (loaded beside this one as ``nnlib_tree``),
  timed in the same turns, so that a ``git worktree`` of an older commit gives
  the figures before a change in one run.

LSTM and GRU with their default activations run as one fused op each
(``nnlib.lstm``, ``nnlib.gru``); SimpleRNN runs step by step. Large temporary
arrays are faulted in page by page on every call when glibc returns them to the
system, which costs more here than on most machines: the "faults" column gives
the minor page faults per call. The script always exits 0.

Run, from the repository root::

    python3 benchmarks/recurrent.py             # about 20 s
    python3 benchmarks/recurrent.py --quick     # a few seconds, rougher
    git worktree add /tmp/before <commit>       # then, against that commit:
    python3 benchmarks/recurrent.py --tree /tmp/before
"""

import subprocess
import sys
import time

from _harness import (
    import_libraries,
    import_tree,
    measure_ms,
    parse_timing_args,
    set_threads,
)
from _report import (
    finish,
    print_header,
    ratio,
    timing_environment,
)

BATCH, TIME, FEATURES, UNITS = 64, 32, 64, 128
KINDS = (("SimpleRNN", "RNN"), ("LSTM", "LSTM"), ("GRU", "GRU"))


def nnlib_steps(np, nnlib, kind, prefix="nnlib"):
    """The forward and the forward + backward of one nnlib layer, as
    ``{"<prefix> fwd": step, "<prefix> fwd+bwd": step}``."""
    rng = np.random.default_rng(0)
    x = nnlib.constant(rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32"))
    layer = getattr(nnlib.layers, kind)(UNITS, return_sequences=True)
    layer(x)
    dy = np.ones((BATCH, TIME, UNITS), np.float32)
    sources = [x, *layer.trainable_variables]

    def forward_backward():
        with nnlib.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        return tape.gradient(y, sources, output_gradients=dy)

    return {f"{prefix} fwd": lambda: layer(x), f"{prefix} fwd+bwd": forward_backward}


def torch_steps(np, torch, kind):
    """The same for PyTorch's module."""
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32"))
    x.requires_grad_(True)
    module = getattr(torch.nn, kind)(FEATURES, UNITS, batch_first=True)
    dy = torch.ones(BATCH, TIME, UNITS)

    def forward():
        with torch.no_grad():
            return module(x)

    def forward_backward():
        y, _ = module(x)
        y.backward(dy)

    return {"torch fwd": forward, "torch fwd+bwd": forward_backward}


def _faults(value):
    return "-" if value is None else f"{value:.0f}"


def _tree_option(parser):
    parser.add_argument(
        "--tree",
        metavar="PATH",
        help="also time the nnlib of the checkout at PATH, in the same turns",
    )


def tree_commit(path):
    """The checkout's commit (short), or None."""
    try:
        done = subprocess.run(
            ["git", "-C", path, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def main(argv=None):
    """Runs the benchmark; always returns 0."""
    args = parse_timing_args(
        __doc__, argv, quick=(3, 0.02), full=(10, 0.1), more_options=_tree_option
    )
    set_threads(args.threads)
    start = time.perf_counter()
    np, nnlib, torch = import_libraries(args.threads)
    tree = None if args.tree is None else import_tree(args.tree)
    env = timing_environment(
        np,
        torch,
        args,
        tree=args.tree,
        tree_commit=None if args.tree is None else tree_commit(args.tree),
    )
    print_header(
        "nnlib recurrent layers: milliseconds per call, float32, CPU",
        env,
        f"min of {args.repeat} repeats of ~{args.min_time:g} s each, in turns",
    )
    if tree is not None:
        print(f"tree: {args.tree} (commit {env['tree_commit'] or 'unknown'})")
    print(
        f"\n{BATCH} sequences x {TIME} steps x {FEATURES} features -> {UNITS} units, "
        "whole sequence returned\n"
    )
    columns = ["nnlib fwd", "nnlib fwd+bwd"]
    if tree is not None:
        columns += ["tree fwd", "tree fwd+bwd"]
    columns += ["torch fwd", "torch fwd+bwd"]
    ratios = [("nnlib fwd+bwd", "torch fwd+bwd", "fwd+bwd/torch")]
    if tree is not None:
        ratios = [
            ("tree fwd+bwd", "torch fwd+bwd", "tree/torch"),
            *ratios,
            ("nnlib fwd", "tree fwd", "fwd/tree"),
            ("nnlib fwd+bwd", "tree fwd+bwd", "f+b/tree"),
        ]
    print(
        f"{'layer':<10}"
        + "".join(f"{c:>15}" for c in columns)
        + "".join(f"{r[2]:>15}" for r in ratios)
    )
    results = {}
    for kind, torch_kind in KINDS:
        steps = nnlib_steps(np, nnlib, kind)
        if tree is not None:
            steps.update(nnlib_steps(np, tree, kind, "tree"))
        if torch is not None:
            steps.update(torch_steps(np, torch, torch_kind))
        faults = {}
        ms = measure_ms(steps, args, faults)
        results[kind] = {"ms": ms, "faults": faults}
        cells = "".join(f"{ms[c]:>15.2f}" if c in ms else f"{'-':>15}" for c in columns)
        for a, b, _ in ratios:
            rel = ratio(ms.get(a), ms.get(b))
            cells += f"{'-' if rel is None else f'{rel:.2f}x':>15}"
        print(f"{kind:<10}{cells}")
    prefixes = ("nnlib", "tree") if tree is not None else ("nnlib",)
    names = [f"{p} {c}" for p in prefixes for c in ("fwd", "fwd+bwd")]
    print(f"\nminor page faults per call ({', '.join(names)}):")
    for kind, r in results.items():
        cells = ", ".join(_faults(r["faults"].get(name)) for name in names)
        print(f"  {kind:<10} {cells}")
    finish(start, args.json, {"environment": env, "unit": "ms", "layers": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
