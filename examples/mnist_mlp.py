"""A multilayer perceptron on MNIST with Sequential, compile and fit.

Two hidden layers of 512 ReLU units with dropout, trained with Adam by fit(),
which holds out the last 5,000 training digits for validation. Callbacks lower
the learning rate when the validation loss stops improving and stop training
(restoring the best weights) when it has not improved for a few epochs. Reaches
about 0.98 on the test set.

Run:
    python3 examples/mnist_mlp.py
"""

from pathlib import Path

from _common import load_mnist, make_parser, parse_args, plot_history, report

import nnlib


def main(argv=None):
    parser = make_parser(__doc__, epochs=15, batch_size=128, learning_rate=1e-3)
    args = parse_args(parser, argv)
    (x_train, y_train), (x_test, y_test) = load_mnist(args)
    held_out = min(5000, len(x_train) // 10)
    x_val, y_val = x_train[-held_out:], y_train[-held_out:]
    x_train, y_train = x_train[:-held_out], y_train[:-held_out]

    layers = nnlib.layers
    model = nnlib.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=(784,)),
            layers.Dropout(0.2),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10),
        ],
        name="mlp",
    )
    model.summary()
    model.compile(
        optimizer=nnlib.optimizers.Adam(args.learning_rate),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    callbacks = [
        nnlib.callbacks.ReduceLROnPlateau(factor=0.3, patience=2, verbose=1),
        nnlib.callbacks.EarlyStopping(patience=4, restore_best_weights=True, verbose=1),
    ]
    history = model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        verbose=2,
        validation_data=(x_val, y_val),
        callbacks=callbacks,
        steps_per_epoch=args.steps,
    )
    _, test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    plot_history(history.history, Path(args.out_dir) / "mnist_mlp.png", "MLP")
    report(test_accuracy)


if __name__ == "__main__":
    main()
