"""Input-pipeline throughput of ``nnlib.data`` against plain numpy slicing.

What is measured, on MNIST (``../shared/data/mnist.npz`` beside the checkout;
the script prints a message and exits 0 when it is absent), with the images
flattened to (60000, 784) uint8:

* batches per second over one epoch of 128-example batches for

  - ``numpy``: ``idx = rng.permutation(n)`` then ``x[idx[i:i+128]]``,
    ``y[idx[i:i+128]]`` in a Python loop (what a hand-written loop does);
  - ``Dataset``: ``Dataset.from_tensor_slices((x, y)).shuffle(60000).batch(128)``
    (the fast path: one permutation, whole batches gathered by fancy indexing);
  - the same with a map that normalises x to float32 / 255: applied to each
    batch (``.batch(128).map(f)``, against numpy doing the same per batch), and
    per example (``.map(f).batch(128)``, which has to stack 60000 elements);
  - each of the Dataset rows again with ``.prefetch(2)``.

  Every figure is the best of ``--repeat`` epochs, the candidates taking turns,
  so machine noise hits them alike. The target: the Dataset without a map runs
  at least 0.8x the numpy rate. Prefetch alone costs a thread hand-off (about
  10 us) per element, so it slows these loops, which do no work per batch; it
  pays when there is work to overlap, as the next section shows.

* prefetch overlapping a map with a training step: the step is a matmul of the
  float32 batch with a 784x512 matrix; the map normalises the batch and does
  an equally costly matmul (so the map costs about one step), or both sleep
  for ``--sleep`` ms instead. Without prefetch a batch costs map + step; with
  ``.prefetch(2)`` the map runs on the background thread while the step runs,
  so a batch should cost about max(map, step). The "hidden" column is the
  share of the map's time that prefetch took off the loop. The matmul case
  needs two cores (BLAS releases the GIL); sleeping overlaps anywhere.

numpy's BLAS runs single-threaded (``OPENBLAS_NUM_THREADS`` and friends are set
before numpy is imported; ``--threads`` changes it), so the map and the step
each use one core. The script always exits 0.

Run, from the repository root::

    python3 benchmarks/data.py            # about 20 s
    python3 benchmarks/data.py --quick    # a few seconds, rougher
"""

import argparse
import os
import sys
import time

from _harness import MNIST_PATH, set_threads, use_checkout

BATCH = 128
TARGET = 0.8


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (1)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--repeat", type=int, default=None, help="epochs per figure")
    parser.add_argument(
        "--steps", type=int, default=150, help="batches in the overlap section"
    )
    parser.add_argument(
        "--sleep", type=float, default=2.0, help="ms slept by map and step (2)"
    )
    parser.add_argument("--data", default=None, help="path of mnist.npz")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 2 if args.quick else 5
    if args.quick:
        args.steps = min(args.steps, 60)
    return args


def load(np, path):
    """``((x_train flattened, y_train) or None where missing, the path)``."""
    path = path or MNIST_PATH
    if not os.path.exists(path):
        return None, path
    with np.load(path) as f:
        x, y = f["x_train"], f["y_train"]
    return (x.reshape(len(x), -1), y), path


def epoch_numpy(np, x, y, normalise):
    def run():
        idx = np.random.default_rng().permutation(len(x))
        count = 0
        for i in range(0, len(x), BATCH):
            rows = idx[i : i + BATCH]
            xb, yb = x[rows], y[rows]
            if normalise:
                xb = xb.astype(np.float32) / np.float32(255)
            count += yb.shape[0] > 0
        return count

    return run


def epoch_dataset(dataset):
    def run():
        count = 0
        for _ in dataset:
            count += 1
        return count

    return run


def best_rates(candidates, repeat):
    """Batches/s per candidate: the best of ``repeat`` epochs, taken in turns."""
    best = {name: 0.0 for name in candidates}
    for _ in range(repeat):
        for name, run in candidates.items():
            start = time.perf_counter()
            batches = run()
            rate = batches / (time.perf_counter() - start)
            best[name] = max(best[name], rate)
    return best


def throughput(np, Dataset, x, y, args):
    def normalise(xb, yb):
        return xb.astype(np.float32) / np.float32(255), yb

    base = Dataset.from_tensor_slices((x, y)).shuffle(len(x))
    plain = base.batch(BATCH)
    per_batch = plain.map(normalise)
    per_example = base.map(normalise).batch(BATCH)
    candidates = {
        "numpy slicing": epoch_numpy(np, x, y, False),
        "Dataset shuffle+batch": epoch_dataset(plain),
        "  + prefetch(2)": epoch_dataset(plain.prefetch(2)),
        "numpy slicing + normalise": epoch_numpy(np, x, y, True),
        "Dataset batch+map": epoch_dataset(per_batch),
        "  + prefetch(2) ": epoch_dataset(per_batch.prefetch(2)),
        "Dataset map+batch (per example)": epoch_dataset(per_example),
        "  + prefetch(2)  ": epoch_dataset(per_example.prefetch(2)),
    }
    rates = best_rates(candidates, args.repeat)
    reference = {
        name: rates["numpy slicing" if i < 3 else "numpy slicing + normalise"]
        for i, name in enumerate(candidates)
    }
    print(f"\n== batches/s, one epoch of {len(x)} examples, batch {BATCH} ==")
    print(f"{'pipeline':36s} {'batches/s':>10s} {'x numpy':>8s}")
    for name, rate in rates.items():
        print(f"{name:36s} {rate:10.0f} {rate / reference[name]:8.2f}")
    ratio = rates["Dataset shuffle+batch"] / rates["numpy slicing"]
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"\ntarget: Dataset shuffle+batch >= {TARGET}x numpy: {ratio:.2f}x {verdict}")


def overlap(np, Dataset, x, y, args):
    rng = np.random.default_rng(0)
    w_step = rng.standard_normal((784, 512)).astype(np.float32)
    w_map = rng.standard_normal((784, 512)).astype(np.float32)
    sleep = args.sleep / 1000

    def map_matmul(xb, yb):
        xb = xb.astype(np.float32) / np.float32(255)
        np.tanh(xb @ w_map)  # an augmentation as costly as the step
        return xb, yb

    def step_matmul(xb):
        return np.tanh(xb.astype(np.float32, copy=False) @ w_step)

    def map_sleep(xb, yb):
        time.sleep(sleep)
        return xb.astype(np.float32) / np.float32(255), yb

    def step_sleep(xb):
        time.sleep(sleep)

    batches = Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(BATCH)
    batches = batches.take(args.steps)
    sample = next(iter(batches))[0]
    print(f"\n== prefetch overlapping map and step ({args.steps} batches) ==")
    print(
        f"{'case':10s} {'map ms':>7s} {'step ms':>8s} {'serial ms':>10s} "
        f"{'prefetch ms':>12s} {'speedup':>8s} {'hidden':>7s}"
    )
    for name, fn, step in (
        ("matmul", map_matmul, step_matmul),
        ("sleep", map_sleep, step_sleep),
    ):
        map_ms = _per_call(fn, (sample, None), args.repeat) * 1000
        step_ms = _per_call(step, (sample.astype(np.float32),), args.repeat) * 1000
        mapped = batches.map(fn)
        times = {"serial": float("inf"), "prefetch": float("inf")}
        for _ in range(args.repeat):
            for label, ds in (("serial", mapped), ("prefetch", mapped.prefetch(2))):
                start = time.perf_counter()
                count = 0
                for xb, _ in ds:
                    step(xb)
                    count += 1
                times[label] = min(times[label], (time.perf_counter() - start) / count)
        serial, ahead = times["serial"] * 1000, times["prefetch"] * 1000
        hidden = (serial - ahead) / map_ms if map_ms else 0.0
        print(
            f"{name:10s} {map_ms:7.2f} {step_ms:8.2f} {serial:10.2f} "
            f"{ahead:12.2f} {serial / ahead:8.2f} {hidden:7.0%}"
        )


def _per_call(fn, args, repeat, calls=20):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def main(argv=None):
    args = parse_args(argv)
    set_threads(args.threads)  # before numpy's import, or it has no effect
    import numpy as np

    use_checkout()
    from nnlib.data import Dataset

    data, path = load(np, args.data)
    if data is None:
        print(f"MNIST not found at {path}: skipping the data benchmark")
        return
    x, y = data
    print(
        f"nnlib.data benchmark: numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"BLAS threads {args.threads}, {args.repeat} repeats"
    )
    throughput(np, Dataset, x, y, args)
    overlap(np, Dataset, x, y, args)


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # noqa: BLE001 (a benchmark reports, never fails)
        print(f"benchmark failed: {type(err).__name__}: {err}")
    sys.exit(0)
