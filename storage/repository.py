"""The contract the rest of the app uses to keep one JSON document per user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

__all__ = ["RecentReader", "UserRepository", "recent_reader"]


@runtime_checkable
class UserRepository(Protocol):
    """One JSON-compatible document per user id.

    Every method checks the user id first and raises ValueError for an invalid one (see
    ``storage.ids``). Calls for different users may run in different threads at the same time;
    calls for the same user must be serialised by the caller.
    """

    def get(self, user_id: str) -> dict[str, Any] | None:
        """Return the user's document migrated to the current schema, or None.

        Raises:
            DamagedDocumentError: the stored document cannot be read (``SchemaVersionError``
                if it comes from a newer focus-coach).
        """
        ...

    def put(self, user_id: str, document: dict[str, Any]) -> None:
        """Store the document, stamped with the current schema; durable when this returns.

        A stored document that cannot be read is kept (moved aside), never overwritten.
        """
        ...

    def delete(self, user_id: str) -> bool:
        """Remove every trace of the user; True if something was deleted."""
        ...

    def user_ids(self) -> Iterator[str]:
        """Yield every stored user id, in no particular order."""
        ...

    def close(self) -> None:
        """Release the data folder; later calls raise StorageError."""
        ...


@runtime_checkable
class RecentReader(Protocol):
    """A repository that can read a document without its older check-ins (``get_recent``).

    The document then holds the newest check-ins and says where the older ones are kept; a
    ``put`` of it (or of a document made from it that keeps that) leaves them as they are. For
    code that never changes an answered check-in: the weekly check-in's claim and confirm.
    """

    def get_recent(self, user_id: str) -> dict[str, Any] | None:
        """The user's document without the older check-ins, or None."""
        ...


def recent_reader(repository: UserRepository) -> Callable[[str], dict[str, Any] | None]:
    """``repository.get_recent`` if it has one, else ``repository.get`` (whole documents)."""
    if isinstance(repository, RecentReader):
        return repository.get_recent
    return repository.get
