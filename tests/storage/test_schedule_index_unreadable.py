"""ScheduleIndex with shards it cannot read: set aside, rebuilt, and never a crash.

Each test starts from an index a previous run left complete, makes one shard unusable the way
an operator or a broken disk would, and looks at what the next start (``load_all``, then
``rebuild`` from the user documents) does with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from unreadable import (
    chmod_read_only,
    deny_writes,
    fifo_in_place,
    folder_in_place,
    needs_non_root,
    reads_refused,
    unreadable_by_mode,
)

from storage import ScheduleIndex
from storage.schedule_index import BUILT_MARKER
from storage.tinydb_repo import shard_of

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ENTRIES = {"u1": T0, "u2": T0}


def shard_file(data_dir: Path, user_id: str) -> Path:
    return data_dir / "schedule" / f"{shard_of(user_id)}.json"


def kept_aside(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "schedule").glob("*.damaged-*"))


def holding(data_dir: Path, text: str) -> list[Path]:
    """Every path under ``data_dir`` whose name or bytes contain ``text``."""
    return sorted(
        path
        for path in data_dir.rglob("*")
        if text in path.name
        or (path.is_file() and not path.is_fifo() and text.encode() in path.read_bytes())
    )


Damage = Callable[[Path, str], None]


@pytest.fixture(
    params=["folder", "fifo", "permission-error", pytest.param("mode-000", marks=needs_non_root)]
)
def make_unreadable(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Damage:
    """One way a shard cannot be read; mode 000 only means something when not root."""
    damage: dict[str, Damage] = {
        "folder": folder_in_place,
        "fifo": fifo_in_place,
        "mode-000": unreadable_by_mode,
    }
    return damage.get(request.param) or reads_refused(monkeypatch)


def test_an_unreadable_shard_is_set_aside_and_deleted_after_the_rebuild(
    tmp_path: Path, make_unreadable: Damage, caplog: pytest.LogCaptureFixture
) -> None:
    ScheduleIndex(tmp_path).rebuild(ENTRIES)
    assert shard_of("u1") != shard_of("u2")
    shard = shard_file(tmp_path, "u1")
    make_unreadable(shard, "u1")
    index = ScheduleIndex(tmp_path)  # the next start

    with caplog.at_level(logging.WARNING):
        loaded = index.load_all()

    assert loaded == {"u2": T0}
    assert index.is_complete() is False
    assert len(kept_aside(tmp_path)) == 1
    assert [r.levelname for r in caplog.records if str(shard) in r.getMessage()] == ["WARNING"]

    index.rebuild(ENTRIES)

    assert index.is_complete() is True
    assert kept_aside(tmp_path) == []  # derivable: nothing of it is kept once rebuilt
    assert shard.is_file()
    assert ScheduleIndex(tmp_path).load_all() == ENTRIES


def test_a_shard_that_cannot_be_moved_aside_is_logged_and_the_rest_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ScheduleIndex(tmp_path).rebuild(ENTRIES)
    shard = shard_file(tmp_path, "u1")
    reads_refused(monkeypatch)(shard, "u1")
    deny_writes(monkeypatch, tmp_path / "schedule")
    index = ScheduleIndex(tmp_path)

    with caplog.at_level(logging.WARNING):
        loaded = index.load_all()
        index.rebuild(ENTRIES)  # writes nothing here, and says so

    assert loaded == {"u2": T0}
    # The marker could not be removed, but this process knows the index is not whole.
    assert (tmp_path / "schedule" / BUILT_MARKER).is_file()
    assert index.is_complete() is False
    lines = [r.getMessage() for r in caplog.records]
    assert any(str(shard) in line and "cannot move it aside" in line for line in lines), lines
    assert any("cannot rebuild the schedule index" in line for line in lines), lines
    assert "Traceback" not in caplog.text


@needs_non_root
def test_a_read_only_folder_with_a_mode_000_shard_does_not_stop_a_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ScheduleIndex(tmp_path).rebuild(ENTRIES)
    shard = shard_file(tmp_path, "u1")
    shard.chmod(0)
    undo = chmod_read_only(tmp_path / "schedule")
    try:
        index = ScheduleIndex(tmp_path)
        with caplog.at_level(logging.WARNING):
            loaded = index.load_all()
            index.rebuild(ENTRIES)
    finally:
        undo()

    assert loaded == {"u2": T0}
    assert index.is_complete() is False
    assert "cannot move it aside" in caplog.text


def test_an_index_folder_that_is_a_file_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "schedule").write_bytes(b"not a folder")
    index = ScheduleIndex(tmp_path)

    with caplog.at_level(logging.WARNING):
        assert index.load_all() == {}
        index.rebuild(ENTRIES)

    assert index.is_complete() is False
    assert "cannot read the schedule index folder" in caplog.text
    assert "cannot rebuild the schedule index" in caplog.text


def test_a_folder_in_place_of_the_marker_is_replaced_by_the_rebuild(tmp_path: Path) -> None:
    ScheduleIndex(tmp_path).rebuild(ENTRIES)
    marker = tmp_path / "schedule" / BUILT_MARKER
    marker.unlink()
    marker.mkdir()
    index = ScheduleIndex(tmp_path)
    assert index.is_complete() is False

    index.rebuild(ENTRIES)

    assert marker.is_file()
    assert index.is_complete() is True


def test_remove_deletes_the_kept_aside_copies_of_the_users_shard(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    index.rebuild(ENTRIES)
    # Damaged while running: the copy is kept until the next start's rebuild ...
    shard_file(tmp_path, "u1").write_bytes(b'{"due": {"u1": "2026-11-')
    shard_file(tmp_path, "u2").write_bytes(b'{"due": {"u2": "2026-11-')
    index.set("u2", T0)
    assert len(kept_aside(tmp_path)) == 1

    # ... unless the user is deleted first: then nothing of theirs stays behind.
    index.remove("u1")

    assert holding(tmp_path, "u1") == []
    assert [path.name.split(".")[0] for path in kept_aside(tmp_path)] == [shard_of("u2")]
    assert index.load_all() == {"u2": T0}
