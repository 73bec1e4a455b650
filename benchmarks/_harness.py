"""Setup, timing and checks shared by the benchmark scripts; not a benchmark.

The scripts import it as ``from _harness import ...``: Python puts a script's own
folder first on ``sys.path``. Nothing here imports numpy or torch at import time,
because the thread variables only take effect when they are set before numpy is
imported: a script calls ``set_threads`` first, then ``import_libraries``.
"""

import argparse
import gc
import math
import os
import sys
import time
import timeit
import tracemalloc

try:
    import resource
except ImportError:  # not on Windows: page faults are then not counted
    resource = None

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The full MNIST set sits beside the checkout: <root>/../shared/data/mnist.npz.
MNIST_PATH = os.path.join(REPO_ROOT, "..", "shared", "data", "mnist.npz")


# -- threads and imports -----------------------------------------------------------


def set_threads(threads):
    """Sets the thread variables; they only take effect before numpy is imported.

    Args:
        threads: Threads for numpy's BLAS (OpenMP, OpenBLAS and MKL alike).
    """
    late = "numpy" in sys.modules
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    if late:
        print(
            "warning: numpy was imported before --threads could apply; "
            "its BLAS may use more threads",
            file=sys.stderr,
        )


def use_checkout():
    """Puts this checkout first on ``sys.path``, so that its nnlib is measured."""
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)


def import_libraries(threads):
    """Imports numpy, nnlib (from this checkout) and torch when installed.

    Args:
        threads: Torch's intra-op and inter-op threads.

    Returns:
        ``(numpy, nnlib, torch or None)``.
    """
    import numpy as np

    use_checkout()
    import nnlib

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:  # only allowed before torch's first parallel work
            pass
    return np, nnlib, torch


def import_tree(path, name="nnlib_tree"):
    """Imports the nnlib package of another checkout as module ``name``.

    nnlib imports itself only relatively, so a second copy loaded under another
    name lives beside this checkout's in one process, and the two can be timed
    in turns (a ``git worktree`` of an older commit gives the figures before a
    change).

    Args:
        path: The other checkout's root (the folder holding ``nnlib/``).
        name: The module name to load it under.

    Returns:
        The module.
    """
    import importlib.util

    package = os.path.join(os.path.abspath(path), "nnlib")
    spec = importlib.util.spec_from_file_location(
        name,
        os.path.join(package, "__init__.py"),
        submodule_search_locations=[package],
    )
    if spec is None:
        raise SystemExit(f"--tree: no nnlib package under {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# -- options -----------------------------------------------------------------------


def add_threads_option(parser):
    """``--threads``, for numpy's BLAS and torch (default 1)."""
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for numpy's BLAS and for torch (default 1)",
    )


def parse_timing_args(doc, argv, quick, full, more_options=None):
    """Parses the options of a benchmark timed by ``measure``.

    They are ``--threads``, ``--quick``, ``--repeat``, ``--min-time``, the
    script's own, ``--cpu-time``, ``--gc`` and ``--json``, in that order (as
    ``--help`` lists them); ``--repeat`` and ``--min-time`` are filled in where
    not given.

    Args:
        doc: The script's docstring; its first line describes the script.
        argv: The arguments, or None for ``sys.argv``.
        quick: ``(repeat, min_time)`` under ``--quick``.
        full: ``(repeat, min_time)`` otherwise.
        more_options: A function that adds the script's own options to the
            ``argparse.ArgumentParser``, or None.

    Returns:
        The parsed options.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_threads_option(parser)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"shorter, rougher figures ({quick[0]} repeats of about "
        f"{quick[1] * 1000:g} ms)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help=f"repeats per figure, the minimum is reported (default {full[0]})",
    )
    parser.add_argument(
        "--min-time",
        type=float,
        default=None,
        help=f"seconds per repeat (default {full[1]})",
    )
    if more_options is not None:
        more_options(parser)
    add_cpu_time_option(parser)
    add_gc_option(parser)
    add_json_option(parser)
    args = parser.parse_args(argv)
    repeat, min_time = quick if args.quick else full
    if args.repeat is None:
        args.repeat = repeat
    if args.min_time is None:
        args.min_time = min_time
    return args


def add_cpu_time_option(parser):
    """``--cpu-time``: time with the process's CPU time (see ``make_timer``)."""
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with the process's CPU time rather than the wall clock "
        "(steadier when other processes share the machine)",
    )


def add_gc_option(parser):
    """``--gc``: keep the garbage collector on while timing."""
    parser.add_argument(
        "--gc", action="store_true", help="keep the garbage collector on while timing"
    )


def add_json_option(parser):
    """``--json PATH``: also write the figures there."""
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")


# -- timing ------------------------------------------------------------------------


class Candidate:
    """One thing to time: a ``timeit.Timer`` and how many op calls one loop makes."""

    def __init__(self, timer, calls=1):
        self.timer = timer
        self.calls = calls
        self.number = 1
        self.best = math.inf
        self.faults = None  # minor page faults per call in the best repeat

    def calibrate(self, min_time):
        """Picks ``number`` so that one repeat takes about ``min_time`` seconds."""
        number = 1
        while True:
            elapsed = self.timer.timeit(number)
            if elapsed >= min_time / 10:
                break
            number *= 10 if elapsed < min_time / 100 else 2
        self.number = max(1, math.ceil(number * min_time / elapsed))

    def run(self):
        """Times one repeat; keeps it (and its page faults) if it is the best."""
        faults = _minor_faults()
        elapsed = self.timer.timeit(self.number) / (self.number * self.calls)
        if elapsed < self.best:
            self.best = elapsed
            if faults is not None:
                self.faults = (_minor_faults() - faults) / (self.number * self.calls)

    @property
    def microseconds(self):
        """The best repeat's time per call."""
        return self.best * 1e6


def _minor_faults():
    if resource is None:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(candidates, args, faults=None):
    """Times a dict of candidates in turns; returns ``{name: microseconds}``.

    Many short repeats taken in turns give steadier ratios than a few long ones
    on a small, shared machine: a slow spell then hits every candidate alike.

    Args:
        candidates: ``{name: Candidate}``.
        args: The options (``repeat``, ``min_time``).
        faults: A dict that receives the minor page faults per call of each
            candidate, or None.
    """
    for c in candidates.values():
        c.calibrate(args.min_time)
    for _ in range(args.repeat):
        for c in candidates.values():
            c.run()
    if faults is not None:
        faults.update({name: c.faults for name, c in candidates.items()})
    return {name: c.microseconds for name, c in candidates.items()}


def make_timer(stmt, namespace, args):
    """A ``timeit.Timer`` of ``stmt`` (source or a callable), gc as ``--gc`` says;
    it reads this process's CPU time instead of the wall clock where ``args``
    has a true ``cpu_time`` (steadier on a busy machine: time spent waiting for
    a core is left out, though not the slowdown of a shared memory bus)."""
    setup = "import gc; gc.enable()" if args.gc else "pass"
    if callable(stmt):
        namespace = dict(namespace, _stmt=stmt)
        stmt = "_stmt()"
    timer = time.process_time if getattr(args, "cpu_time", False) else None
    return timeit.Timer(
        stmt, setup=setup, globals=namespace, timer=timer or timeit.default_timer
    )


def measure_ms(steps, args, faults):
    """``{column: milliseconds}`` for ``{column: step function}``, in turns.

    Args:
        steps: ``{column: function of no arguments}``.
        args: The options (``repeat``, ``min_time``, ``gc``).
        faults: A dict that receives the minor page faults per call of each column.
    """
    candidates = {
        name: Candidate(make_timer(fn, {}, args)) for name, fn in steps.items()
    }
    return {name: us / 1000 for name, us in measure(candidates, args, faults).items()}


# -- checks and memory -------------------------------------------------------------


def agree(np, got, expected):
    """The worst ``max|got - expected| / max|expected|`` over paired arrays."""
    worst = 0.0
    for g, e in zip(got, expected, strict=True):
        g, e = np.asarray(g, np.float64), np.asarray(e, np.float64)
        if g.shape != e.shape:
            return float("inf")
        scale = max(float(np.max(np.abs(e))), 1e-30)
        worst = max(worst, float(np.max(np.abs(g - e))) / scale)
    return worst


def peak_bytes(fn):
    """The most bytes allocated during one call of ``fn`` and alive at once."""
    fn()  # warm caches and lazily created state first
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
