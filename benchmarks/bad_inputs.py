"""What a user gets for each bad input in the test suite's tables.

Runs the test modules that list bad inputs (constructor arguments, ``fit`` and
``predict`` calls, hostile and damaged files) against a checkout, and sorts each
case by its outcome:

- clear: the test passed (a typed error naming the argument, or the documented
  refusal);
- silent: ``pytest.raises`` saw no exception at all (a wrong answer, or state
  changed without a word);
- unclear: some other failure: an error of the wrong type, or whose message does
  not say what was wrong (the regex did not match), or a raw error;
- crash: the test process died (a signal, such as SIGSEGV).

Point ``--tree`` at another checkout holding these test files to measure it
(for instance an older commit with today's tests copied in): the figures before
and after a fix come from the same tables. Tests that cannot even be collected
there (they import a name the old code lacks) are counted apart.

Usage:
    python3 benchmarks/bad_inputs.py                 # this checkout
    python3 benchmarks/bad_inputs.py --tree /tmp/old # another one
"""

import argparse
import collections
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]

FILES = [
    "tests/layers/test_arguments.py",
    "tests/layers/test_building.py",
    "tests/losses/test_bad_arguments.py",
    "tests/metrics/test_bad_arguments.py",
    "tests/optimizers/test_bad_arguments.py",
    "tests/callbacks/test_bad_arguments.py",
    "tests/data/test_bad_arguments.py",
    "tests/training/test_bad_input.py",
    "tests/training/test_bad_calls.py",
    "tests/checkpoint/test_hostile_files.py",
    "tests/datasets/test_hostile_data.py",
]

# A pytest plugin, written to a file and loaded with -p: one JSON line per test.
PLUGIN = """
import json, os

def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and not report.passed):
        text = str(report.longrepr) if report.failed else ""
        if report.passed:
            kind = "clear"
        elif report.skipped:
            kind = "skipped"
        elif "DID NOT RAISE" in text or "DID NOT WARN" in text:
            kind = "silent"
        else:
            kind = "unclear"
        with open(os.environ["BAD_INPUTS_OUT"], "a") as out:
            out.write(json.dumps([report.nodeid, kind]) + "\\n")

def pytest_collectreport(report):
    if report.failed:
        with open(os.environ["BAD_INPUTS_OUT"], "a") as out:
            out.write(json.dumps([report.nodeid, "not collected"]) + "\\n")
"""


def run_file(tree, name, plugin_dir):
    """Runs one test module in its own process; returns [(test id, outcome)]."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as out:
        env = dict(os.environ, BAD_INPUTS_OUT=out.name)
        env["PYTHONPATH"] = os.pathsep.join(
            [plugin_dir, str(tree), env.get("PYTHONPATH", "")]
        )
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "_bad_inputs_plugin", name],
            cwd=tree,
            env=env,
            capture_output=True,
            timeout=900,
            check=False,
        )
        rows = [json.loads(line) for line in out.read().splitlines()]
    if proc.returncode < 0:  # killed by a signal: the test running then crashed
        rows.append([f"{name} (signal {-proc.returncode})", "crash"])
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default=str(ROOT), help="checkout to measure")
    parser.add_argument("--json", help="also write every outcome to this file")
    args = parser.parse_args()
    tree = pathlib.Path(args.tree).resolve()
    print(f"bad inputs of {tree}")
    totals = collections.Counter()
    outcomes = {}
    with tempfile.TemporaryDirectory() as plugin_dir:
        pathlib.Path(plugin_dir, "_bad_inputs_plugin.py").write_text(PLUGIN)
        for name in FILES:
            if not (tree / name).exists():
                print(f"  {name}: missing in this tree")
                continue
            rows = run_file(tree, name, plugin_dir)
            counts = collections.Counter(kind for _, kind in rows)
            totals.update(counts)
            outcomes.update(dict(rows))
            listed = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
            print(f"  {name}: {listed}")
    kinds = ("clear", "unclear", "silent", "crash", "skipped", "not collected")
    print("total: " + ", ".join(f"{k} {totals[k]}" for k in kinds))
    print(f"tried: {sum(totals[k] for k in kinds[:4])}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(outcomes, indent=1))


if __name__ == "__main__":
    main()
