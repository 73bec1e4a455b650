"""Checkpoint save and load times and file sizes against ``np.savez``.

What is measured, for a model of about 10 million float32 parameters (three
``Dense(2000)`` layers on 1000 features: six arrays, 40 MB) and, for the cost of
many small datasets, a model of 100 ``Dense(316)`` layers on 316 features
(200 arrays, the same 10 million parameters), in the same run:

- ``nnlib save``: ``model.save_weights(path)``, the whole protocol: CRC-32 of
  every array, the HDF5 file written to a temporary file, flushed, closed and
  fsynced, reopened and verified (every checksum recomputed from the bytes read
  back), renamed into place, the folder fsynced;
- ``nnlib load``: ``model.load_weights(path)``: every dataset read and checked
  against its checksum, the names matched, then every variable assigned;
- ``np.savez``: ``np.savez(path, **arrays)`` of the same arrays (no fsync, no
  verification), and ``np.savez + fsync`` the same plus an fsync of the file,
  the durable equivalent;
- ``np.load``: ``np.load(path)`` with every array read into memory;
- where installed, ``safetensors save``/``load`` (nnlib's safetensors writer,
  with the same atomic protocol, and reader into the model) and
  ``torch.save``/``torch.load`` of the same arrays as a dict of tensors (no
  fsync).

Each figure is the minimum (and the median) over ``--repeat`` runs taken in
turns; the files are rewritten in place, so each run also frees the previous
file's pages, as saving over a checkpoint does. On a small shared machine the
figures move by 20% or more between runs: compare within one run. The targets: nnlib's
save and load within 1.5x of ``np.savez`` and ``np.load`` (against the
non-durable ``np.savez``, the harder comparison), the file within 1.1x of the
``.npz``. They print PASS or FAIL; the script always exits 0.

Run, from the repository root::

    python3 benchmarks/checkpoint.py              # about 20 s
    python3 benchmarks/checkpoint.py --repeat 3   # quicker, rougher
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nnlib


def _model(layers_count, width, features):
    model = nnlib.Sequential(
        [nnlib.layers.Dense(width, input_shape=(features,))]
        + [nnlib.layers.Dense(width) for _ in range(layers_count - 1)]
    )
    return model


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _measure(model, folder, repeat):
    arrays = {v.name.replace("/", "."): v.numpy() for v in model.variables}
    h5 = os.path.join(folder, "model.h5")
    npz = os.path.join(folder, "model.npz")

    def savez():
        np.savez(npz, **arrays)

    def savez_fsync():
        np.savez(npz, **arrays)
        with open(npz, "rb") as f:
            os.fsync(f.fileno())

    def load_npz():
        with np.load(npz) as f:
            for key in f.files:
                f[key]

    runs = {
        "nnlib save": lambda: model.save_weights(h5),
        "nnlib load": lambda: model.load_weights(h5),
        "np.savez": savez,
        "np.savez + fsync": savez_fsync,
        "np.load": load_npz,
        **_optional_runs(model, arrays, folder),
    }
    times = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            times[name].append(_timed(fn))
    best = {name: min(t) for name, t in times.items()}
    median = {name: float(np.median(t)) for name, t in times.items()}
    sizes = {"h5": os.path.getsize(h5), "npz": os.path.getsize(npz)}
    return best, median, sizes


def _optional_runs(model, arrays, folder):
    """safetensors through nnlib, and torch.save/torch.load, where installed."""
    runs = {}
    st = os.path.join(folder, "model.safetensors")
    try:
        import safetensors  # noqa: F401
    except ImportError:
        pass
    else:
        from nnlib.checkpoint import load_safetensors_weights, save_safetensors

        runs["safetensors save"] = lambda: save_safetensors(st, model)
        runs["safetensors load"] = lambda: load_safetensors_weights(model, st)
    try:
        import torch
    except ImportError:
        return runs
    pt = os.path.join(folder, "model.pt")
    tensors = {k: torch.from_numpy(a) for k, a in arrays.items()}
    runs["torch.save"] = lambda: torch.save(tensors, pt)
    runs["torch.load"] = lambda: torch.load(pt)
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    configs = [
        ("3 x Dense(2000), 6 arrays", 3, 2000, 1000),
        ("100 x Dense(316), 200 arrays", 100, 316, 316),
    ]
    print(f"nnlib {nnlib.__version__}, numpy {np.__version__}, ", end="")
    import h5py

    print(f"h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version})")
    print(f"{args.repeat} runs; times in ms, minimum (median)\n")
    results = []
    with tempfile.TemporaryDirectory(dir=".") as folder:
        for title, count, width, features in configs:
            model = _model(count, width, features)
            params = model.count_params()
            best, median, sizes = _measure(model, folder, args.repeat)
            results.append((title, params, best, sizes))
            print(f"{title}: {params / 1e6:.2f} M parameters")
            for name, seconds in best.items():
                print(f"  {name:<18} {seconds * 1e3:8.1f} ({median[name] * 1e3:.1f})")
            print(
                f"  file size          h5 {sizes['h5'] / 1e6:.3f} MB, "
                f"npz {sizes['npz'] / 1e6:.3f} MB "
                f"({sizes['h5'] / sizes['npz']:.4f}x)"
            )
            for label, t in (("ratios (minima)", best), ("ratios (medians)", median)):
                print(
                    f"  {label:<18} save {t['nnlib save'] / t['np.savez']:.2f}x "
                    f"np.savez ({t['nnlib save'] / t['np.savez + fsync']:.2f}x with "
                    f"fsync), load {t['nnlib load'] / t['np.load']:.2f}x np.load"
                )
            print()
    title, _, best, sizes = results[0]
    checks = [
        ("save within 1.5x of np.savez", best["nnlib save"] / best["np.savez"], 1.5),
        ("load within 1.5x of np.load", best["nnlib load"] / best["np.load"], 1.5),
        ("file within 1.1x of the .npz", sizes["h5"] / sizes["npz"], 1.1),
    ]
    print(f"targets ({title}):")
    for name, ratio, limit in checks:
        print(f"  {'PASS' if ratio <= limit else 'FAIL'}  {name}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
