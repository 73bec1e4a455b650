"""Reading Keras HDF5 weight files into plain arrays (see ``keras_h5``).

Two layouts. Legacy ``.h5`` (Keras 1 and 2, tf.keras, and Keras 3's
``model.save("x.h5")``): root attributes ``layer_names``, ``keras_version`` and
``backend`` (under the ``model_weights`` group in a whole-model file); one
group per layer with the attribute ``weight_names`` naming its datasets, given
relative to the group (``"dense/kernel:0"``). Keras 3 ``.weights.h5`` (also
inside ``.keras`` archives, as ``model.weights.h5``): a ``vars`` group for
each object that has state, holding datasets ``"0"``, ``"1"``..., at the
object's path (``layers/dense/vars``, ``layers/lstm/cell/vars``). Attributes
too long for one HDF5 object header are split by Keras into ``name0``,
``name1``...; byte strings are decoded.

Every failure is a ``CheckpointError`` naming the file, as in ``_h5read``.
"""

import contextlib
import io
import os
import zipfile

import h5py
import numpy as np

from ._h5read import _cause, _check_is_file, _open_error
from .errors import CheckpointCorruptError

__all__ = ["KerasFile", "KerasLayer", "keras_format", "read"]

_ARCHIVED = "model.weights.h5"  # the weights inside a .keras zip archive


class KerasLayer:
    """One layer's weights in a Keras file.

    Attributes:
        name: The layer's name (legacy files) or its path (Keras 3 files,
            ``"layers/dense_1"``).
        weights: ``[(weight name, ndarray)]`` in the file's order.
    """

    def __init__(self, name, weights):
        self.name = name
        self.weights = weights

    def __repr__(self):
        return f"<KerasLayer {self.name!r}: {[w for w, _ in self.weights]}>"


class KerasFile:
    """What ``read`` returns.

    Attributes:
        path: The file.
        kind: ``"legacy"`` or ``"keras3"``.
        layers: Legacy: a ``KerasLayer`` for each name in ``layer_names``, in
            that order (those without weights too). Keras 3: one for each
            ``vars`` group holding data, by path (``""`` is the root).
        top: Legacy only: ``top_level_model_weights`` (Keras 3's ``.h5``), or None.
        attrs: ``keras_version`` and ``backend`` when the file records them.
    """

    def __init__(self, path, kind, layers, top=None, attrs=None):
        self.path = path
        self.kind = kind
        self.layers = layers
        self.top = top
        self.attrs = attrs or {}

    def __repr__(self):
        return f"<KerasFile {self.path!r} ({self.kind}): {len(self.layers)} layers>"


def keras_format(path):
    """``"legacy"`` or ``"keras3"`` for a Keras weights file, else None.

    Never raises: a missing, damaged or nnlib file gives None.

    Example:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import keras_h5
        >>> keras_h5.keras_format(os.path.join(tempfile.mkdtemp(), "none.h5")) is None
        True
    """
    try:
        with _opened(os.fspath(path)) as f:
            return _kind(f)
    except Exception:  # noqa: BLE001 - "not a Keras file" is the whole answer
        return None


def read(path):
    """Reads every weight of a Keras file into memory.

    Returns:
        A ``KerasFile``.

    Raises:
        CheckpointNotFoundError: No file at ``path``.
        CheckpointCorruptError: Not HDF5, truncated, unreadable, or neither
            Keras layout.
        CheckpointReadError: Permission or I/O errors.
    """
    path = os.fspath(path)
    with _opened(path) as f:
        kind = _kind(f)
        try:
            if kind == "legacy":
                return _read_legacy(path, _legacy_root(f))
            if kind == "keras3":
                return KerasFile(path, kind, _read_keras3(f))
        except CheckpointCorruptError:
            raise
        except Exception as err:  # noqa: BLE001 - translated, never a raw h5py error
            raise CheckpointCorruptError(
                f"Keras weights file '{path}' is damaged: {_cause(err)}", path=path
            ) from None
    raise CheckpointCorruptError(
        f"'{path}' is an HDF5 file but not a Keras weights file (no layer_names "
        "attribute, no vars group) nor an nnlib checkpoint",
        path=path,
    )


@contextlib.contextmanager
def _opened(path):
    _check_is_file(path)
    source = path
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                source = io.BytesIO(archive.read(_ARCHIVED))
        except (KeyError, OSError, zipfile.BadZipFile) as err:
            raise CheckpointCorruptError(
                f"'{path}' is a zip archive without a readable {_ARCHIVED}: not a "
                f"Keras .keras file ({_cause(err)})",
                path=path,
            ) from None
    try:
        f = h5py.File(source, "r")
    except Exception as err:  # noqa: BLE001 - translated, never a raw h5py error
        raise _open_error(path, err) from None
    try:
        yield f
    finally:
        with contextlib.suppress(Exception):
            f.close()


def _kind(f):
    if "format_version" in f.attrs:  # nnlib's own
        return None
    if _legacy_root(f) is not None:
        return "legacy"
    if isinstance(f.get("vars"), h5py.Group) or isinstance(f.get("layers"), h5py.Group):
        return "keras3"
    return None


def _legacy_root(f):
    if _has_attr(f, "layer_names"):
        return f
    group = f.get("model_weights")  # a whole-model file (model.save("x.h5"))
    if isinstance(group, h5py.Group) and _has_attr(group, "layer_names"):
        return group
    return None


def _has_attr(group, name):
    return name in group.attrs or f"{name}0" in group.attrs


def attr_list(group, name):
    """The strings of attribute ``name`` (joined from Keras's chunks), or None."""
    attrs = group.attrs
    if name in attrs:
        chunks = [attrs[name]]
    else:
        chunks = []
        while f"{name}{len(chunks)}" in attrs:
            chunks.append(attrs[f"{name}{len(chunks)}"])
        if not chunks:
            return None
    return [_text(item) for chunk in chunks for item in np.asarray(chunk).ravel()]


def _text(value):
    if isinstance(value, np.ndarray):
        value = value.item()
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    return str(value)


def _read_legacy(path, root):
    layers = [
        _legacy_layer(path, root, name) for name in attr_list(root, "layer_names")
    ]
    top = None
    if isinstance(root.get("top_level_model_weights"), h5py.Group):
        top = _legacy_layer(path, root, "top_level_model_weights")
    attrs = {}
    for key in ("keras_version", "backend"):
        if key in root.attrs:
            attrs[key] = _text(root.attrs[key])
    return KerasFile(path, "legacy", layers, top, attrs)


def _legacy_layer(path, root, name):
    group = root.get(name)
    if not isinstance(group, h5py.Group):
        raise CheckpointCorruptError(
            f"Keras weights file '{path}' is damaged: it lists layer '{name}' but "
            "has no group for it",
            path=path,
        )
    weights = []
    for weight in attr_list(group, "weight_names") or []:
        dataset = group.get(weight)
        if not isinstance(dataset, h5py.Dataset):
            raise CheckpointCorruptError(
                f"Keras weights file '{path}' is damaged: layer '{name}' lists "
                f"weight '{weight}' but has no dataset for it",
                path=path,
            )
        weights.append((weight, np.asarray(dataset[()])))
    return KerasLayer(name, weights)


def _read_keras3(f):
    found = {}

    def visit(name, obj):
        owner, _, key = name.rpartition("/")
        if isinstance(obj, h5py.Dataset) and (
            owner == "vars" or owner.endswith("/vars")
        ):
            found.setdefault(owner[:-5], []).append((key, np.asarray(obj[()])))

    f.visititems(visit)
    return [
        KerasLayer(owner, [(f"vars/{k}", a) for k, a in sorted(items, key=_index)])
        for owner, items in found.items()
    ]


def _index(item):
    key = item[0]
    return (0, int(key), "") if key.isdigit() else (1, 0, key)
