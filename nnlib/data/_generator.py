"""Sources that read Python iterators and files."""

import glob
import os

import numpy as np

from . import _nest, _shapes
from ._core import as_iterator, close
from .dataset import Dataset
from .spec import UNKNOWN, TensorSpec

__all__ = ["TextLineDataset"]


class FromGenerator(Dataset):
    """``Dataset.from_generator``."""

    def __init__(self, generator, output_signature, args):
        where = "Dataset.from_generator"
        if not callable(generator):
            hint = (
                " (a generator object can be iterated only once: pass the "
                "generator function, e.g. from_generator(gen), not gen())"
                if hasattr(generator, "__next__")
                else ""
            )
            raise TypeError(
                f"{where}: expected a callable returning an iterator, got "
                f"{type(generator).__name__}{hint}"
            )
        if output_signature is not None:
            for path, leaf in zip(
                _nest.paths(output_signature), _nest.flatten(output_signature)
            ):
                if not isinstance(leaf, TensorSpec):
                    raise TypeError(
                        f"{where}: output_signature must be TensorSpecs, nested; "
                        f"{path} is {leaf!r}"
                    )
        self._generator = generator
        self._signature = output_signature
        self._args = tuple(args or ())

    def _open(self, ctx):
        return self._run()

    def _run(self):
        iterator = iter(self._generator(*self._args))
        signature = self._signature
        try:
            for index, value in enumerate(iterator):
                where = f"Dataset.from_generator (element {index})"
                if signature is None:
                    yield _nest.normalize(value, where, lists="array")
                    continue
                if isinstance(value, list) and isinstance(signature, tuple):
                    value = tuple(value)
                yield _shapes.check(value, signature, where)
        finally:
            close(iterator)

    def _spec(self, peek):
        if self._signature is not None:
            return self._signature
        return self._peek() if peek else None


def list_files(file_pattern, shuffle, seed):
    """``Dataset.list_files``: matching names, sorted, optionally shuffled."""
    patterns = file_pattern
    if isinstance(file_pattern, (str, os.PathLike)):
        patterns = [file_pattern]
    names = sorted({name for p in patterns for name in glob.glob(os.fspath(p))})
    if not names:
        raise ValueError(
            f"Dataset.list_files: no files match {[os.fspath(p) for p in patterns]}"
        )
    dataset = Dataset.from_tensor_slices(np.array(names))
    if shuffle:
        dataset = dataset.shuffle(len(names), seed=seed)
    return dataset


class TextLineDataset(Dataset):
    """A dataset of the lines of text files, one ``np.str_`` scalar per line.

    The line terminator (``\\n``, or ``\\r\\n``) is removed, as TensorFlow does.
    Files are read in order, lazily, one line at a time.

    Args:
        filenames: A file name, a list of them, or a ``Dataset`` of names
            (e.g. ``Dataset.list_files(...)``).
        encoding: Text encoding of the files (default UTF-8).

    Raises:
        FileNotFoundError: If a named file does not exist (checked at once for
            names given directly, at iteration for a dataset of names).

    Examples:
        >>> import os, tempfile
        >>> from nnlib.data import TextLineDataset
        >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
        >>> with open(path, "w") as f:
        ...     _ = f.write("first\\nsecond\\n")
        >>> [str(line) for line in TextLineDataset(path)]
        ['first', 'second']
    """

    def __init__(self, filenames, encoding="utf-8"):
        self._encoding = encoding
        self._names = None
        if isinstance(filenames, Dataset):
            self._inputs = (filenames,)
            return
        if (
            isinstance(filenames, (str, os.PathLike, np.str_))
            or np.ndim(filenames) == 0
        ):
            filenames = [filenames]
        self._names = [os.fspath(str(name)) for name in filenames]
        for name in self._names:
            if not os.path.isfile(name):
                raise FileNotFoundError(f"TextLineDataset: no such file: {name!r}")

    def _open(self, ctx):
        if self._names is not None:
            return self._lines(self._names)
        return self._lines(as_iterator(self._inputs[0]._open(ctx)))

    def _lines(self, names):
        try:
            for name in names:
                with open(str(name), "rb") as f:
                    for raw in f:
                        if raw.endswith(b"\n"):
                            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
                        yield np.str_(raw.decode(self._encoding))
        finally:
            close(names)

    def _cardinality(self):
        return UNKNOWN

    def _spec(self, peek):
        return TensorSpec((), "U")
