"""An LSTM that reads each MNIST digit row by row.

Each 28x28 image is a sequence of 28 steps of 28 pixels; an LSTM of 128 units
reads it top to bottom and a dense layer classifies its last state. Trained with
Adam and gradient-norm clipping through fit(), with the last 5,000 training
digits held out for validation. Reaches about 0.98 on the test set.

Run:
    python3 examples/rnn_mnist.py
"""

from pathlib import Path

from _common import load_mnist, make_parser, parse_args, plot_history, report

import nnlib


def main(argv=None):
    parser = make_parser(__doc__, epochs=6, batch_size=128, learning_rate=2e-3)
    parser.add_argument("--units", type=int, default=128, help="default: %(default)s")
    args = parse_args(parser, argv)
    (x_train, y_train), (x_test, y_test) = load_mnist(args, shape=(28, 28))
    held_out = min(5000, len(x_train) // 10)
    x_val, y_val = x_train[-held_out:], y_train[-held_out:]
    x_train, y_train = x_train[:-held_out], y_train[:-held_out]

    model = nnlib.Sequential(
        [
            nnlib.layers.LSTM(args.units, input_shape=(28, 28)),  # (time, features)
            nnlib.layers.Dense(10),
        ],
        name="row_lstm",
    )
    model.summary()
    model.compile(
        optimizer=nnlib.optimizers.Adam(args.learning_rate, global_clipnorm=1.0),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        verbose=2,
        validation_data=(x_val, y_val),
        steps_per_epoch=args.steps,
    )
    _, test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    plot_history(
        history.history, Path(args.out_dir) / "rnn_mnist.png", "row-by-row LSTM"
    )
    report(test_accuracy)


if __name__ == "__main__":
    main()
