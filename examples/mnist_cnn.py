"""A convolutional network on MNIST: a subclassed Network and a hand-written loop.

Two 3x3 convolutions with max pooling, then a dense layer, with dropout in
between, written as a Network subclass that tracks its layers. Each step of the
loop asks implicit_value_and_gradients for the loss and the gradients of every
variable the model used, and Adam applies them. Reaches about 0.99 on the test
set.

Run:
    python3 examples/mnist_cnn.py
"""

from pathlib import Path

from _common import (
    Timer,
    accuracy,
    load_mnist,
    make_parser,
    parse_args,
    plot_history,
    report,
)

import nnlib

layers = nnlib.layers


class ConvNet(nnlib.Network):
    def __init__(self):
        super().__init__(name="convnet")
        self.conv1 = self.track_layer(layers.Conv2D(32, 3, activation="relu"))
        self.pool1 = self.track_layer(layers.MaxPooling2D(2))
        self.conv2 = self.track_layer(layers.Conv2D(64, 3, activation="relu"))
        self.pool2 = self.track_layer(layers.MaxPooling2D(2))
        self.flatten = self.track_layer(layers.Flatten())
        self.dropout1 = self.track_layer(layers.Dropout(0.25))
        self.hidden = self.track_layer(layers.Dense(128, activation="relu"))
        self.dropout2 = self.track_layer(layers.Dropout(0.5))
        self.logits = self.track_layer(layers.Dense(10))

    def call(self, x, training=False):
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.conv2(x))
        x = self.dropout1(self.flatten(x), training=training)
        x = self.dropout2(self.hidden(x), training=training)
        return self.logits(x)


def main(argv=None):
    parser = make_parser(__doc__, epochs=6, batch_size=64, learning_rate=1e-3)
    args = parse_args(parser, argv)
    (x_train, y_train), (x_test, y_test) = load_mnist(args, shape=(28, 28, 1))

    model = ConvNet()
    loss_object = nnlib.losses.SparseCategoricalCrossentropy(from_logits=True)

    def loss_fn(x, y):
        return loss_object(y, model(x, training=True))

    train = (
        nnlib.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(x_train), seed=args.seed)
        .batch(args.batch_size)
    )
    optimizer = nnlib.optimizers.Adam(args.learning_rate)
    step = nnlib.implicit_value_and_gradients(loss_fn)
    history = {"loss": [], "test_accuracy": []}
    timer = Timer()
    for epoch in range(1, args.epochs + 1):
        losses = []
        for x, y in train.take(args.steps) if args.steps else train:
            loss, grads_and_vars = step(x, y)
            optimizer.apply_gradients(grads_and_vars)
            losses.append(float(loss))
        history["loss"].append(sum(losses) / len(losses))
        history["test_accuracy"].append(accuracy(model, x_test, y_test))
        print(
            f"epoch {epoch}/{args.epochs}  loss {history['loss'][-1]:.4f}  "
            f"test accuracy {history['test_accuracy'][-1]:.4f}  ({timer})"
        )

    print(f"{model.count_params()} parameters: {[v.name for v in model.variables]}")
    plot_history(history, Path(args.out_dir) / "mnist_cnn.png", "convolutional network")
    report(history["test_accuracy"][-1])


if __name__ == "__main__":
    main()
