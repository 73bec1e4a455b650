"""Transformations: values, nesting, validation and error messages."""

import collections

import numpy as np
import pytest

import nnlib
from nnlib.data import AUTOTUNE, Dataset, DatasetError


def ints(ds):
    return [int(v) for v in ds]


def test_map_unpacks_tuples_and_passes_dicts_whole():
    ds = Dataset.from_tensor_slices((np.arange(3), np.arange(3) * 10))
    assert ints(ds.map(lambda a, b: a + b)) == [0, 11, 22]
    ds = Dataset.from_tensor_slices({"a": np.arange(3)})
    assert ints(ds.map(lambda d: d["a"] * 2)) == [0, 2, 4]


def test_map_passes_namedtuples_as_one_argument():
    P = collections.namedtuple("P", "x y")
    ds = Dataset.from_tensor_slices(P(np.arange(2), np.arange(2)))
    assert ints(ds.map(lambda p: p.x + p.y)) == [0, 2]


def test_map_results_become_numpy_nested_like_returned():
    ds = Dataset.range(2).map(lambda v: [v, {"f": float(v)}])
    element = next(iter(ds))
    assert type(element) is tuple
    assert (
        isinstance(element[1]["f"], np.ndarray) and element[1]["f"].dtype == np.float64
    )


def test_map_accepts_nnlib_ops_and_returns_numpy():
    ds = Dataset.from_tensor_slices(np.ones((2, 3), np.float32)).map(nnlib.tanh)
    row = next(iter(ds))
    assert isinstance(row, np.ndarray) and row.dtype == np.float32
    np.testing.assert_allclose(row, np.tanh(1.0), rtol=1e-6)


@pytest.mark.parametrize("workers", [1, 3, AUTOTUNE])
def test_parallel_map_keeps_the_order(workers):
    import time

    def slow(v):
        time.sleep(0.001 * (int(v) % 3))
        return v * 2

    ds = Dataset.range(40).map(slow, num_parallel_calls=workers)
    assert ints(ds) == [2 * i for i in range(40)]


@pytest.mark.parametrize("workers", [None, 4])
def test_map_error_names_the_element_and_chains_the_cause(workers):
    def fn(v):
        if v == 5:
            raise KeyError("bad five")
        return v

    ds = Dataset.range(10).map(fn, num_parallel_calls=workers)
    with pytest.raises(
        DatasetError, match=r"map: the function .*fn raised KeyError on element 5"
    ) as info:
        list(ds)
    assert isinstance(info.value.__cause__, KeyError)


def test_map_error_after_a_filter_counts_the_maps_input():
    def fn(v):
        if v == 4:
            raise ValueError("four")
        return v

    ds = Dataset.range(10).filter(lambda v: v % 2 == 0).map(fn)
    with pytest.raises(DatasetError, match="element 2"):
        list(ds)


def test_map_returning_none_is_an_error():
    with pytest.raises(DatasetError, match="dtype object") as info:
        list(Dataset.range(2).map(lambda v: None))
    assert isinstance(info.value.__cause__, TypeError)


def test_map_validates_its_arguments():
    with pytest.raises(TypeError, match="callable"):
        Dataset.range(2).map(3)
    with pytest.raises(ValueError, match="num_parallel_calls"):
        Dataset.range(2).map(abs, num_parallel_calls=0)


def test_filter_keeps_matching_and_needs_a_scalar_bool():
    assert ints(Dataset.range(10).filter(lambda v: v > 6)) == [7, 8, 9]
    ds = Dataset.from_tensor_slices((np.arange(4), np.arange(4) % 2 == 0))
    assert ints(ds.filter(lambda v, keep: keep).map(lambda v, k: v)) == [0, 2]
    with pytest.raises(TypeError, match="scalar bool.*element 0"):
        list(Dataset.range(3).filter(lambda v: v))
    with pytest.raises(DatasetError, match="filter"):
        list(Dataset.range(3).filter(lambda v: 1 / 0))


def test_batch_stacks_and_keeps_or_drops_the_remainder():
    x = np.arange(10).reshape(5, 2)
    batches = list(Dataset.from_tensor_slices({"x": x}).batch(2))
    assert [b["x"].shape for b in batches] == [(2, 2), (2, 2), (1, 2)]
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in batches]), x)
    assert len(list(Dataset.range(5).batch(2, drop_remainder=True))) == 2


@pytest.mark.parametrize("size", [0, -1])
def test_batch_size_must_be_positive(size):
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        Dataset.range(3).batch(size)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        Dataset.range(3).padded_batch(size)


def test_batch_of_different_shapes_suggests_padded_batch():
    ds = Dataset.range(1, 4).map(lambda n: np.zeros(n)).batch(3)
    with pytest.raises(
        ValueError, match=r"shapes \[\(1,\), \(2,\), \(3,\)\].*padded_batch"
    ):
        list(ds)


def test_batch_over_the_per_element_path_matches_the_gather_path():
    x = np.random.default_rng(0).random((11, 3))
    fast = list(Dataset.from_tensor_slices(x).batch(4))
    slow = list(Dataset.from_tensor_slices(x).map(lambda r: r).batch(4))
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)


def test_padded_batch_pads_to_the_longest_or_to_given_shapes():
    ds = Dataset.range(1, 4).map(lambda n: (np.arange(n), np.full((n, 2), n)))
    first = next(iter(ds.padded_batch(2)))
    assert first[0].tolist() == [[0, 0], [0, 1]]
    assert first[1].shape == (2, 2, 2)
    shaped = next(
        iter(
            ds.padded_batch(3, padded_shapes=((5,), (None, 2)), padding_values=(-1, 9))
        )
    )
    assert shaped[0].shape == (3, 5) and shaped[0][0].tolist() == [0, -1, -1, -1, -1]
    assert shaped[1].shape == (3, 3, 2) and shaped[1][0, 2].tolist() == [9, 9]


def test_padded_batch_errors_name_the_component_and_shapes():
    ds = Dataset.range(1, 5).map(lambda n: np.arange(n))
    with pytest.raises(
        ValueError, match=r"shape \(4,\), larger than the padded shape \(3,\)"
    ):
        list(ds.padded_batch(4, padded_shapes=(3,)))
    with pytest.raises(ValueError, match="rank"):
        list(ds.padded_batch(2, padded_shapes=(3, 3)))
    with pytest.raises(ValueError, match="does not match"):
        list(ds.map(lambda v: (v, v)).padded_batch(2, padded_shapes=((3,),)))


def test_padded_batch_of_strings_pads_with_empty_strings():
    words = Dataset.from_tensor_slices(np.array(["a b", "c"])).map(
        lambda s: np.array(str(s).split())
    )
    batch = next(iter(words.padded_batch(2)))
    assert batch.tolist() == [["a", "b"], ["c", ""]]


def test_unbatch_reverses_batch_and_checks_components():
    x = np.arange(14).reshape(7, 2)
    ds = Dataset.from_tensor_slices((x, np.arange(7))).batch(3).unbatch()
    rows = list(ds)
    assert len(rows) == 7 and type(rows[0]) is tuple
    np.testing.assert_array_equal(np.stack([r[0] for r in rows]), x)
    with pytest.raises(ValueError, match="scalar"):
        list(Dataset.range(3).unbatch())
    bad = Dataset.from_tensors((np.zeros(2), np.zeros(3))).unbatch()
    with pytest.raises(ValueError, match=r"\[0\] has 2 rows, \[1\] has 3"):
        list(bad)


def test_repeat_take_skip_shard_enumerate_concatenate():
    assert ints(Dataset.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert ints(Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert ints(Dataset.range(3).repeat(0)) == []
    assert ints(Dataset.range(0).repeat()) == []  # ends instead of spinning
    assert ints(Dataset.range(5).take(-1)) == [0, 1, 2, 3, 4]
    assert ints(Dataset.range(5).take(0)) == []
    assert ints(Dataset.range(5).skip(2)) == [2, 3, 4]
    assert ints(Dataset.range(5).skip(-1)) == []
    assert ints(Dataset.range(5).skip(9)) == []
    assert ints(Dataset.range(10).shard(3, 2)) == [2, 5, 8]
    pairs = [(int(i), int(v)) for i, v in Dataset.range(3, 5).enumerate(start=7)]
    assert pairs == [(7, 3), (8, 4)]
    assert ints(Dataset.range(2).concatenate(Dataset.range(7, 9))) == [0, 1, 7, 8]


def test_the_same_on_the_iteration_path_as_on_the_plan_path():
    def gen():
        yield from range(10)

    plan, stream = Dataset.range(10), Dataset.from_generator(gen)
    for make in (
        lambda d: d.take(4),
        lambda d: d.skip(3),
        lambda d: d.skip(-1),
        lambda d: d.shard(4, 1),
        lambda d: d.skip(1).shard(2, 1).take(3),
        lambda d: d.enumerate(2).map(lambda i, v: i * 100 + v),
    ):
        assert ints(make(plan)) == ints(make(stream))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda d: d.take(-2), "take: count must be >= -1, got -2"),
        (lambda d: d.skip(-5), "skip: count must be >= -1"),
        (lambda d: d.repeat(-3), "repeat: count must be >= -1"),
        (lambda d: d.shard(0, 0), "num_shards must be >= 1"),
        (lambda d: d.shard(2, 2), "index must be < num_shards"),
        (lambda d: d.shard(2, -1), "index must be >= 0"),
        (lambda d: d.prefetch(0), "buffer_size must be >= 1"),
        (lambda d: d.interleave(lambda v: d, block_length=0), "block_length"),
    ],
)
def test_bad_counts_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(Dataset.range(4))


def test_counts_must_be_ints():
    with pytest.raises(TypeError, match="take: count must be an int"):
        Dataset.range(4).take(1.5)
    with pytest.raises(TypeError, match="must be an int"):
        Dataset.range(4).batch(True)


def test_concatenate_checks_structure_and_dtypes():
    with pytest.raises(TypeError, match="nest differently"):
        Dataset.range(2).concatenate(Dataset.zip((Dataset.range(2), Dataset.range(2))))
    with pytest.raises(TypeError, match="incompatible"):
        Dataset.range(2).concatenate(Dataset.from_tensor_slices(np.zeros(2)))
    with pytest.raises(TypeError, match="expected a Dataset"):
        Dataset.range(2).concatenate([1, 2])
    a = Dataset.from_tensor_slices(np.zeros((2, 3)))
    b = Dataset.from_tensor_slices(np.zeros((2, 4)))
    assert a.concatenate(b).element_spec.shape == (None,)


def test_interleave_matches_tensorflows_documented_order():
    ds = Dataset.range(1, 6).interleave(
        lambda x: Dataset.from_tensors(x).repeat(6), cycle_length=2, block_length=4
    )
    expected = [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
                3, 3, 4, 4, 5, 5, 5, 5, 5, 5]  # fmt: skip
    assert ints(ds) == expected


def test_interleave_errors():
    with pytest.raises(TypeError, match="must return a Dataset, got int on element 0"):
        list(Dataset.range(3).interleave(lambda v: 5, cycle_length=2))
    with pytest.raises(DatasetError, match="interleave.*element 1") as info:
        list(
            Dataset.range(3).interleave(
                lambda v: Dataset.range(10 // (int(v) - 1)), cycle_length=1
            )
        )
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_interleave_of_unseeded_shuffles_follows_set_seed():
    def run():
        nnlib.random.set_seed(5)
        ds = Dataset.range(3).interleave(
            lambda v: Dataset.range(10).shuffle(10), cycle_length=3
        )
        return ints(ds)

    assert run() == run()
    assert sorted(run()) == sorted(list(range(10)) * 3)


def test_as_numpy_iterator_and_len():
    assert ints(Dataset.range(3).as_numpy_iterator()) == [0, 1, 2]
    assert len(Dataset.range(7).batch(2)) == 4
    with pytest.raises(TypeError, match="infinite"):
        len(Dataset.range(2).repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(Dataset.range(2).filter(lambda v: True))


def test_iterating_again_starts_again():
    ds = Dataset.range(5).map(lambda v: v + 1).batch(2)
    it = iter(ds)
    next(it)
    assert [b.tolist() for b in ds] == [[1, 2], [3, 4], [5]]
    assert next(it).tolist() == [3, 4]


def test_map_functions_receive_numpy_values():
    seen = []

    def fn(x, y):
        seen.append((type(x), type(y)))
        return x

    x = np.zeros((3, 2), np.float32)
    list(Dataset.from_tensor_slices((x, np.arange(3))).map(fn))
    list(Dataset.from_tensor_slices((x, np.arange(3))).batch(2).map(fn))
    assert all(issubclass(a, (np.ndarray, np.generic)) for pair in seen for a in pair)


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_are_fresh_writable_arrays_on_every_path(shuffle):
    x = np.zeros((6, 2))
    ds = Dataset.from_tensor_slices(x)
    ds = ds.shuffle(6, seed=0) if shuffle else ds
    for batch in (next(iter(ds.batch(4))), next(iter(ds.map(lambda r: r).batch(4)))):
        batch += 1.0
    assert not x.any()
