"""cache(): in memory and in a file, written atomically on a complete pass."""

import collections
import os

import numpy as np
import pytest

from nnlib.data import Dataset


def counted(n=5):
    calls = []

    def fn(v):
        calls.append(int(v))
        return {"x": np.full(3, v, np.float32), "label": v}

    return Dataset.range(n).map(fn), calls


def values(ds):
    return [(e["x"].tolist(), int(e["label"])) for e in ds]


def test_memory_cache_runs_the_pipeline_once():
    ds, calls = counted()
    cached = ds.cache()
    first = values(cached)
    assert values(cached) == first and len(calls) == 5
    assert cached.cardinality() == 5


def test_memory_cache_of_an_abandoned_pass_caches_nothing():
    ds, calls = counted()
    cached = ds.cache()
    for i, _ in enumerate(cached):
        if i == 1:
            break
    assert len(values(cached)) == 5
    assert len(calls) == 2 + 5
    values(cached)
    assert len(calls) == 7


def test_memory_cache_keeps_ragged_elements_as_they_are():
    ds = Dataset.range(1, 4).map(lambda n: np.arange(n)).cache()
    first = [e.tolist() for e in ds]
    assert [e.tolist() for e in ds] == first == [[0], [0, 1], [0, 1, 2]]


def test_file_cache_writes_once_and_is_read_by_a_new_pipeline(tmp_path):
    path = tmp_path / "cache.npys"
    ds, calls = counted()
    first = values(ds.cache(str(path)))
    assert path.exists() and len(calls) == 5
    fresh, fresh_calls = counted()
    assert values(fresh.cache(path)) == first
    assert fresh_calls == []
    assert [p.name for p in tmp_path.iterdir()] == ["cache.npys"]


def test_file_cache_of_an_abandoned_or_failing_pass_leaves_no_file(tmp_path):
    path = tmp_path / "c"
    ds, _ = counted()
    for i, _ in enumerate(ds.cache(path)):
        if i == 2:
            break
    assert list(tmp_path.iterdir()) == []

    def fail(v):
        if v == 3:
            raise ValueError("no")
        return v

    with pytest.raises(Exception, match="no"):
        list(Dataset.range(5).map(fail).cache(path))
    assert list(tmp_path.iterdir()) == []


def test_file_cache_keeps_nesting_dtypes_and_scalars(tmp_path):
    P = collections.namedtuple("P", "a b")
    x = np.arange(6, dtype=np.int16).reshape(3, 2)
    source = Dataset.from_tensor_slices(
        ({"img": x, "name": np.array(["a", "bb", "ccc"])}, P(np.arange(3.0), x))
    )
    path = tmp_path / "nested"
    expected = list(source.cache(path))
    again = list(Dataset.range(0).cache(path))  # the file alone, not the input
    for got, want in zip(again, expected):
        assert got[0]["img"].dtype == np.int16
        np.testing.assert_array_equal(got[0]["img"], want[0]["img"])
        assert str(got[0]["name"]) == str(want[0]["name"])
        assert got[1]._fields == ("a", "b") and float(got[1].a) == float(want[1].a)
        assert isinstance(got[1].a, np.float64)


def test_file_cache_of_an_empty_dataset(tmp_path):
    path = tmp_path / "empty"
    assert list(Dataset.range(0).cache(path)) == []
    assert path.exists() and list(Dataset.range(3).cache(path)) == []


def test_a_foreign_or_damaged_cache_file_is_named(tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"not a cache")
    with pytest.raises(ValueError, match="junk is not an nnlib dataset cache"):
        list(Dataset.range(3).cache(path))
    good = tmp_path / "good"
    list(Dataset.range(50).cache(good))
    data = good.read_bytes()
    good.write_bytes(data[: len(data) - 70])
    with pytest.raises(ValueError, match="damaged"):
        list(Dataset.range(50).cache(good))


def test_cache_file_is_plain_npy_records(tmp_path):
    path = tmp_path / "plain"
    list(Dataset.range(2).cache(path))
    with open(path, "rb") as f:
        header = np.lib.format.read_array(f, allow_pickle=False)
        assert '"format": "nnlib.data.cache"' in str(header)
        assert [int(np.lib.format.read_array(f)) for _ in range(2)] == [0, 1]
        assert f.read() == b""
    assert os.path.getsize(path) > 0
