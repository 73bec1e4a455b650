"""The ways to create a dataset, as static methods of ``Dataset``."""

__all__ = ["Sources"]


class Sources:
    """Static constructors; ``Dataset`` inherits them.

    Examples:
        >>> from nnlib.data import Dataset
        >>> Dataset.from_tensor_slices(np.zeros((4, 2))).cardinality()
        4
    """

    @staticmethod
    def from_tensor_slices(tensors):
        """A dataset of the slices of ``tensors`` along their first axis.

        ``tensors`` is an array (or anything ``np.asarray`` takes: lists,
        nnlib tensors) or a tuple/namedtuple/dict of them, nested as you like;
        every element has the same nesting. The dataset keeps read-only views of
        the arrays (no copy): change an array afterwards and the dataset sees it.

        Args:
            tensors: Arrays with the same first dimension, possibly nested.

        Returns:
            A ``Dataset`` with ``len(first axis)`` elements.

        Raises:
            ValueError: If the components' first dimensions differ (the message
                names both lengths and the components), if a component is a
                scalar, or if there are no components.

        Examples:
            >>> from nnlib.data import Dataset
            >>> ds = Dataset.from_tensor_slices({"x": np.ones((3, 2)), "y": [0, 1, 2]})
            >>> element = next(iter(ds))
            >>> element["x"].shape, int(element["y"])
            ((2,), 0)
        """
        from ._indexed import Slices

        return Slices(tensors)

    @staticmethod
    def from_tensors(tensors):
        """A dataset with one element: ``tensors`` itself (arrays, nested).

        Args:
            tensors: An array or a nested tuple/dict of arrays.

        Returns:
            A ``Dataset`` of one element.

        Examples:
            >>> from nnlib.data import Dataset
            >>> [e.shape for e in Dataset.from_tensors(np.zeros((2, 3)))]
            [(2, 3)]
        """
        from ._indexed import FromTensors

        return FromTensors(tensors)

    @staticmethod
    def from_generator(generator, output_signature=None, args=()):
        """A dataset of what a Python generator yields.

        Like TensorFlow, ``generator`` is a callable that returns a new iterator
        (a generator function), called once per pass with ``*args``.

        Args:
            generator: A callable returning an iterator of elements.
            output_signature: Optional ``TensorSpec`` structure. When given,
                every element is checked against it (nesting, shape with
                ``None`` as a wildcard) and converted to its dtypes; without it
                the ``element_spec`` comes from the first element.
            args: Arguments for ``generator``.

        Returns:
            A ``Dataset`` of unknown cardinality.

        Raises:
            TypeError: If ``generator`` is not callable (pass the function,
                not a generator object).
            ValueError: While iterating, if an element does not fit
                ``output_signature`` (naming the expected and actual shape).

        Examples:
            >>> from nnlib.data import Dataset, TensorSpec
            >>> def gen():
            ...     for i in range(3):
            ...         yield np.full(2, i), i
            >>> sig = (TensorSpec((2,), "float32"), TensorSpec((), "int64"))
            >>> ds = Dataset.from_generator(gen, output_signature=sig)
            >>> x, y = next(iter(ds))
            >>> x.dtype, y.dtype
            (dtype('float32'), dtype('int64'))
        """
        from ._generator import FromGenerator

        return FromGenerator(generator, output_signature, args)

    @staticmethod
    def range(start, stop=None, step=1):
        """A dataset of int64 scalars, like Python's ``range``.

        Args:
            start: First value (or the stop value when ``stop`` is omitted).
            stop: End, excluded.
            step: Increment (not 0).

        Raises:
            ValueError: If ``step`` is 0.

        Examples:
            >>> from nnlib.data import Dataset
            >>> [int(v) for v in Dataset.range(1, 10, 3)]
            [1, 4, 7]
        """
        from ._indexed import Range

        return Range(start, stop, step)

    @staticmethod
    def zip(datasets, *more):
        """Combines datasets element by element, stopping with the shortest.

        Args:
            datasets: A tuple/dict (possibly nested) of datasets; the elements
                are nested the same way. ``Dataset.zip(a, b)`` is
                ``Dataset.zip((a, b))``.

        Raises:
            TypeError: If a leaf of ``datasets`` is not a ``Dataset``.

        Examples:
            >>> from nnlib.data import Dataset
            >>> ds = Dataset.zip((Dataset.range(3), Dataset.range(10, 20)))
            >>> [(int(a), int(b)) for a, b in ds]
            [(0, 10), (1, 11), (2, 12)]
        """
        from ._indexed import Zip

        return Zip((datasets, *more) if more else datasets)

    @staticmethod
    def list_files(file_pattern, shuffle=True, seed=None):
        """A dataset of the file names matching a glob pattern (or patterns).

        The names are found when the dataset is created, sorted, then shuffled
        on every pass when ``shuffle`` is True (as in TensorFlow).

        Args:
            file_pattern: A glob pattern (``*``, ``?``, ``[...]``) or a list.
            shuffle: Whether to shuffle the names (default True).
            seed: Seed of the shuffle; ``None`` draws from ``nnlib.random``.

        Raises:
            ValueError: If nothing matches (the message gives the patterns).

        Examples:
            >>> import os, tempfile
            >>> from nnlib.data import Dataset
            >>> folder = tempfile.mkdtemp()
            >>> for name in "ba":
            ...     open(os.path.join(folder, name + ".txt"), "w").close()
            >>> ds = Dataset.list_files(os.path.join(folder, "*.txt"), shuffle=False)
            >>> [os.path.basename(str(f)) for f in ds]
            ['a.txt', 'b.txt']
        """
        from ._generator import list_files

        return list_files(file_pattern, shuffle, seed)
