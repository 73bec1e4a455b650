"""Turning a ``Graph`` into straight-line Python: the replay.

As PyTorch FX does, the graph becomes the source of one Python function, one
line per step, compiled once: a replay then pays no interpreter loop of its
own, no Tensor wrappers and no tape, only the numpy calls themselves. Each
value is freed after its last reader, and a ufunc writes into an input that
dies at it (``out=``) when nothing else can see that buffer. Every
step's function and constant is bound in the function's globals; a variable
is read (``v3._value``) when its step runs.
"""

import functools
import linecache
import re

import numpy as np

__all__ = ["compile_graph"]

_FILENAME = re.compile(r"<nnlib graph (\d+)>")
_counter = [0]
_LINE_STEPS = {}  # file name of a compiled graph -> {line: step index}


def compile_graph(graph):
    """Returns ``(replay, source)``: ``replay(*arg_arrays)`` -> output arrays.

    Args:
        graph: A ``Graph``.

    Examples:
        >>> from nnlib.graph.tracer import Tracer
        >>> x = nnlib.constant([1.0, 2.0])
        >>> with Tracer("f") as tracer:
        ...     tracer.argument(x)
        ...     tracer.output(nnlib.tanh(x) * 2.0)
        >>> replay, source = compile_graph(tracer.graph)
        >>> print(source)
        def f(a0):
            t0_0 = s0(a0)
            t1_0 = s1(t0_0, c0, out=t0_0)
            del t0_0
            return (t1_0,)
        >>> replay(np.zeros(2, np.float32))
        (array([0., 0.], dtype=float32),)
    """
    env = {}
    names = {}
    counts = {"v": 0, "c": 0}

    def bind(prefix, value):
        key = (prefix, id(value))
        name = names.get(key)
        if name is None:
            name = names[key] = f"{prefix}{counts[prefix]}"
            counts[prefix] += 1
            env[name] = value
        return name

    def expr(ref):
        kind = ref[0]
        if kind == "arg":
            return f"a{ref[1]}"
        if kind == "node":
            return f"t{ref[1]}_{ref[2]}"
        if kind == "var":
            return f"{bind('v', ref[1])}._value"
        return bind("c", ref[1])

    args = ", ".join(f"a{i}" for i in range(len(graph.args)))
    name = _identifier(graph.name)
    lines = [f"def {name}({args}):"]
    last_use = _last_uses(graph)
    dying = {}  # step index -> the values whose last reader it is
    for value, last in last_use.items():
        dying.setdefault(last, []).append(value)
    reusable = _reusable_buffers(graph, last_use)
    line_steps = {}  # source line -> step index, for errors
    for j, step in enumerate(graph.steps):
        run = step.run
        if step.attrs:
            run = functools.partial(run, **step.attrs)
        env[f"s{j}"] = run
        args_ = [expr(r) for r in step.inputs]
        if j in reusable:  # a ufunc writing into a dying input of its shape
            args_.append(f"out=t{reusable[j][0]}_{reusable[j][1]}")
        call = f"s{j}({', '.join(args_)})"
        if step.kind == "effect":
            lines.append(f"    {call}")
        elif len(step.outputs) == 1 and not _returns_tuple(step):
            lines.append(f"    t{j}_0 = {call}")
        else:
            outs = ", ".join(f"t{j}_{k}" for k in range(len(step.outputs)))
            lines.append(f"    {outs}, = {call}")
        line_steps[len(lines)] = j
        # Free each value after its last reader, so that the replay holds no
        # more at once than eager code does.
        dead = [f"t{i}_{k}" for i, k in dying.get(j, ())]
        if dead:
            lines.append(f"    del {', '.join(dead)}")
    outs = "".join(f"{expr(r)}, " for r in graph.outputs).rstrip()
    lines.append(f"    return ({outs})")
    source = "\n".join(lines)
    _counter[0] += 1
    filename = f"<nnlib graph {_counter[0]}>"
    _LINE_STEPS[filename] = line_steps
    # Registered with linecache so that tracebacks through a replay show it.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), env)  # noqa: S102 (our own source)
    return env[name], source


def _last_uses(graph):
    """``{(step, output): index of the last step reading it}``, outputs excluded.

    A value nothing reads is freed right after the step that makes it.
    """
    last = {}
    for j, step in enumerate(graph.steps):
        for k in range(len(step.outputs)):
            last[(j, k)] = j
        for ref in step.inputs:
            if ref[0] == "node":
                last[(ref[1], ref[2])] = j
    for ref in graph.outputs:
        if ref[0] == "node":
            last.pop((ref[1], ref[2]), None)
    return last


def step_of(traceback):
    """The index of the step a replay failed in, from its traceback, or None.

    Examples:
        >>> step_of(None) is None
        True
    """
    found = None
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if _FILENAME.fullmatch(filename):
            found = (filename, traceback.tb_lineno)
        traceback = traceback.tb_next
    if found is None:
        return None
    return _LINE_STEPS.get(found[0], {}).get(found[1])


def _reusable_buffers(graph, last_use):
    """``{step: (i, k)}``: ufunc steps that may write into value ``t{i}_{k}``.

    The value must die at that step, have the output's shape (not 0-d) and
    dtype, and be a fresh array nothing else views: made by a ufunc or an op
    declared ``fresh``, and read only by such ops (whose outputs are new
    arrays, never views of it).
    """
    readers = {}
    for j, step in enumerate(graph.steps):
        for ref in step.inputs:
            if ref[0] == "node":
                readers.setdefault((ref[1], ref[2]), []).append(j)

    def ufunc(j):
        step = graph.steps[j]
        return (
            step.kind == "op"
            and isinstance(step.run, np.ufunc)
            and not step.attrs
            and len(step.outputs) == 1
        )

    def fresh(j):  # its outputs are new arrays, never views of its inputs
        step = graph.steps[j]
        return ufunc(j) or (step.kind == "op" and step.op.fresh)

    reusable, taken = {}, set()
    for j, step in enumerate(graph.steps):
        if not ufunc(j) or not step.outputs[0].shape:
            continue
        for ref in step.inputs:
            value = (ref[1], ref[2]) if ref[0] == "node" else None
            if (
                value is None
                or value in taken
                or last_use.get(value) != j
                or not fresh(value[0])
                or graph.steps[value[0]].outputs[value[1]] != step.outputs[0]
                or not all(fresh(r) for r in readers[value])
            ):
                continue
            reusable[j] = value
            taken.add(value)
            break
    return reusable


def _returns_tuple(step):
    """True for an op whose forward returns a tuple (several or hidden outputs)."""
    op = step.op
    return op is not None and (op.outputs != 1 or op.hidden)


def _identifier(name):
    name = re.sub(r"\W", "_", name) or "graph"
    return name if not name[0].isdigit() else f"_{name}"
