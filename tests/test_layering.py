"""The package's layers import only downwards (DESIGN.md, "Layers of the code").

Module-level imports between nnlib's subpackages must go to a lower rank. A
function may import upwards when it is called (``Layer.save_weights`` reaching
the checkpoint layer, the callbacks that save models): that keeps the import
graph of the layers acyclic, which this test guards.
"""

import ast
import pathlib

import nnlib

ROOT = pathlib.Path(nnlib.__file__).parent

# Lower ranks are lower layers. Training sits below network (Network is a
# Trainer); data and datasets depend on nothing but the utilities.
RANKS = {
    "_version": 0,
    "_warn": 0,
    "_atomic": 0,
    "_lookup": 0,
    "_args": 0,
    "random": 0,
    "engine": 1,
    "data": 1,
    "datasets": 1,
    "ops": 2,
    "naming": 3,
    "variable_scope": 3,
    "initializers": 3,
    "regularizers": 3,
    "activations": 3,
    "test_util": 3,
    "nn": 3,
    "layers": 4,
    "optimizers": 5,
    "losses": 5,
    "callbacks": 5,
    "metrics": 6,
    "training": 7,
    "network": 8,
    "checkpoint": 9,
    "train": 10,
}


def _unit(parts):
    return parts[0].removesuffix(".py")


def _module_level_imports(path):
    """(subpackage imported, line) for every relative import at module level."""
    parts = path.relative_to(ROOT).parts
    tree = ast.parse(path.read_text())
    for node in tree.body:
        for inner in ast.walk(node):
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                break  # imports inside functions run when called
            if not (isinstance(inner, ast.ImportFrom) and inner.level):
                continue
            base = list(parts[:-1])[: len(parts) - inner.level]
            module = [m for m in (inner.module or "").split(".") if m]
            names = base + module
            targets = [names[0]] if names else [a.name for a in inner.names]
            for target in targets:
                yield target, inner.lineno


def test_every_subpackage_has_a_rank():
    units = {_unit(p.relative_to(ROOT).parts) for p in ROOT.rglob("*.py")}
    assert units - {"__init__"} <= set(RANKS), sorted(units - set(RANKS))


def test_module_level_imports_go_downwards():
    upward = []
    for path in ROOT.rglob("*.py"):
        unit = _unit(path.relative_to(ROOT).parts)
        if unit == "__init__":
            continue  # the package root assembles everything
        for target, line in _module_level_imports(path):
            if target != unit and RANKS[target] >= RANKS[unit]:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert upward == []
