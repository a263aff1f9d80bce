"""SchemaMigrator on its own: a registry that does not match its version fails at once."""

from __future__ import annotations

from typing import Any

import pytest

from storage import CURRENT_SCHEMA, MIGRATIONS, DamagedDocumentError, SchemaMigrator


def test_current_registry_is_consistent() -> None:
    assert SchemaMigrator().current == CURRENT_SCHEMA
    assert set(MIGRATIONS) == set(range(1, CURRENT_SCHEMA))


@pytest.mark.parametrize(
    ("current", "steps"),
    [(0, {}), (2, {}), (3, {1: dict}), (1, {1: dict}), (2, {2: dict})],
)
def test_registry_with_missing_or_extra_steps_is_refused(
    current: int, steps: dict[int, Any]
) -> None:
    with pytest.raises(ValueError, match="schema"):
        SchemaMigrator(current=current, steps=steps)


def test_stamp_does_not_change_the_callers_document() -> None:
    document = {"a": 1, "schema": 7}
    assert SchemaMigrator().stamp(document) == {"a": 1, "schema": CURRENT_SCHEMA}
    assert document == {"a": 1, "schema": 7}


@pytest.mark.parametrize("version", [None, 0, -1, True, 1.0, "1"])
def test_document_without_a_usable_version_is_damaged(version: object) -> None:
    with pytest.raises(DamagedDocumentError, match=r"src\.json"):
        SchemaMigrator().upgrade({"schema": version}, source="src.json")
