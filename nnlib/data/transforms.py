"""The transformations, as methods of ``Dataset`` (each returns a new dataset).

Implementations live in the private modules; these methods document them.
"""

__all__ = ["Transformations"]


class Transformations:
    """Methods that build a new dataset from ``self``; ``Dataset`` inherits them.

    Examples:
        >>> from nnlib.data import Dataset
        >>> [b.shape for b in Dataset.range(6).shuffle(6, seed=0).batch(4)]
        [(4,), (2,)]
    """

    def map(self, fn, num_parallel_calls=None):
        """Applies ``fn`` to every element.

        A tuple element is unpacked into positional arguments (``fn(x, y)``);
        any other element (a dict, an array, a namedtuple) is passed as one
        argument. ``fn`` gets numpy values and may return numpy values, Python
        numbers or nnlib tensors, nested in tuples/dicts (a list becomes a
        tuple); they are converted to numpy.

        Args:
            fn: The function.
            num_parallel_calls: ``None`` calls ``fn`` in the consumer's thread;
                an int (or ``AUTOTUNE``) runs that many calls at once on a
                thread pool. The output order is the input order either way.

        Returns:
            A ``Dataset`` with the same cardinality.

        Raises:
            DatasetError: While iterating, if ``fn`` raises: the message gives
                the element's index and the original exception is chained.

        Examples:
            >>> from nnlib.data import Dataset
            >>> ds = Dataset.from_tensor_slices(([1, 2, 3], [10, 20, 30]))
            >>> [int(v) for v in ds.map(lambda x, y: x + y, num_parallel_calls=2)]
            [11, 22, 33]
        """
        from ._threads import Map

        return Map(self, fn, num_parallel_calls)

    def filter(self, predicate):
        """Keeps the elements for which ``predicate`` returns True.

        ``predicate`` is called like ``map``'s function and must return a
        scalar bool. The cardinality becomes ``UNKNOWN``.

        Examples:
            >>> from nnlib.data import Dataset
            >>> [int(v) for v in Dataset.range(6).filter(lambda v: v % 2 == 0)]
            [0, 2, 4]
        """
        from ._basic import Filter

        return Filter(self, predicate)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        """Shuffles the elements with TensorFlow's buffer algorithm.

        A buffer of ``buffer_size`` elements is filled; each output is a random
        buffer element, replaced by the next input. A buffer at least as large
        as the dataset gives a uniform permutation (over slices, drawn at once,
        so ``batch`` after it stays a whole-batch gather).

        Args:
            buffer_size: Elements kept in the buffer (>= 1).
            seed: An int for a reproducible order; ``None`` draws from
                ``nnlib.random`` when each pass starts, so
                ``nnlib.random.set_seed`` makes runs reproducible.
            reshuffle_each_iteration: If True (default) every pass has a new
                order (with a seed: a reproducible sequence of orders).

        Raises:
            ValueError: If ``buffer_size`` < 1.

        Examples:
            >>> from nnlib.data import Dataset
            >>> ds = Dataset.range(5).shuffle(5, seed=0)
            >>> first, second = list(ds), list(ds)
            >>> sorted(int(v) for v in first)
            [0, 1, 2, 3, 4]
            >>> first == list(Dataset.range(5).shuffle(5, seed=0))
            True
        """
        from ._shuffle import Shuffle

        return Shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False):
        """Stacks consecutive elements into batches (a new first axis).

        Over slices (optionally shuffled with a full buffer, taken, skipped or
        sharded) each batch is gathered at once with ``array[indices]``.

        Args:
            batch_size: Elements per batch (>= 1).
            drop_remainder: Drop a last, smaller batch.

        Raises:
            ValueError: If ``batch_size`` < 1; while iterating, if elements of
                different shapes meet in a batch (use ``padded_batch``).

        Examples:
            >>> from nnlib.data import Dataset
            >>> [b.tolist() for b in Dataset.range(5).batch(2)]
            [[0, 1], [2, 3], [4]]
            >>> Dataset.range(5).batch(2, drop_remainder=True).cardinality()
            2
        """
        from ._batch import Batch

        return Batch(self, batch_size, drop_remainder)

    def padded_batch(
        self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False
    ):
        """Batches elements of different shapes, padding them to one shape.

        Args:
            batch_size: Elements per batch (>= 1).
            padded_shapes: ``None`` pads every axis to the longest in the
                batch; otherwise a shape per component (nested like the
                elements) whose ``None`` or -1 entries pad to the longest.
            padding_values: The fill, one scalar for all or one per
                component; default 0 (``""`` for strings).
            drop_remainder: Drop a last, smaller batch.

        Raises:
            ValueError: If a component is larger than its padded shape, or the
                ranks disagree (the message names the component and shapes).

        Examples:
            >>> from nnlib.data import Dataset
            >>> ds = Dataset.range(1, 4).map(lambda n: np.arange(n))
            >>> ds.padded_batch(3, padding_values=-1).as_numpy_iterator().__next__()
            array([[ 0, -1, -1],
                   [ 0,  1, -1],
                   [ 0,  1,  2]])
        """
        from ._batch import PaddedBatch

        return PaddedBatch(
            self, batch_size, padded_shapes, padding_values, drop_remainder
        )

    def unbatch(self):
        """Splits each element along its first axis (the reverse of ``batch``).

        Raises:
            ValueError: While iterating, for a scalar component or components
                whose first dimensions differ.

        Examples:
            >>> from nnlib.data import Dataset
            >>> [int(v) for v in Dataset.range(4).batch(3).unbatch()]
            [0, 1, 2, 3]
        """
        from ._batch import Unbatch

        return Unbatch(self)

    def repeat(self, count=None):
        """Repeats the dataset ``count`` times (``None`` or -1: forever).

        Each repetition is a new pass (shuffles reshuffle). Repeating an empty
        dataset forever yields nothing instead of hanging.

        Examples:
            >>> from nnlib.data import Dataset
            >>> [int(v) for v in Dataset.range(2).repeat(2)]
            [0, 1, 0, 1]
        """
        from ._basic import Repeat

        return Repeat(self, count)

    def take(self, count):
        """The first ``count`` elements (``-1``: all).

        Raises:
            ValueError: If ``count`` < -1.

        Examples:
            >>> from nnlib.data import Dataset
            >>> Dataset.range(10).take(3).cardinality()
            3
        """
        from ._indexed import Take

        return Take(self, count)

    def skip(self, count):
        """All but the first ``count`` elements (``-1``: skip all).

        Raises:
            ValueError: If ``count`` < -1.

        Examples:
            >>> from nnlib.data import Dataset
            >>> [int(v) for v in Dataset.range(5).skip(3)]
            [3, 4]
        """
        from ._indexed import Skip

        return Skip(self, count)

    def shard(self, num_shards, index):
        """Every ``num_shards``-th element, starting at ``index``.

        Raises:
            ValueError: If ``num_shards`` < 1 or ``index`` outside
                ``[0, num_shards)``.

        Examples:
            >>> from nnlib.data import Dataset
            >>> [int(v) for v in Dataset.range(7).shard(3, 1)]
            [1, 4]
        """
        from ._indexed import Shard

        return Shard(self, num_shards, index)

    def concatenate(self, other):
        """The elements of ``self``, then those of ``other``.

        Raises:
            TypeError: If the elements nest differently or their dtypes differ.

        Examples:
            >>> from nnlib.data import Dataset
            >>> [int(v) for v in Dataset.range(2).concatenate(Dataset.range(5, 7))]
            [0, 1, 5, 6]
        """
        from ._basic import Concatenate

        return Concatenate(self, other)

    def enumerate(self, start=0):
        """Pairs each element with its index: ``(np.int64 index, element)``.

        Examples:
            >>> from nnlib.data import Dataset
            >>> [(int(i), int(v)) for i, v in Dataset.range(5, 7).enumerate()]
            [(0, 5), (1, 6)]
        """
        from ._indexed import Enumerate

        return Enumerate(self, start)

    def cache(self, filename=""):
        """Keeps the elements of the first complete pass for the next passes.

        With ``filename=""`` they stay in memory (stacked into arrays when
        their shapes agree, so later ``shuffle``/``batch`` gather whole
        batches). With a file name, the first complete pass writes them to that
        file atomically (temporary file, then ``os.replace``); any later pass,
        in this process or another, reads the file while it exists. The format
        is a sequence of ``.npy`` records (never pickled): a JSON header, then
        each element's components; see ``nnlib/data/_cache.py``. A pass that
        stops early caches nothing.

        Examples:
            >>> from nnlib.data import Dataset
            >>> calls = []
            >>> ds = Dataset.range(3).map(lambda v: calls.append(1) or v).cache()
            >>> _ = list(ds), list(ds)
            >>> len(calls)
            3
        """
        from ._cache import Cache

        return Cache(self, filename)

    def prefetch(self, buffer_size):
        """Prepares up to ``buffer_size`` elements ahead on a background thread.

        The thread starts with the pass and stops when it ends or is abandoned
        (leaving the loop early); errors are raised in the consumer.

        Args:
            buffer_size: Elements kept ready (>= 1, or ``AUTOTUNE``).

        Examples:
            >>> from nnlib.data import Dataset
            >>> [int(v) for v in Dataset.range(3).prefetch(2)]
            [0, 1, 2]
        """
        from ._threads import Prefetch

        return Prefetch(self, buffer_size)

    def interleave(self, map_func, cycle_length=None, block_length=1):
        """Maps each element to a dataset and interleaves their elements.

        TensorFlow's order: ``cycle_length`` datasets are open at once;
        ``block_length`` elements are taken from each in turn, and an exhausted
        one is replaced by the dataset of the next input element.

        Args:
            map_func: Called like ``map``'s function; returns a ``Dataset``.
            cycle_length: Datasets open at once; ``None`` or ``AUTOTUNE``:
                ``os.cpu_count()`` (as TensorFlow; pass a number for an order
                that does not depend on the machine).
            block_length: Consecutive elements taken from each.

        Examples:
            >>> from nnlib.data import Dataset
            >>> ds = Dataset.range(1, 4).interleave(
            ...     lambda n: Dataset.from_tensors(n).repeat(2), cycle_length=2)
            >>> [int(v) for v in ds]
            [1, 2, 1, 2, 3, 3]
        """
        from ._basic import Interleave

        return Interleave(self, map_func, cycle_length, block_length)
