"""Exceptions of the storage layer; messages are for operators and name the folder or file."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DamagedDocumentError",
    "DataDirError",
    "LockFileError",
    "SchemaVersionError",
    "StorageError",
    "StoreLockedError",
]


class StorageError(Exception):
    """Base class of every storage failure."""


class StoreLockedError(StorageError):
    """Another process holds the data folder."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        """Name the data folder and, when known, the pid of the process holding it."""
        self.data_dir = data_dir
        self.pid = pid
        holder = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(
            f"The data folder {data_dir} is in use by another focus-coach process ({holder}). "
            "Stop that process or choose another data folder."
        )


class DataDirError(StorageError):
    """The data folder cannot be created, read or written."""

    def __init__(self, data_dir: Path, reason: str) -> None:
        """Name the folder and what went wrong (the OSError's text and file)."""
        self.data_dir = data_dir
        self.reason = reason
        super().__init__(
            f"cannot use the data folder {data_dir}: {reason}. It must be a folder this user "
            "can read and write; fix its permissions or choose another one with --data-dir "
            "(or FOCUS_COACH_DATA_DIR)."
        )


class LockFileError(StorageError):
    """The data folder's lock file cannot be opened, locked or written."""

    def __init__(self, path: Path, reason: str) -> None:
        """Name the lock file, what went wrong and what to do about it."""
        self.path = path
        self.reason = reason
        super().__init__(
            f"cannot use the lock file {path}: {reason}. It only marks the data folder as in "
            f"use: if no focus-coach is running on {path.parent}, remove it (or let this user "
            "read and write it) and start again."
        )


class DamagedDocumentError(StorageError):
    """A stored file is truncated, not JSON, or not the expected shape."""

    def __init__(self, path: Path | str, problem: str) -> None:
        """Name the damaged file and what is wrong with it."""
        self.path = path
        self.problem = problem
        super().__init__(f"Damaged document {path}: {problem}")


class SchemaVersionError(DamagedDocumentError):
    """A document was written by a newer focus-coach than this one."""

    def __init__(self, path: Path | str, version: int, supported: int) -> None:
        """Name the file, the version found and the newest version this program reads."""
        self.version = version
        self.supported = supported
        super().__init__(
            path,
            f"schema version {version} is newer than this focus-coach supports ({supported}); "
            "upgrade focus-coach to read it",
        )
