"""Quickstart: fit a small classifier with nnlib's eager engine, fully offline.

Generates two noisy spirals-free Gaussian blobs, trains a one-hidden-layer network
with ``implicit_value_and_gradients`` and plain gradient descent, and prints the
loss as it goes and the final accuracy.

Run:
    python3 examples/quickstart.py --steps 300
"""

import argparse

import numpy as np

import nnlib


def make_data(n, rng):
    """Two Gaussian blobs in 2-D, labels 0 and 1."""
    centers = np.array([[-1.0, -1.0], [1.0, 1.0]], np.float32)
    y = rng.integers(0, 2, n)
    x = centers[y] + rng.normal(0, 0.8, (n, 2)).astype(np.float32)
    return x.astype(np.float32), y.astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x_train, y_train = make_data(512, rng)
    x_test, y_test = make_data(512, rng)

    w1 = nnlib.Variable(
        rng.normal(0, 0.5, (2, 16)).astype(np.float32), name="hidden/kernel"
    )
    b1 = nnlib.Variable(np.zeros(16, np.float32), name="hidden/bias")
    w2 = nnlib.Variable(
        rng.normal(0, 0.5, (16, 1)).astype(np.float32), name="logits/kernel"
    )
    b2 = nnlib.Variable(np.zeros(1, np.float32), name="logits/bias")

    def logits(x):
        return nnlib.reshape(nnlib.tanh(x @ w1 + b1) @ w2 + b2, (-1,))

    def loss_fn(x, y):
        losses = nnlib.sigmoid_cross_entropy_with_logits(labels=y, logits=logits(x))
        return nnlib.reduce_mean(losses)

    step = nnlib.implicit_value_and_gradients(loss_fn)
    for i in range(args.steps):
        loss, grads_and_vars = step(x_train, y_train)
        for grad, var in grads_and_vars:
            var.assign_sub(args.learning_rate * grad)
        if i % max(args.steps // 5, 1) == 0:
            print(f"step {i:4d}  loss {float(loss):.4f}")

    predictions = logits(x_test).numpy() > 0
    accuracy = float(np.mean(predictions == (y_test > 0.5)))
    print(f"test accuracy: {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
