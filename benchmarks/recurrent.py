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
  when PyTorch is installed.

LSTM and GRU with their default activations run as one fused op each
(``nnlib.lstm``, ``nnlib.gru``); SimpleRNN runs step by step. Large temporary
arrays are faulted in page by page on every call when glibc returns them to the
system, which costs more here than on most machines: the "faults" column gives
the minor page faults per call. The script always exits 0.

Run, from the repository root::

    python3 benchmarks/recurrent.py             # about 20 s
    python3 benchmarks/recurrent.py --quick     # a few seconds, rougher
"""

import sys
import time

from _harness import import_libraries, measure_ms, parse_timing_args, set_threads
from _report import (
    environment,
    environment_variables,
    finish,
    print_header,
    ratio,
    torch_capability,
)

BATCH, TIME, FEATURES, UNITS = 64, 32, 64, 128
KINDS = (("SimpleRNN", "RNN"), ("LSTM", "LSTM"), ("GRU", "GRU"))


def nnlib_steps(np, nnlib, kind):
    """The forward and the forward + backward of one nnlib layer."""
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

    return {"nnlib fwd": lambda: layer(x), "nnlib fwd+bwd": forward_backward}


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


def main(argv=None):
    """Runs the benchmark; always returns 0."""
    args = parse_timing_args(__doc__, argv, quick=(3, 0.02), full=(10, 0.1))
    set_threads(args.threads)
    start = time.perf_counter()
    np, nnlib, torch = import_libraries(args.threads)
    env = environment(
        np,
        torch,
        args.threads,
        torch_threads=None if torch is None else torch.get_num_threads(),
        torch_cpu_capability=torch_capability(torch),
        env=environment_variables(),
        repeat=args.repeat,
        min_time_s=args.min_time,
        gc_enabled=args.gc,
    )
    print_header(
        "nnlib recurrent layers: milliseconds per call, float32, CPU",
        env,
        f"min of {args.repeat} repeats of ~{args.min_time:g} s each, in turns",
    )
    print(
        f"\n{BATCH} sequences x {TIME} steps x {FEATURES} features -> {UNITS} units, "
        "whole sequence returned\n"
    )
    columns = ("nnlib fwd", "nnlib fwd+bwd", "torch fwd", "torch fwd+bwd")
    print(
        f"{'layer':<10}"
        + "".join(f"{c:>15}" for c in columns)
        + f"{'fwd+bwd/torch':>15}"
    )
    results = {}
    for kind, torch_kind in KINDS:
        steps = nnlib_steps(np, nnlib, kind)
        if torch is not None:
            steps.update(torch_steps(np, torch, torch_kind))
        faults = {}
        ms = measure_ms(steps, args, faults)
        results[kind] = {"ms": ms, "faults": faults}
        cells = "".join(f"{ms[c]:>15.2f}" if c in ms else f"{'-':>15}" for c in columns)
        rel = ratio(ms.get("nnlib fwd+bwd"), ms.get("torch fwd+bwd"))
        print(f"{kind:<10}{cells}{'-' if rel is None else f'{rel:.2f}x':>15}")
    print("\nminor page faults per call (nnlib fwd, nnlib fwd+bwd):")
    for kind, r in results.items():
        f = r["faults"]
        print(f"  {kind:<10} {f.get('nnlib fwd')}, {f.get('nnlib fwd+bwd')}")
    finish(start, args.json, {"environment": env, "unit": "ms", "layers": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
