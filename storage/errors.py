"""Exceptions of the storage layer; messages are for operators and name the folder or file."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DamagedDocumentError", "SchemaVersionError", "StorageError", "StoreLockedError"]


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
