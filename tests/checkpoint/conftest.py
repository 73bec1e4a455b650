"""Models and helpers shared by the checkpoint tests."""

import os
import subprocess
import sys

import numpy as np
import pytest

import nnlib
from nnlib import layers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class MNIST(nnlib.Network):
    """The DESIGN.md model, small."""

    def __init__(self, hidden=8, name="mnist"):
        super().__init__(name=name)
        self.hidden = self.track_layer(layers.Dense(hidden, activation="relu"))
        self.logits = self.track_layer(layers.Dense(3))

    def call(self, x, training=False):
        return self.logits(self.hidden(x))


def _mlp(hidden=8, name="mnist", build=True):
    model = MNIST(hidden, name)
    if build:
        model(np.zeros((1, 5), np.float32))
    return model


def _conv():
    return nnlib.Sequential(
        [
            layers.Conv2D(4, 3, input_shape=(6, 6, 2)),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dense(3),
        ]
    )


def _lstm():
    return nnlib.Sequential(
        [
            layers.LSTM(5, return_sequences=True, input_shape=(4, 3)),
            layers.LSTM(2),
            layers.Dense(2),
        ]
    )


@pytest.fixture(autouse=True)
def _fresh_names():
    """Top-level names start again (``mnist``, then ``mnist_1``) in each test."""
    nnlib.clear_session()
    yield


@pytest.fixture
def make_mlp():
    return _mlp


@pytest.fixture
def make_conv():
    return _conv


@pytest.fixture
def make_lstm():
    return _lstm


def scramble(model, seed=1):
    """Gives every variable new random values (so a load visibly changes them)."""
    rng = np.random.default_rng(seed)
    for v in model.variables:
        # Positive, so BatchNormalization's moving variance stays valid.
        v.assign(rng.uniform(0.5, 1.5, size=v.shape).astype(v.dtype))


def values(model):
    return [np.array(v.numpy()) for v in model.variables]


def same(a, b):
    return len(a) == len(b) and all(
        x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b)
    )


def run_script(source, *args, timeout=120):
    """Runs ``source`` in a fresh Python process with nnlib importable."""
    env = dict(
        os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    done = subprocess.run(
        [sys.executable, "-c", source, *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def helpers():
    """scramble, values, same and run_script, for the tests."""
    import types

    return types.SimpleNamespace(
        scramble=scramble, values=values, same=same, run_script=run_script
    )
