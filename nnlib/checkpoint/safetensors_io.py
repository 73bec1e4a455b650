"""Reading and writing safetensors files: the format PyTorch and Hugging Face share.

A safetensors file is an 8-byte header length, a JSON header (each tensor's
dtype, shape and byte range, plus ``__metadata__``: a str to str mapping) and the
raw little-endian data. nnlib writes it straight from the arrays (no encoded
copy in memory); the optional ``safetensors`` package parses it, for loading
and for checking each file written (``pip install "nnlib[safetensors]"``).
nnlib adds what its own HDF5 files have:
atomic writing by the protocol of ``h5io`` (a temporary file beside the target,
verified, fsynced, renamed over it, the folder fsynced; removed on any failure),
errors that name the file, and, in the metadata key ``"nnlib"``, the names in
saving order with each array's dtype, shape and CRC-32, so files nnlib wrote
are checked as they are read (a header whose ``F32`` became ``I32`` is caught,
not loaded as integers). Files from other writers load without those checks
(the format has none). ``BF16`` tensors, common in PyTorch files, load as
float32. An integer tensor given to a float variable is refused by every
loader (its values are not the weights), whoever wrote the file.

Examples:
    >>> import os, tempfile
    >>> from nnlib.checkpoint import load_safetensors, save_safetensors
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> _ = save_safetensors(path, {"fc.weight": np.ones((2, 3), np.float32)})
    >>> load_safetensors(path)["fc.weight"].shape
    (2, 3)
"""

import json
import os

import numpy as np

from .. import _atomic
from . import h5io
from ._matching import assign_arrays, named_variables
from ._safetensors_format import (
    DTYPES,
    NNLIB_KEY,
    crc,
    header,
    package,
    read_safetensors,
    record,
    to_numpy,
)
from ._save import save_atomically
from .errors import CheckpointError

__all__ = ["load_safetensors", "load_safetensors_weights", "save_safetensors"]


# -- writing ----------------------------------------------------------------------


def save_safetensors(path, arrays_or_layer, metadata=None, make_dirs=False):
    """Writes ``{name: array}`` (or a layer's variables) to a safetensors file.

    Atomic: the file at ``path`` is replaced only by a complete, verified new
    one. Names are kept as given (``"dense/kernel"``, ``"fc.weight"``); the
    order of the mapping is recorded, so ``load_safetensors`` returns it.

    Args:
        path: The file to write.
        arrays_or_layer: A mapping of names to numpy arrays, Variables or
            PyTorch tensors (so ``model.state_dict()`` saves as it is), or a
            layer or model, saved by ``named_variables`` (names relative to it).
        metadata: Optional ``{str: str}`` for the header's ``__metadata__``
            (the key ``"nnlib"`` is nnlib's own).
        make_dirs: Create the target's folder when missing.

    Returns:
        ``path``.

    Raises:
        ImportError: If the ``safetensors`` package is not installed.
        ValueError: For an empty name, a layer without variables yet, or
            ``metadata`` using the key ``"nnlib"``.
        TypeError: For arrays other than booleans and numbers, or metadata
            values other than strings.
        CheckpointWriteError: When writing fails (disk full, permission,
            missing folder); the previous file is intact and no temporary
            file is left.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import load_safetensors, save_safetensors
        >>> dense = nnlib.layers.Dense(2)
        >>> _ = dense(np.ones((1, 3), np.float32))
        >>> path = save_safetensors(os.path.join(tempfile.mkdtemp(), "d.safetensors"),
        ...                         dense, metadata={"note": "hi"})
        >>> arrays, meta = load_safetensors(path, with_metadata=True)
        >>> list(arrays), meta
        (['kernel', 'bias'], {'note': 'hi'})
    """
    package()  # the written file is read back through it
    path = os.fspath(path)
    entries = _prepared(arrays_or_layer)
    metadata = _checked_metadata(metadata)
    with h5io.Checksums() as crcs:  # large arrays on threads (zlib frees the GIL)
        pending = [crcs.submit(crc, a, nbytes=a.nbytes) for a in entries.values()]
        crc32 = [result() for result in pending]
    metadata[NNLIB_KEY] = json.dumps(record(entries, crc32))
    head = header(entries, metadata)

    def fill(temp):
        _write_file(temp, head, entries.values())
        _atomic.fsync(temp)
        _verify(temp, entries)

    return save_atomically(path, fill, make_dirs, what="safetensors file")


def _prepared(arrays_or_layer):
    if hasattr(arrays_or_layer, "scope_name") and hasattr(arrays_or_layer, "variables"):
        layer, arrays_or_layer = arrays_or_layer, named_variables(arrays_or_layer)
        if not arrays_or_layer:
            raise ValueError(
                f"layer '{layer.name}' has no variables yet: call it on a batch of "
                "data (or build(input_shape)) before saving it"
            )
    entries = {}
    for name, value in arrays_or_layer.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"cannot save an array under the name {name!r}")
        array = np.asarray(to_numpy(value), order="C")  # keeps 0-d arrays 0-d
        if array.dtype.byteorder == ">":  # the format is little-endian
            array = array.astype(array.dtype.newbyteorder("<"))
        if array.dtype.str[1:] not in DTYPES:
            raise TypeError(
                f"cannot save '{name}' as safetensors: arrays of dtype "
                f"{array.dtype} are not supported (numbers and booleans only)"
            )
        entries[name] = array
    return entries


def _checked_metadata(metadata):
    header = dict(metadata or {})
    for key, value in header.items():
        if key == NNLIB_KEY:
            raise ValueError(f"the metadata key {key!r} is reserved for nnlib")
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"safetensors metadata must map str to str, got {key!r}: "
                f"{type(value).__name__} (store structures as JSON strings)"
            )
    return header


def _write_file(temp, head, arrays):
    """Writes the file straight from the arrays, with no encoded copy in memory
    (the seam tests use to inject failures)."""
    with open(temp, "wb") as f:
        f.write(head)
        f.writelines(array.reshape(-1).view(np.uint8) for array in arrays)


def _verify(temp, entries):
    # The package parses the file back and every array's CRC-32 is checked.
    try:
        arrays, _, _ = read_safetensors(temp)
    except CheckpointError as err:
        raise OSError(f"verification of the written file '{temp}' failed: {err}")
    if list(arrays) != list(entries):
        raise OSError(f"verification of the written file '{temp}' failed: names")


# -- reading ----------------------------------------------------------------------


def load_safetensors(path, with_metadata=False):
    """Reads a safetensors file into ``{name: numpy array}``.

    Names come in the order nnlib saved them, or (files from other writers)
    sorted by name. Arrays nnlib wrote are checked against their CRC-32.

    Args:
        path: The file.
        with_metadata: Also return the header's ``__metadata__`` (without
            nnlib's own key).

    Returns:
        ``{name: array}``, or ``(arrays, metadata)`` with ``with_metadata``.

    Raises:
        ImportError: If the ``safetensors`` package is not installed.
        CheckpointNotFoundError: No file at ``path`` (a directory raises
            ``CheckpointIsADirectoryError``).
        CheckpointReadError: The file cannot be read (permission).
        CheckpointCorruptError: The file is not safetensors, is truncated, or
            fails a checksum nnlib recorded.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import load_safetensors
        >>> path = os.path.join(tempfile.mkdtemp(), "missing.safetensors")
        >>> load_safetensors(path)
        Traceback (most recent call last):
        ...
        nnlib.checkpoint.errors.CheckpointNotFoundError: no safetensors file at '...'
    """
    arrays, metadata, _ = read_safetensors(path)
    return (arrays, metadata) if with_metadata else arrays


# -- layers -----------------------------------------------------------------------


def load_safetensors_weights(layer, path, strict=True, skip_mismatch=False):
    """Loads a safetensors file of nnlib names (``save_safetensors(path, model)``).

    All or nothing, as ``Layer.load_weights``: the layer must be built (called
    once). PyTorch files take ``load_torch_safetensors`` instead.

    Args:
        layer: The layer or model to fill.
        path: The file.
        strict: Raise if any variable has no value or any value no variable.
        skip_mismatch: Pass over arrays of the wrong shape (with a warning).

    Returns:
        The ``RestoreReport``.

    Raises:
        ValueError: If the layer has no variables yet.
        CheckpointMismatchError: With the whole report, if the file does not
            fit; nothing is changed then.
        CheckpointNotFoundError, CheckpointCorruptError, ...: As
            ``load_safetensors``.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import load_safetensors_weights, save_safetensors
        >>> model = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
        >>> path = save_safetensors(os.path.join(tempfile.mkdtemp(), "m.safetensors"),
        ...                         model)
        >>> other = nnlib.Sequential([nnlib.layers.Dense(2, input_shape=(3,))])
        >>> load_safetensors_weights(other, path).matched
        ['dense/kernel', 'dense/bias']
    """
    variables = named_variables(layer)
    if not variables:
        raise ValueError(
            f"layer '{layer.name}' has no variables yet: call it on a batch of "
            "data (or build(input_shape)) before loading safetensors weights"
        )
    arrays = load_safetensors(path)
    return assign_arrays(
        arrays, variables, True, strict, skip_mismatch, os.fspath(path), layer.name
    )
