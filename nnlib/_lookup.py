"""Name lookups with a did-you-mean hint, shared by the by-name registries."""

import difflib

__all__ = ["unknown_name"]


def unknown_name(kind, name, names, shown=None):
    """A ValueError for an unknown ``name``, with the closest valid one."""
    lowered = {}
    for n in names:  # the first spelling wins: callers list snake_case first
        lowered.setdefault(n.lower(), n)
    close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1)
    hint = f" Did you mean {lowered[close[0]]!r}?" if close else ""
    valid = ", ".join(sorted(shown if shown is not None else names))
    return ValueError(f"unknown {kind} {name!r}.{hint} Valid names: {valid}.")
