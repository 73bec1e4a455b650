"""Reading HDF5 files that may be hostile: only the file's own bytes, only what it holds.

nnlib's and Keras's files hold plain datasets of numbers, written in full, in
the file itself. A crafted HDF5 file can ask for more. An external link or
external raw storage makes HDF5 read another file (or block forever on a
FIFO); a virtual dataset maps other files; a dataset declared but never
written reads as its fill value, so a 4 KB file makes the reader allocate
gigabytes; a compressed dataset of zeros expands a thousand times; an
attribute of millions of items becomes millions of Python objects. Every
importer (``_h5read`` for nnlib's files, ``_keras_read`` for Keras's) goes
through ``SafeFile`` before following a link or allocating an array:

- no external (or user-defined) links anywhere in the file; soft links are
  followed, and stay inside the file once external links are refused;
- each dataset read holds numbers stored in the file: not virtual, no
  external storage, its stored bytes covering its declared size (compressed:
  every chunk written and at most ``MAX_INFLATION`` times its stored bytes),
  and all datasets together storing no more than the file's size;
- each attribute read is at most ``MAX_ATTRIBUTE_BYTES``, and a list of
  names has no more entries than the file has objects.

Each refusal is a ``CheckpointUnsafeError`` naming the file, the object, what
it declares and what the file holds, raised before anything is allocated.
"""

import math

from h5py import h5a, h5d, h5l

from .errors import CheckpointCorruptError, CheckpointUnsafeError

__all__ = ["MAX_ATTRIBUTE_BYTES", "MAX_INFLATION", "SafeFile", "human"]

# A compressed dataset may expand at most this many times its stored bytes
# (Keras and nnlib never compress; h5repack'ed weights stay far below it).
MAX_INFLATION = 100

# The largest attribute read: nnlib's name index and model config, Keras's
# name lists (which Keras splits into 64 KiB pieces) are far smaller.
MAX_ATTRIBUTE_BYTES = 16 << 20


def human(nbytes):
    """``"64.0 MiB"``: a byte count for messages.

    Examples:
        >>> from nnlib.checkpoint._h5safe import human
        >>> human(512), human(3 << 30)
        ('512 bytes', '3.0 GiB')
    """
    if nbytes < 1024:
        return f"{nbytes} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        nbytes /= 1024
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.1f} {unit}"
    return None  # unreachable


class SafeFile:
    """Checks an open ``h5py.File`` for what nnlib refuses to read.

    ``check_links`` refuses external links (visiting links follows none);
    ``check_dataset`` and ``attribute`` check each object before it is read;
    ``path`` names the file in every message.

    Args:
        f: The open file.
        path: The file's path, for messages.
        size: The file's size in bytes (the storage its datasets may claim).

    Examples:
        >>> import io, h5py
        >>> from nnlib.checkpoint._h5safe import SafeFile
        >>> buffer = io.BytesIO()
        >>> with h5py.File(buffer, "w") as f:
        ...     _ = f.create_dataset("w", (1 << 20,), "f4")  # never written
        >>> with h5py.File(buffer, "r") as f:
        ...     SafeFile(f, "w.h5", len(buffer.getvalue())).check_dataset(f["w"].id, "w")
        Traceback (most recent call last):
        ...
        nnlib.checkpoint.errors.CheckpointUnsafeError: 'w.h5' is unsafe to read: dataset 'w' declares shape (1048576,) float32 (4.0 MiB) but the file stores 0 bytes of it (an unwritten dataset reads as its fill value; nnlib and Keras write every dataset in full)
    """

    def __init__(self, f, path, size):
        self.path = path
        self.size = size
        self.stored = 0  # storage claimed by the datasets checked so far
        self.links = None  # counted by check_links
        self._f = f

    def check_links(self):
        """Raises for an external or user-defined link anywhere in the file.

        Returns:
            The number of links in the file (a bound for lists of names).
        """
        if self.links is None:
            self.links = _check_links(self._f, self)
        return self.links

    def refuse(self, what):
        """The ``CheckpointUnsafeError`` for ``what``, naming the file."""
        return CheckpointUnsafeError(
            f"'{self.path}' is unsafe to read: {what}", path=self.path
        )

    def check_dataset(self, dsid, name):
        """Raises unless the low-level dataset ``dsid`` is safe to read whole."""
        what = f"dataset '{name}'"
        plist = dsid.get_create_plist()
        if plist.get_layout() == h5d.VIRTUAL:
            raise self.refuse(
                f"{what} is a virtual dataset (its data maps other datasets or "
                "files); nnlib and Keras never write one"
            )
        if plist.get_external_count():
            files = [
                _text(plist.get_external(i)[0])
                for i in range(plist.get_external_count())
            ]
            raise self.refuse(
                f"{what} keeps its data in external storage {files}, outside the "
                "file; nnlib and Keras never write that"
            )
        dtype = dsid.dtype
        if dtype.kind not in "biufc" or dtype.fields is not None:
            raise self.refuse(f"{what} holds {dtype}, expected numbers or booleans")
        shape = tuple(int(n) for n in dsid.shape)
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes == 0:
            return
        stored = dsid.get_storage_size()
        declared = f"shape {shape} {dtype.name} ({human(nbytes)})"
        if plist.get_nfilters() == 0:
            if stored < nbytes:
                raise self.refuse(
                    f"{what} declares {declared} but the file stores {stored} bytes "
                    "of it (an unwritten dataset reads as its fill value; nnlib "
                    "and Keras write every dataset in full)"
                )
        else:
            self._check_compressed(dsid, plist, what, declared, shape, nbytes, stored)
        self.stored += stored
        if self.stored > self.size:
            raise self.refuse(
                f"{what} and the datasets before it claim {self.stored} bytes of "
                f"storage, more than the file's {self.size} bytes"
            )

    def _check_compressed(self, dsid, plist, what, declared, shape, nbytes, stored):
        chunk = plist.get_chunk()
        expected = math.prod(-(-n // c) for n, c in zip(shape, chunk))
        written = dsid.get_num_chunks()
        if written < expected:
            raise self.refuse(
                f"{what} declares {declared} in {expected} compressed chunks but "
                f"the file stores {written} of them (unwritten chunks read as "
                "fill values; nnlib and Keras write every dataset in full)"
            )
        if nbytes > stored * MAX_INFLATION:
            raise self.refuse(
                f"{what} declares {declared} but stores {human(stored)} compressed: "
                f"it would expand {nbytes // max(stored, 1)} times, more than the "
                f"{MAX_INFLATION} times nnlib allows "
                "(nnlib.checkpoint._h5safe.MAX_INFLATION)"
            )

    def attribute(self, obj, name, max_items=None, scalar=False):
        """The value of attribute ``name`` of ``obj``, checked before it is read.

        Args:
            obj: An h5py group or dataset.
            name: The attribute's name.
            max_items: If given, the most entries an array attribute may have.
            scalar: Refuse an array (nnlib's root attributes are single values).
        """
        attr = h5a.open(obj.id, name.encode("utf-8"))
        where = f"attribute '{name}' of '{obj.name}'"
        if scalar and attr.shape not in ((), None):
            raise self.refuse(
                f"{where} is an array of shape {attr.shape} {attr.dtype}; nnlib "
                "writes only single strings and numbers there"
            )
        # From the dataspace (H5Aget_storage_size fails on empty attributes).
        size = math.prod(attr.shape or ()) * attr.dtype.itemsize
        if size > MAX_ATTRIBUTE_BYTES:
            raise self.refuse(
                f"{where} holds {human(size)} (shape {attr.shape}), more than the "
                f"{human(MAX_ATTRIBUTE_BYTES)} nnlib reads in one attribute"
            )
        items = math.prod(attr.shape or ())
        if max_items is not None and items > max_items:
            raise self.refuse(
                f"{where} lists {items} names, more than the {max_items} objects "
                "in the file"
            )
        return obj.attrs[name]


def _check_links(f, safe):
    """Refuses external and user-defined links; returns the number of links."""
    count = 0
    bad = []

    def visit(name, info):
        nonlocal count
        count += 1
        if info.type != h5l.TYPE_HARD and info.type != h5l.TYPE_SOFT:
            bad.append((_text(name), info.type))
            return True  # stops the visit
        return None

    try:
        f.id.links.visit(visit, info=True)
    except Exception as err:  # noqa: BLE001 - damaged metadata: a typed error
        raise CheckpointCorruptError(
            f"'{safe.path}' is damaged: its links cannot be read "
            f"({type(err).__name__}: {err})",
            path=safe.path,
        ) from None
    if bad:
        name, kind = bad[0]
        if kind == h5l.TYPE_EXTERNAL:
            target, inside = (_text(part) for part in f.id.links.get_val(name.encode()))
            raise safe.refuse(
                f"external link '{name}' points into another file "
                f"('{target}', object '{inside}'); nnlib reads only the file's own "
                "data (nnlib and Keras never write links)"
            )
        raise safe.refuse(
            f"link '{name}' is of a user-defined kind ({kind}); nnlib and Keras "
            "never write one"
        )
    return count


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
