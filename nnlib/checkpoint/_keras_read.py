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
import os
import shutil
import tempfile
import zipfile
import zlib

import h5py
import numpy as np
from h5py import h5l

from ._h5read import _cause, _check_is_file, _open_error
from ._h5safe import MAX_ATTRIBUTE_BYTES, MAX_INFLATION, SafeFile, human
from .errors import CheckpointCorruptError, CheckpointUnsafeError

__all__ = ["KerasFile", "KerasLayer", "keras_format", "read", "read_model_texts"]

_ARCHIVED = "model.weights.h5"  # the weights inside a .keras zip archive
# The JSON a .keras archive or a legacy whole-model .h5 keeps its model in.
_ARCHIVE_TEXTS = {"model_config": "config.json", "metadata": "metadata.json"}
_H5_TEXTS = ("model_config", "training_config", "keras_version")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# A small archive may inflate to this much whatever its ratio: HDF5's metadata
# and padding compress far better than weights do.
_ARCHIVE_FLOOR = 16 << 20


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

    Never raises, and follows no link: a missing, damaged or nnlib file gives
    None. A ``.keras`` archive is told by its ``model.weights.h5`` entry,
    without inflating it.

    Examples:
        >>> import os, tempfile
        >>> from nnlib.checkpoint import keras_h5
        >>> keras_h5.keras_format(os.path.join(tempfile.mkdtemp(), "none.h5")) is None
        True
    """
    try:
        path = os.fspath(path)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive, archive.open(_ARCHIVED) as entry:
                return "keras3" if entry.read(8) == _HDF5_SIGNATURE else None
        with _opened(path) as (f, _):
            return _kind(f)
    except Exception:  # noqa: BLE001 - "not a Keras file" is the whole answer
        return None


def read(path):
    """Reads every weight of a Keras file into memory.

    The file is checked first (``_h5safe``): no links out of it, no dataset
    declaring more than it stores, no oversized attribute, and a ``.keras``
    archive's weights inflate at most ``MAX_INFLATION`` times the archive's
    size (or 16 MiB), once, into a temporary file.

    Returns:
        A ``KerasFile``.

    Raises:
        CheckpointNotFoundError: No file at ``path``.
        CheckpointCorruptError: Not HDF5, truncated, unreadable, or neither
            Keras layout.
        CheckpointUnsafeError: The file refers to data outside it or declares
            more than it holds; nothing was read or allocated.
        CheckpointReadError: Permission or I/O errors.
    """
    path = os.fspath(path)
    with _opened(path) as (f, safe):
        try:
            safe.check_links()
            kind = _kind(f)
            if kind == "legacy":
                return _read_legacy(path, _legacy_root(f), safe)
            if kind == "keras3":
                return KerasFile(path, kind, _read_keras3(f, safe))
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


def read_model_texts(path):
    """The JSON texts that describe a whole Keras model, each at most
    ``MAX_ATTRIBUTE_BYTES``: ``{"model_config", "metadata"}`` from a ``.keras``
    archive's ``config.json`` and ``metadata.json``; ``{"model_config",
    "training_config", "keras_version"}`` from a legacy ``.h5``'s root
    attributes. Those missing (a weights-only file) are left out.

    Raises:
        CheckpointUnsafeError: A text larger than ``MAX_ATTRIBUTE_BYTES``
            (declared, before it is read), or links out of the file.
        CheckpointCorruptError: An unreadable archive or file.
    """
    path = os.fspath(path)
    _check_is_file(path)
    if zipfile.is_zipfile(path):
        return _archive_texts(path)
    with _opened(path) as (f, safe):
        safe.check_links()
        texts = {}
        for key in _H5_TEXTS:
            if key in f.attrs:
                texts[key] = _text(safe.attribute(f, key, scalar=True))
        return texts


def _archive_texts(path):
    texts = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for key, entry in _ARCHIVE_TEXTS.items():
                if entry not in names:
                    continue
                info = archive.getinfo(entry)
                if info.file_size > MAX_ATTRIBUTE_BYTES:
                    raise CheckpointUnsafeError(
                        f"'{path}' is unsafe to read: its {entry} declares "
                        f"{human(info.file_size)}, more than the "
                        f"{human(MAX_ATTRIBUTE_BYTES)} nnlib reads as a config",
                        path=path,
                    )
                with archive.open(info) as stream:
                    data = stream.read(MAX_ATTRIBUTE_BYTES + 1)
                texts[key] = data[:MAX_ATTRIBUTE_BYTES].decode("utf-8")
    except CheckpointUnsafeError:
        raise
    except (KeyError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as err:
        raise CheckpointCorruptError(
            f"Keras archive '{path}' is damaged: {_cause(err)}", path=path
        ) from None
    except UnicodeDecodeError:
        raise CheckpointCorruptError(
            f"Keras archive '{path}' is damaged: its config is not UTF-8 text",
            path=path,
        ) from None
    return texts


@contextlib.contextmanager
def _opened(path):
    """``(open h5py.File, SafeFile)``; a ``.keras`` archive's weights inflated once."""
    _check_is_file(path)
    with contextlib.ExitStack() as stack:
        source, size = path, os.path.getsize(path)
        if zipfile.is_zipfile(path):
            source = stack.enter_context(tempfile.TemporaryFile())
            size = _inflate(path, source)
        try:
            f = h5py.File(source, "r")
        except Exception as err:  # noqa: BLE001 - translated, never a raw h5py error
            raise _open_error(path, err) from None
        try:
            yield f, SafeFile(f, path, size)
        finally:
            with contextlib.suppress(Exception):
                f.close()


def _inflate(path, target):
    """Inflates the archive's weights into ``target``; returns their size.

    The entry's declared size is checked against the archive's before
    anything is inflated (zipfile stops at the declared size, so it bounds
    the output).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(_ARCHIVED)
            limit = max(MAX_INFLATION * os.path.getsize(path), _ARCHIVE_FLOOR)
            if info.file_size > limit:
                raise CheckpointUnsafeError(
                    f"'{path}' is unsafe to read: its {_ARCHIVED} declares "
                    f"{human(info.file_size)} inflated, more than {human(limit)} "
                    f"({MAX_INFLATION} times the archive's size, at least "
                    f"{human(_ARCHIVE_FLOOR)}; nnlib.checkpoint._h5safe.MAX_INFLATION)",
                    path=path,
                )
            with archive.open(info) as entry:
                shutil.copyfileobj(entry, target, 1 << 20)
    except CheckpointUnsafeError:
        raise
    except (KeyError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as err:
        raise CheckpointCorruptError(
            f"'{path}' is a zip archive without a readable {_ARCHIVED}: not a "
            f"Keras .keras file ({_cause(err)})",
            path=path,
        ) from None
    target.seek(0)
    return info.file_size


def _kind(f):
    if "format_version" in f.attrs:  # nnlib's own
        return None
    if _legacy_root(f) is not None:
        return "legacy"
    if _hard_group(f, "vars") is not None or _hard_group(f, "layers") is not None:
        return "keras3"
    return None


def _legacy_root(f):
    if _has_attr(f, "layer_names"):
        return f
    group = _hard_group(f, "model_weights")  # a whole-model file (model.save("x.h5"))
    if group is not None and _has_attr(group, "layer_names"):
        return group
    return None


def _hard_group(group, name):
    """``group[name]`` if it is a group reached by a hard link, else None.

    Follows no link: telling the format apart must not open another file (a
    FIFO would block forever) before ``SafeFile.check_links`` refuses it.
    """
    key = name.encode("utf-8")
    links = group.id.links
    if not links.exists(key) or links.get_info(key).type != h5l.TYPE_HARD:
        return None
    found = group[name]
    return found if isinstance(found, h5py.Group) else None


def _has_attr(group, name):
    return name in group.attrs or f"{name}0" in group.attrs


def attr_list(group, name, safe):
    """The strings of attribute ``name`` (joined from Keras's chunks), or None.

    Each name stands for an object of the file, so a list longer than the
    file has links is refused before its strings are made.
    """
    attrs = group.attrs
    if name in attrs:
        keys = [name]
    else:
        keys = []
        while f"{name}{len(keys)}" in attrs:
            keys.append(f"{name}{len(keys)}")
        if not keys:
            return None
    left = safe.check_links()
    chunks = []
    for key in keys:
        chunk = np.asarray(safe.attribute(group, key, max_items=left))
        left -= chunk.size
        chunks.append(chunk)
    return [_text(item) for chunk in chunks for item in chunk.ravel()]


def _text(value):
    if isinstance(value, np.ndarray):
        value = value.item()
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    return str(value)


def _read_legacy(path, root, safe):
    layers = [
        _legacy_layer(path, root, name, safe)
        for name in attr_list(root, "layer_names", safe)
    ]
    top = None
    if isinstance(root.get("top_level_model_weights"), h5py.Group):
        top = _legacy_layer(path, root, "top_level_model_weights", safe)
    attrs = {}
    for key in ("keras_version", "backend"):
        if key in root.attrs:
            attrs[key] = _text(safe.attribute(root, key, max_items=1))
    return KerasFile(path, "legacy", layers, top, attrs)


def _legacy_layer(path, root, name, safe):
    group = root.get(name)
    if not isinstance(group, h5py.Group):
        raise CheckpointCorruptError(
            f"Keras weights file '{path}' is damaged: it lists layer '{name}' but "
            "has no group for it",
            path=path,
        )
    weights = []
    for weight in attr_list(group, "weight_names", safe) or []:
        dataset = group.get(weight)
        if not isinstance(dataset, h5py.Dataset):
            raise CheckpointCorruptError(
                f"Keras weights file '{path}' is damaged: layer '{name}' lists "
                f"weight '{weight}' but has no dataset for it",
                path=path,
            )
        weights.append((weight, _array(dataset, f"{name}/{weight}", safe)))
    return KerasLayer(name, weights)


def _array(dataset, name, safe):
    """The dataset's data, once ``safe`` has checked the file holds it."""
    safe.check_dataset(dataset.id, name)
    return np.asarray(dataset[()])


def _read_keras3(f, safe):
    found = {}

    def visit(name, obj):
        owner, _, key = name.rpartition("/")
        if (
            isinstance(obj, h5py.Dataset)
            and (owner == "vars" or owner.endswith("/vars"))
            # Text state (a lookup's vocabulary) is no weight of nnlib's.
            and obj.dtype.kind in "biufc"
        ):
            found.setdefault(owner[:-5], []).append((key, _array(obj, name, safe)))

    f.visititems(visit)
    return [
        KerasLayer(owner, [(f"vars/{k}", a) for k, a in sorted(items, key=_index)])
        for owner, items in found.items()
    ]


def _index(item):
    key = item[0]
    return (0, int(key), "") if key.isdigit() else (1, 0, key)
