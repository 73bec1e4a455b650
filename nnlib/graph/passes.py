"""Graph passes run before a trace is compiled: folding and merging.

* ``fold_constants`` runs, once at compile time, every op whose inputs are all
  constants (the seeds of a gradient, ``1 / batch_size``...) and uses the
  result as a constant.
* ``merge_duplicates`` (common-subexpression elimination) keeps one of two ops
  with the same op, attributes and inputs (a gradient often recomputes a value
  the forward pass had: ``y * y`` for tanh's rule).

Neither touches an effect, a random op (it must draw at each run), or an op
reading a variable (whose value changes between runs).
"""

import numpy as np

from .graph import Graph, Step

__all__ = ["fold_constants", "merge_duplicates", "optimize"]

# A folded constant larger than this stays an op: the graph would otherwise
# hold a copy of every big intermediate computed from constants.
MAX_FOLDED_BYTES = 1 << 20


def optimize(graph):
    """The passes, in order, then pruning: returns a new ``Graph``.

    Examples:
        >>> from nnlib.graph.tracer import Tracer
        >>> x = nnlib.constant([1.0, 2.0])
        >>> with Tracer("f") as tracer:
        ...     tracer.argument(x)
        ...     half = nnlib.divide(nnlib.constant(1.0), nnlib.constant(2.0))
        ...     tracer.output(x * half + x * half)
        >>> print(optimize(tracer.graph))
        graph f(a0: float32[2]):
          t0.0: float32[2] = multiply(a0, const 0.5)
          t1.0: float32[2] = add(t0.0, t0.0)
          return t1.0
    """
    return merge_duplicates(fold_constants(graph)).pruned()


def _pure(step):
    return step.kind == "op" and not step.op.random


def fold_constants(graph):
    """A copy with each op of constant inputs replaced by its result."""
    folded = {}  # (step, output) -> constant reference
    out = Graph(graph.name)
    out.args = list(graph.args)

    def moved(ref):
        return folded.get((ref[1], ref[2]), ref) if ref[0] == "node" else ref

    for j, step in enumerate(graph.steps):
        inputs = tuple(moved(r) for r in step.inputs)
        if _pure(step) and all(r[0] == "const" for r in inputs):
            values = step.run(*(r[1] for r in inputs), **step.attrs)
            values = values if isinstance(values, tuple) else (values,)
            if sum(np.asarray(v).nbytes for v in values) <= MAX_FOLDED_BYTES:
                for k, value in enumerate(values):
                    folded[(j, k)] = ("const", value)
        out.steps.append(_with_inputs(step, inputs))
    out.outputs = [moved(r) for r in graph.outputs]
    return out


def merge_duplicates(graph):
    """A copy where an op that repeats an earlier one reads the earlier's outputs."""
    seen = {}  # (op, attrs, inputs) -> index of the first such step
    same = {}  # (step, output) -> reference to the first one's output
    out = Graph(graph.name)
    out.args = list(graph.args)

    def moved(ref):
        return same.get((ref[1], ref[2]), ref) if ref[0] == "node" else ref

    for j, step in enumerate(graph.steps):
        inputs = tuple(moved(r) for r in step.inputs)
        key = _key(step, inputs) if _pure(step) else None
        if key is not None:
            first = seen.setdefault(key, j)
            if first != j:
                for k in range(len(step.outputs)):
                    same[(j, k)] = ("node", first, k)
        out.steps.append(_with_inputs(step, inputs))
    out.outputs = [moved(r) for r in graph.outputs]
    return out


def _key(step, inputs):
    """A hashable identity of an op call, or None when it has none."""
    refs = []
    for ref in inputs:
        if ref[0] == "var":
            return None  # may be written between the two reads
        refs.append(("const", id(ref[1])) if ref[0] == "const" else ref)
    try:
        attrs = tuple(sorted(step.attrs.items()))
        hash(attrs)
    except TypeError:
        return None
    return (id(step.op), attrs, tuple(refs))


def _with_inputs(step, inputs):
    return Step(
        step.kind,
        step.name,
        step.run,
        inputs,
        step.outputs,
        step.attrs,
        step.op,
        step.where,
    )
