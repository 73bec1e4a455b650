"""Helpers shared by the example scripts: options, MNIST loading, accuracy, plots.

Not part of nnlib: the scripts import it as ``from _common import ...`` (Python puts
the script's own folder first on ``sys.path``), so each script shows only what it
is about.
"""

import argparse
import time
from pathlib import Path

import numpy as np

import nnlib

# The full MNIST set sits beside the checkout: <root>/../shared/data/mnist.npz.
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"


def make_parser(doc, epochs, batch_size, learning_rate=None, sample_only=False):
    """The options every training example takes, with the script's defaults.

    Args:
        doc: The script's docstring (its first line becomes the description).
        epochs, batch_size, learning_rate: Defaults for ``--epochs``,
            ``--batch-size`` and ``--learning-rate`` (no such option when None).
        sample_only: ``--data`` defaults to nnlib's bundled MNIST sample rather
            than the full set.
    """
    parser = argparse.ArgumentParser(
        description=doc.strip().splitlines()[0],
        epilog="\n".join(doc.strip().splitlines()[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--epochs", type=int, default=epochs, help="default: %(default)s"
    )
    parser.add_argument(
        "--batch-size", type=int, default=batch_size, help="default: %(default)s"
    )
    if learning_rate is not None:
        parser.add_argument(
            "--learning-rate",
            type=float,
            default=learning_rate,
            help="default: %(default)s",
        )
    default_data = (
        "the bundled sample"
        if sample_only
        else f"{SHARED_MNIST}, then nnlib.datasets.mnist.load_data(), else the "
        "bundled sample"
    )
    parser.add_argument(
        "--data",
        metavar="PATH",
        default=None,
        help=f"an mnist.npz file or a folder holding one (default: {default_data})",
    )
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="N",
        help="train at most N steps per epoch (a quick smoke run)",
    )
    parser.add_argument(
        "--out-dir",
        default="runs",
        metavar="DIR",
        help="where plots and checkpoints go (default: %(default)s)",
    )
    parser.sample_only = sample_only
    return parser


def parse_args(parser, argv=None):
    """Parses the options and seeds nnlib's random generator with ``--seed``."""
    args = parser.parse_args(argv)
    args.sample_only = parser.sample_only
    nnlib.random.set_seed(args.seed)
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    return args


def load_mnist(args, shape=(784,)):
    """MNIST as float32 images in [0, 1] reshaped to ``shape``, and int64 labels.

    Looks at ``--data``, then the shared full set, then nnlib's usual places
    (download included); says so when it falls back to the bundled sample.
    """
    from nnlib.datasets import mnist

    if args.data is not None:
        data, source = mnist.load_data(args.data), args.data
    elif args.sample_only:
        data, source = mnist.load_data(sample=True), "nnlib's bundled MNIST sample"
    elif SHARED_MNIST.is_file():
        data, source = mnist.load_data(SHARED_MNIST), str(SHARED_MNIST)
    else:
        try:
            data, source = mnist.load_data(), "nnlib.datasets.mnist"
        except (OSError, nnlib.datasets.DatasetCorruptError) as error:
            # No local copy and no network (DownloadError, DatasetNotFoundError).
            print(f"full MNIST not available ({type(error).__name__}: {error})")
            print(
                "USING THE BUNDLED SAMPLE (4,000 training and 1,000 test digits): "
                "accuracies will be lower than with the full data"
            )
            data, source = mnist.load_data(sample=True), "nnlib's bundled MNIST sample"
    (x_train, y_train), (x_test, y_test) = data
    print(f"data: {source}: {len(x_train)} training and {len(x_test)} test digits")

    def prepare(x):
        return (x.reshape((len(x),) + tuple(shape)) / np.float32(255)).astype(
            np.float32
        )

    return (
        (prepare(x_train), y_train.astype(np.int64)),
        (prepare(x_test), y_test.astype(np.int64)),
    )


def accuracy(model, x, y, batch_size=1000):
    """Fraction of ``x`` that ``model`` (called in inference mode) classifies right."""
    correct = 0
    for start in range(0, len(x), batch_size):
        logits = model(x[start : start + batch_size], training=False)
        correct += int(
            np.sum(np.argmax(logits.numpy(), axis=-1) == y[start : start + batch_size])
        )
    return correct / max(len(x), 1)


class Timer:
    """Seconds since creation, for the per-epoch lines."""

    def __init__(self):
        self.start = time.perf_counter()

    def __str__(self):
        return f"{time.perf_counter() - self.start:.1f}s"


def report(test_accuracy):
    """Prints the final line that the tests and the README look for."""
    print(f"test accuracy: {test_accuracy:.4f}")


def plot_history(history, path, title):
    """Writes the loss and accuracy curves of ``history`` to the PNG ``path``.

    Args:
        history: ``{name: [one value per epoch]}``; names holding "loss" go in the
            left panel, names holding "acc" in the right one.
        path: The PNG to write.
        title: The figure's title.
    """
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: skipping the plot")
        return None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for axes, key, label in (
        (loss_axes, "loss", "loss"),
        (accuracy_axes, "acc", "accuracy"),
    ):
        for name, values in history.items():
            if key in name:
                epochs = np.arange(1, len(values) + 1)
                axes.plot(epochs, values, "o-", label=name)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("epoch")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"plot: {path}")
    return path
