"""Memory of one training step of ``mlp_mnist.py``'s candidates.

Not a benchmark: a part of ``mlp_mnist.py``. The peak of a warm step
(``tracemalloc`` for numpy and nnlib, the PyTorch profiler for torch) and the
resident-set growth over a step, the latter in a fresh process per candidate:
``mlp_mnist.py --rss-child NAME`` runs ``rss_child``.
"""

import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile

from _harness import import_libraries, peak_bytes
from _mlp_models import BATCH, SIZES, make_candidates, nnlib_model


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


def rss_all(names, args, script):
    """``{name: rss_child's result or None}``, one fresh process per candidate.

    Args:
        names: The candidates.
        args: The options (``threads``).
        script: The path of ``mlp_mnist.py``, which runs ``rss_child``.
    """
    out = {}
    # glibc then maps every block of 64 KiB or more on its own and unmaps it when
    # freed, so the resident set follows live memory (not BLAS: timing is not
    # done in these processes).
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    for name in names:
        command = [sys.executable, script, "--rss-child", name]
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
