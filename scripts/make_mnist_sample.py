"""Build nnlib/datasets/data/mnist_sample.npz, the MNIST sample shipped with nnlib.

The sample is a seeded subset of the full set, stratified by label: each digit
keeps its share of the full split (largest remainders round the counts), so the
sample's class balance is MNIST's. Images keep their original order, and the
file has the layout and dtypes of Keras's ``mnist.npz``.

Usage (from the repository root)::

    python3 scripts/make_mnist_sample.py [--source ../shared/data/mnist.npz]

Running it again rebuilds the same arrays (the zip's timestamps differ).
"""

import argparse
import hashlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "mnist.npz"
OUTPUT = ROOT / "nnlib" / "datasets" / "data" / "mnist_sample.npz"
# 5,000 training digits made a 0.99 MB file; 4,000 keep it near 0.8 MB.
N_TRAIN, N_TEST, SEED = 4000, 1000, 0


def stratified_indices(labels, size, rng):
    """Sorted indices of ``size`` items with the label shares of ``labels``."""
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * size / len(labels)
    quota = np.floor(exact).astype(int)
    # Largest remainders get the items that flooring left over.
    quota[np.argsort(quota - exact)[: size - quota.sum()]] += 1
    picked = [
        rng.choice(np.flatnonzero(labels == c), q, replace=False)
        for c, q in zip(classes, quota)
    ]
    return np.sort(np.concatenate(picked))


def make_sample(source, n_train=N_TRAIN, n_test=N_TEST, seed=SEED):
    """The sample's four arrays, as a dict in ``mnist.npz``'s layout."""
    rng = np.random.default_rng(seed)
    with np.load(source, allow_pickle=False) as full:
        train = stratified_indices(full["y_train"], n_train, rng)
        test = stratified_indices(full["y_test"], n_test, rng)
        return {
            "x_train": full["x_train"][train],
            "y_train": full["y_train"][train],
            "x_test": full["x_test"][test],
            "y_test": full["y_test"][test],
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    arrays = make_sample(args.source)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **arrays)
    data = args.output.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    print(f"wrote {args.output}: {len(data)} bytes, sha256 {digest}")
    for key, value in arrays.items():
        print(f"  {key}: {value.shape} {value.dtype}")


if __name__ == "__main__":
    main()
