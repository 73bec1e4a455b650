"""The backward pass: walking a tape's record in reverse, accumulating gradients.

Sparse gradients (``IndexedSlices``, from ``embedding_lookup`` and ``gather``)
stay sparse only on their way to a source: one that would flow on into
another op's gradient rule is densified first, so rules only ever see dense
gradients. Gradients of one source add up by concatenation while all are
sparse, and become dense as soon as one is dense.
"""

import numpy as np

from . import indexed_slices
from .indexed_slices import IndexedSlices
from .tensor import Tensor, to_array, wrap

__all__ = ["backward_pass"]


def backward_pass(entries, seeds, source_ids, consume, prune=True, raw=False):
    """Walks ``entries`` backwards from ``seeds``; returns ``{id: gradient}``.

    With ``prune``, only entries on a path from a source to a target run. With
    ``consume`` the entries are popped as they are used, so their saved values
    can be freed. With ``raw`` (no outer tape records this pass) gradients flow
    as numpy arrays through every rule that accepts them, Tensors otherwise.
    """
    sources = set(source_ids)
    live = _depending_on(entries, sources) if prune else None
    grads = {}
    for t, dy in seeds:
        dy = dy._value if raw else dy
        prev = grads.get(t._id)
        grads[t._id] = dy if prev is None else prev + dy
    order = _consumed(entries) if consume else reversed(entries)
    for out_ids, in_ids, backward, out_specs, raw_ok, _ in order:
        if out_specs is None:
            oid = out_ids[0]
            if live is not None and oid not in live:
                continue
            dy = _dense(grads.get(oid)) if oid in sources else grads.pop(oid, None)
            if dy is None:
                continue
            dxs = backward(wrap(dy) if raw and not raw_ok else dy)
        else:
            dys = [
                _dense(grads.get(o)) if o in sources else grads.pop(o, None)
                for o in out_ids
            ]
            if all(d is None for d in dys):
                continue
            dys = [
                np.zeros(shape, dtype) if d is None else d
                for d, (shape, dtype) in zip(dys, out_specs)
            ]
            if not raw or not raw_ok:
                dys = [d if isinstance(d, Tensor) else wrap(d) for d in dys]
            dxs = backward(dys)
        for iid, dx in zip(in_ids, dxs):
            if iid is None or dx is None or (live is not None and iid not in live):
                continue
            if raw:
                if isinstance(dx, Tensor):
                    dx = dx._value
                elif type(dx) is IndexedSlices and iid not in sources:
                    dx = indexed_slices.dense(dx)
            elif not isinstance(dx, Tensor):
                dx = wrap(to_array(dx))
            prev = grads.get(iid)
            if prev is None:
                grads[iid] = dx
            elif type(dx) is IndexedSlices or type(prev) is IndexedSlices:
                grads[iid] = indexed_slices.add(prev, dx)
            else:
                grads[iid] = prev + dx
    return grads


def _dense(grad):
    """``grad``, densified if sparse: a source's gradient read by a rule."""
    return indexed_slices.dense(grad) if type(grad) is IndexedSlices else grad


def _depending_on(entries, sources):
    """The ids computed from a source (a forward sweep over the record)."""
    live = set(sources)
    for out_ids, in_ids, *_ in entries:
        for i in in_ids:
            if i in live:
                live.update(out_ids)
                break
    return live


def _consumed(entries):
    while entries:
        yield entries.pop()
