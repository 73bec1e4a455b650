"""The safetensors format itself: the header nnlib writes, and parsing files.

``safetensors_io`` builds the public reading and writing on these: the header
(length prefix, JSON with each tensor's dtype, shape and byte range, padded to
8 bytes), the record nnlib keeps under the metadata key ``"nnlib"`` (the names
in saving order, and for each its dtype, shape and the CRC-32 of its bytes),
and the reader (through the ``safetensors`` package), which checks every
tensor against that record and turns every failure into a ``CheckpointError``
naming the file.
"""

import json
import os
import struct
import zlib

import numpy as np

from .._warn import warn
from .errors import (
    CheckpointCorruptError,
    CheckpointError,
    CheckpointIsADirectoryError,
    CheckpointNotFoundError,
    CheckpointReadError,
)

__all__ = [
    "DTYPES",
    "INSTALL_HINT",
    "NNLIB_KEY",
    "crc",
    "header",
    "package",
    "read_safetensors",
    "record",
    "to_numpy",
]

INSTALL_HINT = 'pip install "nnlib[safetensors]"'
NNLIB_KEY = "nnlib"  # metadata: record()'s dict as JSON
_RECORD_VERSION = 2  # 1 (no "version"): names and crc32 only
_CHECKS = ("crc32", "dtypes", "shapes")


def package():
    """``safetensors.numpy``, or an ImportError saying how to install it."""
    try:
        import safetensors.numpy as st_numpy
    except ImportError as err:
        raise ImportError(
            "reading and writing safetensors files needs the 'safetensors' "
            f"package: {INSTALL_HINT}"
        ) from err
    return st_numpy


def to_numpy(value):
    """A numpy array from an array, a Variable or a PyTorch tensor (any device).

    Duck-typed, so PyTorch is never imported; bfloat16 tensors become float32
    (numpy has no bfloat16).

    Examples:
        >>> from nnlib.checkpoint.safetensors_io import to_numpy
        >>> to_numpy(nnlib.Variable([1., 2.], name="to_numpy_doc"))
        array([1., 2.], dtype=float32)
    """
    if hasattr(value, "detach"):  # a torch.Tensor
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.asarray(value)


def crc(array):
    return zlib.crc32(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


# numpy dtype -> the format's name; data is little-endian.
DTYPES = {
    "f8": "F64", "f4": "F32", "f2": "F16",
    "i8": "I64", "i4": "I32", "i2": "I16", "i1": "I8",
    "u8": "U64", "u4": "U32", "u2": "U16", "u1": "U8", "b1": "BOOL",
}  # fmt: skip


def record(entries, crc32):
    """What nnlib records of ``{name: array}``: each array's dtype, shape and
    CRC-32, in saving order, so nothing of a tensor goes unchecked on loading.

    Examples:
        >>> from nnlib.checkpoint._safetensors_format import crc, record
        >>> w = np.ones((2, 3), np.float32)
        >>> r = record({"w": w}, [crc(w)])
        >>> r["names"], r["dtypes"], r["shapes"]
        (['w'], ['F32'], [[2, 3]])
    """
    return {
        "version": _RECORD_VERSION,
        "names": list(entries),
        "dtypes": [DTYPES[a.dtype.str[1:]] for a in entries.values()],
        "shapes": [list(a.shape) for a in entries.values()],
        "crc32": list(crc32),
    }


def header(entries, metadata):
    """The length prefix and JSON header: each array's dtype, shape and byte
    range (in saving order, back to back), padded with spaces to 8 bytes."""
    header, offset = {"__metadata__": metadata}, 0
    for name, array in entries.items():
        header[name] = {
            "dtype": DTYPES[array.dtype.str[1:]],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def read_safetensors(path):
    """``(arrays, metadata, recorded)``: ``load_safetensors``'s results, and
    whether nnlib wrote the file (so the arrays are in their saving order)."""
    package()
    from safetensors import safe_open

    path = os.fspath(path)
    _check_readable(path)
    try:
        with safe_open(path, framework="numpy") as f:
            metadata = dict(f.metadata() or {})
            names = f.keys()  # a safe_open is not iterable
            declared = {name: _declared(f, name) for name in names}
            arrays = {name: _tensor(f, path, name) for name in names}
    except CheckpointError:
        raise
    except OSError as err:
        raise CheckpointReadError(
            f"cannot read safetensors file '{path}': {err}", path=path
        ) from err
    except Exception as err:  # safetensors' own error type: the file is bad
        raise _corrupt(path, err) from err
    recorded = metadata.pop(NNLIB_KEY, None)
    arrays = _checked(path, arrays, declared, recorded)
    return arrays, metadata, recorded is not None


def _declared(f, name):
    """The header's ``(dtype, shape)`` of a tensor, as the file states them."""
    entry = f.get_slice(name)
    return entry.get_dtype(), [int(n) for n in entry.get_shape()]


def _check_readable(path):
    if os.path.isdir(path):
        raise CheckpointIsADirectoryError(
            f"'{path}' is a directory, not a safetensors file", path=path
        )
    if not os.path.exists(path):
        raise CheckpointNotFoundError(f"no safetensors file at '{path}'", path=path)
    try:
        with open(path, "rb"):
            pass
    except OSError as err:
        raise CheckpointReadError(
            f"cannot read safetensors file '{path}': {err}", path=path, errno=err.errno
        ) from err


def _tensor(f, path, name):
    dtype = f.get_slice(name).get_dtype()
    if dtype == "BF16":
        return _bfloat16(path, name)
    try:
        return f.get_tensor(name)
    except TypeError as err:  # a dtype numpy lacks (float8)
        raise TypeError(
            f"cannot load '{name}' from '{path}': dtype {dtype} has no numpy "
            f"equivalent ({err})"
        ) from None


def _bfloat16(path, name):
    """A BF16 tensor as float32: its 16 bits are the top half of a float32's."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        entry = json.loads(f.read(size))[name]
        start, end = entry["data_offsets"]
        f.seek(8 + size + start)
        raw = np.frombuffer(f.read(end - start), "<u2")
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(entry["shape"])


def _checked(path, arrays, declared, recorded):
    """The arrays in nnlib's saving order, each checked against the record.

    Every tensor must have its dtype, shape (as the header declares them) and
    CRC-32 recorded and matching: a record missing a check, or shorter than
    the names, is damage too.
    """
    if recorded is None:
        return arrays
    try:
        info = json.loads(recorded)
        names = info["names"]
        version = info.get("version", 1)
        checks = _CHECKS if version >= _RECORD_VERSION else ("crc32",)
        lists = {key: info[key] for key in checks}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise _corrupt(path, f"unreadable nnlib metadata (missing {err})") from None
    if version < _RECORD_VERSION:
        warn(
            f"'{path}' was written by an older nnlib that recorded no dtypes or "
            "shapes: only its data checksums were checked; save it again"
        )
    if sorted(names) != sorted(arrays):
        raise _corrupt(path, "its names differ from those nnlib recorded")
    for key, values in lists.items():
        if not isinstance(values, list) or len(values) != len(names):
            unchecked = names[len(values) :] if isinstance(values, list) else names
            raise _corrupt(
                path,
                f"nnlib's record has no {key} for {', '.join(map(repr, unchecked))}",
            )
    for i, name in enumerate(names):
        dtype, shape = declared[name]
        if "dtypes" in lists and dtype != lists["dtypes"][i]:
            raise _corrupt(
                path,
                f"tensor '{name}' is declared {dtype} in the header but nnlib "
                f"wrote it as {lists['dtypes'][i]}",
            )
        if "shapes" in lists and shape != lists["shapes"][i]:
            raise _corrupt(
                path,
                f"tensor '{name}' is declared of shape {shape} in the header but "
                f"nnlib wrote it of shape {lists['shapes'][i]}",
            )
        if crc(arrays[name]) != lists["crc32"][i]:
            raise _corrupt(path, f"the data of '{name}' fails its CRC-32 check")
    return {name: arrays[name] for name in names}


def _corrupt(path, cause):
    return CheckpointCorruptError(
        f"'{path}' is not a valid safetensors file ({cause}): it is damaged or "
        "was not completely written",
        path=path,
    )
