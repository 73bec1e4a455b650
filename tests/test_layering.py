"""The package's layers import only downwards (DESIGN.md, "Layers of the code").

Every import between nnlib's subpackages goes to a lower rank, whether it runs
when a module loads or when a function is called: an import hidden inside a
function is still an edge of the import graph, and an upward one closes a loop.
A function imports at all only where ``FUNCTION_IMPORTS`` says why.
"""

import ast
import fnmatch
import pathlib
import textwrap

import nnlib

ROOT = pathlib.Path(nnlib.__file__).parent

# Lower ranks are lower layers. variable_scope makes variables with the
# initializers and names them with naming. Checkpoint reads and writes layers,
# optimizers, losses and metrics; callbacks (ModelCheckpoint, BackupAndRestore)
# save through it; training calls the callbacks; network sits on top (a Network
# is a Trainer, and model.save is checkpoint's). data and datasets depend on
# nothing but the utilities.
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
    "graph": 3,
    "naming": 3,
    "initializers": 3,
    "regularizers": 3,
    "activations": 3,
    "test_util": 3,
    "nn": 3,
    "variable_scope": 4,
    "layers": 5,
    "optimizers": 6,
    "losses": 6,
    "metrics": 7,
    "checkpoint": 8,
    "callbacks": 9,
    "training": 10,
    "network": 11,
    "train": 12,
}

# (file under nnlib/, imported module pattern): why a function imports it.
FUNCTION_IMPORTS = {
    ("checkpoint/_safetensors_format.py", "safetensors*"): (
        "the optional 'safetensors' extra: missing, the error names the install"
    ),
    ("data/sources.py", "nnlib.data._*"): (
        "Dataset's constructors build subclasses whose modules import Dataset"
    ),
    ("data/transforms.py", "nnlib.data._*"): (
        "Dataset's methods build subclasses whose modules import Dataset"
    ),
    ("engine/variable.py", "nnlib.engine.tape"): "the tape imports Variable",
    ("layers/keras_tensor.py", "nnlib.layers._op_layer"): (
        "_op_layer imports KerasTensor (directly, and through Layer)"
    ),
    ("metrics/base.py", "nnlib.metrics.function"): (
        "metrics/__init__.py, where the name lookup is, imports this module"
    ),
}


class _Imports(ast.NodeVisitor):
    """Every import of a module: (module imported, line, inside a function)."""

    def __init__(self, package):
        self.package = package  # the module's package, as parts under nnlib
        self.depth = 0
        self.found = []

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _add(self, module, node):
        self.found.append((module, node.lineno, self.depth > 0))

    def visit_Import(self, node):
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node):
        if not node.level:
            self._add(node.module, node)
            return
        base = self.package[: len(self.package) - node.level + 1]
        module = ".".join(["nnlib", *base, *(node.module or "").split(".")])
        module = module.rstrip(".")
        if node.module:
            self._add(module, node)
        else:  # from . import a, b: each a module of its own
            for alias in node.names:
                self._add(f"{module}.{alias.name}", node)

    def visit_Call(self, node):
        # importlib.import_module / __import__ hide an import from the check.
        func = node.func
        name = getattr(func, "attr", None) or getattr(func, "id", None)
        if name in ("import_module", "__import__"):
            self._add("<dynamic import>", node)
        self.generic_visit(node)


def imports(path, root=ROOT):
    """(module imported, line, inside a function) for every import in ``path``."""
    parts = path.relative_to(root).parts
    visitor = _Imports(list(parts[:-1]))
    visitor.visit(ast.parse(path.read_text()))
    return visitor.found


def _unit(parts):
    return parts[0].removesuffix(".py")


def _target_unit(module):
    parts = module.split(".")
    if parts[0] != "nnlib" or len(parts) < 2:
        return None  # outside nnlib (or the package root)
    return parts[1]


def upward_imports(root=ROOT):
    """``file:line imports unit`` for each import that does not go downwards."""
    upward = []
    for path in sorted(root.rglob("*.py")):
        unit = _unit(path.relative_to(root).parts)
        if unit == "__init__":
            continue  # the package root assembles everything
        for module, line, in_function in imports(path, root):
            target = _target_unit(module)
            if target is None or target == unit:
                continue
            if RANKS[target] >= RANKS[unit]:
                where = "in a function" if in_function else "at module level"
                upward.append(
                    f"{path.relative_to(root)}:{line} imports {target} {where}"
                )
    return upward


def unexplained_function_imports(root=ROOT):
    """Imports inside functions that ``FUNCTION_IMPORTS`` does not list, and
    entries of it that match no import any more."""
    unexplained, used = [], set()
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        for module, line, in_function in imports(path, root):
            if not in_function:
                continue
            entry = next(
                (
                    (file, pattern)
                    for file, pattern in FUNCTION_IMPORTS
                    if file == name and fnmatch.fnmatchcase(module, pattern)
                ),
                None,
            )
            if entry is None:
                unexplained.append(f"{name}:{line} imports {module} in a function")
            used.add(entry)
    stale = [f"unused entry {entry}" for entry in FUNCTION_IMPORTS if entry not in used]
    return unexplained + stale


def test_every_subpackage_has_a_rank():
    units = {_unit(p.relative_to(ROOT).parts) for p in ROOT.rglob("*.py")}
    assert units - {"__init__"} <= set(RANKS), sorted(units - set(RANKS))


def test_imports_go_downwards_at_module_level_and_in_functions():
    assert upward_imports() == []


def test_every_import_inside_a_function_has_a_listed_reason():
    assert all(reason.strip() for reason in FUNCTION_IMPORTS.values())
    assert unexplained_function_imports() == []


def test_the_check_sees_an_upward_import_hidden_in_a_function(tmp_path):
    # A layer reaching up to the checkpoint layer from inside a method: the
    # kind of loop this test exists to keep out.
    planted = tmp_path / "nnlib" / "layers" / "_planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        textwrap.dedent(
            """
            def save(layer, path):
                from ..checkpoint import weights

                return weights.save_layer_weights(layer, path)
            """
        )
    )
    root = tmp_path / "nnlib"
    assert upward_imports(root) == [
        "layers/_planted.py:3 imports checkpoint in a function"
    ]
    found = "layers/_planted.py:3 imports nnlib.checkpoint in a function"
    assert found in unexplained_function_imports(root)
