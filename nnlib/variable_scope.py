"""Scoped variable creation: ``variable_scope``, ``get_variable``, ``name_scope``.

Variables made by ``get_variable`` are named by the scopes open around the call
(``"encoder/w"``) and kept in one store, weakly: a variable no longer used by
anything frees its name. Asking for an existing name raises unless the scope
reuses (``reuse=True``, or ``AUTO_REUSE`` to create or reuse), which is how
layers and models share weights by name.
"""

import contextlib
import gc
import threading
import weakref

import numpy as np

from . import initializers, naming
from .engine.tensor import to_array
from .engine.variable import Variable

__all__ = [
    "AUTO_REUSE",
    "VariableScope",
    "clear_session",
    "get_variable",
    "get_variable_scope",
    "name_scope",
    "regularization_losses",
    "variable_scope",
]


class _AutoReuse:
    def __repr__(self):
        return "nnlib.AUTO_REUSE"


AUTO_REUSE = _AutoReuse()
"""Pass as ``reuse`` to create a variable when missing and reuse it otherwise."""


class VariableScope:
    """A named scope's settings: its full name, reuse mode and default initializer.

    Args:
        name: The full scope name (``"gan/generator"``; ``""`` at the root).
        reuse: ``False``, ``True`` or ``AUTO_REUSE``.
        initializer: Default initializer for ``get_variable`` in this scope.

    Examples:
        >>> with nnlib.variable_scope("block") as scope:
        ...     scope.name
        'block'
    """

    def __init__(self, name, reuse=False, initializer=None):
        self.name = name
        self.reuse = reuse
        self.initializer = initializer

    def __repr__(self):
        return f"VariableScope(name={self.name!r}, reuse={self.reuse!r})"


class _Store:
    """Every variable ``get_variable`` made, by full name.

    Variables a layer owns are held weakly: they live as long as their layer. The
    others are held like TensorFlow's graph held them, so a function that opens
    an ``AUTO_REUSE`` scope finds its variables again on every call;
    ``clear_session()`` lets them go.
    """

    def __init__(self):
        self.owned = weakref.WeakValueDictionary()
        self.free = {}
        self.regularizers = weakref.WeakKeyDictionary()
        self.lock = threading.Lock()

    def get(self, name):
        variable = self.free.get(name)
        return variable if variable is not None else self.owned.get(name)

    def names(self):
        return list(self.free) + list(self.owned.keys())


_STORE = _Store()
_STATE = threading.local()


def _stack():
    stack = getattr(_STATE, "stack", None)
    if stack is None:
        stack = _STATE.stack = [VariableScope("")]
    return stack


def get_variable_scope():
    """Returns the innermost open ``VariableScope`` (the root scope is named "").

    Examples:
        >>> with nnlib.variable_scope("outer"):
        ...     with nnlib.variable_scope("inner"):
        ...         nnlib.get_variable_scope().name
        'outer/inner'
    """
    return _stack()[-1]


def _join(prefix, name):
    return f"{prefix}/{name}" if prefix else name


@contextlib.contextmanager
def variable_scope(name_or_scope, reuse=None, initializer=None):
    """Opens a scope that prefixes the names of variables made by ``get_variable``.

    Scopes nest (``"encoder/layer1/w"``). Opening a scope with the same name again
    reopens it: names are not made unique here (layers and networks do that).

    Args:
        name_or_scope: A name (may contain ``/``), or a ``VariableScope`` to reenter
            (its full name, not nested under the current scope).
        reuse: ``True`` to reuse existing variables (a missing one raises),
            ``AUTO_REUSE`` to create or reuse, ``None`` to inherit the enclosing
            scope's mode, ``False`` to create only. Once ``True``, sub-scopes reuse.
        initializer: Default initializer for ``get_variable`` inside.

    Yields:
        The ``VariableScope``.

    Examples:
        >>> with nnlib.variable_scope("encoder"):
        ...     w = nnlib.get_variable("w", shape=(3, 4))
        >>> with nnlib.variable_scope("encoder", reuse=True):
        ...     nnlib.get_variable("w") is w
        True
        >>> w.name
        'encoder/w'
    """
    parent = get_variable_scope()
    if isinstance(name_or_scope, VariableScope):
        full_name = name_or_scope.name
        inherited = name_or_scope.reuse
        initializer = (
            initializer if initializer is not None else name_or_scope.initializer
        )
    else:
        if not isinstance(name_or_scope, str) or not name_or_scope.strip("/"):
            raise ValueError(
                f"scope name must be a non-empty string, got {name_or_scope!r}"
            )
        full_name = _join(parent.name, name_or_scope.strip("/"))
        inherited = parent.reuse
    if reuse is None:
        reuse = inherited
    elif parent.reuse is True and reuse is not True:
        reuse = (
            True  # as TensorFlow: reuse cannot be switched off inside a reusing scope
        )
    if reuse not in (True, False) and reuse is not AUTO_REUSE:
        raise ValueError(
            f"reuse must be True, False, None or nnlib.AUTO_REUSE, got {reuse!r}"
        )
    if initializer is None:
        initializer = parent.initializer
    scope = VariableScope(full_name, reuse, initializer)
    stack = _stack()
    stack.append(scope)
    try:
        yield scope
    finally:
        stack.pop()


def name_scope(name):
    """Prefixes variable names with ``name`` without changing reuse or initializer.

    In nnlib only variable names carry scopes (ops are not named), so this is a
    ``variable_scope`` that inherits everything from the enclosing scope.

    Examples:
        >>> with nnlib.name_scope("block"):
        ...     nnlib.get_variable("bias", shape=(2,)).name
        'block/bias'
    """
    return variable_scope(name, reuse=None, initializer=None)


def get_variable(
    name,
    shape=None,
    dtype=np.float32,
    initializer=None,
    trainable=True,
    regularizer=None,
    _owned=False,
):
    """Creates a variable named by the open scopes, or returns the existing one.

    Args:
        name: The variable's name inside the current scope (no ``/``).
        shape: Its shape; may be None when ``initializer`` is an array or Tensor
            (or when reusing an existing variable).
        dtype: Its dtype (float32 by default).
        initializer: An initializer object, its name (``"glorot_uniform"``), a
            callable ``(shape, dtype) -> array``, or an array/Tensor/number giving
            the value. Default: the scope's initializer, else glorot_uniform for
            floating point (zeros otherwise), as Keras does.
        trainable: Whether tapes watch it and optimizers update it.
        regularizer: Optional callable ``variable -> scalar Tensor`` whose value
            ``regularization_losses()`` reports.

    Returns:
        The ``Variable``.

    Raises:
        ValueError: If the name exists and the scope does not reuse (naming the
            variable); if reuse is asked for a missing variable; if a reused
            variable's shape or dtype differs from the one asked for (both shown);
            if no shape can be determined.

    Examples:
        >>> with nnlib.variable_scope("dense_example"):
        ...     v = nnlib.get_variable("kernel", shape=(2, 3), initializer="zeros")
        >>> v.name, v.shape
        ('dense_example/kernel', (2, 3))
        >>> with nnlib.variable_scope("dense_example"):
        ...     nnlib.get_variable("kernel", shape=(2, 3))
        Traceback (most recent call last):
        ...
        ValueError: variable 'dense_example/kernel' already exists; open the scope with reuse=True (or nnlib.AUTO_REUSE) to share it
    """
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(
            f"variable name must be a non-empty string without '/', got {name!r}"
        )
    scope = get_variable_scope()
    full_name = _join(scope.name, name)
    dtype = np.dtype(dtype)
    with _STORE.lock:
        existing = _STORE.get(full_name)
        if existing is not None:
            if scope.reuse is False:
                raise ValueError(
                    f"variable '{full_name}' already exists; open the scope with "
                    "reuse=True (or nnlib.AUTO_REUSE) to share it"
                )
            _check_reused(existing, shape, dtype)
            return existing
        if scope.reuse is True:
            raise ValueError(
                f"variable '{full_name}' does not exist, but the scope '{scope.name}' "
                "reuses variables; use reuse=nnlib.AUTO_REUSE to create missing ones"
            )
        if initializer is None:
            initializer = scope.initializer
        value = _initial_value(full_name, shape, dtype, initializer)
        variable = Variable(value, name=full_name, trainable=trainable, dtype=dtype)
        (_STORE.owned if _owned else _STORE.free)[full_name] = variable
        if regularizer is not None:
            _STORE.regularizers[variable] = regularizer
    return variable


def scope_in_use(scope_name):
    """True when a live variable's name starts with ``scope_name + "/"``.

    Examples:
        >>> with nnlib.variable_scope("in_use_example"):
        ...     v = nnlib.get_variable("w", shape=(1,))
        >>> scope_in_use("in_use_example"), scope_in_use("in_use")
        (True, False)
    """
    prefix = scope_name + "/"
    with _STORE.lock:
        return any(name.startswith(prefix) for name in _STORE.names())


def _forget_variable(variable):
    """Frees the name of a variable a failed layer build made, so a retry can
    create it again; the object itself stays valid."""
    with _STORE.lock:
        for table in (_STORE.owned, _STORE.free):
            if table.get(variable.name) is variable:
                del table[variable.name]
        _STORE.regularizers.pop(variable, None)


def _check_reused(variable, shape, dtype):
    if shape is not None and tuple(shape) != variable.shape:
        raise ValueError(
            f"variable '{variable.name}' exists with shape {variable.shape}, "
            f"but shape {tuple(shape)} was asked for"
        )
    if dtype != variable.dtype:
        raise ValueError(
            f"variable '{variable.name}' exists with dtype {variable.dtype}, "
            f"but dtype {dtype} was asked for"
        )


# Called as check(full_name, shape, dtype) before a variable's initial value
# is made: nnlib.checkpoint's load_model refuses, before any allocation, a
# variable larger than the file it rebuilds a model from stores.
_creation_checks = []


def _initial_value(full_name, shape, dtype, initializer):
    if shape is not None:
        for check in tuple(_creation_checks):
            check(full_name, tuple(shape), dtype)

    if initializer is None:
        initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
    if isinstance(initializer, (str, dict)):
        initializer = initializers.get(initializer)
    if callable(initializer):
        if shape is None:
            raise ValueError(
                f"variable '{full_name}': a shape is needed to run its initializer"
            )
        value = initializer(tuple(shape), dtype)
    else:
        value = to_array(initializer, dtype)
        if shape is not None and tuple(shape) != value.shape:
            value = np.broadcast_to(value, tuple(shape)) if value.ndim == 0 else value
    value = np.asarray(value, dtype)
    if shape is not None and value.shape != tuple(shape):
        raise ValueError(
            f"variable '{full_name}': the initial value has shape "
            f"{value.shape}, but shape {tuple(shape)} was asked for"
        )
    return value


def clear_session():
    """Forgets the variables ``get_variable`` made outside layers, and the names.

    Afterwards a scope creates fresh variables, and top-level names (``mnist``)
    start again; layers and models alive keep their variables. As Keras's
    ``clear_session``, for starting over in one process.

    Examples:
        >>> with nnlib.variable_scope("clear_example"):
        ...     _ = nnlib.get_variable("w", shape=(1,))
        >>> nnlib.clear_session()
        >>> with nnlib.variable_scope("clear_example"):
        ...     nnlib.get_variable("w", shape=(2,)).shape
        (2,)
    """
    with _STORE.lock:
        _STORE.free.clear()
    gc.collect()  # models that are gone but sit in reference cycles free their names
    naming.reset_names()


def regularization_losses(scope=None):
    """Returns the regularization terms of live variables made with a regularizer.

    Args:
        scope: Optional scope name; only variables under it count.

    Returns:
        A list of scalar Tensors, computed now (so a tape records them).

    Examples:
        >>> with nnlib.variable_scope("reg_example"):
        ...     v = nnlib.get_variable("w", initializer=np.ones(3, np.float32),
        ...                            regularizer=lambda w: nnlib.reduce_sum(w))
        >>> [float(t) for t in nnlib.regularization_losses("reg_example")]
        [3.0]
    """
    prefix = None if scope is None else scope.strip("/") + "/"
    return [
        reg(v)
        for v, reg in list(_STORE.regularizers.items())
        if prefix is None or v.name.startswith(prefix)
    ]
