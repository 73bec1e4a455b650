"""``Dataset.shuffle``: TensorFlow's buffer algorithm, or one permutation.

When the input can be reached by position and the buffer holds all of it, the
shuffle is a single ``rng.permutation`` and batches are gathered with it. The
buffer algorithm empties its last full buffer in the order of a permutation
drawn the same way, so a full-buffer shuffle gives the same order on either
path (``from_tensor_slices(x).shuffle(n, seed=0)`` and
``from_tensor_slices(x).map(f).shuffle(n, seed=0)`` agree).

Seeds: with ``seed`` given, pass ``k`` of a reshuffling dataset uses the
generator ``PCG64([seed, k])`` (pass 0 every time without reshuffling), so a
rebuilt pipeline repeats the same sequence of orders. With ``seed=None`` the
pass's context supplies the generator, seeded from ``nnlib.random`` when the
pass starts.
"""

import itertools
import threading

import numpy as np

from .. import random as _random
from .._args import boolean
from ._core import Plan, as_iterator, close
from ._indexed import check_count
from .dataset import Dataset

# Random slot indices are drawn this many at a time: one numpy call per chunk
# instead of one per element.
_CHUNK = 1024


class Shuffle(Dataset):
    def __init__(self, dataset, buffer_size, seed, reshuffle_each_iteration):
        self._inputs = (dataset,)
        self._buffer = check_count(buffer_size, "shuffle: buffer_size", 1)
        if seed is not None:
            seed = check_count(seed, "shuffle: seed", 0)
        self._seed = seed
        self._reshuffle = boolean(
            reshuffle_each_iteration, "reshuffle_each_iteration", "shuffle"
        )
        self._passes = itertools.count()
        self._fixed = None
        self._lock = threading.Lock()

    def _needs_pass_seed(self):
        return self._seed is None and self._reshuffle

    def _prepare(self, ctx):
        if self._seed is None and not self._reshuffle and not ctx.peek:
            with self._lock:
                if self._fixed is None:
                    self._fixed = int(_random.get_generator().integers(2**63))

    def _rng(self, ctx):
        if self._seed is not None:
            rank = next(self._passes) if self._reshuffle else 0
            return np.random.Generator(np.random.PCG64([self._seed, rank]))
        if self._reshuffle:
            return ctx.rng(self)
        return np.random.Generator(np.random.PCG64(self._fixed))

    def _open(self, ctx):
        source = self._inputs[0]._open(ctx)
        if ctx.peek:  # element_spec needs one element, not a filled buffer
            return source
        rng = self._rng(ctx)
        if isinstance(source, Plan) and self._buffer >= source.size:
            order = rng.permutation(source.size)
            take = source.take
            return Plan(source.size, lambda pos: take(order[pos]))
        return _buffer_shuffle(as_iterator(source), self._buffer, rng)

    def _cardinality(self):
        return self._inputs[0]._cardinality()


def _buffer_shuffle(iterator, size, rng):
    """Fill a buffer; then emit a random slot and refill it from the input."""
    try:
        buffer = list(itertools.islice(iterator, size))
        draws = iter(())
        for element in iterator:
            slot = next(draws, None)
            if slot is None:
                draws = iter(rng.integers(size, size=_CHUNK).tolist())
                slot = next(draws)
            yield buffer[slot]
            buffer[slot] = element
        for slot in rng.permutation(len(buffer)).tolist():
            yield buffer[slot]
    finally:
        close(iterator)
