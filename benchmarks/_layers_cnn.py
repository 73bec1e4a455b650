"""The MNIST CNN's forward pass on all 10,000 test images: time and peak memory.

Not a benchmark: a part of ``layers.py``. The network is ``_layers_lenet.py``'s,
examples/mnist_cnn.py's without its dropout (an identity at inference), every
candidate with the same weights, on MNIST's test images (float32, 31 MiB):

- ``nnlib call``: ``model(x)`` on the whole (10000, 28, 28, 1) batch;
- ``nnlib call CF``: the channels-first model on the (10000, 1, 28, 28) batch;
- ``nnlib predict``: ``model.predict(x)``, batches of 32 (its default);
- ``torch NCHW`` and ``torch CL``: ``model(x)`` in eval mode under
  ``torch.no_grad()``, on a contiguous NCHW and a ``channels_last`` batch.

Peak memory is measured two ways. In this process, the bytes allocated during
one call and alive at once: ``tracemalloc`` for nnlib (it sees numpy's arrays)
and the PyTorch profiler's memory events for torch (its tensor storage;
``tracemalloc`` does not see torch's allocator): each library's own data, but
two instruments. And with one yardstick for all: in a fresh process per
candidate (``layers.py --cnn-child NAME``), the growth of the resident set's
peak over one call (VmHWM reset just before), after a warm-up call on 1,000
images, with ``MALLOC_MMAP_THRESHOLD_=65536`` so that freed blocks leave the
resident set at once. The targets use the latter.
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import tracemalloc

from _harness import MNIST_PATH, agree, import_libraries, measure_ms, set_threads
from _layers_lenet import channels_first_weights, lenet_nnlib, lenet_torch
from _mlp_memory import _proc_status, _reset_peak, torch_peak_bytes

CANDIDATES = ("nnlib call", "nnlib call CF", "nnlib predict", "torch NCHW", "torch CL")
PREDICT_BATCH = 32
WARM_UP = 1000


def load_images(np, path=MNIST_PATH):
    """MNIST's test images as float32 NHWC in [0, 1], or None without the file."""
    if not os.path.exists(path):
        return None
    with np.load(path) as data:
        return (data["x_test"].astype(np.float32) / 255)[..., None]


def candidates(libs, x, names=CANDIDATES):
    """``{name: (fn, data)}``: ``fn(data)`` runs the candidate, returns logits."""
    np, nnlib, torch = libs
    nnlib.random.set_seed(0)
    model = lenet_nnlib(nnlib)
    params = [v.numpy() for v in model.trainable_variables]
    out = {
        "nnlib call": (lambda a: model(a).numpy(), x),
        "nnlib predict": (lambda a: model.predict(a, batch_size=PREDICT_BATCH), x),
    }
    if "nnlib call CF" in names:
        model_cf = lenet_nnlib(nnlib, "channels_first")
        model_cf.set_weights(channels_first_weights(params))
        x_cf = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        out["nnlib call CF"] = (lambda a: model_cf(a).numpy(), x_cf)
    if torch is not None:
        for name, fmt in (
            ("torch NCHW", torch.contiguous_format),
            ("torch CL", torch.channels_last),
        ):
            if name in names:
                tmodel = lenet_torch(torch, params, fmt).eval()
                tx = torch.from_numpy(x).permute(0, 3, 1, 2).clone(memory_format=fmt)
                out[name] = (_no_grad(torch, tmodel), tx)
    return {name: c for name, c in out.items() if name in names}


def _no_grad(torch, model):
    def run(a):
        with torch.no_grad():
            return model(a).numpy()

    return run


def _traced_peak(fn):
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def cnn_case(libs, args, script):
    """Times the candidates in turns; their agreement and peak memory. None
    without the MNIST file."""
    np, _, torch = libs
    x = load_images(np)
    if x is None:
        return None
    runs = candidates(libs, x)
    logits = {name: fn(data) for name, (fn, data) in runs.items()}
    errors = {
        name: agree(np, [y], [logits["nnlib call"]]) for name, y in logits.items()
    }
    steps = {
        name: (lambda fn=fn, data=data: fn(data)) for name, (fn, data) in runs.items()
    }
    timing = argparse.Namespace(
        repeat=args.cnn_repeat, min_time=0.0, gc=args.gc, cpu_time=args.cpu_time
    )
    seconds = {k: v / 1000 for k, v in measure_ms(steps, timing, {}).items()}
    traced = {}
    for name, step in steps.items():
        if name.startswith("torch"):
            traced[name] = torch_peak_bytes(torch, step)
        else:
            traced[name] = _traced_peak(step)
    rss = rss_all(list(runs), args, script) if args.cnn_rss else {}
    return {
        "images": len(x),
        "seconds": seconds,
        "traced_peak_bytes": traced,
        "rss_peak_bytes": rss,
        "agreement": errors,
    }


def rss_child(args):
    """Runs in a fresh process: the resident set's peak growth over one call of
    candidate ``args.cnn_child``; prints one JSON line."""
    if not args.cnn_child.startswith("torch"):
        sys.modules["torch"] = None  # import_libraries then skips it
    set_threads(args.threads)
    libs = import_libraries(args.threads)
    x = load_images(libs[0])
    ((fn, data),) = candidates(libs, x, [args.cnn_child]).values()
    fn(data[:WARM_UP])
    gc.collect()
    before = _proc_status()
    reset = _reset_peak()
    fn(data)
    after = _proc_status()
    peak = after[1] - before[0] if before and after and reset else None
    print(json.dumps({"peak": peak}))


def rss_all(names, args, script):
    """``{name: bytes or None}``, one fresh process per candidate."""
    out = {}
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    for name in names:
        command = [sys.executable, script, "--cnn-child", name]
        command += ["--threads", str(args.threads)]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=600,
                check=True,
                env=env,
            )
            out[name] = json.loads(done.stdout.strip().splitlines()[-1])["peak"]
        except (subprocess.SubprocessError, ValueError, IndexError, KeyError) as error:
            print(f"warning: RSS of {name} failed: {error!r}", file=sys.stderr)
            out[name] = None
    return out


def _mib(v):
    return "-" if v is None else f"{v / 2**20:.0f}"


def best_torch(values):
    """The smaller torch figure (faster, or less memory), or None."""
    found = [values.get(c) for c in ("torch NCHW", "torch CL")]
    found = [v for v in found if v is not None]
    return min(found) if found else None


def print_cnn(result):
    """Prints the section: seconds, both peaks, agreement."""
    print()
    if result is None:
        print(f"MNIST CNN on the 10,000 test images: SKIP ({MNIST_PATH} not found)")
        return
    print(
        f"MNIST CNN forward on the {result['images']:,} test images (min of the "
        "repeats; peak MiB:\narrays = tracemalloc (nnlib) or the torch profiler "
        "(torch), RSS = resident-set peak\ngrowth in a fresh process):"
    )
    print(
        f"  {'candidate':<15}{'seconds':>9}{'arrays MiB':>12}{'RSS MiB':>10}  agreement"
    )
    for name, s in result["seconds"].items():
        print(
            f"  {name:<15}{s:>9.2f}{_mib(result['traced_peak_bytes'].get(name)):>12}"
            f"{_mib(result['rss_peak_bytes'].get(name)):>10}"
            f"  {result['agreement'][name]:.1e}"
        )


def add_targets(checks, result, limit=1.5, cf_limit=1.2):
    """The issue's targets: time and RSS peak within ``limit`` x torch's best
    (call and predict), channels first within ``cf_limit`` x channels last."""
    if result is None:
        return
    seconds, rss = result["seconds"], result["rss_peak_bytes"]
    for name in ("nnlib call", "nnlib predict"):
        checks.add(f"cnn10k {name}: time/torch best", _ratio(seconds, name), limit)
        if result["rss_peak_bytes"]:
            checks.add(f"cnn10k {name}: RSS peak/torch least", _ratio(rss, name), limit)
    value = seconds.get("nnlib call CF"), seconds.get("nnlib call")
    cf = value[0] / value[1] if None not in value else None
    checks.add("cnn10k nnlib call: channels first/last", cf, cf_limit)


def _ratio(values, name):
    best = best_torch(values)
    return None if best is None or values.get(name) is None else values[name] / best
