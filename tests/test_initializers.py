"""Initializers: statistics, fans, truncation, orthogonality, seeds, lookup."""

import math

import numpy as np
import pytest

import nnlib
from nnlib import initializers

_BIG = (400, 500)  # 200,000 draws: the std estimate is within ~0.2% (1 sigma)
_CONV = (3, 3, 32, 64)  # fan_in = 288, fan_out = 576
_SNAKE_NAMES = [
    "zeros",
    "ones",
    "constant",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
    "identity",
]
_CLASS_NAMES = [
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "Orthogonal",
    "Identity",
]
_SEEDED = [
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "Orthogonal",
]


@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((3, 5), (3, 5)),
        ((5, 16, 32), (80, 160)),
        (_CONV, (288, 576)),
        ((2, 3, 4, 5, 6), (120, 144)),
    ],
)
def test_compute_fans(shape, fans):
    assert initializers.compute_fans(shape) == fans


def test_constant_initializers():
    assert initializers.Zeros()((2, 3)).tolist() == [[0.0] * 3] * 2
    assert initializers.Ones()((2,), dtype="int64").dtype == np.int64
    assert initializers.Constant(2.5)((2,)).tolist() == [2.5, 2.5]
    row = initializers.Constant([1.0, 2.0])((2, 2))
    assert row.tolist() == [[1.0, 2.0], [1.0, 2.0]]
    assert initializers.Constant([1.0, 2.0]).get_config() == {"value": [1.0, 2.0]}
    with pytest.raises(ValueError, match=r"Constant: value of shape \(2,\)"):
        initializers.Constant([1.0, 2.0])((3,))


def test_default_dtype_is_float32_and_float64_works():
    assert initializers.GlorotUniform()((3, 4)).dtype == np.float32
    assert initializers.GlorotUniform()((3, 4), dtype="float64").dtype == np.float64
    assert initializers.Zeros()(3).shape == (3,)


def test_values_are_drawn_in_float64_then_cast():
    wide = initializers.RandomNormal(seed=3)((5,), dtype="float64")
    narrow = initializers.RandomNormal(seed=3)((5,), dtype="float32")
    assert narrow.tolist() == wide.astype(np.float32).tolist()


def test_random_normal_statistics():
    values = initializers.RandomNormal(mean=1.0, stddev=2.0)(_BIG, dtype="float64")
    assert values.mean() == pytest.approx(1.0, abs=0.02)
    assert values.std() == pytest.approx(2.0, rel=0.01)


def test_random_uniform_bounds_and_statistics():
    values = initializers.RandomUniform(-1.0, 3.0)(_BIG, dtype="float64")
    assert values.min() >= -1.0 and values.max() < 3.0
    assert values.mean() == pytest.approx(1.0, abs=0.02)
    assert values.std() == pytest.approx(4.0 / math.sqrt(12.0), rel=0.01)


def test_truncated_normal_bounds_and_statistics():
    values = initializers.TruncatedNormal(mean=1.0, stddev=0.5)(_BIG, dtype="float64")
    assert values.min() >= 0.0 and values.max() <= 2.0
    # The values near both bounds show that tails were redrawn, not clipped.
    assert values.min() < 0.01 and values.max() > 1.99
    assert np.count_nonzero(np.abs(values - 1.0) == 1.0) == 0
    assert values.mean() == pytest.approx(1.0, abs=0.01)
    assert values.std() == pytest.approx(0.5 * 0.87962566103423978, rel=0.01)


def _fan(shape, mode):
    fan_in, fan_out = initializers.compute_fans(shape)
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[
        mode
    ]


@pytest.mark.parametrize("shape", [_BIG, _CONV])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize(
    "distribution", ["truncated_normal", "untruncated_normal", "uniform"]
)
def test_variance_scaling_statistics(shape, mode, distribution):
    init = initializers.VarianceScaling(3.0, mode, distribution)
    values = init(shape, dtype="float64")
    std = math.sqrt(3.0 / _fan(shape, mode))
    assert values.std() == pytest.approx(std, rel=0.02)
    assert abs(values.mean()) < 0.02 * std
    if distribution == "truncated_normal":
        assert np.abs(values).max() <= 2.0 * std / 0.87962566103423978
    if distribution == "uniform":
        assert np.abs(values).max() <= math.sqrt(3.0) * std


def test_variance_scaling_of_empty_and_scalar_shapes():
    # An empty shape has a zero fan; Keras divides by max(1, fan).
    values = initializers.VarianceScaling(4.0, distribution="uniform")((0, 5000))
    assert values.shape == (0, 5000)
    scalar = initializers.VarianceScaling(4.0, distribution="uniform")(())
    assert abs(float(scalar)) <= math.sqrt(12.0)


@pytest.mark.parametrize(
    ("name", "scale", "mode", "distribution"),
    [
        ("GlorotUniform", 1.0, "fan_avg", "uniform"),
        ("GlorotNormal", 1.0, "fan_avg", "truncated_normal"),
        ("HeNormal", 2.0, "fan_in", "truncated_normal"),
        ("HeUniform", 2.0, "fan_in", "uniform"),
        ("LecunNormal", 1.0, "fan_in", "truncated_normal"),
        ("LecunUniform", 1.0, "fan_in", "uniform"),
    ],
)
def test_presets_are_keras_variance_scaling(name, scale, mode, distribution):
    init = getattr(initializers, name)(seed=5)
    assert isinstance(init, initializers.VarianceScaling)
    assert (init.scale, init.mode, init.distribution) == (scale, mode, distribution)
    assert init.get_config() == {"seed": 5}
    same = initializers.VarianceScaling(scale, mode, distribution, seed=5)
    assert np.array_equal(init(_CONV), same(_CONV))


def test_glorot_uniform_bound_and_he_normal_std():
    fan_in, fan_out = 400, 500
    values = initializers.GlorotUniform()(_BIG, dtype="float64")
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert values.std() == pytest.approx(bound / math.sqrt(3.0), rel=0.01)
    values = initializers.HeNormal()(_BIG, dtype="float64")
    assert values.std() == pytest.approx(math.sqrt(2.0 / fan_in), rel=0.01)
    assert np.abs(values).max() <= 2.0 * math.sqrt(2.0 / fan_in) / 0.87962566103423978


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (3, 3, 4, 5), (2, 5, 4)])
def test_orthogonal(shape):
    q = initializers.Orthogonal(gain=2.0)(shape, dtype="float64")
    assert q.shape == shape
    flat = q.reshape(-1, shape[-1]) / 2.0
    rows, cols = flat.shape
    if rows >= cols:
        np.testing.assert_allclose(flat.T @ flat, np.eye(cols), atol=1e-12)
    else:
        np.testing.assert_allclose(flat @ flat.T, np.eye(rows), atol=1e-12)


def test_orthogonal_sign_correction_makes_diagonal_of_r_positive():
    q = initializers.Orthogonal(seed=1)((5, 5), dtype="float64")
    normal = np.random.default_rng(1).standard_normal((5, 5))
    # normal = q @ r' with r' = q.T @ normal upper triangular, positive diagonal.
    r = q.T @ normal
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=1e-12)
    assert (np.diag(r) > 0).all()


def test_orthogonal_needs_rank_2():
    with pytest.raises(ValueError, match="Orthogonal: shape must have rank >= 2"):
        initializers.Orthogonal()((4,))


def test_identity():
    assert initializers.Identity()((2, 2), dtype="int32").tolist() == [[1, 0], [0, 1]]
    assert initializers.Identity(gain=3.0)((3, 2)).tolist() == [
        [3.0, 0.0],
        [0.0, 3.0],
        [0.0, 0.0],
    ]
    with pytest.raises(ValueError, match="Identity: shape must be 2-D"):
        initializers.Identity()((2, 2, 2))


@pytest.mark.parametrize("name", _SEEDED)
def test_seeded_initializer_returns_same_values_every_call(name):
    init = getattr(initializers, name)(seed=7)
    first = init((6, 5))
    assert np.array_equal(first, init((6, 5)))
    assert np.array_equal(first, getattr(initializers, name)(seed=7)((6, 5)))
    assert not np.array_equal(first, getattr(initializers, name)(seed=8)((6, 5)))
    # A seeded call leaves the global generator alone.
    state = nnlib.random.get_state()
    init((6, 5))
    assert nnlib.random.get_state() == state


@pytest.mark.parametrize("name", _SEEDED)
def test_unseeded_initializer_follows_set_seed(name):
    init = getattr(initializers, name)()
    nnlib.random.set_seed(42)
    first, second = init((6, 5)), init((6, 5))
    assert not np.array_equal(first, second)
    nnlib.random.set_seed(42)
    assert np.array_equal(first, init((6, 5)))
    assert np.array_equal(second, init((6, 5)))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: initializers.RandomNormal(stddev=-1.0), "RandomNormal: stddev"),
        (lambda: initializers.TruncatedNormal(stddev=-0.1), "TruncatedNormal: stddev"),
        (lambda: initializers.VarianceScaling(scale=-1.0), "VarianceScaling: scale"),
        (lambda: initializers.VarianceScaling(scale=0.0), "VarianceScaling: scale"),
        (lambda: initializers.VarianceScaling(mode="fan"), "VarianceScaling: mode"),
        (
            lambda: initializers.VarianceScaling(distribution="gauss"),
            "VarianceScaling: distribution",
        ),
        (lambda: initializers.RandomUniform(1.0, -1.0), "RandomUniform: maxval"),
        (lambda: initializers.RandomNormal(stddev=math.inf), "RandomNormal: stddev"),
        (lambda: initializers.HeNormal(seed=-1), "HeNormal: seed"),
        (lambda: initializers.GlorotUniform(seed=1.5), "GlorotUniform: seed"),
        (lambda: initializers.Constant("a"), "Constant: value"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_non_number_argument_raises_type_error():
    with pytest.raises(TypeError, match="RandomNormal: mean must be a number"):
        initializers.RandomNormal(mean="0")


def test_bad_call_arguments():
    with pytest.raises(ValueError, match="GlorotUniform: dtype must be floating"):
        initializers.GlorotUniform()((2, 2), dtype="int32")
    with pytest.raises(ValueError, match="Zeros: negative dimension"):
        initializers.Zeros()((2, -1))


def test_keras_2_normal_distribution_name_is_truncated_normal():
    init = initializers.VarianceScaling(distribution="normal")
    assert init.distribution == "truncated_normal"


@pytest.mark.parametrize(
    ("snake", "class_name"), list(zip(_SNAKE_NAMES, _CLASS_NAMES, strict=True))
)
def test_get_by_name_and_round_trip(snake, class_name):
    init = initializers.get(snake)
    assert type(init).__name__ == class_name
    assert type(initializers.get(class_name)) is type(init)
    config = initializers.serialize(init)
    assert config["class_name"] == class_name
    again = initializers.get(config)
    assert type(again) is type(init) and again.get_config() == init.get_config()
    assert initializers.get({"class_name": snake}).get_config() == init.get_config()


def test_round_trip_keeps_arguments_and_values():
    init = initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=3)
    again = initializers.get(initializers.serialize(init))
    assert again.get_config() == {
        "scale": 2.0,
        "mode": "fan_out",
        "distribution": "uniform",
        "seed": 3,
    }
    assert np.array_equal(init(_CONV), again(_CONV))
    for init in [
        initializers.RandomNormal(1.0, 2.0, seed=4),
        initializers.RandomUniform(-2.0, 1.0, seed=4),
        initializers.TruncatedNormal(0.5, 0.1, seed=4),
        initializers.Orthogonal(gain=0.5, seed=4),
        initializers.Identity(gain=2.0),
        initializers.Constant(0.25),
        initializers.HeUniform(seed=9),
    ]:
        again = initializers.get(initializers.serialize(init))
        assert np.array_equal(init((4, 3)), again((4, 3)))


def test_get_accepts_keras_3_serialization():
    keras = {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": None},
        "registered_name": None,
    }
    assert isinstance(initializers.get(keras), initializers.GlorotUniform)


def test_get_passes_instances_functions_and_none_and_builds_classes():
    init = initializers.Ones()
    assert initializers.get(init) is init
    assert initializers.get(None) is None

    def halves(shape, dtype="float32"):
        return np.full(shape, 0.5, dtype)

    assert initializers.get(halves) is halves
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'glorot_uniform'") as info:
        initializers.get("glorot_unifrom")
    assert "he_normal" in str(info.value) and "orthogonal" in str(info.value)
    with pytest.raises(ValueError, match="Did you mean 'GlorotUniform'"):
        initializers.get({"class_name": "GlorotUnifrom", "config": {}})
    with pytest.raises(ValueError, match="unknown initializer 'xyz'"):
        initializers.get("xyz")


def test_get_rejects_other_identifiers():
    with pytest.raises(ValueError, match="could not interpret initializer"):
        initializers.get(3)
    with pytest.raises(ValueError, match="'class_name'"):
        initializers.get({"config": {}})


def test_serialize_rejects_plain_functions():
    with pytest.raises(ValueError, match="only Initializer instances"):
        initializers.serialize(lambda shape, dtype: np.zeros(shape, dtype))


def test_repr_shows_config():
    assert repr(initializers.RandomNormal(seed=1)) == (
        "RandomNormal(mean=0.0, stddev=0.05, seed=1)"
    )


def test_none_serializes_to_none():
    assert initializers.serialize(None) is None
    assert initializers.get(initializers.serialize(None)) is None
