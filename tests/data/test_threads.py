"""Prefetch and parallel map: threads end with the pass, errors reach the consumer.

The autouse fixture in conftest.py also checks every data test for leaked
threads.
"""

import threading
import time

import numpy as np
import pytest

from nnlib.data import Dataset, DatasetError


def test_prefetch_yields_everything_in_order():
    ds = Dataset.range(100).map(lambda v: v * 3, num_parallel_calls=3).prefetch(4)
    assert [int(v) for v in ds] == [3 * i for i in range(100)]


def test_prefetch_thread_stops_when_the_loop_breaks():
    before = threading.active_count()
    for i, _ in enumerate(Dataset.range(10**9).prefetch(2)):
        assert threading.active_count() == before + 1
        if i == 5:
            break
    assert threading.active_count() == before


def test_abandoned_iterators_release_their_threads():
    before = threading.active_count()
    ds = Dataset.range(10**6).map(lambda v: v, num_parallel_calls=4).prefetch(3)
    it = iter(ds)
    next(it)
    assert threading.active_count() > before
    del it
    assert threading.active_count() == before
    it = iter(ds.repeat().prefetch(2))
    next(it)
    it.close()
    assert threading.active_count() == before


def test_an_iterator_never_started_owns_no_thread():
    before = threading.active_count()
    it = iter(Dataset.range(5).prefetch(1))
    assert threading.active_count() == before
    del it


def test_prefetch_stops_a_producer_blocked_on_a_slow_input():
    def slow(v):
        time.sleep(0.01)
        return v

    it = iter(Dataset.range(1000).map(slow).prefetch(1))
    next(it)
    start = time.perf_counter()
    it.close()
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("workers", [None, 2])
def test_map_errors_surface_through_prefetch(workers):
    def fn(v):
        if v == 3:
            raise RuntimeError("boom")
        return v

    ds = Dataset.range(10).map(fn, num_parallel_calls=workers).prefetch(2)
    seen = []
    with pytest.raises(DatasetError, match="element 3") as info:
        for v in ds:
            seen.append(int(v))
    assert seen == [0, 1, 2]
    assert isinstance(info.value.__cause__, RuntimeError)


def test_generator_errors_surface_through_prefetch():
    def gen():
        yield 1
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(Dataset.from_generator(gen).prefetch(2))


def test_nested_prefetch_and_parallel_maps_clean_up():
    ds = (
        Dataset.range(1000)
        .map(lambda v: v + 1, num_parallel_calls=2)
        .prefetch(2)
        .map(lambda v: v * 2, num_parallel_calls=2)
        .prefetch(2)
    )
    for i, v in enumerate(ds):
        if i == 10:
            break
    assert [int(v) for v in ds.take(3)] == [2, 4, 6]


def test_prefetch_overlaps_a_slow_map_with_a_slow_consumer():
    def slow(v):
        time.sleep(0.01)
        return v

    def run(ds):
        start = time.perf_counter()
        for _ in ds:
            time.sleep(0.01)
        return time.perf_counter() - start

    base = Dataset.range(20).map(slow)
    assert run(base.prefetch(2)) < 0.8 * run(base)


def test_one_dataset_iterated_by_two_loops_at_once():
    x = np.arange(200)
    ds = Dataset.from_tensor_slices(x).map(lambda v: v * 2).batch(7).prefetch(2)
    outputs = [[], []]

    def consume(k):
        for batch in ds:
            outputs[k].extend(batch.tolist())

    threads = [threading.Thread(target=consume, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outputs[0] == outputs[1] == list(2 * x)


def test_two_interleaved_iterators_of_one_dataset_are_independent():
    ds = Dataset.range(6).shuffle(6, seed=0, reshuffle_each_iteration=False).batch(2)
    a, b = iter(ds), iter(ds)
    first = [next(a).tolist(), next(b).tolist(), next(a).tolist(), next(b).tolist()]
    assert first[0] == first[1] and first[2] == first[3]
