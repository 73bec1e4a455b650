"""Pipeline machinery shared by the dataset nodes: plans, passes, positions.

Opening a node (``Dataset._open``) starts one pass and gives either an iterator
of elements or a ``Plan``: random access to the pass, whose ``take(pos)``
accepts an int (one element), a slice or an int array (a whole batch).
"""

import itertools
import threading

import numpy as np

from .. import random as _random


class Plan:
    """Random access to a pass: ``size`` elements reached by ``take(pos)``."""

    __slots__ = ("size", "take")

    def __init__(self, size, take):
        self.size = size
        self.take = take

    def elements(self):
        take = self.take
        for i in range(self.size):
            yield take(i)


def as_iterator(opened):
    """The iterator of elements for what ``_open`` returned."""
    return opened.elements() if isinstance(opened, Plan) else opened


def close(iterator):
    """Closes a generator early, so its threads and files are released now."""
    closer = getattr(iterator, "close", None)
    if closer is not None:
        closer()


def remap(pos, offset, stride=1):
    """Maps positions of a derived plan to its input's: ``offset + pos*stride``."""
    if isinstance(pos, slice):
        return slice(
            offset + pos.start * stride,
            offset + pos.stop * stride,
            (pos.step or 1) * stride,
        )
    if stride == 1 and offset == 0:
        return pos
    return offset + pos * stride


def gather(array, pos):
    """``array[pos]``; a copy for a slice, so every batch is a fresh array.

    One element (an int position) is a read-only view of the source; a batch
    is writable whichever path made it (a slice alone would give a view).
    """
    if isinstance(pos, slice):
        return array[pos].copy()
    return array[pos]


def positions(pos):
    """Positions as an int64 array (a scalar for an int position)."""
    if isinstance(pos, slice):
        return np.arange(pos.start, pos.stop, pos.step or 1, dtype=np.int64)
    return np.int64(pos) if np.ndim(pos) == 0 else np.asarray(pos, np.int64)


def walk(root):
    """Every node of the pipeline ending in ``root``, each once, in a fixed order."""
    seen, order, stack = set(), [], [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(reversed(node._inputs))
    return order


class Context:
    """What one pass shares between its nodes: mainly unseeded shuffle seeds.

    Unseeded shuffles draw their seeds from ``nnlib.random`` when the pass
    starts, in the consumer's thread, so ``nnlib.random.set_seed`` makes them
    reproducible even when a prefetch thread opens them later. Each node gets a
    stream of its own (``[pass seed, node number, reopen count]``), so threads
    opening different nodes never race for one generator.

    ``peek`` marks the pass that ``element_spec`` takes a first element from:
    shuffles and prefetches pass elements through, nothing draws randomness.
    """

    def __init__(self, root, peek=False, parent=None):
        nodes = walk(root)
        self.peek = peek
        self.number = {id(node): i for i, node in enumerate(nodes)}
        self._reopen = {}
        self._children = itertools.count()
        self._lock = threading.Lock()
        self.entropy = None
        if parent is not None:
            self.entropy = (*parent.entropy, next(parent._children))
        elif not peek and any(node._needs_pass_seed() for node in nodes):
            self.entropy = (int(_random.get_generator().integers(2**63)),)
        for node in nodes:
            node._prepare(self)

    def child(self, root):
        """A context for a dataset created during this pass (``interleave``)."""
        if self.entropy is None:  # a peek, or a pipeline without randomness
            self.entropy = (0,)
        return Context(root, peek=self.peek, parent=self)

    def rng(self, node):
        """A fresh generator for ``node``'s next pass, from this pass's seed."""
        with self._lock:
            count = self._reopen.get(id(node), 0)
            self._reopen[id(node)] = count + 1
        entropy = [*(self.entropy or (0,)), self.number.get(id(node), 0), count]
        return np.random.Generator(np.random.PCG64(entropy))
