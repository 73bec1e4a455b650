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

Threads and the header follow ``ops_overhead.py`` (whose setup this script
reuses): single-threaded by default (``--threads``), ``OPENBLAS_CORETYPE``
left as found and printed. MNIST is read from ``../shared/data/mnist.npz``
beside the checkout (``--data``); without it the script prints SKIP.

PyTorch is optional (the import is guarded): ``pip install torch==2.13.0``.

Run, from the repository root::

    python3 benchmarks/mlp_mnist.py              # about 35 s
    python3 benchmarks/mlp_mnist.py --quick      # about 13 s, no accuracy epoch
    python3 benchmarks/mlp_mnist.py --json out.json
    python3 benchmarks/mlp_mnist.py --profile    # plus cProfile of the nnlib loop
"""

import argparse
import cProfile
import gc
import itertools
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Thread setup, library imports and the header's helpers shared with
# ops_overhead.py and layers.py (neither imports numpy at import time).
from layers import agree, peak_bytes
from ops_overhead import _blas_name, _torch_capability, import_libraries, set_threads

SIZES = (784, 512, 512, 10)
BATCH = 128
LEARNING_RATE = 0.01
MOMENTUM = 0.9
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
    parser.add_argument(
        "--gc", action="store_true", help="keep the garbage collector on while timing"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print cProfile's top functions over 100 steps of the nnlib loop",
    )
    parser.add_argument("--data", default=None, help="path of mnist.npz")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    parser.add_argument("--rss-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 4 if args.quick else 12
    if args.steps is None:
        args.steps = 10 if args.quick else 40
    args.accuracy = not (args.quick or args.no_accuracy)
    return args


def load(np, path):
    """``(x_train, y_train, x_test, y_test)``: float32 (n, 784) in [0, 1], int64."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = path or os.path.join(root, "..", "shared", "data", "mnist.npz")
    if not os.path.exists(path):
        return None, path
    with np.load(path) as f:
        arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    out = []
    for x, y in (arrays[:2], arrays[2:]):
        x = x.reshape(len(x), -1).astype(np.float32)
        x *= np.float32(1 / 255)
        out += [x, y.astype(np.int64)]
    return out, path


# -- the candidates ---------------------------------------------------------------


def nnlib_model(nnlib, weights=None):
    """The MLP as a ``Sequential`` of ``Dense`` (Glorot-uniform, zero biases)."""
    dense = nnlib.layers.Dense
    model = nnlib.Sequential(
        [
            dense(SIZES[1], activation="relu", input_shape=(SIZES[0],)),
            dense(SIZES[2], activation="relu"),
            dense(SIZES[3]),
        ]
    )
    if weights is not None:
        model.set_weights(weights)
    return model


def momentum(nnlib):
    return nnlib.optimizers.Momentum(LEARNING_RATE, momentum=MOMENTUM)


def crossentropy(nnlib):
    return nnlib.losses.SparseCategoricalCrossentropy(from_logits=True)


class NnlibLoop:
    """The hand-written nnlib loop: a gradient function and ``apply_gradients``."""

    def __init__(self, nnlib, weights):
        self.model = model = nnlib_model(nnlib, weights)
        self.optimizer = momentum(nnlib)
        loss = crossentropy(nnlib)
        self.value_and_gradients = nnlib.implicit_value_and_gradients(
            lambda x, y: loss(y, model(x, training=True))
        )

    def step(self, x, y):
        loss, grads_and_vars = self.value_and_gradients(x, y)
        self.optimizer.apply_gradients(grads_and_vars)
        return loss

    def weights(self):
        return self.model.get_weights()


class NnlibFit:
    """``compile`` + ``fit``; ``step`` is one ``train_step``, what fit does per step."""

    def __init__(self, nnlib, weights):
        self.nnlib = nnlib
        self.model = nnlib_model(nnlib, weights)
        self.model.compile(optimizer=momentum(nnlib), loss=crossentropy(nnlib))

    def step(self, x, y):
        return self.model.train_step((x, y, None))["loss"]

    def weights(self):
        return self.model.get_weights()

    def fit_times(self, x, y, steps):
        """Seconds per step of ``fit`` over ``steps`` steps, from a callback."""
        clock = _step_clock(self.nnlib)
        self.model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=1,
            steps_per_epoch=steps + 1,
            verbose=0,
            callbacks=[clock],
            shuffle=True,
        )
        ends = clock.ends
        return [b - a for a, b in itertools.pairwise(ends)]


def _step_clock(nnlib):
    class StepClock(nnlib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    return StepClock()


class NumpyMLP:
    """Forward, backward and Keras-style momentum update, by hand."""

    def __init__(self, np, weights):
        self.np = np
        self.params = [np.array(w, np.float32) for w in weights]
        self.velocity = [np.zeros_like(w) for w in self.params]
        self.grads = None

    def step(self, x, y):
        np = self.np
        w1, b1, w2, b2, w3, b3 = self.params
        n = len(x)
        a1 = x @ w1
        a1 += b1
        np.maximum(a1, 0, out=a1)
        a2 = a1 @ w2
        a2 += b2
        np.maximum(a2, 0, out=a2)
        logits = a2 @ w3
        logits += b3
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        total = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.mean(np.log(total[:, 0]) - logits[rows, y]))
        d3 = e
        d3 /= total
        d3[rows, y] -= 1.0
        d3 *= np.float32(1 / n)
        gw3, gb3 = a2.T @ d3, d3.sum(axis=0)
        d2 = d3 @ w3.T
        d2 *= a2 > 0
        gw2, gb2 = a1.T @ d2, d2.sum(axis=0)
        d1 = d2 @ w2.T
        d1 *= a1 > 0
        gw1, gb1 = x.T @ d1, d1.sum(axis=0)
        self.grads = grads = (gw1, gb1, gw2, gb2, gw3, gb3)
        for w, v, g in zip(self.params, self.velocity, grads):
            v *= MOMENTUM
            g *= LEARNING_RATE
            v -= g
            w += v
        return loss

    def weights(self):
        return [w.copy() for w in self.params]


def numpy_products(np):
    """The eight matrix products of ``NumpyMLP.step``, on arrays of its shapes."""
    rng = np.random.default_rng(2)

    def f32(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    w1, w2, w3 = f32(784, 512), f32(512, 512), f32(512, 10)
    a1, a2, d1, d2, d3 = (
        f32(BATCH, 512),
        f32(BATCH, 512),
        *(f32(BATCH, k) for k in (512, 512, 10)),
    )

    def products(xb, _):
        return (
            xb @ w1,
            a1 @ w2,
            a2 @ w3,
            a2.T @ d3,
            d3 @ w3.T,
            a1.T @ d2,
            d2 @ w2.T,
            xb.T @ d1,
        )

    return products


class TorchMLP:
    def __init__(self, torch, weights):
        nn = torch.nn
        self.torch = torch
        self.model = nn.Sequential(
            nn.Linear(SIZES[0], SIZES[1]),
            nn.ReLU(),
            nn.Linear(SIZES[1], SIZES[2]),
            nn.ReLU(),
            nn.Linear(SIZES[2], SIZES[3]),
        )
        # Keras kernels are (in, out), torch weights (out, in).
        values = [w.T if w.ndim == 2 else w for w in weights]
        with torch.no_grad():
            for p, v in zip(self.model.parameters(), values, strict=True):
                p.copy_(torch.from_numpy(v.copy()))
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM
        )

    def step(self, x, y):
        torch = self.torch
        loss = torch.nn.functional.cross_entropy(
            self.model(torch.from_numpy(x)), torch.from_numpy(y)
        )
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss.detach()

    def weights(self):
        return [
            p.detach().numpy().T.copy() if p.ndim == 2 else p.detach().numpy().copy()
            for p in self.model.parameters()
        ]

    def predict(self, x):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(x)).numpy()


def make_candidates(libs, weights, only=None):
    """``{name: object with step(x, y) and weights()}`` (torch when installed)."""
    np, nnlib, torch = libs
    makers = {
        "numpy": lambda: NumpyMLP(np, weights),
        "nnlib loop": lambda: NnlibLoop(nnlib, weights),
        "nnlib fit": lambda: NnlibFit(nnlib, weights),
        "torch": (lambda: TorchMLP(torch, weights)) if torch is not None else None,
    }
    return {
        name: make()
        for name, make in makers.items()
        if make is not None and (only is None or name == only)
    }


# -- timing -----------------------------------------------------------------------


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


# -- checks, memory, accuracy -----------------------------------------------------


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


def torch_peak_bytes(torch, fn):
    """The most bytes of tensor storage allocated during ``fn()`` and alive at once,
    from the PyTorch profiler's memory events (None where they are unavailable)."""
    fn()
    gc.collect()
    try:
        from torch.profiler import ProfilerActivity, profile

        with tempfile.TemporaryDirectory() as folder, _quiet():
            with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
                fn()
            path = os.path.join(folder, "trace.json")
            p.export_chrome_trace(path)
            with open(path) as f:
                trace = json.load(f)
    except Exception as error:  # noqa: BLE001 - a private format; report, go on
        print(f"warning: torch memory profile failed: {error!r}", file=sys.stderr)
        return None
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    memory = sorted(
        (e for e in events if e.get("name") == "[memory]"),
        key=lambda e: (e["ts"], e["args"].get("Ev Idx", 0)),
    )
    live, current, peak = {}, 0, 0
    for e in memory:
        size, addr = e["args"]["Bytes"], e["args"]["Addr"]
        if size > 0:
            live[addr] = size
            current += size
            peak = max(peak, current)
        elif addr in live:  # frees of blocks allocated before the step don't count
            current -= live.pop(addr)
    return peak


class _quiet:
    """Silences file descriptors 1 and 2 (the profiler logs through C++)."""

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = [os.dup(1), os.dup(2)]
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)

    def __exit__(self, *exc):
        for fd, saved in zip((1, 2), self.saved):
            os.dup2(saved, fd)
            os.close(saved)


def peak_memory(libs, candidates, data):
    """``{name: bytes}``: tracemalloc for numpy and nnlib, the profiler for torch."""
    x, y = data[0][:BATCH], data[1][:BATCH]
    out = {}
    for name, c in candidates.items():
        if name == "torch":
            out[name] = torch_peak_bytes(libs[2], lambda c=c: c.step(x, y))
        else:
            out[name] = peak_bytes(lambda c=c: c.step(x, y))
    return out


def _proc_status():
    """``(VmRSS, VmHWM)`` in bytes, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f)
        return tuple(int(fields[k].split()[0]) * 1024 for k in ("VmRSS", "VmHWM"))
    except (OSError, KeyError, ValueError):
        return None


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def rss_child(args):
    """Runs in a fresh process: RSS growth over one candidate's first step and
    over later ones (the median of 5 after 10 warm-up steps) on a synthetic
    batch; prints one JSON line."""
    if args.rss_child != "torch":
        sys.modules["torch"] = None  # import_libraries then skips it: less to load
    libs = import_libraries(args.threads)
    np = libs[0]
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    weights = nnlib_model(libs[1]).get_weights()
    (candidate,) = make_candidates(libs, weights, only=args.rss_child).values()

    def measured_step():
        gc.collect()
        before = _proc_status()
        reset = _reset_peak()
        candidate.step(x, y)
        after = _proc_status()
        if before is None or after is None:
            return None
        return {
            "delta": after[0] - before[0],
            "peak": after[1] - before[0] if reset else None,
        }

    result = {"first": measured_step()}
    for _ in range(10):
        candidate.step(x, y)
    later = [measured_step() for _ in range(5)]
    result["later"] = None
    if None not in later:
        result["later"] = {
            key: None if None in values else statistics.median(values)
            for key in ("delta", "peak")
            for values in [[r[key] for r in later]]
        }
    print(json.dumps(result))


def rss_all(names, args):
    """``{name: rss_child's result or None}``, one fresh process per candidate."""
    out = {}
    # glibc then maps every block of 64 KiB or more on its own and unmaps it when
    # freed, so the resident set follows live memory (not BLAS: timing is not
    # done in these processes).
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    for name in names:
        command = [sys.executable, os.path.abspath(__file__), "--rss-child", name]
        command += ["--threads", str(args.threads)]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
                env=env,
            )
            out[name] = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.SubprocessError, ValueError, IndexError) as error:
            print(f"warning: RSS of {name} failed: {error!r}", file=sys.stderr)
            out[name] = None
    return out


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


# -- report -----------------------------------------------------------------------


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ratio(v):
    return "-" if v is None else f"{v:.2f}x"


def fmt_mib(v):
    return "-" if v is None else f"{v / 2**20:.2f}"


def environment(np, torch, args):
    env = {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "numpy": np.__version__,
        "blas": _blas_name(np),
        "torch": torch.__version__ if torch is not None else None,
        "numpy_threads": args.threads,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "torch_cpu_capability": _torch_capability(torch),
        "env": {
            k: v
            for k, v in sorted(os.environ.items())
            if k.startswith("OPENBLAS_") or k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
        },
        "statistic": "median",
        "rounds": args.rounds,
        "steps_per_round": args.steps,
        "gc_enabled": args.gc,
    }
    return env


def print_header(env):
    print(
        "nnlib MLP 784-512-512-10 on MNIST: batch 128, SGD momentum 0.9, float32, CPU"
    )
    print(
        f"python {env['python']} ({env['machine']}); numpy {env['numpy']} "
        f"(BLAS {env['blas']}); torch {env['torch'] or 'not installed'}"
    )
    torch_threads = (
        f"torch {env['torch_threads']} (torch.set_num_threads; CPU capability "
        f"{env['torch_cpu_capability']})"
        if env["torch"]
        else "torch -"
    )
    print(f"threads: numpy BLAS {env['numpy_threads']}, {torch_threads}")
    variables = ", ".join(f"{k}={v}" for k, v in env["env"].items())
    if "OPENBLAS_CORETYPE" not in env["env"]:
        variables += ", OPENBLAS_CORETYPE unset"
    print(f"environment: {variables}")
    print(
        f"statistic: median of {env['rounds']} rounds x {env['steps_per_round']} "
        f"steps per candidate, taken in turns; gc "
        f"{'on' if env['gc_enabled'] else 'off'} while timing"
    )
    sys.stdout.flush()


def print_steps(summary):
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
    print()
    print("one epoch (469 steps) from the same initial weights:")
    for name, r in acc.items():
        print(
            f"  {name:<10} test accuracy {r['accuracy']:.4f}   epoch "
            f"{r['seconds']:.2f} s ({r['seconds'] / 469 * 1e3:.2f} ms/step)"
        )


def targets(summary, memory, errors):
    checks = []

    def check(name, value, limit, strict=False):
        passed = (
            None if value is None else (value < limit if strict else value <= limit)
        )
        checks.append(
            {
                "target": name,
                "value": value,
                "limit": limit,
                "op": "<" if strict else "<=",
                "passed": passed,
            }
        )

    for name, error in errors.items():
        check(f"{name}: first step agrees with numpy", error, TOLERANCE)
    med = {k: v["median_ms"] for k, v in summary.items()}
    check(
        "nnlib loop step / numpy step",
        ratio(med["nnlib loop"], med["numpy"]),
        LOOP_VS_NUMPY,
    )
    check(
        "nnlib fit step / nnlib loop step",
        ratio(med["nnlib fit"], med["nnlib loop"]),
        FIT_VS_LOOP,
        strict=True,
    )
    for name in ("nnlib loop", "nnlib fit"):
        check(
            f"{name} peak memory / torch", ratio(memory[name], memory.get("torch")), 1.0
        )
    return checks


def print_targets(checks):
    print()
    print("targets")
    for c in checks:
        status = {True: "PASS", False: "FAIL", None: "SKIP"}[c["passed"]]
        agreement = "agrees" in c["target"]
        if c["value"] is None:
            value = "-"
        elif agreement:
            value = f"{c['value']:.1e}"
        else:
            value = f"{c['value']:.3f}x"
        limit = f"{c['limit']:.0e}" if agreement else f"{c['limit']:.2f}x"
        print(f"  [{status}] {c['target']:<40} {value:>9} {c['op']:>2} {limit}")
    done = [c for c in checks if c["passed"] is not None]
    skipped = len(checks) - len(done)
    print(
        f"  {sum(c['passed'] for c in done)} of {len(done)} targets met"
        + (f", {skipped} skipped (torch not installed)" if skipped else "")
    )


def main(argv=None):
    args = parse_args(argv)
    set_threads(args.threads)
    if args.rss_child:
        rss_child(args)
        return 0
    start = time.perf_counter()
    libs = import_libraries(args.threads)
    np, nnlib, torch = libs
    env = environment(np, torch, args)
    print_header(env)
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
    rss = rss_all(list(candidates), args)
    acc = accuracy(libs, weights, data) if args.accuracy else None

    print_steps(summary)
    print_memory(memory, rss, sum(w.nbytes for w in weights))
    if acc:
        print_accuracy(acc)
    checks = targets(summary, memory, errors)
    print_targets(checks)
    if args.profile:
        profile_loop(libs, weights, data)
    elapsed = time.perf_counter() - start
    print(f"\ntotal time {elapsed:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "environment": env,
                    "unit": "milliseconds per training step",
                    "steps": summary,
                    "products_share_of_numpy_step": summary["numpy products"][
                        "median_ms"
                    ]
                    / summary["numpy"]["median_ms"],
                    "peak_bytes": memory,
                    "rss_bytes": rss,
                    "accuracy": acc,
                    "agreement": errors,
                    "targets": checks,
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
