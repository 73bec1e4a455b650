"""A really full disk, at each stage of a save: caught, survived, nothing lost.

Saves run on a small tmpfs filled so that the disk runs out while the arrays
are written, while the file's last bytes (its metadata) are written, or while
the index is rewritten; for ``save_weights``, ``model.save``,
``CheckpointManager.save`` and ``Checkpoint.save``. They run in a child
process, so a crash (HDF5 used to die of SIGSEGV releasing a half-written
file) fails the test instead of killing pytest. Needs root (to mount).
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CHILD = r"""
import gc, glob, math, os, shutil, sys, tempfile, warnings
import numpy as np
import nnlib
from nnlib.checkpoint import CheckpointWriteError

disk, wanted = sys.argv[1], sys.argv[2:]
PAGE = os.statvfs(disk).f_frsize
warnings.simplefilter("ignore")

# Which write ran out of space (the arrays, the metadata after them, the
# index), and the pages each write touches (tmpfs allocates whole pages).
stage, touched = ["?"], {"arrays": set(), "metadata": set()}
try:
    from nnlib.checkpoint import _h5image
except ImportError:  # an nnlib before the in-memory image
    _h5image = None
else:
    real_arrays, real_to = _h5image.write_arrays, _h5image.MetadataImage.write_to
    real_pwrite = _h5image._pwrite

    def write_arrays(fd, arrays):
        if arrays:
            stage[0] = "arrays"
        return real_arrays(fd, arrays)

    def write_to(self, fd, arrays=()):
        write_arrays(fd, arrays)
        stage[0] = "metadata"
        return real_to(self, fd, ())

    def pwrite(fd, data, offset):
        size = memoryview(data).nbytes
        touched[stage[0]].update(range(offset // PAGE, (offset + size - 1) // PAGE + 1))
        return real_pwrite(fd, data, offset)

    _h5image.write_arrays, _h5image.MetadataImage.write_to = write_arrays, write_to
    _h5image._pwrite = pwrite
if _h5image is not None:
    from nnlib.checkpoint import _index

    real_index_write = _index.write

    def index_write(*args, **kwargs):
        stage[0] = "index"
        return real_index_write(*args, **kwargs)

    _index.write = index_write


def make_model():
    model = nnlib.Sequential([nnlib.layers.Dense(256, input_shape=(16,)),
                              nnlib.layers.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 16), np.float32), np.ones((4, 4), np.float32),
              epochs=1, verbose=0)  # the optimizer's slots exist
    return model


def scramble(model, value):
    for v in model.variables:
        v.assign(np.full(v.shape, value, v.dtype))


def pad(free):
    # Leave exactly `free` bytes (whole pages) on the disk.
    path = os.path.join(disk, "pad")
    if os.path.exists(path):
        os.remove(path)
    st = os.statvfs(disk)
    with open(path, "wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - free))


def pages(size):
    return math.ceil(size / PAGE)


class Weights:
    def save(self, folder, model):
        return model.save_weights(os.path.join(folder, "w.h5"))

    def load(self, path, model):
        model.load_weights(path)


class WholeModel(Weights):
    def save(self, folder, model):
        return model.save(os.path.join(folder, "m.h5"))

    def load(self, path, model):
        loaded = nnlib.load_model(path)
        for a, b in zip(model.variables, loaded.variables):
            a.assign(b.numpy())


class Manager(Weights):
    def __init__(self):
        self.managers = {}

    def save(self, folder, model):
        key = (folder, id(model))
        if key not in self.managers:
            ckpt = nnlib.Checkpoint(model=model, optimizer=model.optimizer)
            self.managers[key] = nnlib.CheckpointManager(ckpt, folder, max_to_keep=1)
        return self.managers[key].save()

    def load(self, path, model):
        nnlib.Checkpoint(model=model).restore(path).expect_partial()


class CheckpointSave(Weights):
    def __init__(self):
        self.checkpoints = {}

    def save(self, folder, model):
        ckpt = self.checkpoints.setdefault(
            (folder, id(model)),
            nnlib.Checkpoint(model=model, optimizer=model.optimizer))
        return ckpt.save(os.path.join(folder, "run"))

    def load(self, path, model):
        nnlib.Checkpoint(model=model).restore(path).expect_partial()


KINDS = {"weights": Weights, "model": WholeModel, "manager": Manager,
         "checkpoint": CheckpointSave}
model = make_model()
for case in wanted:
    kind_name, at = case.split(":")
    kind = KINDS[kind_name]()
    # The new file's size and pages, measured on an ordinary disk.
    scratch = tempfile.mkdtemp()
    kind.save(scratch, model)
    for pages_of in touched.values():
        pages_of.clear()
    kind.save(scratch, model)
    size = max(os.path.getsize(p) for p in glob.glob(os.path.join(scratch, "*.h5")))
    shutil.rmtree(scratch)
    arrays_pages = len(touched["arrays"])
    if _h5image is None:  # then HDF5 writes: the full disk hits its last flush
        arrays_pages = pages(size) - 1
    elif at == "metadata" and not touched["metadata"] - touched["arrays"]:
        sys.exit(f"{case}: the metadata shares its pages with the arrays here")
    free_pages = {
        "arrays": pages(size) // 2,
        # The arrays fit, the metadata (first written after them) does not.
        "metadata": arrays_pages,
        "index": pages(size),  # the file fits, the index does not
    }[at]
    folder = os.path.join(disk, kind_name + "-" + at)
    os.makedirs(folder)
    pad(10 ** 7)  # room for the first save
    scramble(model, 1.0)
    old = kind.save(folder, model)
    scramble(model, 2.0)
    free = free_pages * PAGE
    pad(free)
    stage[0] = "?"
    try:
        kind.save(folder, model)
    except CheckpointWriteError as err:
        message = str(err)
    else:
        sys.exit(f"{case}: the save did not fail ({free} bytes free)")
    gc.collect()  # where HDF5 used to crash, releasing the half-written file
    if "disk full" not in message or "intact" not in message:
        sys.exit(f"{case}: unexpected message: {message}")
    if _h5image is not None and stage[0] != at:
        sys.exit(f"{case}: the disk ran out in the {stage[0]} stage, not {at}")
    os.remove(os.path.join(disk, "pad"))
    left = [p for p in os.listdir(folder) if p.endswith(".tmp")]
    if left:
        sys.exit(f"{case}: temporary files left: {left}")
    if kind_name in ("manager", "checkpoint"):
        latest = nnlib.latest_checkpoint(folder)
        if latest != old:
            sys.exit(f"{case}: latest_checkpoint is {latest}, not {old}")
        if sorted(os.listdir(folder)) != sorted(["checkpoint", os.path.basename(old)]):
            sys.exit(f"{case}: unlisted files left: {os.listdir(folder)}")
    scramble(model, 0.0)
    kind.load(old, model)
    if any(not np.all(v.numpy() == 1.0) for v in model.variables):
        sys.exit(f"{case}: the previous checkpoint did not load as it was")
    shutil.rmtree(folder)
    print("ok", case, flush=True)
gc.collect()
print("done", flush=True)
"""

# (In a weights file or a manager's checkpoint of this model, every page of
# metadata holds array bytes too: tmpfs cannot run out at the metadata there.
# fsync cannot fail on tmpfs: test_safety covers an fsync that fails.)
CASES = [
    "weights:arrays",
    "model:arrays",
    "model:metadata",
    "manager:arrays",
    "manager:index",
    "checkpoint:arrays",
    "checkpoint:index",
]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs, unmounted afterwards."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)]
    try:
        done = subprocess.run(mount, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield str(disk)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_full_disk_at_each_stage_of_a_save_is_caught_and_survived(small_disk):
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, small_disk, *CASES],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    report = f"stdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode >= 0, (
        f"the saving process died of signal {-done.returncode}\n{report}"
    )
    assert done.returncode == 0, report
    assert done.stdout.split() == [*(w for c in CASES for w in ("ok", c)), "done"]
