"""Bad input to compile/fit/evaluate/predict: a clear, typed error before any step.

Each table row is (id, call on a fresh compiled model, exception type, a regex
the message must match: it names the argument, what it got and what it
expected). Every failing ``fit`` must leave the model as it was: the same
weights, no optimizer step, no optimizer slots. The tables extend
RELIABILITY.md's list of bad inputs; add a row for every new check.
"""

import numpy as np
import pytest

import nnlib
from nnlib.checkpoint import CheckpointWriteError
from nnlib.layers import Dense

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 2)).astype(np.float32)
Y = RNG.integers(0, 3, 64)


def _model(build=True):
    nnlib.random.set_seed(0)
    model = nnlib.Sequential([Dense(4, activation="relu"), Dense(3)])
    model.compile(
        optimizer=nnlib.optimizers.Adam(0.05),
        loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    if build:
        model(X[:1])
    return model


def _with_label(index, label, y=Y):
    y = y.copy()
    y[index] = label
    return y


def _nan_at(row, column):
    x = X.copy()
    x[row, column] = np.nan
    return x


def _inf_at(row, column):
    x = X.copy()
    x[row, column] = np.inf
    return x


def _unlabelled_dataset():
    return nnlib.data.Dataset.from_tensor_slices(X).batch(16)


# -- fit's arguments ---------------------------------------------------------------

FIT_ARGUMENTS = [
    (
        "epochs=2.5",
        {"epochs": 2.5},
        TypeError,
        r"fit: epochs must be an integer >= 0, got 2.5 \(float\)",
    ),
    (
        "epochs='2'",
        {"epochs": "2"},
        TypeError,
        r"fit: epochs must be an integer >= 0, got '2' \(str\)",
    ),
    (
        "epochs=-1",
        {"epochs": -1},
        ValueError,
        r"fit: epochs must be an integer >= 0, got -1",
    ),
    (
        "initial_epoch > epochs",
        {"epochs": 2, "initial_epoch": 3},
        ValueError,
        r"fit: initial_epoch=3 is after epochs=2.*epochs=5",
    ),
    (
        "initial_epoch=-1",
        {"initial_epoch": -1},
        ValueError,
        r"fit: initial_epoch must be an integer >= 0",
    ),
    (
        "verbose='loud'",
        {"verbose": "loud"},
        ValueError,
        r"fit: verbose must be one of 'auto', 0, 1, 2.*got 'loud'",
    ),
    ("verbose=3", {"verbose": 3}, ValueError, r"fit: verbose must be one of .*got 3"),
    (
        "shuffle='no'",
        {"shuffle": "no"},
        TypeError,
        r"fit: shuffle must be True or False, got 'no' \(str\)",
    ),
    (
        "check_finite='yes'",
        {"check_finite": "yes"},
        TypeError,
        r"fit: check_finite must be True or False",
    ),
    (
        "batch_size=2.0",
        {"batch_size": 2.0},
        TypeError,
        r"fit: batch_size must be an integer >= 1, got 2.0 \(float\)",
    ),
    (
        "batch_size=0",
        {"batch_size": 0},
        ValueError,
        r"fit: batch_size must be an integer >= 1, got 0",
    ),
    (
        "steps_per_epoch=0",
        {"steps_per_epoch": 0},
        ValueError,
        r"fit: steps_per_epoch must be an integer >= 1, got 0",
    ),
    (
        "steps_per_epoch='2'",
        {"steps_per_epoch": "2"},
        TypeError,
        r"fit: steps_per_epoch must be an integer",
    ),
    (
        "validation_split='0.2'",
        {"validation_split": "0.2"},
        TypeError,
        r"fit: validation_split must be a number in \[0, 1\), got '0.2' \(str\)",
    ),
    (
        "validation_split=1.5",
        {"validation_split": 1.5},
        ValueError,
        r"validation_split must be in \(0, 1\), got 1.5",
    ),
    (
        "class_weight=[1, 2, 3]",
        {"class_weight": [1, 2, 3]},
        TypeError,
        r"fit: class_weight must be a dict \{class: weight\}, got list",
    ),
    (
        "validation_data=(x,)",
        {"validation_data": (X,)},
        ValueError,
        r"fit: validation_data must be \(x, y\) or \(x, y, sample_weight\).*got a tuple of 1",
    ),
]

# -- what fit is given as data --------------------------------------------------------

FIT_DATA = [
    ("x=None", {"x": None}, TypeError, r"fit: x is None; expected an array"),
    (
        "x='data.csv'",
        {"x": "data.csv"},
        TypeError,
        r"fit: x is a str \('data.csv'\).*np.loadtxt",
    ),
    (
        "y=None",
        {"y": None},
        ValueError,
        r"fit: y is None, but the loss 'sparse_categorical_crossentropy' needs targets",
    ),
    (
        "x a dict for a single-input model",
        {"x": {"a": X}},
        ValueError,
        r"fit: x is a dict \(keys \['a'\]\), but model 'sequential.*' takes a single input",
    ),
    (
        "Dataset without labels",
        {"x": _unlabelled_dataset(), "y": None},
        ValueError,
        r"fit: the Dataset yields x only.*\(x, y\)",
    ),
    (
        "rank-1 x",
        {"x": np.ones(64, np.float32)},
        ValueError,
        r"fit: x has shape \(64,\).*x\[None\].*x\.reshape\(-1, 1\)",
    ),
    (
        "ragged nested list",
        {"x": [[1.0, 2.0], [3.0]], "y": [0, 1]},
        TypeError,
        r"fit: x is a nested list that is not rectangular",
    ),
    (
        "strings in a list",
        {"x": [["a", "b"]], "y": [0]},
        TypeError,
        r"fit: x holds <U1 values; expected numbers",
    ),
]

# -- item 17: checked up front, over the whole data -------------------------------------

FIT_UP_FRONT = [
    (
        "a label beyond the classes, last in the data",
        {"y": _with_label(-1, 9), "shuffle": False},
        ValueError,
        r"fit: y holds label 9 outside \[0, 3\) at sample 63: the model has 3 outputs",
    ),
    (
        "a negative label",
        {"y": _with_label(40, -2)},
        ValueError,
        r"fit: y holds label -2 outside \[0, 3\) at sample 40",
    ),
    (
        "validation labels beyond the classes",
        {"validation_data": (X[:8], _with_label(5, 7, Y[:8]))},
        ValueError,
        r"fit: validation_data y holds label 7 outside \[0, 3\) at sample 5",
    ),
    (
        "validation x of another width",
        {"validation_data": (np.ones((8, 5), np.float32), Y[:8])},
        ValueError,
        r"fit: validation_data x has samples of shape \(5,\), but the training x has \(2,\)",
    ),
    (
        "validation y of another shape",
        {"validation_data": (X[:8], np.zeros((8, 4)))},
        ValueError,
        r"fit: validation_data y has samples of shape \(4,\), but the training y has \(\)",
    ),
    (
        "validation x and y of different lengths",
        {"validation_data": (X[:8], Y[:5])},
        ValueError,
        r"validation_data: x has 8 samples, y has 5",
    ),
    (
        "check_finite with a NaN in x",
        {"x": _nan_at(50, 1), "check_finite": True},
        FloatingPointError,
        r"fit\(check_finite=True\): x has a non-finite value \(nan\) at row 50, column 1",
    ),
    (
        "check_finite with an inf in validation x",
        {"validation_data": (_inf_at(3, 0)[:8], Y[:8]), "check_finite": True},
        FloatingPointError,
        r"validation_data x has a non-finite value \(inf\) at row 3, column 0",
    ),
]


def _rows(table):
    return [pytest.param(*row[1:], id=row[0]) for row in table]


def _assert_unchanged(model, before):
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations) == 0
    assert model.optimizer.variables() == [model.optimizer.iterations]


@pytest.mark.parametrize(
    "kwargs, error, match", _rows(FIT_ARGUMENTS + FIT_DATA + FIT_UP_FRONT)
)
def test_fit_raises_before_the_first_step(kwargs, error, match):
    model = _model()
    before = model.get_weights()
    kwargs = {"x": X, "y": Y, "verbose": 0, "epochs": 2, **kwargs}
    with pytest.raises(error, match=match):
        model.fit(**kwargs)
    _assert_unchanged(model, before)


def test_labels_are_checked_for_an_unbuilt_model_before_any_update():
    model = _model(build=False)
    with pytest.raises(ValueError, match=r"label 9 outside \[0, 3\) at sample 63"):
        model.fit(X, _with_label(-1, 9), shuffle=False, verbose=0)
    assert int(model.optimizer.iterations) == 0
    assert model.optimizer.variables() == [model.optimizer.iterations]


def test_model_checkpoint_path_under_a_file_fails_before_the_first_step(tmp_path):
    (tmp_path / "file").write_text("")
    model = _model()
    before = model.get_weights()
    save = nnlib.callbacks.ModelCheckpoint(str(tmp_path / "file" / "m.h5"))
    with pytest.raises(CheckpointWriteError, match="'.*file' is a file"):
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[save])
    _assert_unchanged(model, before)
