"""Quickstart: a small MNIST classifier on nnlib's bundled sample, offline, in seconds.

The README's main example as a script: a subclassed Network with one hidden
layer, compiled and fitted on the 4,000-digit sample that ships with nnlib (no
download), evaluated on the sample's 1,000 test digits, saved as a checkpoint.

Run:
    python3 examples/quickstart.py
"""

from pathlib import Path

from _common import load_mnist, make_parser, parse_args, plot_history, report

import nnlib


class MNISTModel(nnlib.Network):
    def __init__(self):
        super().__init__(name="mnist")
        self.hidden = self.track_layer(nnlib.layers.Dense(128, activation="relu"))
        self.logits = self.track_layer(nnlib.layers.Dense(10))

    def call(self, x, training=False):
        return self.logits(self.hidden(x))


def main(argv=None):
    parser = make_parser(
        __doc__, epochs=8, batch_size=32, learning_rate=1e-3, sample_only=True
    )
    args = parse_args(parser, argv)
    (x_train, y_train), (x_test, y_test) = load_mnist(args)

    model = MNISTModel()
    model.compile(
        optimizer=nnlib.optimizers.Adam(args.learning_rate),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        verbose=2,
        steps_per_epoch=args.steps,
    )
    _, test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    plot_history(history.history, Path(args.out_dir) / "quickstart.png", "quickstart")

    if hasattr(model, "save_weights"):
        path = Path(args.out_dir) / "quickstart.h5"
        model.save_weights(path)
        print(f"checkpoint: {path}")
    else:
        print("checkpoints: not available in this version")
    report(test_accuracy)
    return test_accuracy


if __name__ == "__main__":
    main()
