"""The four training steps ``mlp_mnist.py`` compares, and the MNIST loader.

Not a benchmark: a part of ``mlp_mnist.py``, whose docstring says what each
candidate does. numpy, nnlib and torch come in as arguments, so that importing
this module imports none of them (the thread variables must be set first).
"""

import itertools
import os
import time

from _harness import MNIST_PATH

SIZES = (784, 512, 512, 10)
BATCH = 128
LEARNING_RATE = 0.01
MOMENTUM = 0.9


def load(np, path):
    """``(x_train, y_train, x_test, y_test)``: float32 (n, 784) in [0, 1], int64.

    Args:
        np: numpy.
        path: ``mnist.npz``; None for the copy beside the checkout.

    Returns:
        ``(arrays or None where the file is missing, the path)``.
    """
    path = path or MNIST_PATH
    if not os.path.exists(path):
        return None, path
    with np.load(path) as f:
        arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    out = []
    for x, y in (arrays[:2], arrays[2:]):
        x = x.reshape(len(x), -1).astype(np.float32)
        x *= np.float32(1 / 255)
        out += [x, y.astype(np.int64)]
    return out, path


def nnlib_model(nnlib, weights=None):
    """The MLP as a ``Sequential`` of ``Dense`` (Glorot-uniform, zero biases)."""
    dense = nnlib.layers.Dense
    model = nnlib.Sequential(
        [
            dense(SIZES[1], activation="relu", input_shape=(SIZES[0],)),
            dense(SIZES[2], activation="relu"),
            dense(SIZES[3]),
        ]
    )
    if weights is not None:
        model.set_weights(weights)
    return model


def momentum(nnlib):
    """The optimizer every nnlib candidate uses."""
    return nnlib.optimizers.Momentum(LEARNING_RATE, momentum=MOMENTUM)


def crossentropy(nnlib):
    """The loss every nnlib candidate uses."""
    return nnlib.losses.SparseCategoricalCrossentropy(from_logits=True)


class NnlibLoop:
    """The hand-written nnlib loop: a gradient function and ``apply_gradients``."""

    def __init__(self, nnlib, weights):
        self.model = model = nnlib_model(nnlib, weights)
        self.optimizer = momentum(nnlib)
        loss = crossentropy(nnlib)
        self.value_and_gradients = nnlib.implicit_value_and_gradients(
            lambda x, y: loss(y, model(x, training=True))
        )

    def step(self, x, y):
        loss, grads_and_vars = self.value_and_gradients(x, y)
        self.optimizer.apply_gradients(grads_and_vars)
        return loss

    def weights(self):
        return self.model.get_weights()


class NnlibFit:
    """``compile`` + ``fit``; ``step`` is one ``train_step``, what fit does per step."""

    def __init__(self, nnlib, weights):
        self.nnlib = nnlib
        self.model = nnlib_model(nnlib, weights)
        self.model.compile(optimizer=momentum(nnlib), loss=crossentropy(nnlib))

    def step(self, x, y):
        return self.model.train_step((x, y, None))["loss"]

    def weights(self):
        return self.model.get_weights()

    def fit_times(self, x, y, steps):
        """Seconds per step of ``fit`` over ``steps`` steps, from a callback."""
        clock = _step_clock(self.nnlib)
        self.model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=1,
            steps_per_epoch=steps + 1,
            verbose=0,
            callbacks=[clock],
            shuffle=True,
        )
        ends = clock.ends
        return [b - a for a, b in itertools.pairwise(ends)]


def _step_clock(nnlib):
    class StepClock(nnlib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    return StepClock()


class NumpyMLP:
    """Forward, backward and Keras-style momentum update, by hand."""

    def __init__(self, np, weights):
        self.np = np
        self.params = [np.array(w, np.float32) for w in weights]
        self.velocity = [np.zeros_like(w) for w in self.params]
        self.grads = None

    def step(self, x, y):
        np = self.np
        w1, b1, w2, b2, w3, b3 = self.params
        n = len(x)
        a1 = x @ w1
        a1 += b1
        np.maximum(a1, 0, out=a1)
        a2 = a1 @ w2
        a2 += b2
        np.maximum(a2, 0, out=a2)
        logits = a2 @ w3
        logits += b3
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        total = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.mean(np.log(total[:, 0]) - logits[rows, y]))
        d3 = e
        d3 /= total
        d3[rows, y] -= 1.0
        d3 *= np.float32(1 / n)
        gw3, gb3 = a2.T @ d3, d3.sum(axis=0)
        d2 = d3 @ w3.T
        d2 *= a2 > 0
        gw2, gb2 = a1.T @ d2, d2.sum(axis=0)
        d1 = d2 @ w2.T
        d1 *= a1 > 0
        gw1, gb1 = x.T @ d1, d1.sum(axis=0)
        self.grads = grads = (gw1, gb1, gw2, gb2, gw3, gb3)
        for w, v, g in zip(self.params, self.velocity, grads):
            v *= MOMENTUM
            g *= LEARNING_RATE
            v -= g
            w += v
        return loss

    def weights(self):
        return [w.copy() for w in self.params]


def numpy_products(np):
    """The eight matrix products of ``NumpyMLP.step``, on arrays of its shapes."""
    rng = np.random.default_rng(2)

    def f32(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    w1, w2, w3 = f32(784, 512), f32(512, 512), f32(512, 10)
    a1, a2, d1, d2, d3 = (
        f32(BATCH, 512),
        f32(BATCH, 512),
        *(f32(BATCH, k) for k in (512, 512, 10)),
    )

    def products(xb, _):
        return (
            xb @ w1,
            a1 @ w2,
            a2 @ w3,
            a2.T @ d3,
            d3 @ w3.T,
            a1.T @ d2,
            d2 @ w2.T,
            xb.T @ d1,
        )

    return products


class TorchMLP:
    """The same network, loss and optimizer in torch, from the same weights."""

    def __init__(self, torch, weights):
        nn = torch.nn
        self.torch = torch
        self.model = nn.Sequential(
            nn.Linear(SIZES[0], SIZES[1]),
            nn.ReLU(),
            nn.Linear(SIZES[1], SIZES[2]),
            nn.ReLU(),
            nn.Linear(SIZES[2], SIZES[3]),
        )
        # Keras kernels are (in, out), torch weights (out, in).
        values = [w.T if w.ndim == 2 else w for w in weights]
        with torch.no_grad():
            for p, v in zip(self.model.parameters(), values, strict=True):
                p.copy_(torch.from_numpy(v.copy()))
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM
        )

    def step(self, x, y):
        torch = self.torch
        loss = torch.nn.functional.cross_entropy(
            self.model(torch.from_numpy(x)), torch.from_numpy(y)
        )
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss.detach()

    def weights(self):
        return [
            p.detach().numpy().T.copy() if p.ndim == 2 else p.detach().numpy().copy()
            for p in self.model.parameters()
        ]

    def predict(self, x):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(x)).numpy()


def make_candidates(libs, weights, only=None):
    """``{name: object with step(x, y) and weights()}`` (torch when installed)."""
    np, nnlib, torch = libs
    makers = {
        "numpy": lambda: NumpyMLP(np, weights),
        "nnlib loop": lambda: NnlibLoop(nnlib, weights),
        "nnlib fit": lambda: NnlibFit(nnlib, weights),
        "torch": (lambda: TorchMLP(torch, weights)) if torch is not None else None,
    }
    return {
        name: make()
        for name, make in makers.items()
        if make is not None and (only is None or name == only)
    }
