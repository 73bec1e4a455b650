"""Stress test of checkpoint saving: full disks and kill -9, counting what is lost.

Two kinds of trial, each in a child process so that a crash is counted, not
suffered:

- disk full: a small tmpfs is filled to leave a random number of bytes free
  (0 to 1.3 times the new file's size), then a save runs over a good
  checkpoint: ``save_weights``, ``model.save``, ``CheckpointManager.save`` or
  ``Checkpoint.save``, in turn. The child must either save, or catch
  ``CheckpointWriteError``; then (after a garbage collection, where HDF5 used
  to crash) the newest checkpoint must load with the old values or the new
  ones, no temporary file may remain, and a manager's folder must hold only
  the files its index lists. Needs root (to mount the tmpfs); skipped
  otherwise.
- kill -9: a child saves in a loop (``save_weights`` to one path and a
  ``CheckpointManager`` with ``max_to_keep=2``, every variable holding the
  save's number) and is killed at a random moment. The file and the
  manager's newest checkpoint must load, every value from one save; then a
  new manager's save must leave only listed files and no temporary file.

It prints the runs, the checkpoints lost (a check above failed) and the
crashes (a child died of a signal it was not sent, or failed otherwise), and
exits 1 if anything was lost or crashed.

Run, from the repository root (as root, for the disk-full trials)::

    python3 benchmarks/checkpoint_faults.py                 # 40 + 40 trials
    python3 benchmarks/checkpoint_faults.py --disk-full 150 --kills 100
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

_COMMON = r"""
import gc, glob, os, sys, warnings
import numpy as np
import nnlib
from nnlib.checkpoint import CheckpointWriteError, _index
warnings.simplefilter("ignore")

def make_model():
    model = nnlib.Sequential([nnlib.layers.Dense(256, input_shape=(128,)),
                              nnlib.layers.Dense(64), nnlib.layers.Dense(8)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 128), np.float32), np.ones((4, 8), np.float32),
              epochs=1, verbose=0)
    return model

def fill(model, value):
    for v in model.variables:
        v.assign(np.full(v.shape, value, v.dtype))

def values(model):
    found = {float(x) for v in model.variables for x in np.unique(v.numpy())}
    return found.pop() if len(found) == 1 else found
"""

_DISK_FULL = (
    _COMMON
    + r"""
disk, kind, fraction = sys.argv[1], sys.argv[2], float(sys.argv[3])
folder = os.path.join(disk, "run")
os.makedirs(folder)
model = make_model()
ckpt = nnlib.Checkpoint(model=model, optimizer=model.optimizer)
manager = nnlib.CheckpointManager(ckpt, folder, max_to_keep=1)

def save():
    if kind == "weights":
        return model.save_weights(os.path.join(folder, "w.h5"))
    if kind == "model":
        return model.save(os.path.join(folder, "m.h5"))
    if kind == "manager":
        return manager.save()
    return ckpt.save(os.path.join(folder, "run"))

def load(path):
    other = make_model()
    if kind == "weights":
        other.load_weights(path)
    elif kind == "model":
        other = nnlib.load_model(path)
    else:
        nnlib.Checkpoint(model=other).restore(path).expect_partial()
    return values(other)

fill(model, 1.0)
old = save()
free = int(fraction * os.path.getsize(old))  # of the size the new file needs
fill(model, 2.0)
st = os.statvfs(disk)
with open(os.path.join(disk, "pad"), "wb") as f:
    f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - free))
try:
    save()
    outcome, expected = "saved", 2.0
except CheckpointWriteError as err:
    outcome, expected = "caught", 1.0
gc.collect()
os.remove(os.path.join(disk, "pad"))
problems = []
newest = old if kind in ("weights", "model") else nnlib.latest_checkpoint(folder)
if newest is None or load(newest) != expected:
    problems.append(f"newest checkpoint {newest} does not load as saved")
temps = glob.glob(os.path.join(folder, ".*"))
if temps:
    problems.append(f"temporary files left: {temps}")
if kind == "manager":
    listed = {"checkpoint"} | _index.read(folder).names
    if set(os.listdir(folder)) != listed:
        problems.append(f"unlisted files: {sorted(set(os.listdir(folder)) - listed)}")
print("LOST " + "; ".join(problems) if problems else outcome, flush=True)
"""
)

_SAVE_FOREVER = (
    _COMMON
    + r"""
folder = sys.argv[1]
model = make_model()
manager = nnlib.CheckpointManager(
    nnlib.Checkpoint(model=model, optimizer=model.optimizer),
    os.path.join(folder, "managed"), max_to_keep=2)
print("ready", flush=True)
step = 0
while True:
    step += 1
    fill(model, float(step))
    model.save_weights(os.path.join(folder, "w.h5"))
    manager.save()
"""
)

_CHECK_KILLED = (
    _COMMON
    + r"""
folder = sys.argv[1]
problems = []
weights = os.path.join(folder, "w.h5")
if os.path.exists(weights):
    other = make_model()
    other.load_weights(weights)
    if not isinstance(values(other), float):
        problems.append("the weights file mixes two saves")
managed = os.path.join(folder, "managed")
latest = nnlib.latest_checkpoint(managed)
if latest is None and os.path.exists(os.path.join(managed, "checkpoint")):
    problems.append("the manager's index points to no file")
if latest is not None:
    other = make_model()
    nnlib.Checkpoint(model=other).restore(latest).expect_partial()
    if not isinstance(values(other), float):
        problems.append("the newest checkpoint mixes two saves")
# A new run's first save tidies up after the killed one.
model = make_model()
ckpt = nnlib.Checkpoint(model=model, optimizer=model.optimizer)
manager = nnlib.CheckpointManager(ckpt, managed, max_to_keep=2)
manager.restore_or_initialize()
manager.save()
# Listed: kept, or preserved (also a file a kill left before the first
# index was written: with no index, a file is never taken for an orphan).
listed = {"checkpoint"} | _index.read(managed).names
left = set(os.listdir(managed)) - listed
if left:
    problems.append(f"files left after the next save: {sorted(left)}")
print("LOST " + "; ".join(problems) if problems else "ok", flush=True)
"""
)


def _child(source, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "-c", source, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, PYTHONPATH=ROOT),
        check=False,
    )


class Tally:
    def __init__(self, title):
        self.title, self.runs, self.lost, self.crashes, self.outcomes = (
            title,
            0,
            0,
            0,
            {},
        )

    def add(self, done, expected_signal=None):
        self.runs += 1
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        if done.returncode < 0 and -done.returncode != expected_signal:
            self.crashes += 1
            print(f"  CRASH: signal {-done.returncode}\n{done.stderr[-1500:]}")
        elif done.returncode != 0:
            self.crashes += 1
            print(f"  FAILED (exit {done.returncode}):\n{done.stderr[-1500:]}")
        elif last.startswith("LOST"):
            self.lost += 1
            print(f"  {last}")
        else:
            self.outcomes[last] = self.outcomes.get(last, 0) + 1

    def __str__(self):
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return (
            f"{self.title}: {self.runs} runs, {self.lost} lost, "
            f"{self.crashes} crashes ({outcomes})"
        )


def disk_full_trials(count, rng):
    tally = Tally("disk full")
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        print("disk full: skipped (mounting a tmpfs needs root on Linux)")
        return tally
    kinds = ["weights", "model", "manager", "checkpoint"]
    for trial in range(count):
        disk = tempfile.mkdtemp()
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", disk],
            capture_output=True,
            text=True,
            check=False,
        )
        if mounted.returncode != 0:
            print(f"disk full: skipped (mount failed: {mounted.stderr.strip()})")
            os.rmdir(disk)
            return tally
        try:
            kind = kinds[trial % len(kinds)]
            tally.add(_child(_DISK_FULL, disk, kind, rng.uniform(0, 1.3)))
        finally:
            subprocess.run(["umount", disk], check=False)
            os.rmdir(disk)
    return tally


def kill_trials(count, rng):
    tally = Tally("kill -9")
    for _ in range(count):
        folder = tempfile.mkdtemp(dir=ROOT)  # a real disk, not /tmp's tmpfs
        try:
            saver = subprocess.Popen(
                [sys.executable, "-c", _SAVE_FOREVER, folder],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=dict(os.environ, PYTHONPATH=ROOT),
            )
            saver.stdout.readline()  # "ready"
            time.sleep(rng.uniform(0.05, 1.5))
            saver.send_signal(signal.SIGKILL)
            out, err = saver.communicate()
            killed = subprocess.CompletedProcess([], saver.returncode, out, err)
            if saver.returncode != -signal.SIGKILL:
                tally.add(killed, expected_signal=signal.SIGKILL)
                continue
            tally.add(_child(_CHECK_KILLED, folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return tally


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disk-full", type=int, default=40, help="disk-full trials")
    parser.add_argument("--kills", type=int, default=40, help="kill -9 trials")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tallies = [disk_full_trials(args.disk_full, rng), kill_trials(args.kills, rng)]
    for tally in tallies:
        print(tally)
    sys.exit(1 if any(t.lost or t.crashes for t in tallies) else 0)


if __name__ == "__main__":
    main()
