"""nnlib's warnings point at the user's line, however deep they start."""

import numpy as np
import pytest

import nnlib


def _only_here(record):
    assert record, "no warning"
    assert {w.filename for w in record} == {__file__}


def test_a_callback_warning_from_inside_fit():
    model = nnlib.Sequential([nnlib.layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", loss="mse")
    stop = nnlib.callbacks.EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="'val_loss', which is not in the logs") as w:
        model.fit(
            np.ones((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0, callbacks=[stop]
        )
    _only_here(w)


def test_an_optimizer_skipping_a_missing_gradient():
    a = nnlib.Variable([1.0], name="warn_a")
    b = nnlib.Variable([1.0], name="warn_b")
    opt = nnlib.optimizers.GradientDescent(0.1)
    with pytest.warns(UserWarning, match="warn_b") as w:
        opt.apply_gradients([(np.ones(1, np.float32), a), (None, b)])
    _only_here(w)


def test_a_gradient_of_nothing_through_the_function_wrappers():
    x = nnlib.constant(1.0)
    with pytest.warns(UserWarning) as w:
        nnlib.gradients_function(lambda y: nnlib.constant(2.0) * x)(3.0)
    _only_here(w)


def test_a_non_finite_value_under_seterr_warn():
    with nnlib.seterr(inf_or_nan="warn"), pytest.warns(RuntimeWarning) as w:
        nnlib.log(nnlib.constant([0.0]))
    # numpy's own "divide by zero" warning comes from the line that called it.
    _only_here([x for x in w if "produced NaN or infinity" in str(x.message)])
