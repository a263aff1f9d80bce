"""AtomicJSONStorage: what a read accepts and what a write leaves on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from tinydb import TinyDB

from storage import AtomicJSONStorage, DamagedDocumentError


def test_missing_file_reads_as_none_and_is_not_created(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json")
    assert storage.read() is None
    assert list(tmp_path.iterdir()) == []


def test_empty_file_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / "db.json").write_bytes(b"")
    assert AtomicJSONStorage(tmp_path / "db.json").read() is None


def test_write_is_compact_utf8_and_leaves_only_the_target(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {"1": {"name": "Ärger ✓", "n": [1, 2]}}})
    assert path.read_bytes() == '{"t":{"1":{"name":"Ärger ✓","n":[1,2]}}}'.encode()
    assert storage.read() == {"t": {"1": {"name": "Ärger ✓", "n": [1, 2]}}}
    assert list(tmp_path.iterdir()) == [path]


def test_write_replaces_longer_content_without_a_stale_tail(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {"1": {"long": "x" * 10_000}}})
    storage.write({"t": {}})
    assert path.read_bytes() == b'{"t":{}}'


def test_failed_serialisation_leaves_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {}})
    with pytest.raises(TypeError):
        storage.write({"t": {"1": {"bad": object()}}})
    assert list(tmp_path.iterdir()) == [path]
    assert path.read_bytes() == b'{"t":{}}'


def test_invalid_json_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(b'{"t": {"1": ')
    with pytest.raises(DamagedDocumentError, match="not valid JSON") as caught:
        AtomicJSONStorage(path).read()
    assert str(path) in str(caught.value)


def test_works_as_tinydb_storage(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.insert({"a": 1})
        db.table("other").insert({"b": 2})
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        assert (db.all(), db.table("other").all()) == ([{"a": 1}], [{"b": 2}])
