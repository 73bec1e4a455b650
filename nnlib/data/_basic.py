"""Element-order transformations: repeat, concatenate, filter, interleave."""

import os

import numpy as np

from . import _shapes
from ._core import as_iterator, close
from ._indexed import check_count
from .dataset import Dataset
from .spec import INFINITE, UNKNOWN, DatasetError


def call(fn, element):
    """Calls a user function the TensorFlow way: a tuple is unpacked into args."""
    return fn(*element) if type(element) is tuple else fn(element)


def function_name(fn):
    return getattr(fn, "__qualname__", None) or repr(fn)


def function_error(where, fn, index, err):
    """The ``DatasetError`` for ``fn`` raising ``err`` on element ``index``."""
    return DatasetError(
        f"{where}: the function {function_name(fn)} raised {type(err).__name__} "
        f"on element {index} (counted from 0 in this pass): {err}"
    )


def check_function(fn, where):
    if not callable(fn):
        raise TypeError(f"{where}: expected a callable, got {type(fn).__name__}")
    return fn


class Repeat(Dataset):
    def __init__(self, dataset, count):
        self._inputs = (dataset,)
        count = -1 if count is None else count
        self._count = check_count(count, "repeat: count", -1)

    def _open(self, ctx):
        return self._run(ctx)

    def _run(self, ctx):
        done = 0
        while self._count < 0 or done < self._count:
            iterator = as_iterator(self._inputs[0]._open(ctx))
            empty = True
            try:
                for element in iterator:
                    empty = False
                    yield element
            finally:
                close(iterator)
            if empty:  # repeating an empty dataset forever would never return
                return
            done += 1

    def _cardinality(self):
        n = self._inputs[0]._cardinality()
        if self._count < 0:
            return 0 if n == 0 else INFINITE
        if self._count == 0:
            return 0
        return n if n in (INFINITE, UNKNOWN) else n * self._count


class Concatenate(Dataset):
    def __init__(self, dataset, other):
        if not isinstance(other, Dataset):
            raise TypeError(
                f"concatenate: expected a Dataset, got {type(other).__name__}"
            )
        self._inputs = (dataset, other)
        first, second = dataset._spec(False), other._spec(False)
        if first is not None and second is not None:
            _shapes.merge(first, second, "concatenate")

    def _open(self, ctx):
        return self._run(ctx)

    def _run(self, ctx):
        for node in self._inputs:
            iterator = as_iterator(node._open(ctx))
            try:
                yield from iterator
            finally:
                close(iterator)

    def _cardinality(self):
        a, b = (node._cardinality() for node in self._inputs)
        if INFINITE in (a, b):
            return INFINITE
        if UNKNOWN in (a, b):
            return UNKNOWN
        return a + b

    def _spec(self, peek):
        first, second = (node._spec(peek) for node in self._inputs)
        if first is None or second is None:
            return None
        return _shapes.merge(first, second, "concatenate")


class Filter(Dataset):
    def __init__(self, dataset, predicate):
        self._inputs = (dataset,)
        self._predicate = check_function(predicate, "filter")

    def _open(self, ctx):
        return self._run(as_iterator(self._inputs[0]._open(ctx)))

    def _run(self, iterator):
        predicate = self._predicate
        try:
            for index, element in enumerate(iterator):
                try:
                    keep = call(predicate, element)
                except Exception as err:
                    raise function_error("filter", predicate, index, err) from err
                if _truth(keep, predicate, index):
                    yield element
        finally:
            close(iterator)

    def _cardinality(self):
        return UNKNOWN


def _truth(value, predicate, index):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    array = np.asarray(value)
    if array.shape != () or array.dtype != bool:
        raise TypeError(
            f"filter: the predicate {function_name(predicate)} must return a scalar "
            f"bool, got {type(value).__name__} of dtype {array.dtype} and shape "
            f"{array.shape} on element {index}"
        )
    return bool(array)


class Interleave(Dataset):
    def __init__(self, dataset, map_func, cycle_length, block_length):
        self._inputs = (dataset,)
        self._fn = check_function(map_func, "interleave")
        if cycle_length is None or cycle_length == -1:  # TensorFlow's AUTOTUNE
            cycle_length = os.cpu_count() or 1
        self._cycle = check_count(cycle_length, "interleave: cycle_length", 1)
        self._block = check_count(block_length, "interleave: block_length", 1)

    def _needs_pass_seed(self):
        return True  # the datasets map_func makes may shuffle without a seed

    def _open(self, ctx):
        return self._run(as_iterator(self._inputs[0]._open(ctx)), ctx)

    def _child(self, element, index, ctx):
        try:
            dataset = call(self._fn, element)
        except Exception as err:
            raise function_error("interleave", self._fn, index, err) from err
        if not isinstance(dataset, Dataset):
            raise TypeError(
                f"interleave: the function {function_name(self._fn)} must return a "
                f"Dataset, got {type(dataset).__name__} on element {index}"
            )
        return as_iterator(dataset._open(ctx.child(dataset)))

    def _run(self, inputs, ctx):
        """TensorFlow's sequential interleave: ``block`` from each of ``cycle``."""
        slots = [None] * self._cycle
        index = block = opened = made = 0
        exhausted = False
        try:
            while not exhausted or opened:
                if slots[index] is not None:
                    element = next(slots[index], _END)
                    if element is not _END:
                        block += 1
                        if block == self._block:
                            index, block = (index + 1) % self._cycle, 0
                        yield element
                        continue
                    close(slots[index])
                    slots[index] = None
                    opened -= 1
                    index, block = (index + 1) % self._cycle, 0
                elif not exhausted:
                    element = next(inputs, _END)
                    if element is _END:
                        exhausted = True
                    else:
                        slots[index] = self._child(element, made, ctx)
                        made += 1
                        opened += 1
                else:
                    index, block = (index + 1) % self._cycle, 0
        finally:
            for slot in slots:
                if slot is not None:
                    close(slot)
            close(inputs)

    def _cardinality(self):
        return UNKNOWN

    def _spec(self, peek):
        return self._peek() if peek else None


_END = object()
