"""The tables and the PASS/FAIL targets of ``graph.py``; not a benchmark.

Every function takes the cases (``_graph_cases.Case``) and ``results``, the
figures ``graph.run_case`` gathers per case name: ``not_traced`` (None, or why
the model runs eagerly), ``seconds`` per column, ``first_call_seconds``,
``agreement`` and, for the training steps, ``peak_bytes``.
"""

import statistics

from _graph_cases import STEPS
from _report import Targets, fmt_ratio, print_targets, ratio

UNITS = {"us": ("microseconds", 1e6), "ms": ("milliseconds", 1e3)}
AGREEMENT = 1e-6  # issue 15: traced equals eager to 1e-6 in float32
FIRST_CALL_VS_EAGER = 20.0  # issue 15: the first call at most 20 eager steps
PARTS = "1233"  # the part of the report each case's table belongs to


def print_report(cases, results):
    """Prints the tables of parts 1 to 6 and the targets; returns the targets."""
    for part, case in zip(PARTS, cases, strict=True):
        print_times(part, case, results[case.name])
    print_tracing(cases, results)
    print_memory(cases, results)
    print_agreement(cases, results)
    checks = targets(cases, results)
    print_targets(checks, 52, skip_note=" (torch not installed)")
    eager = [c.name for c in cases if results[c.name]["not_traced"]]
    if eager:
        print(f"  not traced (FAIL; why: in their tables): {', '.join(eager)}")
    return checks


def print_times(part, case, figures):
    """A model's table: each column's time, and traced's time over it."""
    unit, scale = UNITS[case.unit]
    seconds = figures["seconds"]
    traced = seconds.get("traced")
    print(f"\n{part}. {case.title}, {unit} per step")
    print(f"  {'column':<20}{'time':>10}   traced / column")
    if traced is None:
        print(f"  {'traced':<20}{'-':>10}   not traced: {figures['not_traced']}")
    for name, value in seconds.items():
        print(f"  {name:<20}{value * scale:>10.1f}   {fmt_ratio(ratio(traced, value))}")


def print_tracing(cases, results):
    print("\n4. tracing cost: the first call of a fresh nnlib.function (median of")
    print("   the fresh functions; all in the JSON) against one eager step, ms")
    print(f"  {'model':<22}{'eager step':>12}{'first call':>12}   first / eager")
    for case in cases:
        r = results[case.name]
        eager, first = r["seconds"]["eager"], statistics.median(r["first_call_seconds"])
        shown = "not traced" if r["not_traced"] else fmt_ratio(ratio(first, eager))
        print(f"  {case.name:<22}{eager * 1e3:>12.2f}{first * 1e3:>12.1f}   {shown}")


def print_memory(cases, results):
    print("\n5. peak memory of one warm step (tracemalloc), MB")
    print(f"  {'model':<22}{'eager':>10}{'traced':>10}   traced / eager")
    for case in cases:
        peak = results[case.name].get("peak_bytes")
        if peak is None:
            continue
        traced = peak.get("traced")
        shown = "-" if traced is None else f"{traced / 1e6:.2f}"
        print(
            f"  {case.name:<22}{peak['eager'] / 1e6:>10.2f}{shown:>10}   "
            f"{fmt_ratio(ratio(traced, peak['eager'])) if traced else 'not traced'}"
        )


def print_agreement(cases, results):
    print(f"\n6. agreement of the traced copy with the eager one after {STEPS} steps")
    print("   from the same weights (the first call is the trace): max |traced -")
    print("   eager| / max |eager|, float32")
    print(f"  {'model':<22}{'outputs':>10}{'variables':>11}")
    for case in cases:
        r = results[case.name]
        if r["not_traced"]:
            print(f"  {case.name:<22}{'not traced':>21}")
            continue
        e = r["agreement"]
        print(f"  {case.name:<22}{e['outputs']:>10.1e}{e['variables']:>11.1e}")


def targets(cases, results):
    """The checks, by kind, then by model; a model that runs eagerly FAILs each."""
    checks = Targets()
    for kind in ("speed", "first call", "memory", "agreement"):
        for case in cases:
            r = results[case.name]
            for name, value, limit in _case_targets(kind, case, r):
                if r["not_traced"] is None:
                    checks.add(name, value, limit)
                else:
                    checks.append(
                        {"target": name, "value": None, "limit": limit, "passed": False}
                    )
    return checks


def _case_targets(kind, case, r):
    """``[(target, value, limit)]`` of one kind for one model."""
    seconds = r["seconds"]
    if kind == "speed":
        traced = seconds.get("traced")
        return [
            (f"{case.name}: traced/{column}", ratio(traced, seconds.get(column)), limit)
            for column, limit in case.speed
        ]
    if kind == "first call":
        first = statistics.median(r["first_call_seconds"])
        value = ratio(first, seconds["eager"])
        return [(f"{case.name}: first call / eager step", value, FIRST_CALL_VS_EAGER)]
    if kind == "memory":
        peak = r.get("peak_bytes")
        if peak is None:
            return []
        value = ratio(peak.get("traced"), peak["eager"])
        return [(f"{case.name}: peak memory traced/eager", value, 1.0)]
    value = max(r["agreement"].values())
    return [(f"{case.name}: traced agrees with eager", value, AGREEMENT)]
