"""A UserRepository in memory, for fast tests of the layers above storage."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from re import Pattern
from types import TracebackType
from typing import Any, Self

from storage.errors import StorageError
from storage.ids import check_user_id
from storage.migrations import DEFAULT_MIGRATOR, SchemaMigrator

__all__ = ["InMemoryUserRepository"]


class InMemoryUserRepository:
    """Keeps documents in a dict; behaves like the file repository apart from durability."""

    def __init__(
        self,
        *,
        migrator: SchemaMigrator = DEFAULT_MIGRATOR,
        backing: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """Start empty, or on ``backing`` shared with an earlier instance to simulate a restart."""
        self._migrator = migrator
        self._documents: dict[str, dict[str, Any]] = {} if backing is None else backing
        self._lock = threading.Lock()
        self._closed = False

    def get(self, user_id: str) -> dict[str, Any] | None:
        """Return a copy of the user's document migrated to the current schema, or None."""
        self._check_open()
        check_user_id(user_id)
        with self._lock:
            stored = self._documents.get(user_id)
            document = None if stored is None else copy.deepcopy(stored)
        if document is None:
            return None
        return self._migrator.upgrade(document, source=f"<memory>/{user_id}")

    def put(self, user_id: str, document: dict[str, Any]) -> None:
        """Store a copy of the document, stamped with the current schema."""
        self._check_open()
        check_user_id(user_id)
        # A JSON round trip copies deeply and rejects what the file repository would reject,
        # so tests on this repository do not pass with documents that could never be stored.
        text = json.dumps(self._migrator.stamp(document), allow_nan=False)
        with self._lock:
            self._documents[user_id] = json.loads(text)

    def delete(self, user_id: str) -> bool:
        """Forget the user; True if there was something to forget."""
        self._check_open()
        check_user_id(user_id)
        with self._lock:
            return self._documents.pop(user_id, None) is not None

    def user_ids(self) -> Iterator[str]:
        """Yield every stored user id."""
        self._check_open()
        with self._lock:
            return iter(list(self._documents))

    def documents_matching(
        self, pattern: Pattern[bytes], *, stop: threading.Event | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(user id, document)`` of every user whose compact JSON matches ``pattern``."""
        for user_id in self.user_ids():
            if stop is not None and stop.is_set():
                return  # the caller is stopping
            with self._lock:
                stored = self._documents.get(user_id)
                raw = None if stored is None else json.dumps(stored, separators=(",", ":"))
            if raw is not None and pattern.search(raw.encode()):
                document = self.get(user_id)
                if document is not None:
                    yield user_id, document

    def close(self) -> None:
        """Refuse further calls (there is no lock to release)."""
        self._closed = True

    def __enter__(self) -> Self:
        """Use as a context manager that closes on exit."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the repository."""
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the in-memory repository is closed")
