"""Layer classes by name, so configs can name the class to rebuild.

nnlib's own classes (defined in a module of the nnlib package) register under
their bare class name, ``"Dense"``, and a user's class cannot take their
place. Every other class registers under its module and qualified name,
``"my_project.layers.Dense"``: a user's ``class Dense(Layer)`` warns that it
shares a built-in's name, and configs naming ``"Dense"`` keep meaning
``nnlib.layers.Dense``. A config records a class by ``class_spec``: the bare
``class_name`` (what ``custom_objects`` keys use, as in Keras) and, for a
class outside nnlib, its ``registered_name``, so it reloads as itself.

Lookups (``resolve``, ``get_layer_class``) take, in order: ``custom_objects``
(always first), nnlib's own class of that name, then a user class. Inside
``loading(custom_objects, safe_mode=True)`` (what ``load_model`` opens) a
class from outside nnlib is refused unless ``custom_objects`` names it, so a
file cannot make nnlib run code that the caller did not hand over.
"""

import contextlib
import contextvars
import difflib
import os
import sys

from .._args import boolean
from .._warn import warn

__all__ = [
    "LAYER_CLASSES",
    "USER_CLASSES",
    "UnsafeClassError",
    "class_spec",
    "get_layer_class",
    "loading",
    "register",
    "registered_name",
    "resolve",
]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

# nnlib's own classes by bare name; filled by Layer.__init_subclass__.
LAYER_CLASSES = {}
# Every other Layer subclass, by "module.qualname".
USER_CLASSES = {}

# (custom_objects, safe_mode) of the load_model in progress, if any.
_LOADING = contextvars.ContextVar("nnlib_layer_loading", default=None)


class UnsafeClassError(ValueError):
    """A class from outside nnlib that a safe-mode load was not given."""


def _is_nnlib(cls):
    module = cls.__module__ or ""
    return module == "nnlib" or module.startswith("nnlib.")


def _defined_in_nnlib():
    """Whether the class being registered is defined in one of nnlib's files.

    The frame running the ``class`` statement is the first above the
    ``__init_subclass__`` chain. A class in a doctest of an nnlib module has
    that module's ``__module__`` but not its file, and stays a user's class.
    """
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_name in (
        "__init_subclass__",
        "register",
    ):
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith(_PACKAGE)


def _key(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def register(cls):
    """Records a Layer subclass (``Layer.__init_subclass__`` calls it).

    Examples:
        >>> from nnlib.layers import _registry
        >>> _registry.LAYER_CLASSES["Dense"] is nnlib.layers.Dense
        True
    """
    name = cls.__name__
    if _is_nnlib(cls) and _defined_in_nnlib():
        held = LAYER_CLASSES.get(name)
        # A module reloaded redefines its class; another nnlib class of the
        # same name (a doctest's, say) must not take the first one's place.
        if held is None or _key(held) == _key(cls):
            LAYER_CLASSES[name] = cls
            return
    USER_CLASSES[_key(cls)] = cls
    if name in LAYER_CLASSES:
        warn(
            f"layer class '{_key(cls)}' has the name of nnlib's built-in layer "
            f"'{name}': configs naming '{name}' keep meaning nnlib's; yours is "
            f"saved and found as '{_key(cls)}' (or pass "
            f"custom_objects={{'{name}': {name}}})"
        )


def _own(cls):
    return LAYER_CLASSES.get(cls.__name__) is cls


def registered_name(cls):
    """The name a config records for ``cls``: bare for nnlib's own classes,
    ``"module.qualname"`` for any other.

    Examples:
        >>> from nnlib.layers import _registry
        >>> _registry.registered_name(nnlib.layers.Dense)
        'Dense'
    """
    return cls.__name__ if _own(cls) else _key(cls)


def class_spec(cls):
    """``{"class_name": ...}``, plus ``"registered_name"`` for a class outside
    nnlib: the keys a config names a layer's class with.

    Examples:
        >>> from nnlib.layers import _registry
        >>> _registry.class_spec(nnlib.layers.Dense)
        {'class_name': 'Dense'}
    """
    spec = {"class_name": cls.__name__}
    if registered_name(cls) != cls.__name__:
        spec["registered_name"] = registered_name(cls)
    return spec


@contextlib.contextmanager
def loading(custom_objects=None, safe_mode=True):
    """Lookups inside see ``custom_objects``, and refuse classes from outside
    nnlib that it does not name when ``safe_mode`` is on.

    Examples:
        >>> from nnlib.layers import _registry
        >>> class SafeModeExample(nnlib.layers.Layer):
        ...     pass
        >>> with _registry.loading(safe_mode=True):
        ...     _registry.get_layer_class("SafeModeExample")
        Traceback (most recent call last):
        ...
        nnlib.layers._registry.UnsafeClassError: refusing layer class '...SafeModeExample' in safe mode: it is not part of nnlib, and a file could name any class defined in this process; if you trust the file, pass custom_objects={'SafeModeExample': SafeModeExample} (or safe_mode=False)
    """
    safe_mode = boolean(safe_mode, "safe_mode", "load_model")
    token = _LOADING.set((dict(custom_objects or {}), safe_mode))
    try:
        yield
    finally:
        _LOADING.reset(token)


def resolve(spec, custom_objects=None):
    """The class a config's ``{"class_name", "registered_name"?}`` names.

    Args:
        spec: A layer entry of a config (``class_spec`` plus ``config``).
        custom_objects: ``{"Name": cls}``, looked up first, by registered
            name then by class name.

    Raises:
        ValueError: Unknown, ambiguous, or (in a safe-mode load) refused.

    Examples:
        >>> from nnlib.layers import _registry
        >>> _registry.resolve({"class_name": "Dense", "config": {"units": 2}})
        <class 'nnlib.layers.core.Dense'>
    """
    name, key = spec["class_name"], spec.get("registered_name")
    found = _custom(custom_objects, key, name)
    if found is not None:
        return found
    if key is None or key == name:
        return get_layer_class(name)
    cls = LAYER_CLASSES.get(key) or USER_CLASSES.get(key)
    if cls is None:
        raise ValueError(
            f"layer class '{key}' is not defined in this process: import its "
            f"module first, or pass custom_objects={{'{name}': {name}}}"
        )
    return _allowed(cls)


def get_layer_class(name):
    """The Layer subclass a config names: nnlib's own first, then a user's.

    ``name`` is a bare class name (``"Dense"``) or a registered name
    (``"my_project.layers.Dense"``).

    Raises:
        ValueError: For an unknown name (listing the close ones), a bare name
            two user classes share, or a user class refused by a safe-mode
            load.

    Examples:
        >>> nnlib.layers.get_layer_class("Dense") is nnlib.layers.Dense
        True
    """
    found = _custom(None, name, name)
    if found is not None:
        return found
    if name in LAYER_CLASSES:
        return LAYER_CLASSES[name]
    if name in USER_CLASSES:
        return _allowed(USER_CLASSES[name])
    same = [key for key, cls in USER_CLASSES.items() if cls.__name__ == name]
    if len(same) == 1:
        return _allowed(USER_CLASSES[same[0]])
    if same:
        raise ValueError(
            f"layer class name '{name}' is ambiguous: {sorted(same)} are all "
            f"defined; pass custom_objects={{'{name}': cls}} to choose"
        )
    known = [*LAYER_CLASSES, *(cls.__name__ for cls in USER_CLASSES.values())]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        f"unknown layer class '{name}'{hint} (pass custom classes with "
        "custom_objects={'Name': cls})"
    )


def _custom(custom_objects, *keys):
    loading_now = _LOADING.get()
    for table in (custom_objects, loading_now[0] if loading_now else None):
        for key in keys:
            if table and key is not None and key in table:
                return table[key]
    return None


def _allowed(cls):
    loading_now = _LOADING.get()
    if loading_now is None or not loading_now[1] or _own(cls):
        return cls
    name = cls.__name__
    raise UnsafeClassError(
        f"refusing layer class '{_key(cls)}' in safe mode: it is not part of "
        "nnlib, and a file could name any class defined in this process; if "
        f"you trust the file, pass custom_objects={{'{name}': {name}}} (or "
        "safe_mode=False)"
    )
