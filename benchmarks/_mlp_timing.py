"""Timing, checking and training ``mlp_mnist.py``'s candidates.

Not a benchmark: a part of ``mlp_mnist.py``. The steps are timed as gaps
between their ends, batch drawing included, the candidates taking turns in
rounds; ``agreement`` checks each one's first step against numpy's, and
``accuracy`` trains one epoch. numpy, nnlib and torch come in as arguments.
"""

import cProfile
import gc
import pstats
import statistics
import sys
import time

from _harness import agree
from _mlp_models import (
    BATCH,
    NnlibFit,
    NnlibLoop,
    TorchMLP,
    make_candidates,
    numpy_products,
)


class Batches:
    """Batches of 128 drawn as ``fit`` draws them: a permutation per epoch."""

    def __init__(self, np, x, y, seed):
        self.x, self.y = x, y
        self.rng = np.random.default_rng(seed)
        self.order, self.start = None, len(x)

    def next(self):
        if self.start + BATCH > len(self.x):
            self.order, self.start = self.rng.permutation(len(self.x)), 0
        index = self.order[self.start : self.start + BATCH]
        self.start += BATCH
        return self.x[index], self.y[index]


class _FixedBatch:
    def __init__(self, x, y):
        self.batch = x, y

    def next(self):
        return self.batch


def loop_times(step, batches, steps):
    """Seconds per step of ``steps`` steps, each from the end of the one before."""
    times = []
    last = time.perf_counter()
    for _ in range(steps):
        step(*batches.next())
        now = time.perf_counter()
        times.append(now - last)
        last = now
    return times


def time_steps(libs, candidates, data, args):
    """``{name: [seconds per step, ...]}`` from ``args.rounds`` rounds in turns."""
    np = libs[0]
    x, y = data[0], data[1]
    runners = {}
    for k, (name, candidate) in enumerate(candidates.items()):
        if name == "nnlib fit":
            runners[name] = lambda n, c=candidate: c.fit_times(x, y, n)
        else:
            batches = Batches(np, x, y, seed=10 + k)
            runners[name] = lambda n, s=candidate.step, b=batches: loop_times(s, b, n)
    # The products alone draw no batch: they time BLAS only, on one fixed batch.
    fixed = _FixedBatch(x[:BATCH].copy(), y[:BATCH].copy())
    products = numpy_products(np)
    runners["numpy products"] = lambda n: loop_times(products, fixed, n)
    for run in runners.values():  # warm-up, not recorded
        run(3)
    times = {name: [] for name in runners}
    names = list(runners)
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            if not args.gc:
                gc.disable()
            try:
                times[name] += runners[name](args.steps)
            finally:
                gc.enable()
    return times


def summarize(times):
    """``{name: {"median_ms", "min_ms", "p90_ms", "steps"}}``."""
    out = {}
    for name, values in times.items():
        ms = sorted(v * 1e3 for v in values)
        out[name] = {
            "median_ms": statistics.median(ms),
            "min_ms": ms[0],
            "p90_ms": ms[min(len(ms) - 1, int(0.9 * len(ms)))],
            "steps": len(ms),
        }
    return out


def agreement(libs, weights, data):
    """Each candidate's first step against numpy's: ``{name: error}``."""
    np = libs[0]
    x, y = data[0][:BATCH], data[1][:BATCH]
    candidates = make_candidates(libs, weights)
    reference = None
    errors = {}
    for name, c in candidates.items():
        loss = float(c.step(x, y))
        changes = [a - b for a, b in zip(c.weights(), weights, strict=True)]
        if reference is None:  # numpy comes first
            reference = (loss, changes)
            continue
        ref_loss, ref_changes = reference
        errors[name] = max(
            abs(loss - ref_loss) / abs(ref_loss), agree(np, changes, ref_changes)
        )
    return errors


def accuracy(libs, weights, data):
    """One epoch of ``nnlib fit`` and of torch: ``{name: {accuracy, seconds}}``."""
    np, nnlib, torch = libs
    x, y, x_test, y_test = data
    out = {}
    nnlib.random.set_seed(1)
    fit = NnlibFit(nnlib, weights)
    start = time.perf_counter()
    fit.model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
    seconds = time.perf_counter() - start
    logits = fit.model(x_test, training=False).numpy()
    out["nnlib fit"] = {
        "accuracy": float(np.mean(logits.argmax(axis=1) == y_test)),
        "seconds": seconds,
    }
    if torch is not None:
        model = TorchMLP(torch, weights)
        order = np.random.default_rng(1).permutation(len(x))
        start = time.perf_counter()
        for i in range(0, len(x), BATCH):  # the last batch is partial, as in fit
            index = order[i : i + BATCH]
            model.step(x[index], y[index])
        seconds = time.perf_counter() - start
        logits = model.predict(x_test)
        out["torch"] = {
            "accuracy": float(np.mean(logits.argmax(axis=1) == y_test)),
            "seconds": seconds,
        }
    return out


def profile_loop(libs, weights, data, steps=100):
    """cProfile's top functions (by own time) over ``steps`` nnlib loop steps."""
    np = libs[0]
    loop = NnlibLoop(libs[1], weights)
    batches = Batches(np, data[0], data[1], seed=3)
    loop_times(loop.step, batches, 5)
    profiler = cProfile.Profile()
    profiler.enable()
    loop_times(loop.step, batches, steps)
    profiler.disable()
    print()
    print(f"cProfile of {steps} nnlib loop steps (top 25 by own time):")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
