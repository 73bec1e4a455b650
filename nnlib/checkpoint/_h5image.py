"""HDF5 files that HDF5 builds in memory and nnlib writes to the disk.

HDF5 must never write a checkpoint to the disk itself: when a write fails
(disk full) at its final flush, the half-closed file it leaves can crash the
process later, as the garbage collector releases it (SIGSEGV inside HDF5).
So HDF5 writes only the file's metadata, into a ``MetadataImage`` (an
in-memory, sparse file object given to h5py's ``fileobj`` driver), after
reserving each dataset's bytes (contiguous storage allocated at creation,
never filled); nnlib then writes the datasets' bytes straight from the arrays
to their offsets, and the metadata around them, with plain ``os.pwrite``.
Every disk error is an ordinary ``OSError`` in Python, raised while no HDF5
file is open on the disk. The arrays are not copied (memory grows by the
metadata only: kilobytes per dataset), and the file is the one HDF5 would
have written (``h5io`` reads it back and checks it before it is used).
"""

import os

import numpy as np
from h5py import h5d, h5p

__all__ = ["MetadataImage", "create_dataset", "write_arrays"]

_PAGE = 4096
_RESERVING = None  # the dataset-creation property list (see _reserving)


class MetadataImage:
    """A file object that keeps what HDF5 writes in memory, in pages.

    Only the bytes written are kept (the datasets' reserved bytes never are);
    reading unwritten bytes gives zeros, as a sparse file does. Nothing here
    raises, except ``MemoryError``: HDF5 never sees a failed write.

    Examples:
        >>> import os, tempfile
        >>> import h5py
        >>> from nnlib.checkpoint import _h5image
        >>> image = _h5image.MetadataImage()
        >>> array = np.arange(6.0)
        >>> with h5py.File(image, "w") as f:
        ...     _, placed = _h5image.create_dataset(f, "x", array)
        >>> path = os.path.join(tempfile.mkdtemp(), "x.h5")
        >>> with open(path, "wb") as out:
        ...     image.write_to(out.fileno(), [placed])
        >>> with h5py.File(path, "r") as f:
        ...     f["x"][()]
        array([0., 1., 2., 3., 4., 5.])
    """

    def __init__(self):
        self._pages = {}  # page number -> bytearray(_PAGE)
        self._spans = []  # (start, end) of every write, to write them out
        self._size = 0
        self._pos = 0

    # -- the file object h5py's fileobj driver calls --------------------------------

    def seek(self, pos, whence=os.SEEK_SET):
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}
        self._pos = base[whence] + pos
        return self._pos

    def tell(self):
        return self._pos

    def write(self, data):
        data = memoryview(data).cast("B")
        start, done = self._pos, 0
        while done < len(data):
            page, at = divmod(start + done, _PAGE)
            buffer = self._pages.get(page)
            if buffer is None:
                buffer = self._pages[page] = bytearray(_PAGE)
            count = min(_PAGE - at, len(data) - done)
            buffer[at : at + count] = data[done : done + count]
            done += count
        self._spans.append((start, start + done))
        self._pos = start + done
        self._size = max(self._size, self._pos)
        return done

    def readinto(self, out):
        out = memoryview(out).cast("B")
        count = max(0, min(len(out), self._size - self._pos))
        done = 0
        while done < count:
            page, at = divmod(self._pos + done, _PAGE)
            step = min(_PAGE - at, count - done)
            buffer = self._pages.get(page)
            out[done : done + step] = (
                buffer[at : at + step] if buffer is not None else bytes(step)
            )
            done += step
        self._pos += count
        return count

    def read(self, size=-1):
        size = self._size - self._pos if size is None or size < 0 else size
        out = bytearray(max(0, size))
        return bytes(out[: self.readinto(out)])

    def truncate(self, size=None):
        self._size = self._pos if size is None else size
        return self._size

    def flush(self):
        pass

    # -- writing it out ------------------------------------------------------------

    @property
    def size(self):
        """The file's size (HDF5 sets it when it closes the file)."""
        return self._size

    def write_to(self, fd, arrays=()):
        """Writes the file to the open descriptor ``fd``.

        Args:
            fd: A file descriptor open for writing.
            arrays: ``(offset, array)`` of each dataset's bytes not written yet
                (``write_arrays``); None offsets (no bytes) are skipped.

        Raises:
            OSError: As the disk reports it (disk full, I/O error).
        """
        write_arrays(fd, arrays)
        for start, end in _merged(self._spans, self._size):
            self.seek(start)
            buffer = bytearray(end - start)
            self.readinto(buffer)
            _pwrite(fd, buffer, start)
        os.ftruncate(fd, self._size)


def create_dataset(group, name, array):
    """Creates ``name`` for ``array`` with its bytes reserved, not written.

    Contiguous storage allocated at creation and no fill value written: the
    array's bytes, written there by ``write_arrays``, are the whole dataset.
    Where HDF5 reserves nothing (a scalar), it writes the few bytes into the
    image itself.

    Returns:
        ``(dataset, (offset, array))``, the pair for ``write_arrays`` (None
        as the offset when nothing is left to write).
    """
    dataset = group.create_dataset(
        name, shape=array.shape, dtype=array.dtype, dcpl=_reserving()
    )
    offset = dataset.id.get_offset()
    if offset is None and array.nbytes:
        dataset.write_direct(array)  # into the image, in memory
    return dataset, (offset, array)


def write_arrays(fd, arrays):
    """Writes each ``(offset, array)``'s bytes at its offset in ``fd``."""
    for offset, array in arrays:
        if offset is not None and array.nbytes:
            _pwrite(fd, np.ascontiguousarray(array).reshape(-1).view(np.uint8), offset)


def _reserving():
    global _RESERVING
    if _RESERVING is None:  # one property list serves every dataset
        plist = h5p.create(h5p.DATASET_CREATE)
        plist.set_alloc_time(h5d.ALLOC_TIME_EARLY)
        plist.set_fill_time(h5d.FILL_TIME_NEVER)
        _RESERVING = plist
    return _RESERVING


def _pwrite(fd, data, offset):
    """Writes all of ``data`` at ``offset`` (the seam tests use for a full disk)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _merged(spans, size):
    """The written byte ranges, sorted, merged and cut at ``size``."""
    merged = []
    for start, end in sorted(spans):
        end = min(end, size)
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged
