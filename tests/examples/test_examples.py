"""Runs every example script for a few steps on tiny data, so none can rot."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnlib

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TRAINING = [
    "quickstart.py",
    "mnist_softmax.py",
    "mnist_mlp.py",
    "mnist_cnn.py",
    "custom_gradient.py",
    "rnn_mnist.py",
    "resume.py",
]
# Examples whose checks are assertions in the script itself: they run in full.
SELF_CHECKING = ["gradients.py"]


def run(script, *args, cwd):
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """A few hundred real digits from the bundled sample, saved as an mnist.npz."""
    (x_train, y_train), (x_test, y_test) = nnlib.datasets.mnist.load_data(sample=True)
    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    np.savez(
        path,
        x_train=x_train[:300],
        y_train=y_train[:300],
        x_test=x_test[:100],
        y_test=y_test[:100],
    )
    return path


def test_every_example_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(TRAINING) | set(SELF_CHECKING)


@pytest.mark.parametrize("script", TRAINING)
def test_training_example_runs(script, tiny_mnist, tmp_path):
    smoke = ["--epochs", "1", "--steps", "3", "--batch-size", "16"]
    out = ["--data", str(tiny_mnist), "--out-dir", str(tmp_path / "runs")]
    result = run(script, *smoke, *out, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test accuracy: " in result.stdout, result.stdout
    assert "300 training and 100 test digits" in result.stdout  # read --data
    produced = {p.name for p in (tmp_path / "runs").iterdir()}
    if "matplotlib is not installed" not in result.stdout:
        assert script.replace(".py", ".png") in produced


@pytest.mark.parametrize("script", SELF_CHECKING + TRAINING)
def test_help(script, tmp_path):
    result = run(script, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


@pytest.mark.parametrize("script", SELF_CHECKING)
def test_self_checking_example_passes(script, tmp_path):
    result = run(script, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
