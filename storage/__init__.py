"""Storage of Fokus-Coach: one JSON document per user behind the small ``UserRepository`` contract.

>>> from storage import open_repository
>>> repo = open_repository(data_dir)  # doctest: +SKIP
>>> repo.put("console:alice", {"hours": 5})  # doctest: +SKIP
>>> repo.get("console:alice")  # doctest: +SKIP
{'hours': 5, 'schema': 1}
"""

from __future__ import annotations

from pathlib import Path

from storage.atomic import AtomicJSONStorage
from storage.errors import (
    DamagedDocumentError,
    SchemaVersionError,
    StorageError,
    StoreLockedError,
)
from storage.ids import check_user_id, is_user_id
from storage.lock import DataDirLock
from storage.memory_repo import InMemoryUserRepository
from storage.migrations import CURRENT_SCHEMA, MIGRATIONS, SCHEMA_KEY, Migration, SchemaMigrator
from storage.repository import UserRepository
from storage.schedule_index import ScheduleIndex
from storage.tinydb_repo import TinyDBUserRepository

__all__ = [
    "CURRENT_SCHEMA",
    "MIGRATIONS",
    "SCHEMA_KEY",
    "AtomicJSONStorage",
    "DamagedDocumentError",
    "DataDirLock",
    "InMemoryUserRepository",
    "Migration",
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
]


def open_repository(
    data_dir: Path, *, migrator: SchemaMigrator | None = None
) -> TinyDBUserRepository:
    """Open the file repository on ``data_dir``; raises StoreLockedError if it is in use.

    ``migrator`` upgrades and checks the documents (default: versions only, no schema).
    """
    if migrator is None:
        return TinyDBUserRepository(data_dir)
    return TinyDBUserRepository(data_dir, migrator=migrator)
