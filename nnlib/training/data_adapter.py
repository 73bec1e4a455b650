"""Turning what ``fit`` is given (arrays, tensors, a Dataset) into batches.

Arrays are checked before the first step (equal lengths, not empty), split for
validation, shuffled each epoch from ``nnlib.random`` and cut into batches by
indexing whole batches at once. A Dataset is iterated as it is.
"""

import math

import numpy as np

from .. import random as _random
from ..engine import nest
from ..engine.tensor import Tensor

__all__ = [
    "ArrayBatches",
    "DatasetBatches",
    "StepBatches",
    "adapt",
    "is_dataset",
    "split_validation",
    "unpack",
]


def unpack(data):
    """``(x, y, sample_weight)`` from a batch given as ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``; missing parts are None (Keras's convention)."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data
        raise ValueError(
            f"a batch must be x, (x, y) or (x, y, sample_weight); got a tuple "
            f"of {len(data)} elements"
        )
    return data, None, None


def is_dataset(x):
    """Whether ``x`` is a Dataset (anything with a cardinality that iterates)."""
    return (
        hasattr(x, "cardinality")
        and hasattr(x, "__iter__")
        and not isinstance(x, (np.ndarray, Tensor, list, tuple, dict))
    )


def _as_arrays(structure):
    if structure is None:
        return None
    return nest.pack_as(
        structure, [np.asarray(leaf) for leaf in nest.flatten(structure)]
    )


def _length(structure, what):
    lengths = {
        np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in nest.flatten(structure)
    }
    if None in lengths:
        raise ValueError(f"{what} must have a batch axis; got a scalar")
    if len(lengths) > 1:
        raise ValueError(
            f"the arrays in {what} have different numbers of samples: {sorted(lengths)}"
        )
    return lengths.pop()


def _take(structure, index):
    if structure is None:
        return None
    return nest.pack_as(structure, [leaf[index] for leaf in nest.flatten(structure)])


class ArrayBatches:
    """Batches of in-memory arrays, reshuffled every epoch when asked.

    Args:
        x: An array, a Tensor, or a list/tuple/dict of them (several inputs).
        y: Targets of the same length, or None.
        sample_weight: Per-sample weights, or None.
        batch_size: Samples per batch.
        shuffle: Draw a new order each epoch from ``nnlib.random``.

    Raises:
        ValueError: For mismatched lengths ("x has 8 samples, y has 5"), no
            samples, or a batch size below 1.

    Examples:
        >>> batches = ArrayBatches(np.zeros((5, 2)), np.arange(5), batch_size=2)
        >>> batches.steps, [len(y) for _, y, _ in batches]
        (3, [2, 2, 1])
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise ValueError(
                f"batch_size must be a positive integer, got {batch_size!r}"
            )
        self.x, self.y, self.sample_weight = (
            _as_arrays(x),
            _as_arrays(y),
            _as_arrays(sample_weight),
        )
        n = _length(self.x, "x")
        for name, part in (("y", self.y), ("sample_weight", self.sample_weight)):
            if part is not None and _length(part, name) != n:
                raise ValueError(f"x has {n} samples, {name} has {_length(part, name)}")
        if n == 0:
            raise ValueError("got 0 samples: there is nothing to train or evaluate on")
        self.num_samples = n
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.steps = math.ceil(n / self.batch_size)

    def __iter__(self):
        n = self.num_samples
        order = _random.get_generator().permutation(n) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            index = (
                slice(start, start + self.batch_size)
                if order is None
                else order[start : start + self.batch_size]
            )
            yield (
                _take(self.x, index),
                _take(self.y, index),
                _take(self.sample_weight, index),
            )


class DatasetBatches:
    """The batches of an ``nnlib.data.Dataset`` yielding x, (x, y) or (x, y, w).

    ``steps`` is the dataset's cardinality when known (None when unknown or
    infinite: then ``steps_per_epoch`` must bound an epoch).
    """

    def __init__(self, dataset, steps=None):
        self.dataset = dataset
        cardinality = int(dataset.cardinality())
        self.cardinality = cardinality
        known = cardinality if cardinality >= 0 else None
        if cardinality == -1 and steps is None:
            raise ValueError(
                "the dataset repeats forever: pass steps_per_epoch (or steps) "
                "so an epoch ends"
            )
        self.steps = steps if steps is not None else known

    def __iter__(self):
        for data in self.dataset:
            yield unpack(data)


class StepBatches:
    """``steps`` batches an epoch from one stream of batches, as Keras 3 reads them.

    Epochs go on where the previous one stopped. When the data runs out before
    ``steps`` batches, the epoch ends there (``ran_out`` then holds the number
    of steps it ran, for the caller's warning), and the next epoch begins a new
    pass over the data (reshuffled arrays, a Dataset iterated again); so does
    the epoch after one that used the last batch exactly. A pass's length is
    the number of batches when known, else found when the data first runs out.

    Examples:
        >>> batches = StepBatches(ArrayBatches(np.arange(5)[:, None], batch_size=2), 2)
        >>> [[int(x[0, 0]) for x, _, _ in batches] for epoch in range(2)]
        [[0, 2], [4]]
        >>> batches.ran_out            # the second epoch ran 1 step of 2
        1
        >>> [int(x[0, 0]) for x, _, _ in batches]  # a new pass
        [0, 2]
    """

    def __init__(self, batches, steps):
        self.batches, self.steps = batches, int(steps)
        known = getattr(batches, "cardinality", getattr(batches, "steps", None))
        self.per_pass = known if known is not None and known >= 0 else None
        self.ran_out = None  # steps of the latest epoch, if the data ran out
        self._iterator, self._seen = None, 0

    def __iter__(self):
        self.ran_out = None
        if self._iterator is None:
            self._iterator, self._seen = iter(self.batches), 0
        step = 0
        while step < self.steps:
            if self.per_pass is not None and self._seen >= self.per_pass:
                self.ran_out = step
                break
            try:
                batch = next(self._iterator)
            except StopIteration:
                self.per_pass = self._seen
                if step == 0 and self._seen:  # the last epoch took the last batch
                    self._iterator, self._seen = iter(self.batches), 0
                    continue
                self.ran_out = step
                break
            self._seen += 1
            step += 1
            yield batch
        if self.per_pass is not None and self._seen >= self.per_pass:
            self._iterator = None  # the next epoch starts a new pass

    def ran_out_message(self, owner, epoch=None):
        """The warning for an epoch that ended early: what ran, and what to set.

        Examples:
            >>> batches = StepBatches(ArrayBatches(np.zeros((5, 1)), batch_size=2), 4)
            >>> _ = list(batches)
            >>> batches.ran_out_message("evaluate")
            'evaluate: the input ran out of data after 3 of 4 steps (the arrays make 3 batches); stopping there, as Keras does. Pass steps=None to read all the data once.'
        """
        dataset = isinstance(self.batches, DatasetBatches)
        source = "the Dataset makes" if dataset else "the arrays make"
        size = "" if self.per_pass is None else f"{self.per_pass} batches"
        if owner != "fit":
            made = f" ({source} {size})" if size else ""
            return (
                f"{owner}: the input ran out of data after {self.ran_out} of "
                f"{self.steps} steps{made}; stopping there, as Keras does. Pass "
                "steps=None to read all the data once."
            )
        made = f" ({source} {size} a pass)" if size else ""
        divides = f"divides {self.per_pass}" if size else "divides a pass"
        repeat = (
            f"repeat the Dataset (dataset.repeat()) to read {self.steps} steps "
            "every epoch, or "
            if dataset
            else ""
        )
        return (
            f"fit: the input ran out of data after {self.ran_out} of {self.steps} "
            f"steps of epoch {epoch + 1}{made}; the epoch ends there, as in Keras, "
            f"and the next one starts a new pass. For epochs of equal length, "
            f"{repeat}pass a steps_per_epoch that {divides}, or None (one pass an "
            "epoch)."
        )


def adapt(x, y=None, sample_weight=None, batch_size=32, shuffle=False, steps=None):
    """Returns an iterable of ``(x, y, sample_weight)`` batches with a ``steps`` count.

    With ``steps``, a ``StepBatches``: that many batches an epoch, continuing
    across epochs, and fewer when the data runs out.

    Raises:
        ValueError: For a Dataset given with ``y`` or ``sample_weight`` (they
            belong inside it), and the errors of ``ArrayBatches``.
    """
    if is_dataset(x):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "when x is a Dataset, y and sample_weight must come from it "
                "(as (x, y) or (x, y, sample_weight) elements)"
            )
        batches = DatasetBatches(x, steps)
    else:
        batches = ArrayBatches(x, y, sample_weight, batch_size, shuffle)
    if steps is None:
        return batches
    limited = StepBatches(batches, steps)
    limited.num_samples = getattr(batches, "num_samples", None)
    return limited


def split_validation(x, y, sample_weight, validation_split):
    """Splits off the last ``validation_split`` fraction of the arrays (as Keras).

    Returns:
        ``((x, y, w) for training, (x, y, w) for validation)``.

    Raises:
        ValueError: For a fraction outside (0, 1), a Dataset, or a split that
            leaves either part empty.
    """
    if not 0 < validation_split < 1:
        raise ValueError(
            f"validation_split must be in (0, 1), got {validation_split!r}"
        )
    if is_dataset(x):
        raise ValueError(
            "validation_split needs arrays; with a Dataset pass validation_data instead"
        )
    x = _as_arrays(x)
    n = _length(x, "x")
    cut = int(n * (1 - validation_split))
    if cut == 0 or cut == n:
        raise ValueError(
            f"validation_split={validation_split} of {n} samples leaves an "
            "empty training or validation set"
        )
    first, last = slice(0, cut), slice(cut, None)
    parts = (x, _as_arrays(y), _as_arrays(sample_weight))
    return tuple(_take(p, first) for p in parts), tuple(_take(p, last) for p in parts)
