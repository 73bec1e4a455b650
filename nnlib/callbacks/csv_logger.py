"""``CSVLogger``: one CSV row of results per epoch."""

import csv
import os

from .._args import boolean
from .._warn import warn
from .callback import Callback, to_python

__all__ = ["CSVLogger"]


def _cell(value):
    value = to_python(value)
    if isinstance(value, (float, str)) or value is None:
        return value
    try:
        return "[" + ", ".join(str(to_python(v)) for v in value) + "]"
    except TypeError:  # not iterable
        return value


class CSVLogger(Callback):
    """Writes each epoch's logs as a row of a CSV file, flushed at once.

    The columns are ``epoch`` (0-based) then the first epoch's log keys,
    sorted. A key missing from a later epoch is written ``NA``; a key that first
    appears after the header was written is left out, with a warning. With
    ``append=True`` and a non-empty file, rows follow the file's own header.

    Args:
        filename: Path of the CSV file (``str`` or ``os.PathLike``).
        separator: The field separator.
        append: Whether to add to an existing file (resuming a run) instead of
            overwriting it (True or False).

    Raises:
        TypeError: If ``append`` is not True or False.

    Examples:
        >>> import os, tempfile
        >>> from nnlib import callbacks
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> logger = callbacks.CSVLogger(path)
        >>> logger.on_train_begin()
        >>> logger.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
        >>> logger.on_epoch_end(1, {"loss": 0.25, "accuracy": 0.875})
        >>> logger.on_train_end()
        >>> print(open(path).read().strip())
        epoch,accuracy,loss
        0,0.75,0.5
        1,0.875,0.25
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = boolean(append, "append", "CSVLogger")
        self.keys = None
        self._file = None
        self._writer = None
        self._write_header = True
        self._ignored = set()

    def on_train_begin(self, logs=None):
        self._close()
        self.keys = None
        self._writer = None
        self._write_header = True
        self._ignored = set()
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            if header:
                self._write_header = False
                self.keys = [key for key in header if key != "epoch"]
        mode = "a" if self.append else "w"
        # Open for the whole run, one row an epoch: closed in on_train_end.
        self._file = open(  # noqa: SIM115
            self.filename, mode, newline="", encoding="utf-8"
        )

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._file is None:  # driven without on_train_begin
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(key for key in logs if key != "epoch")
        if self._writer is None:
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if self._write_header:
                self._writer.writerow(["epoch", *self.keys])
        self._warn_new_keys(epoch, logs)
        row = [epoch] + [_cell(logs[key]) if key in logs else "NA" for key in self.keys]
        self._writer.writerow(row)
        self._file.flush()

    def _warn_new_keys(self, epoch, logs):
        new = sorted(set(logs) - set(self.keys) - self._ignored - {"epoch"})
        if new:
            self._ignored.update(new)
            warn(
                f"CSVLogger: {new} first appeared at epoch {epoch}, after the "
                f"header of {self.filename!r} was written; they are not logged"
            )

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._file = None
        self._writer = None
