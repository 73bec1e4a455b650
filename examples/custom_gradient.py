"""A loss with its own gradient: softmax cross-entropy through custom_gradient.

The cross-entropy of softmax(logits) against one-hot labels is
logsumexp(logits) - sum(labels * logits), and its gradient with respect to the
logits is simply softmax(logits) - labels. The function below computes the value
stably and hands the tape that short gradient instead of letting it
differentiate every step. The script asserts that value and gradients agree with
nnlib's built-in softmax_cross_entropy_with_logits (also at huge logits, also to
second order), then trains a softmax regression on MNIST with it through fit().

Run:
    python3 examples/custom_gradient.py
"""

from pathlib import Path

import numpy as np
from _common import load_mnist, make_parser, parse_args, plot_history, report

import nnlib


@nnlib.custom_gradient
def softmax_cross_entropy(labels, logits):
    """Per-example cross-entropy of softmax(logits) against one-hot ``labels``."""
    log_probs = logits - nnlib.reduce_logsumexp(logits, axis=-1, keepdims=True)
    value = -nnlib.reduce_sum(labels * log_probs, axis=-1)

    def grad(dy):
        # The forward pass above ran unrecorded, so a rule that reused its
        # log_probs would look constant to an outer tape. Recomputed here from the
        # inputs with nnlib ops, the rule can itself be differentiated (order 2).
        log_p = logits - nnlib.reduce_logsumexp(logits, axis=-1, keepdims=True)
        dy = nnlib.expand_dims(dy, -1)
        return -dy * log_p, dy * (nnlib.exp(log_p) - labels)

    return value, grad


def check_against_builtin():
    rng = np.random.default_rng(0)
    labels = nnlib.softmax(rng.normal(size=(4, 5)) * 2).numpy()  # soft labels too
    for scale in (1.0, 1000.0):  # 1000: exp would overflow without logsumexp
        logits = rng.normal(size=(4, 5)) * scale
        ours = nnlib.value_and_gradients_function(softmax_cross_entropy)
        builtin = nnlib.value_and_gradients_function(
            lambda y, z: nnlib.softmax_cross_entropy_with_logits(labels=y, logits=z)
        )
        (value, grads), (value_ref, grads_ref) = (
            ours(labels, logits),
            builtin(labels, logits),
        )
        np.testing.assert_allclose(value.numpy(), value_ref.numpy(), rtol=1e-10)
        for g, g_ref in zip(grads, grads_ref):
            np.testing.assert_allclose(g.numpy(), g_ref.numpy(), rtol=1e-10, atol=1e-12)
        assert np.all(np.isfinite(value.numpy())), "NaN or infinity at large logits"
        print(
            f"logits of scale {scale:g}: values and gradients agree with the built-in"
        )

    # Against finite differences in float64, to first and second order.
    logits = rng.normal(size=(4, 5))
    nnlib.test_util.check_gradients(softmax_cross_entropy, labels, logits, order=2)
    print("first and second derivatives agree with finite differences")


def main(argv=None):
    parser = make_parser(__doc__, epochs=5, batch_size=100, learning_rate=0.2)
    args = parse_args(parser, argv)
    check_against_builtin()

    (x_train, y_train), (x_test, y_test) = load_mnist(args)

    def loss(y_true, logits):
        return nnlib.reduce_mean(
            softmax_cross_entropy(nnlib.one_hot(y_true, 10), logits)
        )

    model = nnlib.Sequential([nnlib.layers.Dense(10, input_shape=(784,))])
    model.compile(
        optimizer=nnlib.optimizers.GradientDescent(args.learning_rate),
        loss=loss,
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
    plot_history(
        history.history, Path(args.out_dir) / "custom_gradient.png", "custom gradient"
    )
    report(test_accuracy)


if __name__ == "__main__":
    main()
