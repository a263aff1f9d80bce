"""A TinyDB storage whose writes are atomic and durable: a crash leaves the old or the new file.

TinyDB's JSONStorage truncates and rewrites in place, so a kill mid-write can leave a torn file
(design.md, section 5). Here a write goes to a temp file in the same folder, is fsynced and
renamed onto the target with ``os.replace``; then the folder is fsynced so the rename is durable.

Every check-in reads and writes its user's file, so the Python around those system calls counts
(bench/README.md, "Storage: the Python around a document's get and put"): the functions here take
``str`` paths as well as ``Path`` and call ``os`` directly, without ``tempfile`` or file objects.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import stat
from pathlib import Path
from typing import Any, Final, TypeAlias

from tinydb.storages import Storage

from storage import json_codec
from storage.errors import DamagedDocumentError

__all__ = [
    "TEMP_SUFFIX",
    "AtomicJSONStorage",
    "Signature",
    "Tables",
    "file_signature",
    "fsync_directory",
    "is_temp_file",
    "read_json_tables",
    "read_regular_file",
    "replace_atomically",
    "write_json_tables",
]

TEMP_SUFFIX: Final = ".tmp"
_TEMP_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_TEMP_MODE: Final = 0o600  # as tempfile.mkstemp made them: only the bot's user reads a document
_TEMP_TRIES: Final = 100
_READ_CHUNK: Final = 1 << 16
# Numbers the temp files of this process: with the pid, a name no other writer uses at the same
# time (next() on a count is atomic under the GIL, so threads never draw the same number).
_temp_numbers = itertools.count()

Tables: TypeAlias = dict[str, dict[str, Any]]
"""A file in TinyDB's layout: ``{table: {doc_id: {...}}}``."""

Signature: TypeAlias = tuple[int, int, int]
"""Inode, size and modification time (ns) of a file: every atomic write changes it.

Only the process holding the data folder writes its files; a hand edit that keeps the size and
lands within the same clock tick as our own last write would go unnoticed by a signature check.
"""


def is_temp_file(name: str) -> bool:
    """Tell whether a file name is one of our temp files (left behind only by a crash)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def fsync_directory(folder: Path | str) -> None:
    """Make renames and deletions inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(
    path: Path | str, payload: bytes, *, mode: int | None = None
) -> os.stat_result:
    """Put ``payload`` at ``path`` so a reader sees the old file or the new one, never a part.

    A temp file beside ``path`` is written, fsynced (given ``mode`` if set) and renamed onto
    ``path``, then the folder is fsynced: durable when this returns. Returns the new file's
    status as written (before the rename, the same inode). If anything fails, the temp file is
    removed and the error raised; ``path`` is then untouched.
    """
    target = os.fspath(path)
    folder, name = os.path.split(target)
    folder = folder or os.curdir
    fd, temp = _create_temp_file(folder, name)
    try:
        try:
            _write_all(fd, payload)
            os.fsync(fd)
            if mode is not None:
                os.fchmod(fd, mode)
            status = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)  # noqa: PTH105 - str paths: a Path costs microseconds a call
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)  # noqa: PTH108 - the same
        raise
    fsync_directory(folder)
    return status


def _create_temp_file(folder: str, name: str) -> tuple[int, str]:
    """A new, empty temp file for ``name`` in ``folder``, open for writing; its fd and path.

    Its name, ``.<name>.<pid>-<number>.tmp``, is one ``is_temp_file`` knows. ``O_EXCL``: a file
    of that name left by a crashed process that had the same pid is never reused or truncated.
    """
    pid = os.getpid()
    for _ in range(_TEMP_TRIES):
        temp = f"{folder}/.{name}.{pid}-{next(_temp_numbers)}{TEMP_SUFFIX}"
        try:
            return os.open(temp, _TEMP_FLAGS, _TEMP_MODE), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temp file name", f"{folder}/.{name}.*")


def _write_all(fd: int, payload: bytes) -> None:
    """Write all of ``payload``: ``os.write`` may take only a part (a full disk), or raise."""
    rest = memoryview(payload)
    while rest:
        written = os.write(fd, rest)
        if written <= 0:  # a regular file never does this; never loop on it
            raise OSError(errno.EIO, "the file took none of the bytes written to it")
        rest = rest[written:]


def read_json_tables(path: Path | str) -> tuple[Tables | None, Signature | None]:
    """The tables in the file at ``path`` and its signature; (None, None) if it is missing.

    Tables are None for an empty file too (its signature is returned then).

    Raises:
        DamagedDocumentError: the file is not UTF-8 JSON in TinyDB's table layout, or it
            cannot be read.
    """
    try:
        raw, stat_result = read_regular_file(path)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DamagedDocumentError(Path(path), f"cannot be read ({reason})") from exc
    return _parse(path, raw), _signature(stat_result)


def write_json_tables(path: Path | str, data: Tables) -> Signature:
    """Replace the file at ``path`` with ``data`` as JSON, durable when this returns.

    Returns the signature of the file written.

    Raises:
        ValueError, TypeError: ``data`` is not JSON data (see ``json_codec.encode``); nothing
            was written then, not even a temp file.
        OSError: the file could not be written; ``path`` is as it was, no temp file is left.
    """
    # Serialise first: a document that is not JSON leaves no temp file behind.
    payload = json_codec.encode(data)
    return _signature(replace_atomically(path, payload))


def _parse(path: Path | str, raw: bytes) -> Tables | None:
    if not raw:
        return None
    try:
        data = json_codec.decode(raw)
    except ValueError as exc:  # not UTF-8, not JSON
        raise DamagedDocumentError(Path(path), f"not valid JSON ({exc})") from exc
    _check_layout(path, data)
    return data  # type: ignore[no-any-return]  # layout checked just above


class AtomicJSONStorage(Storage):
    """Compact UTF-8 JSON in one file, replaced atomically on every write."""

    def __init__(self, path: Path | str) -> None:
        """Use ``path``; nothing is created until the first write."""
        super().__init__()
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        """Return the stored tables; None if the file is missing or empty.

        Raises:
            DamagedDocumentError: the file is not UTF-8 JSON in TinyDB's table layout.
        """
        return self.read_signed()[0]

    def read_signed(self) -> tuple[Tables | None, Signature | None]:
        """Like ``read``, plus the signature of the file that was read (None if missing).

        Raises:
            DamagedDocumentError: the file is not UTF-8 JSON in TinyDB's table layout.
        """
        return read_json_tables(self.path)

    def write(self, data: Tables) -> None:
        """Replace the file with ``data``; durable when this returns."""
        self.write_signed(data)

    def write_signed(self, data: Tables) -> Signature:
        """Like ``write``, and return the signature of the file written."""
        return write_json_tables(self.path, data)

    def close(self) -> None:
        """Nothing to close: no handle is kept between reads and writes."""


def read_regular_file(path: Path | str) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file ``path`` and its status, as one consistent read.

    Raises:
        FileNotFoundError: there is none.
        OSError: it cannot be opened or read, or a folder, FIFO or device is in its place.
    """
    # O_NONBLOCK: opening a FIFO found in a file's place would otherwise wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        stat_result = os.fstat(fd)
        if not stat.S_ISREG(stat_result.st_mode):
            raise OSError(errno.EINVAL, "a folder, FIFO or device is in the file's place")
        # The size fstat gave and one byte more, then on to the end: a file that has grown
        # since (only a hand edit can) is still read whole.
        data = os.read(fd, stat_result.st_size + 1)
        while more := os.read(fd, _READ_CHUNK):
            data += more
        return data, stat_result
    finally:
        os.close(fd)


def file_signature(path: Path | str) -> Signature | None:
    """The signature of the file at ``path`` now, or None if there is none."""
    try:
        return _signature(os.stat(path))  # noqa: PTH116 - str paths: before every put
    except FileNotFoundError:
        return None


def _signature(stat: os.stat_result) -> Signature:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _check_layout(path: Path | str, data: object) -> None:
    """Check TinyDB's layout ``{table: {doc_id: {...}}}`` so TinyDB never trips over a bad file."""
    if not isinstance(data, dict):
        raise DamagedDocumentError(
            Path(path), f"expected a JSON object, found {type(data).__name__}"
        )
    for table_name, table in data.items():
        if not isinstance(table, dict):
            raise DamagedDocumentError(Path(path), f"table {table_name!r} is not a JSON object")
        for doc_id, document in table.items():
            if not (doc_id.isascii() and doc_id.isdigit()):
                raise DamagedDocumentError(
                    Path(path), f"table {table_name!r} has record id {doc_id!r}"
                )
            if not isinstance(document, dict):
                raise DamagedDocumentError(
                    Path(path), f"record {doc_id} of table {table_name!r} is not a JSON object"
                )
