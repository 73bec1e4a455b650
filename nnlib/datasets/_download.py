"""Finding data files on disk, and downloading them safely when they are absent.

A download goes to a temporary file beside its target, is checked against a
pinned SHA-256 and only then renamed into place, so the cache never holds a
partial or wrong file: an interrupted transfer, a bad checksum or Ctrl-C leaves
the folder as it was.
"""

import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .. import _atomic

__all__ = [
    "ChecksumError",
    "DatasetNotFoundError",
    "DownloadError",
    "data_dir",
    "download",
    "fetch",
]

ENV_VAR = "NNLIB_DATA"
DEFAULT_DIR = Path("~", ".nnlib", "datasets")
# Seconds without progress before a connection counts as dead; tests lower it.
_TIMEOUT = 60.0
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A transfer failed (HTTP error, connection lost, short body); nothing cached."""


class ChecksumError(DownloadError):
    """A downloaded file's SHA-256 differs from the pinned value; nothing cached."""


class DatasetNotFoundError(FileNotFoundError):
    """No local copy of a data file, and it could not be downloaded."""


def data_dir():
    """The folder where datasets are looked up and downloads are cached.

    It is the folder named by the ``NNLIB_DATA`` environment variable, else
    ``~/.nnlib/datasets``. It need not exist yet: a download creates it.

    Returns:
        A ``pathlib.Path`` (with ``~`` expanded).

    Examples:
        >>> import os
        >>> from unittest import mock
        >>> from nnlib.datasets import data_dir
        >>> with mock.patch.dict(os.environ, {"NNLIB_DATA": "/data/sets"}):
        ...     print(data_dir().as_posix())
        /data/sets
    """
    folder = os.environ.get(ENV_VAR) or DEFAULT_DIR
    return Path(folder).expanduser()


def manual_hint(target, url):
    """The sentence every lookup or download error ends with."""
    return (
        f"Download {url} yourself and save it as {Path(target).name!r} in the "
        f"folder {str(Path(target).parent)!r} (or set {ENV_VAR} to a folder that "
        "holds it, or pass path=)."
    )


def fetch(filename, source, subdir=""):
    """The cached copy of ``filename``, downloaded into :func:`data_dir` if absent.

    A file already in the folder is used as it is (a file a user put there by
    hand need not be byte-identical to the published one; the readers check
    its contents); only fresh downloads are checked against the SHA-256.

    Args:
        filename: The file's name in the cache folder.
        source: A ``(url, sha256_hex)`` pair.
        subdir: A subfolder of the cache folder (for datasets whose file names
            collide with another's, like Fashion-MNIST's IDX files).

    Returns:
        The file's ``pathlib.Path``.

    Raises:
        DatasetNotFoundError: The server could not be reached.
        DownloadError: The transfer failed or the checksum did not match.

    Examples:
        >>> import tempfile
        >>> from unittest import mock
        >>> from nnlib.datasets import _download
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     _ = (Path(folder) / "present.bin").write_bytes(b"data")
        ...     with mock.patch.dict(os.environ, {"NNLIB_DATA": folder}):
        ...         print(_download.fetch("present.bin", ("unused", "")).name)
        present.bin
    """
    target = data_dir() / subdir / filename
    if not target.is_file():
        url, sha256 = source
        download(url, target, sha256)
    return target


def download(url, target, sha256, stream=None):
    """Download ``url`` to ``target`` atomically, checking its SHA-256.

    The data go to a hidden temporary file in the target's folder, which is
    flushed, synced, checked and then renamed over ``target`` with
    ``os.replace``. On any failure the temporary file is removed and
    ``target`` is left as it was.

    Args:
        url: An ``http://``, ``https://`` or ``file://`` URL.
        target: The path to create (its folder is created if needed).
        sha256: The expected SHA-256 as lowercase hex.
        stream: Where the progress goes; default ``sys.stderr``. A terminal
            gets one updating bar, anything else plain lines.

    Returns:
        ``target`` as a ``pathlib.Path``.

    Raises:
        DatasetNotFoundError: The server could not be reached at all.
        DownloadError: An HTTP error, a dropped connection, a short body, or
            the file could not be written (read-only folder, disk full).
        ChecksumError: The data arrived but their SHA-256 differs.

    Examples:
        >>> import hashlib, tempfile
        >>> from nnlib.datasets import _download
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     source = Path(folder, "source.txt")
        ...     _ = source.write_bytes(b"hello")
        ...     digest = hashlib.sha256(b"hello").hexdigest()
        ...     out = _download.download(source.as_uri(), Path(folder, "copy.txt"),
        ...                              digest, stream=sys.stdout)
        ...     print(out.read_bytes())
        Downloading copy.txt from file://...
        copy.txt: 100% (0.0 of 0.0 MB)
        Saved .../copy.txt
        b'hello'
    """
    target = Path(target)
    stream = sys.stderr if stream is None else stream
    try:
        response = urllib.request.urlopen(url, timeout=_TIMEOUT)
    except urllib.error.HTTPError as err:
        raise DownloadError(
            f"Downloading {url} failed: HTTP {err.code} {err.reason}. "
            + manual_hint(target, url)
        ) from err
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise DatasetNotFoundError(
            f"No local copy of {target.name!r} in {str(target.parent)!r}, and "
            f"downloading it from {url} failed ({reason}). " + manual_hint(target, url)
        ) from err
    with response:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _transfer_atomically(response, url, target, sha256, stream)
        except OSError as err:
            if isinstance(err, DownloadError):
                raise
            # Writing failed (read-only folder, disk full): say so, not "network".
            raise DownloadError(
                f"Saving the download of {url} as {str(target)!r} failed ({err}); "
                f"nothing was saved. Free some space or set {ENV_VAR} to a "
                "writable folder. " + manual_hint(target, url)
            ) from err
    return target


def _transfer_atomically(response, url, target, sha256, stream):
    # replacing() removes the temporary file on any exception, Ctrl-C during a
    # long download included.
    with _atomic.replacing(target) as temp:
        with open(temp, "wb") as out:
            digest = _copy(response, out, url, target, stream)
            out.flush()
            os.fsync(out.fileno())
        if digest != sha256.lower():
            raise ChecksumError(
                f"The file downloaded from {url} has SHA-256 {digest}, expected "
                f"{sha256}: it is damaged or not the published file, so it was "
                "not saved. Try again later. " + manual_hint(target, url)
            )
    stream.write(f"Saved {target}\n")


def _copy(response, out, url, target, stream):
    """Copy the body to ``out``; its SHA-256, or DownloadError if it is short."""
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    stream.write(f"Downloading {target.name} from {url}\n")
    progress = _Progress(target.name, total, stream)
    digest = hashlib.sha256()
    received = 0
    while True:
        try:
            chunk = response.read(_CHUNK)
        except (http.client.HTTPException, OSError) as err:
            progress.close()
            raise DownloadError(
                f"The connection to {url} broke after {received} bytes"
                + (f" of {total}" if total else "")
                + f" ({type(err).__name__}: {err}); nothing was saved. "
                + manual_hint(target, url)
            ) from err
        if not chunk:
            break
        out.write(chunk)
        digest.update(chunk)
        received += len(chunk)
        progress.update(received)
    progress.close()
    if total is not None and received != total:
        raise DownloadError(
            f"Downloading {url} stopped after {received} of {total} bytes; "
            "nothing was saved. " + manual_hint(target, url)
        )
    return digest.hexdigest()


class _Progress:
    """A bar redrawn in place on a terminal; a line per tenth elsewhere (logs)."""

    def __init__(self, name, total, stream):
        self.name, self.total, self.stream = name, total, stream
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.received = 0
        self.reported = -1  # bytes shown by the last plain line
        self.last_draw = 0.0

    def update(self, received):
        self.received = received
        if self.tty:
            now = time.monotonic()
            if now - self.last_draw >= 0.1:
                self.last_draw = now
                self.stream.write("\r" + self._bar())
                self.stream.flush()
        elif self._step(received) > self._step(max(self.reported, 0)):
            self.reported = received
            self.stream.write(self._line() + "\n")

    def close(self):
        if self.tty:
            self.stream.write("\r" + self._bar() + "\n")
        elif self.reported != self.received:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def _step(self, received):
        # Tenths of the file, or tens of MB when the server sent no length.
        return received * 10 // self.total if self.total else received // (10 << 20)

    def _line(self):
        done = self.received / 1e6
        if not self.total:
            return f"{self.name}: {done:.1f} MB"
        percent = 100 * self.received // self.total
        return f"{self.name}: {percent}% ({done:.1f} of {self.total / 1e6:.1f} MB)"

    def _bar(self, width=30):
        if not self.total:
            return self._line()
        filled = width * self.received // self.total
        return f"[{'=' * filled}{'.' * (width - filled)}] " + self._line()
