"""Models with several outputs: predict keeps their structure; fit and evaluate
match losses and metrics to outputs by key (dicts) or position (lists).

As Keras 3: ``predict`` returns what the model returns, each leaf the batches
concatenated (a dict stays a dict in its own key order, a tuple a tuple);
metrics for several outputs are given per output, as a dict by output name or
a list with one entry per output, and are logged as ``<output>_<metric>`` for
dict outputs. Expected values are computed with numpy from the weights.
"""

import numpy as np
import pytest

import nnlib
from nnlib.layers import Dense

KA = np.array([[0.5, -1.0], [0.25, 2.0], [-0.75, 0.5]], np.float32)
BA = np.array([0.1, -0.2], np.float32)
KB = np.array([[1.0], [-0.5], [0.25]], np.float32)
BB = np.array([0.3], np.float32)


class TwoHeads(nnlib.Network):
    """Returns ``{"out_b": x @ KB + BB, "out_a": x @ KA + BA}`` (b first)."""

    def __init__(self, structure="dict"):
        super().__init__(name="two_heads")
        self.head_a = Dense(2)
        self.head_b = Dense(1)
        self.structure = structure

    def call(self, x, training=None):
        a, b = self.head_a(x), self.head_b(x)
        if self.structure == "dict":
            return {"out_b": b, "out_a": a}
        if self.structure == "tuple":
            return (a, b)
        return (a, [b, {"again": a * 2.0}])  # nested


def _model(structure="dict"):
    model = TwoHeads(structure)
    model.build((None, 3))
    model.head_a.set_weights([KA, BA])
    model.head_b.set_weights([KB, BB])
    return model


def _data(n=10):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, {
        "out_a": rng.normal(size=(n, 2)).astype(np.float32),
        "out_b": rng.normal(size=(n, 1)).astype(np.float32),
    }


def _heads(x):
    x = np.asarray(x, np.float64)
    return x @ KA + BA, x @ KB + BB


def test_predict_of_a_dict_model_returns_a_dict_of_concatenated_batches():
    x, _ = _data()
    got = _model().predict(x, batch_size=4)
    a, b = _heads(x)
    assert isinstance(got, dict) and list(got) == ["out_b", "out_a"]
    np.testing.assert_allclose(got["out_a"], a, rtol=1e-6)
    np.testing.assert_allclose(got["out_b"], b, rtol=1e-6)


def test_predict_keeps_tuples_and_nested_structures():
    x, _ = _data()
    a, b = _heads(x)
    got = _model("tuple").predict(x, batch_size=3)
    assert isinstance(got, tuple) and len(got) == 2
    np.testing.assert_allclose(got[0], a, rtol=1e-6)
    np.testing.assert_allclose(got[1], b, rtol=1e-6)
    got = _model("nested").predict(x, batch_size=4)
    assert isinstance(got, tuple) and isinstance(got[1], list)
    assert isinstance(got[1][1], dict) and list(got[1][1]) == ["again"]
    np.testing.assert_allclose(got[0], a, rtol=1e-6)
    np.testing.assert_allclose(got[1][0], b, rtol=1e-6)
    np.testing.assert_allclose(got[1][1]["again"], 2 * a, rtol=1e-6)


def test_predict_on_batch_and_empty_input_keep_the_structure():
    x, _ = _data()
    a, _ = _heads(x)
    model = _model()
    got = model.predict_on_batch(x)
    assert list(got) == ["out_b", "out_a"]
    np.testing.assert_allclose(got["out_a"], a, rtol=1e-6)
    empty = model.predict(np.zeros((0, 3), np.float32))
    assert list(empty) == ["out_b", "out_a"]
    assert empty["out_a"].shape == (0, 2) and empty["out_b"].shape == (0, 1)


def test_a_single_output_is_still_one_array():
    model = nnlib.Sequential([Dense(2, input_shape=(3,))])
    assert isinstance(model.predict(np.ones((5, 3)), batch_size=2), np.ndarray)


def test_evaluate_matches_losses_and_metrics_to_dict_outputs_by_name():
    x, y = _data()
    a, b = _heads(x)
    model = _model()
    model.compile(
        optimizer="sgd",
        loss={"out_a": "mse", "out_b": "mae"},
        loss_weights={"out_a": 1.0, "out_b": 0.5},
        metrics={"out_a": ["mae"], "out_b": "mse"},
    )
    logs = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    mse_a = ((a - y["out_a"]) ** 2).mean()
    mae_a = np.abs(a - y["out_a"]).mean()
    mae_b = np.abs(b - y["out_b"]).mean()
    mse_b = ((b - y["out_b"]) ** 2).mean()
    assert set(logs) == {"loss", "out_a_mae", "out_b_mse"}
    assert logs["loss"] == pytest.approx(mse_a + 0.5 * mae_b, rel=1e-5)
    assert logs["out_a_mae"] == pytest.approx(mae_a, rel=1e-5)
    assert logs["out_b_mse"] == pytest.approx(mse_b, rel=1e-5)


def test_fit_logs_per_output_metrics_of_a_tuple_model_by_position():
    x, y = _data()
    a, b = _heads(x)
    model = _model("tuple")
    model.compile(
        optimizer=nnlib.optimizers.GradientDescent(0.0),
        loss=["mse", "mse"],
        metrics=[["mae"], ["mae", "mse"]],
    )
    history = model.fit(x, (y["out_a"], y["out_b"]), batch_size=10, epochs=1, verbose=0)
    logs = {k: v[0] for k, v in history.history.items()}
    assert set(logs) == {"loss", "mae", "mae_1", "mse"}
    assert logs["mae"] == pytest.approx(np.abs(a - y["out_a"]).mean(), rel=1e-5)
    assert logs["mae_1"] == pytest.approx(np.abs(b - y["out_b"]).mean(), rel=1e-5)
    assert logs["mse"] == pytest.approx(((b - y["out_b"]) ** 2).mean(), rel=1e-5)


def test_fit_of_a_dict_model_trains_each_head_on_its_own_target():
    x, y = _data()
    model = _model()
    model.compile(
        optimizer=nnlib.optimizers.GradientDescent(0.1),
        loss={"out_a": "mse", "out_b": "mse"},
    )
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, shuffle=False)
    xd = x.astype(np.float64)
    a, b = _heads(x)
    grad_a = xd.T @ (2 * (a - y["out_a"]) / a.size)
    grad_b = xd.T @ (2 * (b - y["out_b"]) / b.size)
    np.testing.assert_allclose(
        model.head_a.kernel.numpy(), KA - 0.1 * grad_a, rtol=1e-5
    )
    np.testing.assert_allclose(
        model.head_b.kernel.numpy(), KB - 0.1 * grad_b, rtol=1e-5
    )


def test_metrics_that_do_not_fit_the_outputs_are_refused_before_any_step():
    x, y = _data()
    model = _model()
    model.compile(
        optimizer="sgd", loss={"out_a": "mse", "out_b": "mse"}, metrics=["mae"]
    )
    with pytest.raises(ValueError, match=r"2 outputs.*metrics.*1 entr"):
        model.fit(x, y, verbose=0)
    np.testing.assert_array_equal(model.head_a.kernel.numpy(), KA)  # no step
    model.compile(
        optimizer="sgd", loss={"out_a": "mse", "out_b": "mse"}, metrics={"out_c": "mae"}
    )
    with pytest.raises(ValueError, match=r"'out_c'.*out_a, out_b"):
        model.evaluate(x, y, verbose=0)


def test_a_dict_loss_must_name_the_outputs():
    x, y = _data()
    model = _model()
    model.compile(optimizer="sgd", loss={"out_a": "mse", "out_c": "mse"})
    with pytest.raises(ValueError, match=r"'out_c'.*out_a, out_b"):
        model.evaluate(x, y, verbose=0)
