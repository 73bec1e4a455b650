"""Files written by Keras itself (3.x, on its PyTorch backend) load into nnlib.

Optional: skipped unless ``keras`` and ``torch`` are installed. The h5py-built
files of ``test_keras_h5.py`` check the layouts everywhere; this checks them
against the real writer: legacy ``.h5`` (``model.save``), ``.weights.h5``
(``save_weights``) and ``.keras`` archives, predictions against Keras's own.
Keras runs in a child process, so its import (and its 400,000 objects, which
would slow every later garbage collection) stays out of the test process.
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import nnlib

N = nnlib.layers
SUFFIXES = (".weights.h5", ".h5", ".keras")

# Writes <case><suffix> files, and <case>.npz with the input and Keras's output.
_WRITER = """
import os, sys, warnings
os.environ["KERAS_BACKEND"] = "torch"
warnings.simplefilter("ignore")
import numpy as np
import keras
L, out = keras.layers, sys.argv[1]
models = {
    "mlp": ([keras.Input((6,)), L.Dense(8, activation="relu"), L.Dense(3)],
            lambda r: r.normal(size=(4, 6))),
    "cnn": ([keras.Input((8, 8, 2)), L.Conv2D(4, 3, padding="same"),
             L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(), L.Flatten(),
             L.Dense(3)], lambda r: r.normal(size=(2, 8, 8, 2))),
    "recurrent": ([keras.Input((5,), dtype="int32"), L.Embedding(10, 4),
                   L.LSTM(6, return_sequences=True), L.GRU(5), L.Dense(2)],
                  lambda r: r.integers(0, 10, size=(3, 5))),
    "conv1d_layernorm_simplernn": ([keras.Input((7, 3)), L.Conv1D(4, 2),
                                    L.LayerNormalization(), L.SimpleRNN(5),
                                    L.Dense(2)], lambda r: r.normal(size=(3, 7, 3))),
}
for name, (layers, make_x) in models.items():
    rng = np.random.default_rng(0)
    model = keras.Sequential(layers)
    for w in model.weights:  # random values; variances positive
        shift = 1.0 if "variance" in w.path else 0.0
        w.assign(rng.normal(size=w.shape).astype("float32") * 0.5 + shift)
    x = make_x(rng)
    x = x.astype("int32" if x.dtype.kind == "i" else "float32")
    np.savez(os.path.join(out, name + ".npz"), x=x,
             y=np.asarray(model.predict(x, verbose=0)))
    model.save_weights(os.path.join(out, name + ".weights.h5"))
    model.save(os.path.join(out, name + ".h5"))
    model.save(os.path.join(out, name + ".keras"))
"""


def _golden_models():
    # The nnlib twins of the Keras models live beside the golden files (tests/
    # is not a package: load that module by its path).
    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "golden",
        "test_keras_golden.py",
    )
    spec = importlib.util.spec_from_file_location("_keras_golden_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NNLIB_MODELS


# The cases _WRITER builds with a live Keras.
NNLIB_MODELS = {
    case: model
    for case, model in _golden_models().items()
    if case in ("mlp", "cnn", "recurrent", "conv1d_layernorm_simplernn")
}


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory):
    for package in ("keras", "torch"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed")
    out = tmp_path_factory.mktemp("keras_files")
    done = subprocess.run(
        [sys.executable, "-c", _WRITER, str(out)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, KERAS_BACKEND="torch"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("case", sorted(NNLIB_MODELS))
def test_keras_files_predict_as_keras_does(keras_files, case, suffix):
    data = np.load(keras_files / f"{case}.npz")
    ours = NNLIB_MODELS[case]()
    ours.load_weights(str(keras_files / f"{case}{suffix}"))
    np.testing.assert_allclose(ours.predict(data["x"]), data["y"], rtol=1e-5, atol=1e-5)
