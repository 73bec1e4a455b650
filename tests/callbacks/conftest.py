"""A stand-in model and a controllable clock for driving callbacks by hand."""

import io
import types

import numpy as np
import pytest

from nnlib.callbacks import progbar as progbar_module


class FakeModel:
    """What callbacks touch on a model: stop_training, weights, an optimizer."""

    def __init__(self, learning_rate=0.1):
        self.stop_training = False
        self.weights = [np.zeros(2), np.zeros(())]
        self.optimizer = types.SimpleNamespace(learning_rate=learning_rate)

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]


class TTYStringIO(io.StringIO):
    """An in-memory stream that says it is a terminal."""

    def isatty(self):
        return True


class Clock:
    """A clock that moves only when told (``advance``) or by ``step`` per read."""

    def __init__(self, step=0.0):
        self.now = 0.0
        self.step = step

    def __call__(self):
        value = self.now
        self.now += self.step
        return value

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def model():
    return FakeModel()


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(progbar_module, "_clock", fake)
    return fake


@pytest.fixture
def make_model():
    return FakeModel


@pytest.fixture
def tty():
    return TTYStringIO()
