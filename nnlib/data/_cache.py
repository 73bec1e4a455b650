"""``Dataset.cache``: keep the first complete pass in memory or in a file.

In memory, a completed pass whose elements all share shapes and dtypes is
stacked into one array per component, so later passes are a slices source:
``map(f).cache().shuffle(n).batch(b)`` gathers whole batches from the second
epoch on. Ragged elements are kept as a list.

The file format (one file, at exactly ``filename``) is a sequence of ``.npy``
records, as ``numpy.lib.format.write_array`` writes them, never pickled:

1. a 0-d unicode array holding JSON: ``{"format": "nnlib.data.cache",
   "version": 1, "structure": ..., "leaves": k}`` where ``structure``
   describes the nesting (``null`` for a leaf, ``{"tuple": [...]}`` with
   ``"name"``/``"fields"`` for a namedtuple, ``{"dict": [[key, ...], ...]}``);
2. then, per element, its ``k`` components in ``Dataset`` flattening order
   (dict keys sorted).

It is written to a temporary file in the same folder during the first pass and
moved into place (``nnlib._atomic.replacing``) only when that pass completes, so an
abandoned or failed pass leaves no cache behind and a reader never sees half a
file. Delete the file to rebuild the cache.
"""

import collections
import json
import os
import threading

import numpy as np

from .. import _atomic
from . import _nest
from ._core import Plan, as_iterator, close, gather
from .dataset import Dataset

_FORMAT = "nnlib.data.cache"


class Cache(Dataset):
    def __init__(self, dataset, filename):
        self._inputs = (dataset,)
        self._path = os.fspath(filename)
        self._memory = None
        self._lock = threading.Lock()

    def _open(self, ctx):
        if self._path:
            if os.path.exists(self._path):
                return _read(self._path)
            if ctx.peek:
                return self._inputs[0]._open(ctx)
            return _write(as_iterator(self._inputs[0]._open(ctx)), self._path)
        stored = self._memory
        if stored is not None:
            return stored() if callable(stored) else iter(stored)
        if ctx.peek:
            return self._inputs[0]._open(ctx)
        return self._record(as_iterator(self._inputs[0]._open(ctx)))

    def _record(self, iterator):
        elements = []
        try:
            for element in iterator:
                elements.append(element)
                yield element
        finally:
            close(iterator)
        # Reached only when the pass completed (an abandoned pass exits above).
        stored = _stack(elements)
        with self._lock:
            if self._memory is None:
                self._memory = stored

    def _cardinality(self):
        return self._inputs[0]._cardinality()


def _stack(elements):
    """A ``() -> Plan`` over stacked arrays, or the list when shapes vary."""
    if not elements:
        return elements
    template = elements[0]
    flat = [_nest.flatten(e) for e in elements]
    signature = [(np.shape(v), np.asarray(v).dtype) for v in flat[0]]
    for element, leaves in zip(elements, flat):
        if not _nest.same_structure(element, template) or len(leaves) != len(signature):
            return elements
        for leaf, (shape, dtype) in zip(leaves, signature):
            if np.shape(leaf) != shape or leaf.dtype != dtype:
                return elements
    columns = []
    for column in zip(*flat):
        array = np.stack(column)
        array.flags.writeable = False
        columns.append(array)
    pack = _nest.packer(template)
    size = len(elements)

    def take(pos):
        return pack([gather(column, pos) for column in columns])

    return lambda: Plan(size, take)


def _encode(structure):
    if isinstance(structure, tuple):
        node = {"tuple": [_encode(item) for item in structure]}
        if hasattr(structure, "_fields"):
            node.update(name=type(structure).__name__, fields=list(structure._fields))
        return node
    if isinstance(structure, dict):
        for key in structure:
            if not isinstance(key, str):
                raise TypeError(f"cache: a file cache needs str dict keys, got {key!r}")
        return {"dict": [[key, _encode(structure[key])] for key in structure]}
    return None


def _decode(node):
    if node is None:
        return 0
    if "tuple" in node:
        items = [_decode(item) for item in node["tuple"]]
        if "fields" in node:  # same name and fields; a new class all the same
            return collections.namedtuple(node["name"], node["fields"])(*items)
        return tuple(items)
    return {key: _decode(value) for key, value in node["dict"]}


def _write(iterator, path):
    # An abandoned pass raises GeneratorExit at the yield: replacing() then
    # removes the temporary file, and only a completed pass replaces `path`.
    try:
        with _atomic.replacing(path) as temp, open(temp, "wb") as f:
            count = None
            for element in iterator:
                leaves = _nest.flatten(element)
                if count is None:
                    count = len(leaves)
                    _header(f, _encode(element), count)
                elif len(leaves) != count:
                    raise ValueError(
                        f"cache: elements nest differently ({_nest.describe(element)});"
                        f" cannot write {path}"
                    )
                for leaf in leaves:
                    np.lib.format.write_array(f, np.asarray(leaf), allow_pickle=False)
                yield element
            if count is None:
                _header(f, None, 0)
            f.flush()
            os.fsync(f.fileno())
    finally:
        close(iterator)


def _header(f, structure, count):
    text = json.dumps(
        {"format": _FORMAT, "version": 1, "structure": structure, "leaves": count}
    )
    np.lib.format.write_array(f, np.array(text), allow_pickle=False)


def _read(path):
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            header = json.loads(str(np.lib.format.read_array(f, allow_pickle=False)))
            if header.get("format") != _FORMAT:
                raise ValueError(f"format {header.get('format')!r}")
        except (ValueError, TypeError, AttributeError, EOFError) as err:
            raise ValueError(
                f"cache: {path} is not an nnlib dataset cache ({err}); delete it or "
                "choose another filename"
            ) from err
        pack = _nest.packer(_decode(header["structure"]))
        count = header["leaves"]
        while f.tell() < size:
            try:
                leaves = [
                    np.lib.format.read_array(f, allow_pickle=False)
                    for _ in range(count)
                ]
            except (ValueError, EOFError) as err:
                raise ValueError(
                    f"cache: {path} is damaged at byte {f.tell()} ({err}); delete it "
                    "to rebuild the cache"
                ) from err
            yield pack([leaf[()] if leaf.ndim == 0 else leaf for leaf in leaves])
