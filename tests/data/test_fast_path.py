"""Batching over slices gathers whole batches: no per-element work.

``nnlib.data._indexed.COUNTS`` counts how often a slices source served one
element ("element") or a whole batch ("batch").
"""

import numpy as np
import pytest

from nnlib.data import Dataset, _indexed


@pytest.fixture
def counts():
    _indexed.COUNTS.update(element=0, batch=0)
    return _indexed.COUNTS


def data(n=1000):
    rng = np.random.default_rng(0)
    return rng.random((n, 8)).astype(np.float32), np.arange(n)


@pytest.mark.parametrize(
    "pipeline",
    [
        lambda d: d.batch(32),
        lambda d: d.shuffle(1000, seed=0).batch(32),
        lambda d: d.shuffle(5000).batch(32, drop_remainder=True),
        lambda d: d.take(500).skip(10).shard(2, 1).batch(32),
        lambda d: d.shuffle(1000, seed=1).take(300).batch(50),
        lambda d: d.enumerate().batch(64),
        lambda d: Dataset.zip((d, Dataset.range(2000))).batch(32),
        lambda d: d.batch(32).map(lambda x, y: (x * 2, y)).prefetch(2),
    ],
)
def test_batching_over_slices_never_takes_single_elements(counts, pipeline):
    x, y = data()
    batches = list(pipeline(Dataset.from_tensor_slices((x, y))))
    assert batches
    assert counts["element"] == 0
    assert counts["batch"] >= len(batches)


def test_fast_batches_hold_the_right_rows_in_the_shuffled_order(counts):
    x, y = data()
    ds = Dataset.from_tensor_slices((x, y)).shuffle(1000, seed=4).batch(64)
    rows = np.concatenate([yb for _, yb in ds])
    assert sorted(rows.tolist()) == list(range(1000))
    for xb, yb in ds:
        np.testing.assert_array_equal(xb, x[yb])
    per_element = [
        int(e[1]) for e in Dataset.from_tensor_slices((x, y)).shuffle(1000, seed=4)
    ]
    assert rows.tolist() == per_element


def test_a_smaller_buffer_goes_per_element_and_stays_correct(counts):
    x, y = data(100)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(10, seed=0).batch(16)
    labels = np.concatenate([yb for _, yb in ds])
    assert sorted(labels.tolist()) == list(range(100))
    assert counts["element"] == 100


def test_a_map_before_batch_forces_the_per_element_path(counts):
    x, y = data(50)
    list(Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a, b)).batch(10))
    assert counts["element"] == 50


def test_memory_cache_makes_later_passes_gather_batches(counts):
    x, y = data(200)
    calls = []

    def scale(a, b):
        calls.append(1)
        return a * 2, b

    cached = Dataset.from_tensor_slices((x, y)).map(scale).cache()
    ds = cached.shuffle(200, seed=0).batch(20)
    first = list(ds)
    assert counts["element"] == 200 and len(calls) == 200
    counts.update(element=0, batch=0)
    second = list(ds)
    assert counts["element"] == 0 and len(calls) == 200
    for xb, yb in second:
        np.testing.assert_array_equal(xb, 2 * x[yb])
    assert [b[1].tolist() for b in first] != [b[1].tolist() for b in second]
