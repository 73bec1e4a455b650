"""TensorFlow's argument forms that ported code passes: tensor axes, output_type,
dropout's keep_prob."""

import warnings

import numpy as np
import pytest

import nnlib

_X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

_REDUCTIONS = [
    nnlib.reduce_sum,
    nnlib.reduce_mean,
    nnlib.reduce_prod,
    nnlib.reduce_max,
    nnlib.reduce_min,
    nnlib.reduce_logsumexp,
    nnlib.reduce_variance,
    nnlib.reduce_std,
    nnlib.reduce_any,
    nnlib.reduce_all,
    nnlib.argmax,
    nnlib.argmin,
]


@pytest.mark.parametrize("reduction", _REDUCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "axis",
    [nnlib.constant(1), nnlib.constant(np.int32(-1)), np.int32(1), np.array(2)],
    ids=["tensor", "int32-tensor", "np-int32", "0d-array"],
)
def test_a_reduction_takes_a_0d_integer_tensor_or_numpy_integer_as_axis(
    reduction, axis
):
    expected = reduction(_X, axis=int(np.asarray(axis)))
    np.testing.assert_array_equal(reduction(_X, axis=axis).numpy(), expected.numpy())


def test_a_1d_integer_tensor_of_axes_works_as_a_tuple():
    got = nnlib.reduce_sum(_X, axis=nnlib.constant([0, 2]))
    np.testing.assert_array_equal(got.numpy(), _X.sum(axis=(0, 2)))


@pytest.mark.parametrize("axis", [nnlib.constant(1.0), nnlib.constant([[0, 1]])])
def test_a_float_or_2d_tensor_axis_is_refused_naming_the_op(axis):
    with pytest.raises(TypeError, match="reduce_sum: axis must be"):
        nnlib.reduce_sum(_X, axis=axis)


def test_argmax_returns_int64_by_default_and_takes_output_type():
    assert nnlib.argmax(_X, axis=1).dtype == np.int64
    for name in ("int32", np.int32, "int64"):
        assert nnlib.argmax(_X, axis=1, output_type=name).dtype == np.dtype(name)
        assert nnlib.argmin(_X, axis=0, output_type=name).dtype == np.dtype(name)
    np.testing.assert_array_equal(
        nnlib.argmax(_X, 2, output_type="int32").numpy(), _X.argmax(2)
    )


def test_argmax_refuses_a_non_integer_output_type():
    with pytest.raises(TypeError, match=r"argmax: output_type must be int32 or int64"):
        nnlib.argmax(_X, output_type="float32")


def test_dropout_takes_tfe_keep_prob_with_a_deprecation_warning():
    x = np.ones((50, 40), np.float32)
    with pytest.warns(DeprecationWarning, match=r"rate=1 - keep_prob") as caught:
        y = nnlib.dropout(x, keep_prob=0.75, seed=3)
    assert caught[0].filename == __file__
    np.testing.assert_array_equal(y.numpy(), nnlib.dropout(x, 0.25, seed=3).numpy())
    assert set(np.unique(y.numpy())) == {0.0, np.float32(1 / 0.75)}


def test_dropout_second_positional_argument_stays_the_drop_rate():
    x = np.ones((100, 100), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = float(np.mean(nnlib.dropout(x, 0.9, seed=0).numpy() != 0))
    assert kept == pytest.approx(0.1, abs=0.02)


def test_dropout_refuses_rate_and_keep_prob_together_and_bad_keep_prob():
    with pytest.raises(TypeError, match="rate or keep_prob, not both"):
        nnlib.dropout(np.ones(3), 0.5, keep_prob=0.5)
    with pytest.raises(TypeError, match="dropout: missing rate"):
        nnlib.dropout(np.ones(3))
    with (
        pytest.raises(ValueError, match=r"keep_prob must be in \(0, 1\], got 0.0"),
        pytest.warns(DeprecationWarning),
    ):
        nnlib.dropout(np.ones(3), keep_prob=0.0)
