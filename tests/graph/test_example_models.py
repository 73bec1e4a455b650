"""Every example's model, one training step traced, equals the same step eager.

The models are the examples' own (imported from ``examples/`` where the
example defines a class or builder, built as the example builds them
otherwise); each gets the same weights and batch twice, once through
``nnlib.function`` and once eagerly, and the losses, outputs and updated
weights must agree to 1e-6 (float32).
"""

import gc
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import nnlib
from nnlib import layers

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _example(name):
    sys.path.insert(0, str(EXAMPLES))  # the examples import their _common
    try:
        spec = importlib.util.spec_from_file_location(
            f"example_{name}", EXAMPLES / f"{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


# Loaded at collection, not inside a test: conftest freezes the garbage
# collector's view when modules are imported, which would keep a test's models.
QUICKSTART, MNIST_CNN, CUSTOM, RESUME = (
    _example(name) for name in ("quickstart", "mnist_cnn", "custom_gradient", "resume")
)


def _softmax_loss(labels, logits):
    return nnlib.reduce_mean(
        nnlib.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )


def _custom_loss(labels, logits):
    one_hot = nnlib.one_hot(labels, 10)
    return nnlib.reduce_mean(CUSTOM.softmax_cross_entropy(one_hot, logits))


MODELS = {
    "quickstart": (lambda: QUICKSTART.MNISTModel(), (784,), _softmax_loss),
    "mnist_softmax": (
        lambda: nnlib.Sequential([layers.Dense(10)]),
        (784,),
        _softmax_loss,
    ),
    "mnist_mlp": (
        lambda: nnlib.Sequential(
            [
                layers.Dense(512, activation="relu"),
                layers.Dropout(0.2),
                layers.Dense(512, activation="relu"),
                layers.Dropout(0.2),
                layers.Dense(10),
            ]
        ),
        (784,),
        _softmax_loss,
    ),
    "mnist_cnn": (lambda: MNIST_CNN.ConvNet(), (28, 28, 1), _softmax_loss),
    "custom_gradient": (
        lambda: nnlib.Sequential([layers.Dense(10)]),
        (784,),
        _custom_loss,
    ),
    "rnn_mnist": (
        lambda: nnlib.Sequential([layers.LSTM(16), layers.Dense(10)]),
        (28, 28),
        _softmax_loss,
    ),
    "resume": (lambda: RESUME.make_model(), (784,), _softmax_loss),
}


def _step(model, opt, loss_fn):
    def step(x, y):
        with nnlib.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss, logits

    return step


@pytest.fixture(autouse=True)
def _collected():
    # The examples' models take top-level names ("mnist", "convnet") from the
    # process-wide counters: free them, as doctests expect the first "mnist".
    yield
    gc.collect()
    nnlib.naming.reset_names()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_an_example_models_traced_step_equals_its_eager_step(name):
    make, shape, loss_fn = MODELS[name]
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (8, *shape)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    runs = {}
    for mode in ("eager", "traced"):
        nnlib.random.set_seed(0)
        model = make()
        model(x[:1])
        opt = nnlib.optimizers.Adam(1e-3)
        step = _step(model, opt, loss_fn)
        if mode == "traced":
            step = nnlib.function(step)
        outputs = []
        for _ in range(3):  # the first traced call is the trace; two replays
            nnlib.random.set_seed(1)  # the same dropout masks in both modes
            loss, logits = step(x, y)
            outputs.append((loss.numpy(), logits.numpy()))
        if mode == "traced":
            assert "effect apply_gradients" in str(step.get_concrete_function(x, y))
        runs[mode] = outputs, [v.numpy() for v in model.variables]
    for (a_loss, a_out), (b_loss, b_out) in zip(runs["traced"][0], runs["eager"][0]):
        np.testing.assert_allclose(a_loss, b_loss, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(a_out, b_out, rtol=1e-6, atol=1e-6)
    for a, b in zip(runs["traced"][1], runs["eager"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
