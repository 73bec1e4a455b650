"""Bad input to evaluate/predict/compile, and the input that is accepted.

As in ``test_bad_input.py``: each row is (id, call, exception type, message
regex naming the argument, what it got and what it expected); a failure leaves
the model as it was. A failed ``compile`` keeps the previous settings.
"""

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense, Embedding

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


def _rows(table):
    return [pytest.param(*row[1:], id=row[0]) for row in table]


def _assert_unchanged(model, before):
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations) == 0
    assert model.optimizer.variables() == [model.optimizer.iterations]


# -- evaluate and predict ---------------------------------------------------------------

OTHER_CALLS = [
    (
        "predict(None)",
        lambda m: m.predict(None),
        TypeError,
        r"predict: x is None; expected an array",
    ),
    (
        "predict([1, 2, 3])",
        lambda m: m.predict([1, 2, 3]),
        ValueError,
        r"predict: x has shape \(3,\).*x\[None\].*x\.reshape\(-1, 1\)",
    ),
    (
        "predict(np.ones(5))",
        lambda m: m.predict(np.ones(5)),
        ValueError,
        r"predict: x has shape \(5,\)",
    ),
    (
        "predict(batch_size=0)",
        lambda m: m.predict(X, batch_size=0),
        ValueError,
        r"predict: batch_size must be an integer >= 1",
    ),
    (
        "predict(verbose='loud')",
        lambda m: m.predict(X, verbose="loud"),
        ValueError,
        r"predict: verbose must be one of",
    ),
    (
        "evaluate(x=None)",
        lambda m: m.evaluate(None, Y, verbose=0),
        TypeError,
        r"evaluate: x is None",
    ),
    (
        "evaluate(rank-1 x)",
        lambda m: m.evaluate(np.ones(64), Y, verbose=0),
        ValueError,
        r"evaluate: x has shape \(64,\).*x\[None\]",
    ),
    (
        "evaluate(y=None)",
        lambda m: m.evaluate(X, None, verbose=0),
        ValueError,
        r"evaluate: y is None, but the loss .* needs targets",
    ),
    (
        "evaluate(verbose='loud')",
        lambda m: m.evaluate(X, Y, verbose="loud"),
        ValueError,
        r"evaluate: verbose must be one of",
    ),
    (
        "evaluate(return_dict='no')",
        lambda m: m.evaluate(X, Y, verbose=0, return_dict="no"),
        TypeError,
        r"evaluate: return_dict must be True or False",
    ),
    (
        "evaluate(label beyond the classes)",
        lambda m: m.evaluate(X, _with_label(3, 5), verbose=0),
        ValueError,
        r"evaluate: y holds label 5 outside \[0, 3\) at sample 3",
    ),
    (
        "train_on_batch(y=None)",
        lambda m: m.train_on_batch(X, None),
        ValueError,
        r"needs targets \(y\), got None",
    ),
]


@pytest.mark.parametrize("call, error, match", _rows(OTHER_CALLS))
def test_evaluate_and_predict_raise_clearly(call, error, match):
    model = _model()
    before = model.get_weights()
    with pytest.raises(error, match=match):
        call(model)
    _assert_unchanged(model, before)


# -- compile ------------------------------------------------------------------------

COMPILE = [
    ("unknown loss", {"loss": "mean_sqared_error"}, ValueError, r"(?i)did you mean"),
    ("unknown metric", {"metrics": ["acuracy"]}, ValueError, r"(?i)did you mean"),
    ("unknown optimizer", {"optimizer": "adamm"}, ValueError, r"(?i)did you mean"),
    (
        "bad loss_weights",
        {"loss_weights": [1.0, 2.0]},
        ValueError,
        r"2 loss_weights for 1 losses",
    ),
]


@pytest.mark.parametrize("kwargs, error, match", _rows(COMPILE))
def test_failed_compile_keeps_the_previous_settings(kwargs, error, match):
    model = _model()
    kept = (
        model.optimizer,
        model.compiled_loss,
        model.compiled_metrics,
        model._compile_args,
    )
    with pytest.raises(error, match=match):
        model.compile(**{"optimizer": "sgd", "loss": "mse", **kwargs})
    assert (
        model.optimizer,
        model.compiled_loss,
        model.compiled_metrics,
        model._compile_args,
    ) == kept
    model.fit(X, Y, verbose=0)  # and still trains with them


# -- what is accepted -------------------------------------------------------------------


def test_nested_lists_of_numbers_are_arrays():
    a, b = _model(), _model()
    history_a = a.fit(X, Y, epochs=2, shuffle=False, verbose=0).history
    history_b = b.fit(
        X.tolist(), Y.tolist(), epochs=2, shuffle=False, verbose=0
    ).history
    np.testing.assert_allclose(history_a["loss"], history_b["loss"], rtol=1e-6)
    np.testing.assert_allclose(a.predict(X[:3]), b.predict(X[:3].tolist()), rtol=1e-6)


def test_validation_data_as_a_list_and_verbose_auto():
    model = _model()
    history = model.fit(X, Y, verbose="auto", validation_data=[X[:8], Y[:8]])
    assert "val_loss" in history.history


def test_epochs_equal_to_initial_epoch_is_a_no_op():
    model = _model()
    assert model.fit(X, Y, epochs=2, initial_epoch=2, verbose=0).history == {}


def test_a_model_built_on_rank_1_ids_takes_rank_1_x():
    nnlib.random.set_seed(0)
    model = nnlib.Sequential([Embedding(10, 4), Dense(3)])
    ids = RNG.integers(0, 10, 32)
    model(ids[:1])
    model.compile(
        "adam", loss=nnlib.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.fit(ids, ids % 3, verbose=0)
    assert model.predict(ids).shape == (32, 3)


def test_check_finite_scans_datasets_batch_by_batch():
    x = X.copy()
    x[20, 1] = np.nan
    data = nnlib.data.Dataset.from_tensor_slices((x, Y)).batch(8)
    with pytest.raises(FloatingPointError, match="batch 3 of epoch 1.*row 4, column 1"):
        _model().fit(data, verbose=0, check_finite=True)


def test_the_rank_1_error_reaches_the_user_from_an_unbuilt_model():
    model = _model(build=False)
    with pytest.raises(ValueError, match=r"predict: x has shape \(5,\).*x\[None\]"):
        model.predict(np.ones(5))
    assert not model.built
