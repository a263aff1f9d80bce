"""Schema versions of user documents, the steps that upgrade old ones, and their checks.

The storage layer does not know what a document holds; whoever owns the documents can declare a
check per version (``schemas``), and a document that fails it is damage like a torn file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from storage.errors import DamagedDocumentError, SchemaVersionError

__all__ = [
    "CURRENT_SCHEMA",
    "DEFAULT_MIGRATOR",
    "MIGRATIONS",
    "SCHEMA_KEY",
    "DocumentCheck",
    "Migration",
    "SchemaMigrator",
]

SCHEMA_KEY: Final = "schema"
CURRENT_SCHEMA: Final = 1

Migration = Callable[[dict[str, Any]], dict[str, Any]]
"""Upgrade a document from version ``v`` (its registry key) to ``v + 1``."""

DocumentCheck = Callable[[Mapping[str, Any]], None]
"""Raise ValueError, saying what is wrong, if a document of its version is not that shape."""

# Version -> step to the next version. Add an entry here and raise CURRENT_SCHEMA together.
MIGRATIONS: Final[Mapping[int, Migration]] = MappingProxyType({})


@dataclass(frozen=True)
class SchemaMigrator:
    """Stamps documents with the current schema and upgrades older ones step by step."""

    current: int = CURRENT_SCHEMA
    steps: Mapping[int, Migration] = field(default_factory=lambda: MIGRATIONS)
    schemas: Mapping[int, DocumentCheck] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Fail at start-up, not on some user's load, if a step is missing or extra."""
        if self.current < 1:
            raise ValueError(f"schema version must be at least 1, got {self.current}")
        expected = set(range(1, self.current))
        if set(self.steps) != expected:
            raise ValueError(
                f"migration steps {sorted(self.steps)} do not match schema {self.current}: "
                f"need exactly {sorted(expected)}"
            )
        unknown = set(self.schemas) - set(range(1, self.current + 1))
        if unknown:
            raise ValueError(f"schemas for versions {sorted(unknown)} beyond {self.current}")

    def stamp(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Return a shallow copy of ``document`` carrying the current schema version."""
        return {**document, SCHEMA_KEY: self.current}

    def version_of(self, document: Mapping[str, Any], *, source: Path | str) -> int:
        """Return the document's schema version; reject a missing or future one.

        Raises:
            DamagedDocumentError: the version is missing or not a positive integer.
            SchemaVersionError: the version is newer than ``current``.
        """
        version = document.get(SCHEMA_KEY)
        # bool is an int subclass; "schema": true is damage, not version 1.
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise DamagedDocumentError(source, f"{SCHEMA_KEY!r} is {version!r}, not a version")
        if version > self.current:
            raise SchemaVersionError(source, version, self.current)
        return version

    def validate(self, document: Mapping[str, Any], *, source: Path | str) -> int:
        """Check the document against the schema of its version; return the version.

        Raises:
            DamagedDocumentError: no valid version, or not the shape that version declares.
            SchemaVersionError: the version is newer than ``current``.
        """
        version = self.version_of(document, source=source)
        check = self.schemas.get(version)
        if check is not None:
            try:
                check(document)
            except ValueError as error:
                raise DamagedDocumentError(
                    source, f"does not match schema version {version}: {error}"
                ) from None
        return version

    def upgrade(self, document: dict[str, Any], *, source: Path | str) -> dict[str, Any]:
        """Check the document, run the steps from its version up to ``current``, check again."""
        version = self.validate(document, source=source)
        migrated = version < self.current
        while version < self.current:
            document = self.steps[version](document)
            version += 1
            document[SCHEMA_KEY] = version
        if migrated:
            self.validate(document, source=source)
        return document


DEFAULT_MIGRATOR: Final = SchemaMigrator()
