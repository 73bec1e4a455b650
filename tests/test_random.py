"""nnlib.random: one seedable generator, its state saved and restored."""

import numpy as np
import pytest

import nnlib


def _draw():
    return nnlib.random.get_generator().standard_normal(5)


def test_set_seed_makes_draws_reproducible():
    nnlib.random.set_seed(123)
    first = _draw()
    nnlib.random.set_seed(123)
    np.testing.assert_array_equal(_draw(), first)


def test_different_seeds_give_different_draws():
    nnlib.random.set_seed(1)
    first = _draw()
    nnlib.random.set_seed(2)
    assert not np.array_equal(_draw(), first)


def test_numpy_integer_seeds_are_accepted():
    nnlib.random.set_seed(np.int64(7))
    first = _draw()
    nnlib.random.set_seed(7)
    np.testing.assert_array_equal(_draw(), first)


def test_get_state_and_set_state_round_trip():
    nnlib.random.set_seed(0)
    _draw()
    state = nnlib.random.get_state()
    expected = _draw()
    _draw()
    nnlib.random.set_state(state)
    np.testing.assert_array_equal(_draw(), expected)


def test_get_state_is_a_copy():
    state = nnlib.random.get_state()
    expected = _draw()
    _draw()
    nnlib.random.set_state(state)
    nnlib.random.set_state(state)  # reusable: the first set_state did not consume it
    np.testing.assert_array_equal(_draw(), expected)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, [1, 2]])
def test_bad_seeds_raise_value_error(seed):
    with pytest.raises(ValueError, match="seed"):
        nnlib.random.set_seed(seed)


@pytest.mark.parametrize(
    "state", ["nope", {"x": 1}, {"bit_generator": "NoSuchGenerator"}]
)
def test_set_state_rejects_something_that_is_not_a_state(state):
    with pytest.raises(ValueError, match="random state"):
        nnlib.random.set_state(state)
