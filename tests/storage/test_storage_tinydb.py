"""The file repository: layout on disk, deletion, crash leftovers and damaged files."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest
from tinydb import TinyDB

from storage import (
    AtomicJSONStorage,
    DamagedDocumentError,
    SchemaVersionError,
    TinyDBUserRepository,
    open_repository,
)


def user_file(data_dir: Path, user_id: str) -> Path:
    """Where the layout promises to keep a user: a shard named by sha256, then ``<id>.json``."""
    shard = hashlib.sha256(user_id.encode()).hexdigest()[:2]
    return data_dir / "users" / shard / f"{user_id}.json"


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_file_lands_in_its_shard_as_compact_json(
    tinydb_repo: TinyDBUserRepository, data_dir: Path
) -> None:
    tinydb_repo.put("console:alice", {"name": "Jürgen"})
    path = user_file(data_dir, "console:alice")
    assert path.read_text(encoding="utf-8") == ('{"user":{"1":{"name":"Jürgen","schema":1}}}')
    assert files_under(data_dir) == [data_dir / "focus-coach.lock", path]


def test_open_repository_creates_missing_parents(tmp_path: Path) -> None:
    data_dir = tmp_path / "a" / "b" / "data"
    with open_repository(data_dir) as repo:
        repo.put("u1", {"a": 1})
        assert repo.get("u1") == {"a": 1, "schema": 1}
    assert user_file(data_dir, "u1").is_file()


def test_get_creates_nothing(tinydb_repo: TinyDBUserRepository, data_dir: Path) -> None:
    assert tinydb_repo.get("u1") is None
    assert files_under(data_dir) == [data_dir / "focus-coach.lock"]


def test_delete_leaves_no_trace(tinydb_repo: TinyDBUserRepository, data_dir: Path) -> None:
    tinydb_repo.put("console:alice", {"secret": "alice-data"})
    path = user_file(data_dir, "console:alice")
    path.write_text("damaged", encoding="utf-8")
    tinydb_repo.put("console:alice", {"secret": "alice-data"})  # keeps a .damaged-* copy
    (path.parent / ".console:alice.json.x1y2.tmp").write_text("{", encoding="utf-8")
    assert len(files_under(path.parent)) == 3

    assert tinydb_repo.delete("console:alice") is True

    assert not path.parent.exists()
    leftovers = [p for p in data_dir.rglob("*") if "alice" in p.name]
    assert leftovers == []
    contents = [p.read_bytes() for p in files_under(data_dir)]
    assert [c for c in contents if b"alice" in c] == []


def test_delete_keeps_shard_of_other_users(
    tinydb_repo: TinyDBUserRepository, data_dir: Path
) -> None:
    same_shard = [f"u{n}" for n in range(2000) if user_file(data_dir, f"u{n}").parent.name == "00"]
    first, second = same_shard[:2]
    tinydb_repo.put(first, {"n": 1})
    tinydb_repo.put(second, {"n": 2})
    assert tinydb_repo.delete(first) is True
    assert files_under(user_file(data_dir, second).parent) == [user_file(data_dir, second)]
    assert tinydb_repo.get(second) == {"n": 2, "schema": 1}


def test_stray_temp_files_are_removed_on_open(data_dir: Path) -> None:
    with open_repository(data_dir) as repo:
        repo.put("u1", {"a": 1})
    shard = user_file(data_dir, "u1").parent
    stray = [shard / ".u1.json.abc123.tmp", shard / ".u2.json.zz.tmp"]
    for path in stray:
        path.write_text('{"user":', encoding="utf-8")
    with open_repository(data_dir) as repo:
        assert files_under(shard) == [user_file(data_dir, "u1")]
        assert repo.get("u1") == {"a": 1, "schema": 1}
        assert list(repo.user_ids()) == ["u1"]


def test_user_ids_skip_lock_temp_and_damaged_copies(
    tinydb_repo: TinyDBUserRepository, data_dir: Path
) -> None:
    tinydb_repo.put("u1", {"a": 1})
    shard = user_file(data_dir, "u1").parent
    (shard / ".u9.json.abc.tmp").write_text("{}", encoding="utf-8")
    (shard / "u8.json.damaged-20250101T000000.000000Z").write_text("{}", encoding="utf-8")
    (shard / "not an id.json").write_text("{}", encoding="utf-8")
    (data_dir / "users" / "README").write_text("hello", encoding="utf-8")
    assert list(tinydb_repo.user_ids()) == ["u1"]


def test_other_tables_in_the_user_file_survive_a_put(
    tinydb_repo: TinyDBUserRepository, data_dir: Path
) -> None:
    tinydb_repo.put("u1", {"a": 1})
    path = user_file(data_dir, "u1")
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.table("checkins").insert({"week": "2025-W01", "posts": 3})
    tinydb_repo.put("u1", {"a": 2})
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        assert db.table("checkins").all() == [{"week": "2025-W01", "posts": 3}]
        assert db.table("user").all() == [{"a": 2, "schema": 1}]


VALID = '{"user":{"1":{"a":1,"schema":1}}}'


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (VALID[:-5].encode(), "not valid JSON"),
        (b"hello", "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"user": []}', "is not a JSON object"),
        (b'{"user": {"1": "x"}}', "is not a JSON object"),
        (b'{"user": {"one": {"schema": 1}}}', "record id"),
        (b'{"user": {"1": {"schema": 1}, "2": {"schema": 1}}}', "not [1]"),
        (b'{"user": {"1": {"a": 1}}}', "'schema' is None"),
        (b'{"user": {"1": {"schema": "1"}}}', "'schema' is '1'"),
        (b'{"user": {"1": {"schema": 99}}}', "schema version 99 is newer"),
    ],
)
def test_damaged_file(
    tinydb_repo: TinyDBUserRepository,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    content: bytes,
    problem: str,
) -> None:
    tinydb_repo.put("u1", {"a": 1})
    tinydb_repo.put("u2", {"b": 2})
    path = user_file(data_dir, "u1")
    path.write_bytes(content)

    with pytest.raises(DamagedDocumentError) as caught:
        tinydb_repo.get("u1")
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)
    assert path.read_bytes() == content  # reading never changes a damaged file

    # Other users are unaffected, and listing still works.
    assert tinydb_repo.get("u2") == {"b": 2, "schema": 1}
    assert sorted(tinydb_repo.user_ids()) == ["u1", "u2"]

    with caplog.at_level(logging.WARNING, logger="storage.tinydb_repo"):
        tinydb_repo.put("u1", {"a": 3})
    assert tinydb_repo.get("u1") == {"a": 3, "schema": 1}
    copies = list(path.parent.glob("u1.json.damaged-*"))
    assert [copy.read_bytes() for copy in copies] == [content]
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert str(path) in caplog.text
    assert str(copies[0]) in caplog.text


def test_future_schema_is_a_schema_version_error(
    tinydb_repo: TinyDBUserRepository, data_dir: Path
) -> None:
    tinydb_repo.put("u1", {"a": 1})
    user_file(data_dir, "u1").write_text('{"user":{"1":{"schema":2}}}', encoding="utf-8")
    with pytest.raises(SchemaVersionError, match="upgrade focus-coach"):
        tinydb_repo.get("u1")


def test_two_damaged_puts_keep_two_copies(
    tinydb_repo: TinyDBUserRepository, data_dir: Path
) -> None:
    path = user_file(data_dir, "u1")
    tinydb_repo.put("u1", {"a": 1})
    for content in ("first damage", "second damage"):
        path.write_text(content, encoding="utf-8")
        tinydb_repo.put("u1", {"a": 1})
    copies = sorted(path.parent.glob("u1.json.damaged-*"))
    assert [copy.read_text(encoding="utf-8") for copy in copies] == [
        "first damage",
        "second damage",
    ]
