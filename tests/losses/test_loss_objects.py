"""Loss classes: reductions, sample_weight, Keras's documented values, config, get."""

import numpy as np
import pytest

import nnlib
from nnlib import losses

Y2 = [[0.0, 1.0], [0.0, 0.0]]
P2 = [[0.6, 0.4], [0.4, 0.6]]

ALL_CLASSES = [
    losses.SparseCategoricalCrossentropy,
    losses.CategoricalCrossentropy,
    losses.BinaryCrossentropy,
    losses.MeanSquaredError,
    losses.MeanAbsoluteError,
    losses.Huber,
    losses.LogCosh,
    losses.KLDivergence,
    losses.Hinge,
    losses.CosineSimilarity,
]


def _value(t):
    return np.asarray(t.numpy() if isinstance(t, nnlib.Tensor) else t)


# Keras's documented examples (keras.io/api/losses), to their 3 decimals.
KERAS_EXAMPLES = [
    (
        losses.SparseCategoricalCrossentropy(),
        [1, 2],
        [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
        1.177,
    ),
    (
        losses.CategoricalCrossentropy(),
        [[0, 1, 0], [0, 0, 1]],
        [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
        1.177,
    ),
    (losses.BinaryCrossentropy(), Y2, P2, 0.815),
    (losses.BinaryCrossentropy(reduction="sum"), Y2, P2, 1.630),
    (losses.BinaryCrossentropy(reduction="none"), Y2, P2, [0.916, 0.714]),
    (
        losses.BinaryCrossentropy(from_logits=True),
        [0, 1, 0, 0],
        [-18.6, 0.51, 2.94, -12.8],
        0.865,
    ),
    (losses.MeanSquaredError(), Y2, [[1.0, 1.0], [1.0, 0.0]], 0.5),
    (
        losses.MeanAbsoluteError(reduction="none"),
        Y2,
        [[1.0, 1.0], [1.0, 0.0]],
        [0.5, 0.5],
    ),
    (losses.Huber(), Y2, P2, 0.155),
    (losses.Huber(reduction="sum"), Y2, P2, 0.31),
    (losses.Huber(reduction="none"), Y2, P2, [0.18, 0.13]),
    (losses.LogCosh(), Y2, [[1.0, 1.0], [0.0, 0.0]], 0.108),
    (losses.KLDivergence(), Y2, P2, 0.458),
    (losses.Hinge(), Y2, P2, 1.3),
    (
        losses.CosineSimilarity(),
        [[0.0, 1.0], [1.0, 1.0]],
        [[1.0, 0.0], [1.0, 1.0]],
        -0.5,
    ),
]


@pytest.mark.parametrize("loss, y_true, y_pred, expected", KERAS_EXAMPLES)
def test_keras_documented_values(loss, y_true, y_pred, expected):
    np.testing.assert_allclose(_value(loss(y_true, y_pred)), expected, atol=6e-4)


@pytest.mark.parametrize(
    "loss, weights, expected",
    [
        (losses.BinaryCrossentropy(), [1, 0], 0.458),
        (losses.MeanSquaredError(), [0.7, 0.3], 0.25),
        (losses.Huber(), [1, 0], 0.09),
        (losses.KLDivergence(), [0.8, 0.2], 0.366),
        (losses.Hinge(), [1, 0], 0.55),
    ],
)
def test_keras_documented_values_with_sample_weight(loss, weights, expected):
    y_pred = (
        [[1.0, 1.0], [1.0, 0.0]] if isinstance(loss, losses.MeanSquaredError) else P2
    )
    got = _value(loss(Y2, y_pred, sample_weight=weights))
    np.testing.assert_allclose(got, expected, atol=6e-4)


@pytest.mark.parametrize(
    "reduction", ["sum_over_batch_size", "mean", "sum", "none", None]
)
def test_every_reduction_with_every_weight_shape(reduction):
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    per_example = np.mean((y - p) ** 2, -1)
    loss = losses.MeanSquaredError(reduction=reduction)
    for weights in (None, 2.5, rng.uniform(size=6), rng.uniform(size=(6, 1))):
        w = (
            1.0
            if weights is None
            else np.reshape(weights, (-1,) if np.ndim(weights) else ())
        )
        weighted = per_example * w
        expected = {
            "sum_over_batch_size": weighted.sum() / 6,
            "mean": weighted.sum() / 6,
            "sum": weighted.sum(),
        }.get(reduction, weighted)
        got = loss(y, p, sample_weight=weights)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_per_timestep_weights_cover_leading_axes():
    rng = np.random.default_rng(1)
    labels, logits = rng.integers(0, 4, (3, 5)), rng.normal(size=(3, 5, 4))
    values = losses.sparse_categorical_crossentropy(labels, logits, True).numpy()
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    per_sample = rng.uniform(size=3)
    np.testing.assert_allclose(
        loss(labels, logits, sample_weight=per_sample).numpy(),
        (values * per_sample[:, None]).sum(),
    )
    per_step = rng.uniform(size=(3, 5))
    np.testing.assert_allclose(
        loss(labels, logits, sample_weight=per_step).numpy(), (values * per_step).sum()
    )
    with pytest.raises(ValueError, match=r"sample_weight of shape \(5,\) does not fit"):
        loss(labels, logits, sample_weight=np.ones(5))  # would broadcast along time


def test_bad_sample_weight_raises_naming_both_shapes():
    loss = losses.MeanSquaredError()
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\).*\(4,\)"):
        loss(np.zeros((4, 1)), np.zeros((4, 1)), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="trailing axis of size 1"):
        losses.BinaryCrossentropy()(
            np.ones(4), np.full(4, 0.5), sample_weight=np.ones(4)
        )


def test_ignore_class_leaves_examples_out_of_the_mean():
    logits = np.log(np.array([[0.5, 0.5], [0.1, 0.9], [0.2, 0.8]]))
    labels = np.array([0, -1, 1])
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    expected = -(np.log(0.5) + np.log(0.8)) / 2
    np.testing.assert_allclose(loss(labels, logits).numpy(), expected)
    weights = np.array([2.0, 5.0, 1.0])
    np.testing.assert_allclose(
        loss(labels, logits, sample_weight=weights).numpy(),
        -(2 * np.log(0.5) + np.log(0.8)) / 2,
    )
    assert float(loss([-1, -1, -1], logits)) == 0.0


def test_empty_batch_gives_zero():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert float(loss(np.zeros(0, int), np.zeros((0, 10)))) == 0.0


def test_unknown_reduction_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'sum'"):
        losses.MeanSquaredError(reduction="summ")


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_config_round_trip(cls):
    loss = cls(reduction="sum", name="custom")
    config = loss.get_config()
    again = cls.from_config(config)
    assert again.get_config() == config
    assert again.name == "custom" and again.reduction == "sum"
    assert losses.deserialize(losses.serialize(loss)).get_config() == config
    default = cls()
    assert losses.get(type(default).__name__).get_config() == default.get_config()


def test_class_arguments_reach_the_function():
    config = losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=0.1
    ).get_config()
    assert config["from_logits"] is True and config["label_smoothing"] == 0.1
    assert losses.Huber(delta=2.0).get_config()["delta"] == 2.0
    assert (
        losses.SparseCategoricalCrossentropy(ignore_class=3).get_config()[
            "ignore_class"
        ]
        == 3
    )
    assert losses.Huber().name == "huber_loss"


def test_get_by_name_class_name_callable_and_dict():
    assert (
        losses.get("sparse_categorical_crossentropy")
        is losses.sparse_categorical_crossentropy
    )
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("mae") is losses.mean_absolute_error
    assert losses.get("kld") is losses.kl_divergence
    assert isinstance(
        losses.get("SparseCategoricalCrossentropy"),
        losses.SparseCategoricalCrossentropy,
    )
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    loss = losses.Hinge()
    assert losses.get(loss) is loss
    fn = lambda y, p: p
    assert losses.get(fn) is fn
    assert losses.get(None) is None
    built = losses.get(
        {"class_name": "BinaryCrossentropy", "config": {"from_logits": True}}
    )
    assert built.get_config()["from_logits"] is True
    with pytest.raises(
        ValueError, match="Did you mean 'sparse_categorical_crossentropy'"
    ):
        losses.get("sparse_categorical_crossentropie")
    with pytest.raises(ValueError, match="Did you mean 'MeanSquaredError'"):
        losses.get("MeanSquareError")
    with pytest.raises(ValueError, match="could not interpret"):
        losses.get(3)
    with pytest.raises(ValueError, match="cannot serialize"):
        losses.serialize(fn)


def test_custom_loss_subclass_gets_tensors():
    class Seen(losses.Loss):
        def call(self, y_true, y_pred):
            assert isinstance(y_true, nnlib.Tensor) and isinstance(y_pred, nnlib.Tensor)
            return nnlib.reduce_mean(nnlib.square(y_pred - y_true), axis=-1)

    loss = Seen(reduction="none")
    assert loss.name == "seen"
    np.testing.assert_allclose(loss([[1.0]], [[3.0]]).numpy(), [4.0])
    with pytest.raises(NotImplementedError):
        losses.Loss()([1.0], [1.0])


def test_function_form_through_compile_style_wrapper():
    loss = losses.LossFunctionWrapper(losses.huber, reduction="sum", delta=0.5)
    assert loss.name == "huber"
    np.testing.assert_allclose(loss([[0.0], [0.0]], [[0.5], [2.0]]).numpy(), 1.0)
    with pytest.raises(ValueError, match="subclass Loss"):
        losses.LossFunctionWrapper.from_config(loss.get_config())
