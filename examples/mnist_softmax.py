"""Softmax regression on MNIST: two variables, a Dataset and a hand-written loop.

The classic first model: logits = x W + b, trained by plain gradient descent on
the cross-entropy. A Dataset shuffles and batches the images; each step asks
implicit_value_and_gradients for the loss and the gradients of the variables it
read, and GradientDescent applies them. Reaches about 0.92 on the test set.

Run:
    python3 examples/mnist_softmax.py
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


def main(argv=None):
    parser = make_parser(__doc__, epochs=10, batch_size=100, learning_rate=0.2)
    args = parse_args(parser, argv)
    (x_train, y_train), (x_test, y_test) = load_mnist(args)

    weights = nnlib.Variable(nnlib.zeros((784, 10)), name="softmax/W")
    bias = nnlib.Variable(nnlib.zeros((10,)), name="softmax/b")

    def model(x, training=False):
        return nnlib.matmul(x, weights) + bias

    def loss_fn(x, y):
        return nnlib.reduce_mean(
            nnlib.sparse_softmax_cross_entropy_with_logits(y, model(x))
        )

    train = (
        nnlib.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(x_train), seed=args.seed)
        .batch(args.batch_size)
    )
    optimizer = nnlib.optimizers.GradientDescent(args.learning_rate)
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

    plot_history(
        history, Path(args.out_dir) / "mnist_softmax.png", "softmax regression"
    )
    report(history["test_accuracy"][-1])


if __name__ == "__main__":
    main()
