"""Datasets that can reach any element by position, so batches are gathered.

Each node's ``_open`` returns a ``Plan`` when its input did (see dataset.py),
and otherwise falls back to plain iteration with the same element order.
"""

import itertools

import numpy as np

from . import _nest
from ._core import Plan, as_iterator, close, gather, positions, remap
from .dataset import Dataset
from .spec import INFINITE, UNKNOWN, TensorSpec

# How often a slices source served one element or a whole batch: the tests read
# it to check that batching over slices gathers batches, never single elements.
COUNTS = {"element": 0, "batch": 0}


def check_count(value, where, minimum):
    """Validates an int argument (``bool`` is rejected) and returns it as int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{where} must be >= {minimum}, got {value}")
    return int(value)


class Slices(Dataset):
    """``Dataset.from_tensor_slices``: rows of arrays, nested."""

    def __init__(self, tensors):
        where = "Dataset.from_tensor_slices"
        leaves = _nest.flatten(tensors)
        if not leaves:
            raise ValueError(f"{where}: no arrays given ({tensors!r})")
        names = _nest.paths(tensors)
        arrays = []
        for name, leaf in zip(names, leaves):
            array = _nest.to_array(leaf, f"{where}: component {name}")
            if array.ndim == 0:
                raise ValueError(
                    f"{where}: component {name} is a scalar; slices need at least "
                    "one axis (use from_tensors for a single element)"
                )
            view = array.view()
            view.flags.writeable = False  # elements are views: keep the source safe
            arrays.append(view)
        for name, array in zip(names[1:], arrays[1:]):
            if len(array) != len(arrays[0]):
                raise ValueError(
                    f"{where}: all components need the same length along the first "
                    f"axis, but component {names[0]} has {len(arrays[0])} and "
                    f"component {name} has {len(array)}"
                )
        self._leaves = arrays
        self._template = _nest.pack(tensors, arrays)
        self._pack = _nest.packer(self._template)
        self._size = len(arrays[0])

    def _open(self, ctx):
        return Plan(self._size, self._take)

    def _take(self, pos):
        COUNTS["element" if isinstance(pos, (int, np.integer)) else "batch"] += 1
        return self._pack([gather(leaf, pos) for leaf in self._leaves])

    def _cardinality(self):
        return self._size

    def _spec(self, peek):
        return _nest.map_structure(
            lambda a: TensorSpec(a.shape[1:], a.dtype), self._template
        )


class FromTensors(Dataset):
    """``Dataset.from_tensors``: one element."""

    def __init__(self, tensors):
        where = "Dataset.from_tensors"
        names = _nest.paths(tensors)
        arrays = [
            _nest.to_array(leaf, f"{where}: component {name}")
            for name, leaf in zip(names, _nest.flatten(tensors))
        ]
        self._element = _nest.pack(
            tensors, [a[()] if a.ndim == 0 else a for a in arrays]
        )
        self._stacked = _nest.pack(tensors, [a[None] for a in arrays])

    def _open(self, ctx):
        return Plan(1, self._take)

    def _take(self, pos):
        if isinstance(pos, (int, np.integer)):
            return self._element
        return _nest.map_structure(lambda a: gather(a, pos), self._stacked)

    def _cardinality(self):
        return 1

    def _spec(self, peek):
        return _nest.map_structure(
            lambda a: TensorSpec(a.shape[1:], a.dtype), self._stacked
        )


class Range(Dataset):
    """``Dataset.range``: int64 scalars."""

    def __init__(self, start, stop=None, step=1):
        start, stop = (0, start) if stop is None else (start, stop)
        for name, value in (("start", start), ("stop", stop), ("step", step)):
            check_count(value, f"Dataset.range: {name}", -(2**62))
        if step == 0:
            raise ValueError("Dataset.range: step must not be 0")
        self._start, self._step = int(start), int(step)
        self._size = len(range(start, stop, step))

    def _open(self, ctx):
        return Plan(self._size, self._take)

    def _take(self, pos):
        return self._start + self._step * positions(pos)

    def _cardinality(self):
        return self._size

    def _spec(self, peek):
        return TensorSpec((), np.int64)


class Take(Dataset):
    def __init__(self, dataset, count):
        self._inputs = (dataset,)
        self._count = check_count(count, "take: count", -1)

    def _open(self, ctx):
        source = self._inputs[0]._open(ctx)
        if isinstance(source, Plan):
            size = source.size if self._count < 0 else min(source.size, self._count)
            return Plan(size, source.take)
        if self._count < 0:
            return source
        return _take_iter(source, self._count)

    def _cardinality(self):
        n = self._inputs[0]._cardinality()
        if self._count < 0 or n == UNKNOWN:
            return n
        return self._count if n == INFINITE else min(n, self._count)


def _take_iter(iterator, count):
    try:
        yield from itertools.islice(iterator, count)
    finally:
        close(iterator)


class Skip(Dataset):
    def __init__(self, dataset, count):
        self._inputs = (dataset,)
        self._count = check_count(count, "skip: count", -1)

    def _open(self, ctx):
        source = self._inputs[0]._open(ctx)
        if isinstance(source, Plan):
            skip = source.size if self._count < 0 else min(source.size, self._count)
            take = source.take
            return Plan(source.size - skip, lambda pos: take(remap(pos, skip)))
        return _skip_iter(source, self._count)

    def _cardinality(self):
        n = self._inputs[0]._cardinality()
        if n in (INFINITE, UNKNOWN):
            return n
        return 0 if self._count < 0 else max(0, n - self._count)


def _skip_iter(iterator, count):
    try:
        if count < 0:
            for _ in iterator:
                pass
            return
        next(itertools.islice(iterator, count, count), None)
        yield from iterator
    finally:
        close(iterator)


class Shard(Dataset):
    def __init__(self, dataset, num_shards, index):
        self._inputs = (dataset,)
        self._num = check_count(num_shards, "shard: num_shards", 1)
        self._index = check_count(index, "shard: index", 0)
        if self._index >= self._num:
            raise ValueError(
                f"shard: index must be < num_shards ({self._num}), got {self._index}"
            )

    def _open(self, ctx):
        source = self._inputs[0]._open(ctx)
        num, index = self._num, self._index
        if isinstance(source, Plan):
            take = source.take
            size = len(range(index, source.size, num))
            return Plan(size, lambda pos: take(remap(pos, index, num)))
        return _every(source, index, num)

    def _cardinality(self):
        n = self._inputs[0]._cardinality()
        if n in (INFINITE, UNKNOWN):
            return n
        return len(range(self._index, n, self._num))


def _every(iterator, start, step):
    try:
        yield from itertools.islice(iterator, start, None, step)
    finally:
        close(iterator)


class Enumerate(Dataset):
    def __init__(self, dataset, start):
        self._inputs = (dataset,)
        self._start = check_count(start, "enumerate: start", -(2**62))

    def _open(self, ctx):
        source = self._inputs[0]._open(ctx)
        start = self._start
        if isinstance(source, Plan):
            take = source.take
            return Plan(source.size, lambda pos: (start + positions(pos), take(pos)))
        return _enumerate(source, start)

    def _cardinality(self):
        return self._inputs[0]._cardinality()

    def _spec(self, peek):
        inner = self._inputs[0]._spec(peek)
        return None if inner is None else (TensorSpec((), np.int64), inner)


def _enumerate(iterator, start):
    try:
        for i, element in enumerate(iterator, start):
            yield np.int64(i), element
    finally:
        close(iterator)


class Zip(Dataset):
    """``Dataset.zip``: elements nested like the structure of datasets."""

    def __init__(self, datasets):
        leaves = _nest.flatten(datasets)
        for name, leaf in zip(_nest.paths(datasets), leaves):
            if not isinstance(leaf, Dataset):
                raise TypeError(
                    f"Dataset.zip: expected datasets, but {name} is a "
                    f"{type(leaf).__name__}"
                )
        if not leaves:
            raise ValueError("Dataset.zip: no datasets given")
        self._inputs = tuple(leaves)
        self._structure = datasets
        self._pack = _nest.packer(datasets)

    def _open(self, ctx):
        sources = [node._open(ctx) for node in self._inputs]
        pack = self._pack
        if all(isinstance(s, Plan) for s in sources):
            takes = [s.take for s in sources]
            size = min(s.size for s in sources)
            return Plan(size, lambda pos: pack([take(pos) for take in takes]))
        return _zip_iter([as_iterator(s) for s in sources], pack)

    def _cardinality(self):
        result = INFINITE
        for node in self._inputs:
            n = node._cardinality()
            if n == UNKNOWN:
                return UNKNOWN
            if n != INFINITE and (result == INFINITE or n < result):
                result = n
        return result

    def _spec(self, peek):
        specs = [node._spec(peek) for node in self._inputs]
        if any(s is None for s in specs):
            return None
        return _nest.pack(self._structure, specs)


def _zip_iter(iterators, pack):
    try:
        for items in zip(*iterators):
            yield pack(list(items))
    finally:
        for iterator in iterators:
            close(iterator)
