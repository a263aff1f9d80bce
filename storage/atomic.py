"""A TinyDB storage whose writes are atomic and durable: a crash leaves the old or the new file.

TinyDB's JSONStorage truncates and rewrites in place, so a kill mid-write can leave a torn file
(design.md, section 5). Here a write goes to a temp file in the same folder, is fsynced and
renamed onto the target with ``os.replace``; then the folder is fsynced so the rename is durable.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Final, TypeAlias

from tinydb.storages import Storage

from storage import json_codec
from storage.errors import DamagedDocumentError

__all__ = [
    "TEMP_SUFFIX",
    "AtomicJSONStorage",
    "Signature",
    "file_signature",
    "fsync_directory",
    "is_temp_file",
    "read_regular_file",
    "replace_atomically",
]

TEMP_SUFFIX: Final = ".tmp"

Signature: TypeAlias = tuple[int, int, int]
"""Inode, size and modification time (ns) of a file: every atomic write changes it.

Only the process holding the data folder writes its files; a hand edit that keeps the size and
lands within the same clock tick as our own last write would go unnoticed by a signature check.
"""


def is_temp_file(name: str) -> bool:
    """Tell whether a file name is one of our temp files (left behind only by a crash)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def fsync_directory(folder: Path) -> None:
    """Make renames and deletions inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(path: Path, payload: bytes, *, mode: int | None = None) -> os.stat_result:
    """Put ``payload`` at ``path`` so a reader sees the old file or the new one, never a part.

    A temp file beside ``path`` is written, fsynced (given ``mode`` if set) and renamed onto
    ``path``, then the folder is fsynced: durable when this returns. Returns the new file's
    status as written (before the rename, the same inode).
    """
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            status = os.fstat(handle.fileno())
        temp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_directory(path.parent)
    return status


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

    def read_signed(self) -> tuple[dict[str, dict[str, Any]] | None, Signature | None]:
        """Like ``read``, plus the signature of the file that was read (None if missing).

        Raises:
            DamagedDocumentError: the file is not UTF-8 JSON in TinyDB's table layout.
        """
        try:
            raw, stat_result = read_regular_file(self.path)
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise DamagedDocumentError(self.path, f"cannot be read ({reason})") from exc
        return self._parse(raw), _signature(stat_result)

    def _parse(self, raw: bytes) -> dict[str, dict[str, Any]] | None:
        if not raw:
            return None
        try:
            data = json_codec.decode(raw)
        except ValueError as exc:  # not UTF-8, not JSON
            raise DamagedDocumentError(self.path, f"not valid JSON ({exc})") from exc
        _check_layout(self.path, data)
        return data  # type: ignore[no-any-return]  # layout checked just above

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the file with ``data``; durable when this returns."""
        self.write_signed(data)

    def write_signed(self, data: dict[str, dict[str, Any]]) -> Signature:
        """Like ``write``, and return the signature of the file written."""
        # Serialise first: a document that is not JSON leaves no temp file behind.
        payload = json_codec.encode(data)
        return _signature(replace_atomically(self.path, payload))

    def close(self) -> None:
        """Nothing to close: no handle is kept between reads and writes."""


def read_regular_file(path: Path) -> tuple[bytes, os.stat_result]:
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
        with open(fd, "rb", closefd=False) as handle:
            return handle.read(), stat_result
    finally:
        os.close(fd)


def file_signature(path: Path) -> Signature | None:
    """The signature of the file at ``path`` now, or None if there is none."""
    try:
        return _signature(path.stat())
    except FileNotFoundError:
        return None


def _signature(stat: os.stat_result) -> Signature:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _check_layout(path: Path, data: object) -> None:
    """Check TinyDB's layout ``{table: {doc_id: {...}}}`` so TinyDB never trips over a bad file."""
    if not isinstance(data, dict):
        raise DamagedDocumentError(path, f"expected a JSON object, found {type(data).__name__}")
    for table_name, table in data.items():
        if not isinstance(table, dict):
            raise DamagedDocumentError(path, f"table {table_name!r} is not a JSON object")
        for doc_id, document in table.items():
            if not (doc_id.isascii() and doc_id.isdigit()):
                raise DamagedDocumentError(path, f"table {table_name!r} has record id {doc_id!r}")
            if not isinstance(document, dict):
                raise DamagedDocumentError(
                    path, f"record {doc_id} of table {table_name!r} is not a JSON object"
                )
