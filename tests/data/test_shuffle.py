"""Shuffling: TensorFlow's buffer semantics, seeds, reshuffling, set_seed."""

import numpy as np
import pytest

import nnlib
from nnlib.data import Dataset


def order(ds):
    return [int(v) for v in ds]


def stream(n):
    """A dataset with no random access, so shuffle uses its buffer."""
    return Dataset.range(n).map(lambda v: v)


def test_a_shuffle_is_a_permutation_on_both_paths():
    for ds in (Dataset.range(50), stream(50)):
        for buffer in (1, 7, 50, 1000):
            result = order(ds.shuffle(buffer, seed=1))
            assert sorted(result) == list(range(50))


def test_buffer_of_one_keeps_the_order():
    assert order(stream(10).shuffle(1, seed=0)) == list(range(10))


def test_small_buffers_only_move_elements_forward_by_less_than_the_buffer():
    # An element can only be emitted once it entered the buffer: output k
    # comes from the first k + buffer inputs.
    buffer = 5
    result = order(Dataset.range(200).shuffle(buffer, seed=3))
    assert all(v < k + buffer for k, v in enumerate(result))
    assert result != list(range(200))


def test_small_buffer_shuffle_is_roughly_uniform_over_the_first_slots():
    # With buffer b, the first output is uniform over the first b inputs.
    counts = np.zeros(4)
    ds = Dataset.range(20).shuffle(4)
    nnlib.random.set_seed(0)
    for _ in range(800):
        counts[order(ds.take(1))[0]] += 1
    assert counts.min() > 150


def test_seeded_shuffle_is_reproducible_and_reshuffles_each_pass():
    ds = Dataset.range(30).shuffle(30, seed=42)
    first, second = order(ds), order(ds)
    assert first != second
    again = Dataset.range(30).shuffle(30, seed=42)
    assert order(again) == first and order(again) == second
    assert order(Dataset.range(30).shuffle(30, seed=43)) != first


def test_reshuffle_false_gives_the_same_order_every_pass():
    ds = Dataset.range(30).shuffle(30, seed=1, reshuffle_each_iteration=False)
    assert order(ds) == order(ds)
    nnlib.random.set_seed(9)
    unseeded = Dataset.range(30).shuffle(30, reshuffle_each_iteration=False)
    assert order(unseeded) == order(unseeded)


def test_full_buffer_orders_agree_between_the_gather_and_buffer_paths():
    a = order(Dataset.range(40).shuffle(40, seed=5))
    b = order(stream(40).shuffle(64, seed=5))
    c = [
        int(v)
        for batch in Dataset.range(40).shuffle(100, seed=5).batch(7)
        for v in batch
    ]
    assert a == b == c


def test_unseeded_shuffle_follows_nnlib_random_set_seed():
    ds = Dataset.range(30).shuffle(30)
    nnlib.random.set_seed(7)
    first, second = order(ds), order(ds)
    assert first != second
    nnlib.random.set_seed(7)
    assert order(ds) == first and order(ds) == second
    nnlib.random.set_seed(8)
    assert order(ds) != first


def test_unseeded_shuffle_draws_at_the_start_of_a_pass_even_under_prefetch():
    ds = stream(50).shuffle(10).prefetch(3).repeat(2)
    nnlib.random.set_seed(1)
    first = order(ds)
    nnlib.random.set_seed(1)
    assert order(ds) == first
    assert first[:50] != first[50:]  # repeat reshuffles


def test_repeat_reshuffles_each_repetition_reproducibly():
    ds = Dataset.range(10).shuffle(10, seed=0).repeat(3)
    result = order(ds)
    epochs = [result[i : i + 10] for i in (0, 10, 20)]
    assert len({tuple(e) for e in epochs}) == 3
    assert order(Dataset.range(10).shuffle(10, seed=0).repeat(3)) == result


def test_iterating_does_not_touch_the_global_generator_without_a_shuffle():
    nnlib.random.set_seed(3)
    expected = nnlib.random.get_generator().random()
    nnlib.random.set_seed(3)
    list(Dataset.range(10).map(lambda v: v).batch(3))
    assert nnlib.random.get_generator().random() == expected


def test_element_spec_does_not_advance_the_shuffle():
    ds = Dataset.range(20).shuffle(20, seed=2).map(lambda v: v * 2)
    _ = ds.element_spec
    assert order(ds) == order(
        Dataset.range(20).shuffle(20, seed=2).map(lambda v: v * 2)
    )


def test_shuffle_validates_its_arguments():
    with pytest.raises(ValueError, match="buffer_size must be >= 1, got 0"):
        Dataset.range(3).shuffle(0)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        Dataset.range(3).shuffle(3, seed=-1)


def test_shuffle_keeps_nesting():
    x = np.arange(8).reshape(4, 2)
    ds = Dataset.from_tensor_slices({"x": x, "i": np.arange(4)}).shuffle(4, seed=0)
    for element in ds:
        np.testing.assert_array_equal(element["x"], x[int(element["i"])])
