"""A training step of an embedding model: a 1,000,000-row table against 10,000 rows.

Sparse gradients (``IndexedSlices``) make a step cost the rows a batch reads,
not the table. The model is ``Embedding(vocabulary, 64)``, the mean over the 20
positions (``GlobalAveragePooling1D``) and ``Dense(10)``, on batches of 256
sequences of 20 ids, with the mean sparse softmax cross-entropy and plain SGD
(learning rate 0.1), for a vocabulary of 1,000,000 and of 10,000 (float32, one
thread by default). Columns, in milliseconds per step (the minimum over
``--repeat`` repeats taken in turns; each step takes the next of 32 batches
drawn up front, so the big table's rows are not all in cache):

* ``nnlib``: ``implicit_value_and_gradients`` of the loss, then
  ``GradientDescent.apply_gradients`` (the table's gradient is an
  ``IndexedSlices``, applied to the rows it names);
* ``nnlib dense``: the same with every gradient densified first
  (``nnlib.convert_to_tensor``): what the step cost with dense embedding
  gradients (skipped with ``--no-dense``);
* ``torch``: ``nn.Embedding(vocabulary, 64, sparse=True)``, ``mean(1)``,
  ``nn.Linear(64, 10)``, ``F.cross_entropy``, ``optim.SGD``, with
  ``zero_grad(set_to_none=True)``, when PyTorch is installed.

Then the peak memory of one warm step (``tracemalloc`` for nnlib; for torch,
which ``tracemalloc`` does not see, the PyTorch profiler's memory events, as
``mlp_mnist.py`` does), the agreement of nnlib's and torch's first step from the
same weights (10,000 rows), and PASS/FAIL for the issue's targets: nnlib's step
time and peak memory with 1,000,000 rows at most 1.5x those with 10,000 rows.
The script always exits 0.

Run, from the repository root::

    python3 benchmarks/embedding.py             # about 30 s
    python3 benchmarks/embedding.py --quick     # about 10 s, rougher
"""

import sys
import time

from _harness import (
    agree,
    import_libraries,
    measure_ms,
    parse_timing_args,
    peak_bytes,
    set_threads,
)
from _mlp_memory import torch_peak_bytes
from _report import (
    Targets,
    finish,
    fmt_ratio,
    print_header,
    print_targets,
    ratio,
    timing_environment,
)

BIG, SMALL = 1_000_000, 10_000
DIM, BATCH, LENGTH, CLASSES = 64, 256, 20, 10
LEARNING_RATE = 0.1
BATCHES = 32
LIMIT = 1.5


def batches(np, vocabulary):
    """``BATCHES`` batches of ``(ids, labels)``, the same for every candidate."""
    rng = np.random.default_rng(vocabulary)
    ids = rng.integers(0, vocabulary, (BATCHES, BATCH, LENGTH))
    labels = rng.integers(0, CLASSES, (BATCHES, BATCH))
    return list(zip(ids, labels))


def cycling(data):
    """A function giving the next batch at each call, round and round."""
    state = {"k": -1}

    def next_batch():
        state["k"] = (state["k"] + 1) % len(data)
        return data[state["k"]]

    return next_batch


def nnlib_model(nnlib, vocabulary):
    nnlib.random.set_seed(0)
    layers = nnlib.layers
    model = nnlib.Sequential(
        [
            layers.Embedding(vocabulary, DIM),
            layers.GlobalAveragePooling1D(),
            layers.Dense(CLASSES),
        ]
    )
    model(nnlib.constant([[0]]))
    return model


def nnlib_step(nnlib, model, data, densify=False):
    """One SGD step of ``model`` on the next batch of ``data``."""
    opt = nnlib.optimizers.GradientDescent(LEARNING_RATE)
    next_batch = cycling(data)
    batch = {}

    def loss_fn():
        ids, labels = batch["now"]
        return nnlib.losses.sparse_softmax_cross_entropy(labels, model(ids))

    value_and_grads = nnlib.implicit_value_and_gradients(loss_fn)

    def step():
        batch["now"] = next_batch()
        loss, grads_and_vars = value_and_grads()
        if densify:
            grads_and_vars = [
                (nnlib.convert_to_tensor(g), v) for g, v in grads_and_vars
            ]
        opt.apply_gradients(grads_and_vars)
        return loss

    return step


def torch_model(torch, vocabulary, weights=None):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary, DIM, sparse=True)
            self.dense = nn.Linear(DIM, CLASSES)

        def forward(self, ids):
            return self.dense(self.embedding(ids).mean(1))

    torch.manual_seed(0)
    net = Net()
    if weights is not None:  # nnlib's: table, kernel (in, out), bias
        with torch.no_grad():
            net.embedding.weight.copy_(torch.from_numpy(weights[0]))
            net.dense.weight.copy_(torch.from_numpy(weights[1].T.copy()))
            net.dense.bias.copy_(torch.from_numpy(weights[2]))
    return net


def torch_step(torch, net, data):
    opt = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    tensors = [(torch.from_numpy(i), torch.from_numpy(y)) for i, y in data]
    next_batch = cycling(tensors)
    cross_entropy = torch.nn.functional.cross_entropy

    def step():
        ids, labels = next_batch()
        opt.zero_grad(set_to_none=True)
        loss = cross_entropy(net(ids), labels)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def agreement(np, nnlib, torch, data):
    """The worst relative difference of nnlib's and torch's weights after one
    step from the same weights (10,000 rows), and of the losses."""
    model = nnlib_model(nnlib, SMALL)
    net = torch_model(torch, SMALL, [w.copy() for w in model.get_weights()])
    losses = [float(nnlib_step(nnlib, model, data)()), 0.0]
    losses[1] = float(torch_step(torch, net, data)())
    ours = model.get_weights()
    theirs = [
        net.embedding.weight.detach().numpy(),
        net.dense.weight.detach().numpy().T,
        net.dense.bias.detach().numpy(),
    ]
    return agree(np, ours + [losses[0]], theirs + [losses[1]])


def candidates(np, nnlib, torch, args):
    """``{column: {vocabulary: step}}`` (models built once per vocabulary)."""
    out = {"nnlib": {}, "nnlib dense": {}, "torch": {}}
    for vocabulary in (BIG, SMALL):
        data = batches(np, vocabulary)
        model = nnlib_model(nnlib, vocabulary)
        out["nnlib"][vocabulary] = nnlib_step(nnlib, model, data)
        if not args.no_dense:
            out["nnlib dense"][vocabulary] = nnlib_step(
                nnlib, model, data, densify=True
            )
        if torch is not None:
            net = torch_model(torch, vocabulary)
            out["torch"][vocabulary] = torch_step(torch, net, data)
    return {column: steps for column, steps in out.items() if steps}


def _options(parser):
    parser.add_argument(
        "--no-dense",
        action="store_true",
        help="skip the densified nnlib step (slow: it builds the dense gradient)",
    )


def print_table(title, figures, unit, fmt):
    columns = list(figures)
    print(f"\n{title}")
    print(f"{'vocabulary':>12}" + "".join(f"{c:>14}" for c in columns))
    for vocabulary in (BIG, SMALL):
        cells = "".join(f"{fmt(figures[c].get(vocabulary)):>14}" for c in columns)
        print(f"{vocabulary:>12,}{cells}")
    for c in columns:
        rel = ratio(figures[c].get(BIG), figures[c].get(SMALL))
        print(f"  {c}: {BIG:,} rows / {SMALL:,} rows {fmt_ratio(rel)}")
    if "torch" in figures:
        rel = ratio(figures["nnlib"][BIG], figures["torch"][BIG])
        print(f"  nnlib / torch at {BIG:,} rows {fmt_ratio(rel)} ({unit})")


def _mb(value):
    return "-" if value is None else f"{value / 2**20:.2f}"


def _ms(value):
    return "-" if value is None else f"{value:.2f}"


def main(argv=None):
    """Runs the benchmark; always returns 0."""
    args = parse_timing_args(
        __doc__, argv, quick=(3, 0.05), full=(10, 0.2), more_options=_options
    )
    set_threads(args.threads)
    start = time.perf_counter()
    np, nnlib, torch = import_libraries(args.threads)
    env = timing_environment(
        np,
        torch,
        args,
    )
    print_header(
        "nnlib embedding training step (sparse gradients): float32, CPU",
        env,
        f"min of {args.repeat} repeats of ~{args.min_time:g} s each, in turns",
    )
    print(
        f"\nEmbedding(V, {DIM}) -> mean over {LENGTH} ids -> Dense({CLASSES}); "
        f"batch {BATCH} x {LENGTH} ids; SGD, learning rate {LEARNING_RATE}"
    )
    steps = candidates(np, nnlib, torch, args)
    flat = {(c, v): fn for c, per in steps.items() for v, fn in per.items()}
    timed = measure_ms({f"{c} {v}": fn for (c, v), fn in flat.items()}, args, {})
    ms = {c: {v: timed[f"{c} {v}"] for v in per} for c, per in steps.items()}
    print_table("milliseconds per step", ms, "time", _ms)
    memory = {}
    for c, per in steps.items():
        memory[c] = {}
        for v, fn in per.items():
            memory[c][v] = (
                torch_peak_bytes(torch, fn) if c == "torch" else (peak_bytes(fn))
            )
    print_table("peak memory of one warm step, MB", memory, "memory", _mb)
    worst = None
    if torch is not None:
        worst = agreement(np, nnlib, torch, batches(np, SMALL))
        print(f"\nnnlib and torch after one step from the same weights: {worst:.1e}")
    targets = Targets()
    targets.add(
        f"time, {BIG:,} rows / {SMALL:,} rows",
        ratio(ms["nnlib"][BIG], ms["nnlib"][SMALL]),
        LIMIT,
    )
    targets.add(
        f"peak memory, {BIG:,} rows / {SMALL:,} rows",
        ratio(memory["nnlib"][BIG], memory["nnlib"][SMALL]),
        LIMIT,
    )
    targets.add("nnlib agrees with torch (one step)", worst, 1e-5)
    print_targets(targets, 40, skip_note=" (torch not installed)")
    figures = {
        "environment": env,
        "ms": _keyed(ms),
        "peak_bytes": _keyed(memory),
        "agreement": worst,
        "targets": list(targets),
    }
    finish(start, args.json, figures)
    return 0


def _keyed(table):
    return {c: {str(v): x for v, x in per.items()} for c, per in table.items()}


if __name__ == "__main__":
    sys.exit(main())
