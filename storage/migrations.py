"""Schema versions of user documents and the steps that upgrade old ones when loaded."""

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
    "Migration",
    "SchemaMigrator",
]

SCHEMA_KEY: Final = "schema"
CURRENT_SCHEMA: Final = 1

Migration = Callable[[dict[str, Any]], dict[str, Any]]
"""Upgrade a document from version ``v`` (its registry key) to ``v + 1``."""

# Version -> step to the next version. Add an entry here and raise CURRENT_SCHEMA together.
MIGRATIONS: Final[Mapping[int, Migration]] = MappingProxyType({})


@dataclass(frozen=True)
class SchemaMigrator:
    """Stamps documents with the current schema and upgrades older ones step by step."""

    current: int = CURRENT_SCHEMA
    steps: Mapping[int, Migration] = field(default_factory=lambda: MIGRATIONS)

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

    def upgrade(self, document: dict[str, Any], *, source: Path | str) -> dict[str, Any]:
        """Run the steps from the document's version up to ``current``; ``source`` names it."""
        version = self.version_of(document, source=source)
        while version < self.current:
            document = self.steps[version](document)
            version += 1
            document[SCHEMA_KEY] = version
        return document


DEFAULT_MIGRATOR: Final = SchemaMigrator()
