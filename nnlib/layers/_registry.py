"""Layer classes by name, so configs can name the class to rebuild."""

import difflib

__all__ = ["LAYER_CLASSES", "get_layer_class"]

# Filled by Layer.__init_subclass__: every subclass registers itself.
LAYER_CLASSES = {}


def get_layer_class(name):
    """Returns the Layer subclass registered under its class name (for configs).

    Raises:
        ValueError: For an unknown name, listing the close ones.
    """
    if name in LAYER_CLASSES:
        return LAYER_CLASSES[name]
    close = difflib.get_close_matches(name, LAYER_CLASSES, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        f"unknown layer class '{name}'{hint} (pass custom classes with "
        "custom_objects={'Name': cls})"
    )
