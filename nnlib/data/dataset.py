"""The ``Dataset`` base class: a description of a pipeline, iterated on demand.

A ``Dataset`` holds no iterator state: every ``iter(dataset)`` opens a fresh
pass through its inputs (``_open``), so two loops may iterate one dataset at
once (what is shared on purpose, a seeded shuffle's pass counter and a cache, is
thread-safe). Opening a node gives either an iterator of elements or, for the datasets
that can reach any element by position (slices, ranges and the index
transformations over them: full shuffles, take, skip, shard, zip, enumerate), a
``Plan`` (see ``_core.py``): its ``take(pos)`` accepts an int (one element), a
slice or an int array (a whole batch gathered with ``array[indices]``). ``batch``
asks its input for a plan first, so ``from_tensor_slices(...).shuffle(n)
.batch(b)`` does no per-example Python work.

Elements are numpy arrays (numpy scalars for scalar components) nested like the
source: a tuple stays a tuple, a dict a dict. Elements sliced from a source array
are read-only views of it; batches are always fresh, writable arrays.
"""

from ._core import Context, as_iterator, close
from ._shapes import spec_of
from .sources import Sources
from .spec import INFINITE, UNKNOWN
from .transforms import Transformations

__all__ = ["Dataset"]


class Dataset(Sources, Transformations):
    """A pipeline of elements: create one with a source, chain transformations.

    Iterating yields numpy arrays (numpy scalars for scalar components) nested
    like the source; functions given to ``map``/``filter`` receive numpy values
    too. Each ``iter()`` starts from the beginning.

    Examples:
        >>> from nnlib.data import Dataset
        >>> x = np.arange(10, dtype=np.float32).reshape(5, 2)
        >>> y = np.arange(5)
        >>> ds = Dataset.from_tensor_slices((x, y)).shuffle(5, seed=0).batch(2)
        >>> [tuple(b.shape for b in batch) for batch in ds]
        [((2, 2), (2,)), ((2, 2), (2,)), ((1, 2), (1,))]
        >>> ds.cardinality()
        3
    """

    _inputs = ()

    def __iter__(self):
        return as_iterator(self._open(Context(self)))

    def as_numpy_iterator(self):
        """Returns an iterator of numpy elements (the same as ``iter(self)``).

        Examples:
            >>> from nnlib.data import Dataset
            >>> [int(v) for v in Dataset.range(3).as_numpy_iterator()]
            [0, 1, 2]
        """
        return iter(self)

    def cardinality(self):
        """The number of elements, or ``INFINITE`` (-1) or ``UNKNOWN`` (-2).

        Known without iterating through slices, ranges, ``batch``, ``take``,
        ``skip``, ``repeat(n)``, ``map``, ``zip``, ``concatenate``,
        ``enumerate``, ``shard``, ``shuffle``, ``prefetch`` and ``cache``;
        unknown after ``filter``, ``from_generator``, ``unbatch`` and
        ``interleave``; infinite after ``repeat()``.

        Examples:
            >>> from nnlib.data import Dataset, INFINITE
            >>> Dataset.range(10).batch(3).cardinality()
            4
            >>> Dataset.range(10).repeat().cardinality() == INFINITE
            True
        """
        return int(self._cardinality())

    def __len__(self):
        n = self.cardinality()
        if n == INFINITE:
            raise TypeError("the dataset is infinite: it has no len()")
        if n == UNKNOWN:
            raise TypeError(
                "the dataset's length is unknown (after filter, from_generator, "
                "unbatch or interleave); iterate it to count"
            )
        return n

    @property
    def element_spec(self):
        """The ``TensorSpec`` of each component, nested like the elements.

        The batch axis added by ``batch`` is ``None`` (``batch_size`` with
        ``drop_remainder=True``, as in TensorFlow). Where the spec cannot be read
        from the pipeline (after ``map``, ``interleave``, or ``from_generator``
        without ``output_signature``), it is taken from the first element of a
        pass with shuffling and prefetching turned off, which calls your
        functions once.

        Examples:
            >>> from nnlib.data import Dataset
            >>> x = np.zeros((6, 4), np.float32)
            >>> Dataset.from_tensor_slices({"x": x}).batch(2).element_spec
            {'x': TensorSpec(shape=(None, 4), dtype=float32)}
        """
        spec = self.__dict__.get("_element_spec")
        if spec is None:
            spec = self._spec(peek=True)
            self._element_spec = spec
        return spec

    def __repr__(self):
        try:
            spec = self._spec(peek=False)
        except (TypeError, ValueError):
            spec = None
        shown = "..." if spec is None else spec
        return f"<{type(self).__name__} element_spec={shown}>"

    # Internal protocol, overridden by the nodes.

    def _open(self, ctx):
        """Starts one pass: returns a ``_Plan`` or an iterator of elements."""
        raise NotImplementedError(f"{type(self).__name__} cannot be iterated")

    def _cardinality(self):
        return UNKNOWN

    def _spec(self, peek):
        """The element spec; ``None`` if it needs a peek and ``peek`` is False."""
        if self._inputs:
            return self._inputs[0]._spec(peek)
        return self._peek() if peek else None

    def _peek(self):
        it = as_iterator(self._open(Context(self, peek=True)))
        try:
            first = next(it)
        except StopIteration:
            raise ValueError(
                f"cannot infer the element_spec of an empty {type(self).__name__}"
            ) from None
        finally:
            close(it)
        return spec_of(first)

    def _prepare(self, ctx):
        """Hook run for every node when a pass starts (before any thread)."""

    def _needs_pass_seed(self):
        """True for nodes that draw randomness without a seed of their own."""
        return False
