"""Pairing saved arrays with a model's variables by name, all or nothing.

What every reader shares (nnlib's weight files and checkpoints, Keras's weight
files, safetensors, PyTorch ``state_dict`` layouts): ``named_variables`` names a
model's variables relative to it, ``match`` pairs them with the arrays read and
fills a ``RestoreReport`` without assigning, ``assign_arrays`` assigns all of
them or raises with the whole report.
"""

from .._warn import warn
from .report import RestoreReport, castable

__all__ = ["assign_arrays", "check", "fits", "match", "named_variables"]


def named_variables(layer):
    """``{name relative to layer: Variable}`` for every variable, in creation order.

    A variable outside the layer's scope (a layer shared with, and named by,
    another network) keeps its full name.

    Examples:
        >>> from nnlib.checkpoint import named_variables
        >>> dense = nnlib.layers.Dense(2, name="named_example")
        >>> _ = dense(np.zeros((1, 3)))
        >>> list(named_variables(dense))
        ['kernel', 'bias']
    """
    prefix = layer.scope_name + "/"
    named = {}
    for variable in layer.variables:
        base = name = variable.name.removeprefix(prefix)
        k = 0
        while name in named:  # two variables of one name (made outside scopes)
            k += 1
            name = f"{base}_{k}"
        named[name] = variable
    return named


def assign_arrays(
    arrays,
    variables,
    by_name=True,
    strict=True,
    skip_mismatch=False,
    path=None,
    target=None,
):
    """Assigns ``{name: array}`` to ``{name: Variable}``: all of it, or nothing.

    ``load_weights`` without the file: for importers of other formats, which
    build the mapping themselves. Arguments as for ``load_weights``; ``path``
    only names the source in messages.

    Returns:
        The ``RestoreReport``.

    Raises:
        CheckpointMismatchError: With the whole report; nothing is changed.

    Examples:
        >>> from nnlib.checkpoint import assign_arrays
        >>> w = nnlib.Variable([0., 0.], name="w")
        >>> assign_arrays({"w": np.array([1., 2.])}, {"w": w}).matched
        ['w']
        >>> assign_arrays({"w": np.zeros(3)}, {"w": w})
        Traceback (most recent call last):
        ...
        nnlib.checkpoint.errors.CheckpointMismatchError: cannot load checkpoint: 0 matched, 0 missing, 0 unexpected, 1 shape mismatch
        ...
    """
    report = RestoreReport(path=path, target=target)
    plan, _ = match(arrays, variables, report, by_name, skip_mismatch)
    check(report, strict)
    for variable, array in plan:
        variable.assign(array)
    return report


def match(
    saved, variables, report, by_name=True, skip_mismatch=False, defer=False, prefix=""
):
    """Pairs saved arrays with variables, filling ``report``; assigns nothing.

    Args:
        saved: ``{name: array}`` from the file.
        variables: ``{name: Variable}`` of the model.
        report: The ``RestoreReport`` to fill (names get ``prefix``).
        by_name: Pair by name, or by position.
        skip_mismatch: Record shape mismatches as skipped (with a warning).
        defer: Keep arrays no variable takes for later instead of calling them
            unexpected (the model is not fully built).
        prefix: Prepended to names in the report.

    Returns:
        ``(plan, later)``: ``[(variable, array)]`` to assign, and the
        ``{name: array}`` kept for variables not created yet.

    Examples:
        >>> from nnlib.checkpoint import RestoreReport, _matching
        >>> report = RestoreReport()
        >>> w = nnlib.Variable(np.zeros(2), name="w")
        >>> plan, later = _matching.match({"w": np.ones(2), "x": np.ones(1)}, {"w": w}, report)
        >>> len(plan), report.unexpected
        (1, ['x'])
    """
    if by_name:
        pairs = [(n, saved[n], v) for n, v in variables.items() if n in saved]
        missing = [n for n in variables if n not in saved]
        extra = [n for n in saved if n not in variables]
    else:
        count = min(len(saved), len(variables))
        pairs = list(zip(variables, saved.values(), variables.values()))[:count]
        missing = list(variables)[count:]
        extra = list(saved)[count:]
    for name in missing:
        report.add_missing(prefix + name, variables[name].shape, variables[name].dtype)
    later = {name: saved[name] for name in extra} if defer else {}
    for name in extra:
        add = report.add_deferred if defer else report.add_unexpected
        add(prefix + name, saved[name].shape, saved[name].dtype)
    plan = []
    for name, array, variable in pairs:
        if fits(prefix + name, array, variable, report, skip_mismatch):
            plan.append((variable, array))
    return plan, later


def fits(name, array, variable, report, skip_mismatch):
    """Whether ``array`` can be assigned to ``variable``, recorded in ``report``.

    A shape mismatch is recorded (and, with ``skip_mismatch``, skipped with a
    warning); a dtype change is recorded and fits when the cast is safe.
    """
    if array.shape != variable.shape:
        report.add_shape_mismatch(name, array.shape, variable.shape)
        if skip_mismatch:
            report.skipped.append(name)
            warn(
                f"load_weights: skipping '{name}': saved shape {array.shape}, "
                f"model shape {variable.shape}"
            )
        return False
    if array.dtype != variable.dtype:
        report.add_dtype_change(name, array.dtype, variable.dtype)
        if not castable(array.dtype, variable.dtype):
            return False
    report.matched.append(name)
    return True


def check(report, strict):
    """Raises for ``report``'s mismatches; ``strict=False`` warns of unexpected
    values instead of raising for them (and for missing ones)."""
    report.raise_if_mismatched(strict)
    if not strict and report.unexpected:
        warn(
            f"load_weights: {len(report.unexpected)} saved values match no "
            f"variable and were not loaded: {report.unexpected[:10]}"
        )
