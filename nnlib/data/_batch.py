"""``batch``, ``padded_batch`` and ``unbatch``.

``batch`` over a plan (slices, possibly shuffled, taken, sharded) gathers each
batch with one ``take(slice)``: one fancy index per component, no per-element
Python. Otherwise it stacks ``batch_size`` elements component by component.
"""

import itertools

import numpy as np

from .._args import boolean
from . import _nest, _shapes
from ._core import Plan, as_iterator, close
from ._indexed import check_count
from .dataset import Dataset
from .spec import INFINITE, UNKNOWN, TensorSpec


class Batch(Dataset):
    _where = "batch"

    def __init__(self, dataset, batch_size, drop_remainder):
        self._inputs = (dataset,)
        self._size = check_count(batch_size, f"{self._where}: batch_size", 1)
        self._drop = boolean(drop_remainder, "drop_remainder", self._where)

    def _open(self, ctx):
        source = self._inputs[0]._open(ctx)
        if isinstance(source, Plan):
            return self._gather(source)
        return self._group(as_iterator(source))

    def _gather(self, plan):
        take, size, step = plan.take, plan.size, self._size
        end = size - size % step if self._drop else size
        for start in range(0, end, step):
            yield take(slice(start, min(start + step, size)))

    def _group(self, iterator):
        try:
            while True:
                items = list(itertools.islice(iterator, self._size))
                if not items or (self._drop and len(items) < self._size):
                    return
                yield self._combine(items)
        finally:
            close(iterator)

    def _combine(self, items):
        template = items[0]
        columns = _columns(items, self._where)
        out = []
        for path, column in zip(_nest.paths(template), columns):
            try:
                out.append(np.stack(column))
            except ValueError:
                shapes = sorted({np.shape(v) for v in column})
                raise ValueError(
                    f"batch: cannot stack component {path}: the elements have "
                    f"shapes {shapes[:4]}; use padded_batch for elements of "
                    "different shapes"
                ) from None
        return _nest.pack(template, out)

    def _cardinality(self):
        n = self._inputs[0]._cardinality()
        if n in (INFINITE, UNKNOWN):
            return n
        return n // self._size if self._drop else -(-n // self._size)

    def _spec(self, peek):
        inner = self._inputs[0]._spec(peek)
        if inner is None:
            return None
        return _shapes.batched(inner, self._size if self._drop else None)


def _columns(items, where):
    """The leaves of ``items`` grouped per component (checks the nesting)."""
    template = items[0]
    matches = _nest.matcher(template)
    flat = [_nest.flatten(item) for item in items]
    for i, (item, leaves) in enumerate(zip(items, flat)):
        if len(leaves) != len(flat[0]) or not matches(item):
            raise ValueError(
                f"{where}: element {i} is nested as {_nest.describe(item)}, but "
                f"element 0 as {_nest.describe(template)}"
            )
    return list(zip(*flat))


def _up_to(template, value, where, what):
    """Flattens ``value`` down to the leaves of ``template`` (``value`` may nest
    deeper: a padded shape is a tuple at a leaf)."""
    if isinstance(template, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(template):
            raise ValueError(
                f"{where}: {what} {value!r} does not match the elements' nesting "
                f"{_nest.describe(template)}"
            )
        return [v for t, x in zip(template, value) for v in _up_to(t, x, where, what)]
    if isinstance(template, dict):
        if not isinstance(value, dict) or set(value) != set(template):
            raise ValueError(
                f"{where}: {what} {value!r} does not match the elements' nesting "
                f"{_nest.describe(template)}"
            )
        return [
            v
            for k in _nest.keys(template)
            for v in _up_to(template[k], value[k], where, what)
        ]
    return [value]


class PaddedBatch(Batch):
    _where = "padded_batch"

    def __init__(self, dataset, batch_size, padded_shapes, padding_values, drop):
        super().__init__(dataset, batch_size, drop)
        self._shapes = padded_shapes
        self._values = padding_values

    def _open(self, ctx):
        return self._group(as_iterator(self._inputs[0]._open(ctx)))

    def _targets(self, template):
        if self._shapes is None:
            return [None] * len(_nest.flatten(template))
        shapes = _up_to(template, self._shapes, self._where, "padded_shapes")
        return [None if s is None else tuple(s) for s in shapes]

    def _fills(self, template):
        if self._values is None or not _nest.is_nested(self._values):
            return [self._values] * len(_nest.flatten(template))
        return _up_to(template, self._values, self._where, "padding_values")

    def _combine(self, items):
        template = items[0]
        columns = _columns(items, self._where)
        targets, fills = self._targets(template), self._fills(template)
        out = []
        for path, column, target, fill in zip(
            _nest.paths(template), columns, targets, fills
        ):
            out.append(self._pad(column, target, fill, path))
        return _nest.pack(template, out)

    def _pad(self, column, target, fill, path):
        arrays = [np.asarray(v) for v in column]
        ndim = arrays[0].ndim
        if target is None:
            target = (None,) * ndim
        if any(a.ndim != len(target) for a in arrays):
            raise ValueError(
                f"padded_batch: component {path} has rank "
                f"{sorted({a.ndim for a in arrays})} but padded shape {target}"
            )
        biggest = np.max([a.shape for a in arrays], axis=0) if ndim else ()
        shape = []
        for axis, want in enumerate(target):
            if want is None or want == -1:
                want = int(biggest[axis])
            elif biggest[axis] > want:
                raise ValueError(
                    f"padded_batch: component {path} has shape "
                    f"{max((a.shape for a in arrays), key=lambda s: s[axis])}, larger "
                    f"than the padded shape {target} along axis {axis}"
                )
            shape.append(int(want))
        dtype = np.result_type(*arrays)
        if fill is None:
            fill = "" if dtype.kind in "US" else 0
        out = np.full((len(arrays), *shape), fill, dtype=dtype)
        for i, array in enumerate(arrays):
            out[(i, *(slice(0, d) for d in array.shape))] = array
        return out

    def _spec(self, peek):
        inner = self._inputs[0]._spec(peek)
        if inner is None:
            return None
        batch = self._size if self._drop else None
        targets = self._targets(inner)
        leaves = []
        for spec, target in zip(_nest.flatten(inner), targets):
            dims = (None,) * len(spec.shape) if target is None else target
            dims = tuple(None if d in (None, -1) else d for d in dims)
            leaves.append(TensorSpec((batch, *dims), spec.dtype))
        return _nest.pack(inner, leaves)


class Unbatch(Dataset):
    def __init__(self, dataset):
        self._inputs = (dataset,)

    def _open(self, ctx):
        return self._run(as_iterator(self._inputs[0]._open(ctx)))

    def _run(self, iterator):
        try:
            for element in iterator:
                leaves = _nest.flatten(element)
                _check_batched(element, leaves)
                pack = _nest.packer(element)
                for i in range(len(leaves[0])):
                    yield pack([leaf[i] for leaf in leaves])
        finally:
            close(iterator)

    def _cardinality(self):
        return UNKNOWN

    def _spec(self, peek):
        inner = self._inputs[0]._spec(peek)
        return None if inner is None else _shapes.unbatched(inner)


def _check_batched(element, leaves):
    paths = _nest.paths(element)
    for path, leaf in zip(paths, leaves):
        if np.ndim(leaf) == 0:
            raise ValueError(
                f"unbatch: component {path} is a scalar: nothing to unbatch"
            )
    lengths = [len(leaf) for leaf in leaves]
    for path, n in zip(paths, lengths):
        if n != lengths[0]:
            raise ValueError(
                f"unbatch: components have different batch sizes: {paths[0]} has "
                f"{lengths[0]} rows, {path} has {n}"
            )
