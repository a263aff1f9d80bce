"""ScheduleIndex: round trip, sharding, removal, damaged shards, the built marker, threads."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage import ScheduleIndex
from storage.schedule_index import BUILT_MARKER
from storage.tinydb_repo import shard_of

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def shard_file(data_dir: Path, user_id: str) -> Path:
    return data_dir / "schedule" / f"{shard_of(user_id)}.json"


def test_round_trip_survives_a_new_instance(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    berlin = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    index.set("1001", T0)
    index.set("console:alice", berlin)
    index.set("1002", T0 + timedelta(microseconds=5))

    loaded = ScheduleIndex(tmp_path).load_all()

    assert loaded == {
        "1001": T0,
        "console:alice": T0,
        "1002": T0 + timedelta(microseconds=5),
    }
    assert all(due.tzinfo is UTC for due in loaded.values())
    assert ScheduleIndex(tmp_path).get("console:alice") == T0


def test_each_user_lands_in_the_shard_of_its_user_file(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    user_ids = [f"u{n}" for n in range(60)]
    index.set_many(dict.fromkeys(user_ids, T0))

    for user_id in user_ids:
        stored = json.loads(shard_file(tmp_path, user_id).read_text("utf-8"))
        assert stored["due"][user_id] == "2026-11-23T08:00:00+00:00"
    shard_names = {path.name for path in (tmp_path / "schedule").iterdir()}
    assert shard_names == {f"{shard_of(user_id)}.json" for user_id in user_ids}


def test_set_none_and_remove_forget_the_user(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    index.set_many({"a1": T0, "a2": T0, "a3": T0})
    index.set("a1", None)
    index.remove("a2")
    index.remove("never-there")

    assert index.load_all() == {"a3": T0}
    assert index.get("a1") is None


def test_an_emptied_shard_file_is_removed(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    index.set("solo", T0)
    assert shard_file(tmp_path, "solo").exists()

    index.remove("solo")

    assert not shard_file(tmp_path, "solo").exists()


def test_naive_instants_and_bad_ids_are_refused(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    with pytest.raises(ValueError, match="timezone-aware"):
        index.set("u1", datetime(2026, 1, 1, 8, 0))
    with pytest.raises(ValueError, match="invalid user id"):
        index.set("../evil", T0)
    assert index.load_all() == {}


def test_missing_folder_is_empty_and_incomplete(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)

    assert index.load_all() == {}
    assert index.is_complete() is False


def test_rebuild_replaces_everything_and_marks_complete(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    index.set_many({"old1": T0, "old2": T0})

    index.rebuild({"new1": T0 + timedelta(days=1), "new2": T0})

    assert index.is_complete() is True
    assert (tmp_path / "schedule" / BUILT_MARKER).is_file()
    assert ScheduleIndex(tmp_path).load_all() == {"new1": T0 + timedelta(days=1), "new2": T0}


@pytest.mark.parametrize(
    "damage",
    [
        b'{"due": {"u1": "2026-11-23T08:00',  # torn write
        b"\xff\xfe not utf-8",
        b'["a list"]',
        b'{"due": {"u1": "next tuesday"}}',
        b'{"due": {"u1": "2026-11-23T08:00:00"}}',  # no offset
    ],
    ids=["torn", "not-utf8", "wrong-layout", "bad-instant", "naive-instant"],
)
def test_damaged_shard_is_moved_aside_and_asks_for_a_rebuild(
    tmp_path: Path, damage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    index = ScheduleIndex(tmp_path)
    index.rebuild({"u1": T0, "u2": T0})
    damaged = shard_file(tmp_path, "u1")
    assert shard_of("u1") != shard_of("u2")
    damaged.write_bytes(damage)

    loaded = ScheduleIndex(tmp_path).load_all()

    assert loaded == {"u2": T0}
    assert index.is_complete() is False
    kept = [path for path in damaged.parent.iterdir() if ".damaged-" in path.name]
    assert [path.read_bytes() for path in kept] == [damage]
    assert not damaged.exists()
    assert "Damaged document" in caplog.text


def test_a_user_in_the_wrong_shard_counts_as_damage(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    index.rebuild({"u1": T0})
    other = next(f"x{n}" for n in range(1000) if shard_of(f"x{n}") != shard_of("u1"))
    shard_file(tmp_path, other).write_text(
        json.dumps({"due": {"u1": "2026-11-23T08:00:00+00:00"}}), "utf-8"
    )

    assert index.load_all() == {"u1": T0}
    assert index.is_complete() is False


def test_set_on_a_damaged_shard_starts_it_afresh(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    index.rebuild({"u1": T0})
    shard_file(tmp_path, "u1").write_bytes(b"{torn")

    index.set("u1", T0 + timedelta(hours=1))

    assert index.load_all() == {"u1": T0 + timedelta(hours=1)}
    assert index.is_complete() is False


def test_stray_temp_files_are_removed_on_load(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    index.rebuild({"u1": T0})
    stray = tmp_path / "schedule" / f".{shard_of('u1')}.json.abc123.tmp"
    stray.write_bytes(b'{"due": {')

    assert index.load_all() == {"u1": T0}
    assert not stray.exists()
    assert index.is_complete() is True


def test_concurrent_sets_in_shared_shards_lose_nothing(tmp_path: Path) -> None:
    index = ScheduleIndex(tmp_path)
    threads_count, per_thread = 8, 40
    # Few shards for many users: every shard is written by several threads at once.
    by_shard: dict[str, list[str]] = {}
    for n in range(30_000):
        by_shard.setdefault(shard_of(f"t{n}"), []).append(f"t{n}")
    crowded = [ids for ids in by_shard.values() if len(ids) >= threads_count * per_thread // 4]
    pool = [user_id for ids in crowded[:4] for user_id in ids[: threads_count * per_thread // 4]]
    assert len(pool) == threads_count * per_thread
    errors: list[BaseException] = []
    start = threading.Barrier(threads_count)

    def work(offset: int) -> None:
        try:
            start.wait()
            mine = pool[offset::threads_count]
            for n, user_id in enumerate(mine):
                index.set(user_id, T0 + timedelta(minutes=n))
            for user_id in mine[::2]:
                index.remove(user_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    expected = {
        user_id: T0 + timedelta(minutes=n)
        for offset in range(threads_count)
        for n, user_id in enumerate(pool[offset::threads_count])
        if n % 2 == 1
    }
    assert index.load_all() == expected
