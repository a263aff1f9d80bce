"""Storage of Fokus-Coach: one JSON document per user behind the small ``UserRepository`` contract.

>>> from storage import open_repository
>>> repo = open_repository(data_dir)  # doctest: +SKIP
>>> repo.put("console:alice", {"hours": 5})  # doctest: +SKIP
>>> repo.get("console:alice")  # doctest: +SKIP
{'hours': 5, 'schema': 1}
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from storage.atomic import AtomicJSONStorage
from storage.errors import (
    DamagedDocumentError,
    DataDirError,
    LockFileError,
    SchemaVersionError,
    StorageError,
    StoreLockedError,
)
from storage.ids import check_user_id, is_user_id
from storage.lock import DataDirLock
from storage.memory_repo import InMemoryUserRepository
from storage.migrations import CURRENT_SCHEMA, MIGRATIONS, SCHEMA_KEY, Migration, SchemaMigrator
from storage.repository import RecentReader, UserRepository, recent_reader
from storage.schedule_index import ScheduleIndex
from storage.tinydb_repo import TinyDBUserRepository

__all__ = [
    "CURRENT_SCHEMA",
    "MIGRATIONS",
    "SCHEMA_KEY",
    "AtomicJSONStorage",
    "DamagedDocumentError",
    "DataDirError",
    "DataDirLock",
    "InMemoryUserRepository",
    "LockFileError",
    "Migration",
    "RecentReader",
    "ScheduleIndex",
    "SchemaMigrator",
    "SchemaVersionError",
    "StorageError",
    "StoreLockedError",
    "TinyDBUserRepository",
    "UserRepository",
    "check_user_id",
    "is_user_id",
    "open_repository",
    "recent_reader",
]


def open_repository(
    data_dir: Path, *, migrator: SchemaMigrator | None = None
) -> TinyDBUserRepository:
    """Open the file repository on ``data_dir``.

    ``migrator`` upgrades and checks the documents (default: versions only, no schema).

    Raises:
        StoreLockedError: another process uses the folder.
        LockFileError: its lock file cannot be used.
        DataDirError: the folder cannot be created or read (the message says what to do).
    """
    try:
        if migrator is None:
            return TinyDBUserRepository(data_dir)
        return TinyDBUserRepository(data_dir, migrator=migrator)
    except OSError as error:
        # A file where the folder should be, no permission ...: a clear line, not a traceback.
        raise DataDirError(data_dir, _problem(data_dir, error)) from None


def _problem(data_dir: Path, error: OSError) -> str:
    """What is wrong with the data folder, in a few words."""
    with contextlib.suppress(OSError):
        if data_dir.exists() and not data_dir.is_dir():
            return "it is a file, not a folder"
    where = f" ({error.filename})" if error.filename not in (None, str(data_dir)) else ""
    return f"{error.strerror or error}{where}"
