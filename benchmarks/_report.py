"""Headers, PASS/FAIL targets and JSON output shared by the benchmark scripts.

Not a benchmark: the scripts import it as ``from _report import ...``. Like
``_harness``, it imports neither numpy nor torch; both come in as arguments.
"""

import json
import os
import platform
import sys
import time

from _harness import THREAD_VARS

STATUS = {True: "PASS", False: "FAIL", None: "SKIP"}


def ratio(a, b):
    """``a / b``, or None where either is missing (or ``b`` is zero)."""
    return a / b if a is not None and b else None


def clock_name(args):
    """What the timings read: ``--cpu-time``'s process CPU time, or the wall clock."""
    return "process CPU time" if getattr(args, "cpu_time", False) else "wall clock"


def timing_environment(np, torch, args, **fields):
    """``environment`` with what every timed benchmark records: torch's threads
    and CPU capability, the environment variables, the repeats, the garbage
    collector and the clock; then the script's own ``fields``."""
    return environment(
        np,
        torch,
        args.threads,
        torch_threads=None if torch is None else torch.get_num_threads(),
        torch_cpu_capability=torch_capability(torch),
        env=environment_variables(),
        repeat=args.repeat,
        min_time_s=args.min_time,
        gc_enabled=args.gc,
        clock=clock_name(args),
        **fields,
    )


def fmt_ratio(v):
    """A ratio as ``1.23x``, ``-`` when missing."""
    return "-" if v is None else f"{v:.2f}x"


# -- the header --------------------------------------------------------------------


def environment(np, torch, threads, **fields):
    """What the header prints and the JSON records about the machine and the run.

    Args:
        np: numpy.
        torch: torch, or None.
        threads: numpy's BLAS threads (``--threads``).
        **fields: The script's own entries, in order after the common ones.
    """
    env = {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "numpy": np.__version__,
        "blas": blas_name(np),
        "torch": torch.__version__ if torch is not None else None,
        "numpy_threads": threads,
    }
    env.update(fields)
    return env


def environment_variables():
    """The OpenBLAS and thread variables as set, sorted by name."""
    return {
        k: v
        for k, v in sorted(os.environ.items())
        if k.startswith("OPENBLAS_") or k in THREAD_VARS
    }


def torch_capability(torch):
    """Torch's CPU capability (``AVX512`` ...), or None."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # torch not installed, or too old to say
        return None


def blas_name(np):
    """numpy's BLAS library and version, or ``unknown``."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except (AttributeError, KeyError, TypeError):  # older numpy: no dict mode
        return "unknown"


def print_header(title, env, statistic, threads=None):
    """Prints the header: title, versions, threads, variables, statistic.

    Args:
        title: The first line.
        env: From ``environment`` (with ``env`` from ``environment_variables``).
        statistic: What each figure is, after ``statistic: ``.
        threads: The whole threads line; by default numpy's BLAS threads and
            torch's ``torch_threads`` and ``torch_cpu_capability``.
    """
    print(title)
    print(
        f"python {env['python']} ({env['machine']}); numpy {env['numpy']} "
        f"(BLAS {env['blas']}); torch {env['torch'] or 'not installed'}"
    )
    if threads is None:
        torch_threads = (
            f"torch {env['torch_threads']} (torch.set_num_threads; CPU capability "
            f"{env.get('torch_cpu_capability')})"
            if env["torch"]
            else "torch -"
        )
        threads = f"threads: numpy BLAS {env['numpy_threads']}, {torch_threads}"
    print(threads)
    variables = ", ".join(f"{k}={v}" for k, v in env["env"].items())
    if "OPENBLAS_CORETYPE" not in env["env"]:
        variables += ", OPENBLAS_CORETYPE unset"
    print(f"environment: {variables}")
    clock = env.get("clock")
    print(
        f"statistic: {statistic}"
        + (f"; {clock}" if clock and clock not in statistic else "")
    )
    # The timing takes a while: show the header before it starts.
    sys.stdout.flush()


# -- targets -----------------------------------------------------------------------


class Targets(list):
    """The PASS/FAIL checks, as dicts the JSON output records.

    Each has ``target``, ``value``, ``limit``, ``op`` (only with ``record_op``)
    and ``passed`` (None where the value is missing, e.g. without torch).
    """

    def __init__(self, record_op=False):
        super().__init__()
        self.record_op = record_op

    def add(self, name, value, limit, strict=False):
        """Checks ``value <= limit`` (``<`` where ``strict``)."""
        check = {"target": name, "value": value, "limit": limit}
        if self.record_op:
            check["op"] = "<" if strict else "<="
        check["passed"] = (
            None if value is None else (value < limit if strict else value <= limit)
        )
        self.append(check)


def print_targets(checks, width, missing="-", skip_note="", op=lambda c: "<="):
    """Prints the checks, one a line, and how many were met.

    Args:
        checks: From ``Targets``. A target whose name says ``agrees`` is an error
            (printed as ``1.0e-06``), any other a ratio (``1.234x``).
        width: Columns for the target's name.
        missing: Printed in place of a missing value.
        skip_note: Follows the count of skipped checks.
        op: The comparison as printed, from the check.
    """
    print()
    print("targets")
    for c in checks:
        agreement = "agrees" in c["target"]
        if c["value"] is None:
            value = missing
        elif agreement:
            value = f"{c['value']:.1e}"
        else:
            value = f"{c['value']:.3f}x"
        limit = f"{c['limit']:.0e}" if agreement else f"{c['limit']:.2f}x"
        print(
            f"  [{STATUS[c['passed']]}] {c['target']:<{width}} {value:>9} "
            f"{op(c)} {limit}"
        )
    done = [c for c in checks if c["passed"] is not None]
    skipped = len(checks) - len(done)
    print(
        f"  {sum(c['passed'] for c in done)} of {len(done)} targets met"
        + (f", {skipped} skipped{skip_note}" if skipped else "")
    )


# -- the end -----------------------------------------------------------------------


def finish(start, path, figures):
    """Prints the total time; writes ``figures`` and it as JSON where asked.

    Args:
        start: ``time.perf_counter()`` at the start of the run.
        path: ``--json``, or None.
        figures: The JSON's entries; ``total_seconds`` is added last.
    """
    elapsed = time.perf_counter() - start
    print(f"\ntotal time {elapsed:.1f} s")
    if path:
        with open(path, "w") as f:
            json.dump(dict(figures, total_seconds=elapsed), f, indent=2)
        print(f"figures written to {path}")
