"""A traced graph: the steps of a function, in the order they ran.

A step is a declared op (``nnlib.ops.declare``), run again by its ``forward``
on arrays, or an effect: a write to variables, redone by the function its
writer announced (``nnlib.engine.effects``). A step's inputs are references:

* ``("arg", i)``: the i-th tensor argument of the function;
* ``("node", j, k)``: output k of step j;
* ``("var", variable)``: a variable, read when the step runs (captured by
  reference: writes made outside between calls are seen);
* ``("const", value)``: a value fixed at trace time.
"""

import numpy as np

__all__ = ["Graph", "Step"]


class Step:
    """One step of a ``Graph``: an op or an effect, with its input references.

    Attributes:
        kind: ``"op"`` or ``"effect"``.
        name: The op's (or effect's) name.
        run: The function the replay calls on the inputs' arrays.
        inputs: The input references (see the module docstring).
        outputs: The output ``Spec``s (visible then hidden; none for an effect).
        attrs: The op's attributes (a dict; empty for an effect).
        op: The declared ``Op`` (None for an effect).
        where: ``"file:line"`` of the user's code that made the step.

    Examples:
        >>> Step("op", "add", np.add, (("arg", 0), ("const", 1.0)), ()).kind
        'op'
    """

    __slots__ = ("attrs", "inputs", "kind", "name", "op", "outputs", "run", "where")

    def __init__(self, kind, name, run, inputs, outputs, attrs=None, op=None, where=""):
        self.kind = kind
        self.name = name
        self.run = run
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs or {}
        self.op = op
        self.where = where


class Graph:
    """The steps of one trace, its arguments and its outputs.

    Attributes:
        name: The traced function's name.
        args: The ``Spec`` of each tensor argument.
        steps: The ``Step``s, in execution order.
        outputs: A reference per tensor output.

    Examples:
        >>> from nnlib.graph.graph import Graph
        >>> Graph("f").steps
        []
    """

    def __init__(self, name):
        self.name = name
        self.args = []
        self.steps = []
        self.outputs = []

    def variables(self):
        """The variables the steps read, each once, in the order first read."""
        seen = {}
        for step in self.steps:
            for ref in step.inputs:
                if ref[0] == "var":
                    seen.setdefault(id(ref[1]), ref[1])
        return list(seen.values())

    def pruned(self):
        """A copy without the steps neither an output nor an effect needs.

        Step indices change; references are renumbered.
        """
        needed = set()
        for ref in self.outputs:
            if ref[0] == "node":
                needed.add(ref[1])
        for j in range(len(self.steps) - 1, -1, -1):
            step = self.steps[j]
            if step.kind == "effect" or j in needed:
                needed.add(j)
                needed.update(r[1] for r in step.inputs if r[0] == "node")
        order = sorted(needed)
        new_index = {old: new for new, old in enumerate(order)}

        def moved(ref):
            return ("node", new_index[ref[1]], ref[2]) if ref[0] == "node" else ref

        graph = Graph(self.name)
        graph.args = list(self.args)
        for j in order:
            s = self.steps[j]
            inputs = tuple(moved(r) for r in s.inputs)
            graph.steps.append(
                Step(s.kind, s.name, s.run, inputs, s.outputs, s.attrs, s.op, s.where)
            )
        graph.outputs = [moved(r) for r in self.outputs]
        return graph

    def __str__(self):
        args = ", ".join(f"a{i}: {_spec(s)}" for i, s in enumerate(self.args))
        lines = [f"graph {self.name}({args}):"]
        for j, step in enumerate(self.steps):
            ins = ", ".join(_ref(r) for r in step.inputs)
            attrs = "".join(f", {k}={v!r}" for k, v in step.attrs.items())
            if step.kind == "effect":
                lines.append(f"  effect {step.name}({ins})")
                continue
            outs = ", ".join(
                f"t{j}.{k}: {_spec(s)}" for k, s in enumerate(step.outputs)
            )
            lines.append(f"  {outs} = {step.name}({ins}{attrs})")
        lines.append(f"  return {', '.join(_ref(r) for r in self.outputs)}")
        return "\n".join(lines)


def _spec(spec):
    dims = ", ".join("None" if d is None else str(d) for d in spec.shape)
    return f"{spec.dtype}[{dims}]"


def _ref(ref):
    kind = ref[0]
    if kind == "arg":
        return f"a{ref[1]}"
    if kind == "node":
        return f"t{ref[1]}.{ref[2]}"
    if kind == "var":
        return f"var '{ref[1].name}'"
    value = ref[1]
    if isinstance(value, np.ndarray) and value.size > 4:
        return f"const {value.dtype}{list(value.shape)}"
    return f"const {np.asarray(value).tolist()!r}" if value is not None else "None"
