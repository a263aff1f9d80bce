"""The older check-ins of a user in a side file: whole documents in and out, on real files.

``TinyDBUserRepository`` keeps a user's newest check-ins in their file and moves older ones to
``<id>.archive.json`` (``storage.history_archive``); ``get`` joins them, ``get_recent`` reads the
user's file alone. These tests hold it to the repository's contract (every record back, in
order, exactly once, also after a crash between the two writes) on files in a temp folder.
"""

from __future__ import annotations

import inspect
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from storage import DamagedDocumentError, StorageError, TinyDBUserRepository
from storage import tinydb_repo as tinydb_module
from storage.history_archive import ARCHIVE_KEY, ARCHIVE_SUFFIX, WINDOW
from storage.tinydb_repo import shard_of

ROOT = Path(__file__).resolve().parents[2]
USER = "anna"


def week(number: int) -> str:
    """The ISO week ``number`` weeks after 2024-W01 (52 to a year, as in the tests' sense)."""
    return f"{2024 + number // 52}-W{number % 52 + 1:02d}"


def record(number: int, hours: float | None = None) -> dict[str, Any]:
    """A check-in record as ``actions.record_checkin`` writes one (the fields that matter)."""
    return {
        "week": week(number),
        "answered_at": "2026-01-02T09:00:00+00:00",
        "channels": {"linkedin": "yes", "xing": "no"},
        "hours": float(number) if hours is None else hours,
        "win": f"Woche {number}: ein Post",
    }


def document(count: int, user_id: str = USER) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "lang": "de",
        "checkins": [record(n) for n in range(count)],
        "plan": {"hours": 3},
    }


def files_of(data_dir: Path, user_id: str = USER) -> tuple[Path, Path]:
    folder = data_dir / "users" / shard_of(user_id)
    return folder / f"{user_id}.json", folder / f"{user_id}{ARCHIVE_SUFFIX}"


def stored_main(data_dir: Path, user_id: str = USER) -> dict[str, Any]:
    main, _ = files_of(data_dir, user_id)
    stored: dict[str, Any] = json.loads(main.read_bytes())["user"]["1"]
    return stored


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def repo(data_dir: Path) -> Any:
    with TinyDBUserRepository(data_dir) as opened:
        yield opened


@pytest.mark.parametrize("count", [0, 1, WINDOW, 2 * WINDOW, 2 * WINDOW + 1, 104])
def test_a_whole_document_comes_back_whole_whatever_its_history(
    repo: TinyDBUserRepository, data_dir: Path, count: int
) -> None:
    stored = document(count)

    repo.put(USER, stored)

    assert repo.get(USER) == {**stored, "schema": 1}
    side = files_of(data_dir)[1]
    kept = stored_main(data_dir)
    if count > 2 * WINDOW:
        assert kept["checkins"] == stored["checkins"][-WINDOW:]
        assert kept[ARCHIVE_KEY] == {"first": 0, "count": count - WINDOW}
        assert side.exists()
    else:
        assert kept["checkins"] == stored["checkins"] and ARCHIVE_KEY not in kept
        assert not side.exists()
    assert list(repo.user_ids()) == [USER]  # the side file is nobody's id
    # And after a restart, from the files alone.
    repo.close()
    with TinyDBUserRepository(data_dir) as again:
        assert again.get(USER) == {**stored, "schema": 1}


def test_a_year_of_weekly_answers_rewrites_the_older_part_only_every_few_months(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    _, side = files_of(data_dir)
    current = document(0)
    side_writes, last = 0, None
    for number in range(130):
        current = repo.get(USER) or current
        # As record_checkin: at most 104 kept, the oldest dropped first.
        current["checkins"] = [*current["checkins"], record(number)][-104:]
        repo.put(USER, current)
        signature = side.stat().st_ino if side.exists() else None
        side_writes += signature != last
        last = signature
        assert repo.get(USER) == {**current, "schema": 1}
        assert len(stored_main(data_dir)["checkins"]) <= 2 * WINDOW
        if side.exists():  # what it holds beyond the named records is bounded too
            assert len(json.loads(side.read_bytes())["checkins"]) <= 104 + 2 * WINDOW
    assert len(current["checkins"]) == 104
    # Moves every WINDOW + 1 weeks, and beyond 104 answers the oldest one dropped each week
    # only shortens what the user's file names: no side write for that.
    assert side_writes <= 130 // (WINDOW + 1) + 1


def test_an_answer_replaced_in_the_older_part_is_stored(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    repo.put(USER, document(60))
    current = repo.get(USER)
    assert current is not None
    # As record_checkin replaces a week: out of its place, the new answer at the end.
    current["checkins"] = [r for r in current["checkins"] if r["week"] != week(3)]
    current["checkins"].append(record(3, hours=9.5))

    repo.put(USER, current)

    assert repo.get(USER) == {**current, "schema": 1}
    repo.close()
    with TinyDBUserRepository(data_dir) as again:
        assert again.get(USER) == {**current, "schema": 1}


def test_an_older_answer_changed_in_place_is_stored(repo: TinyDBUserRepository) -> None:
    repo.put(USER, document(60))
    current = repo.get(USER)
    assert current is not None
    current["checkins"][5]["win"] = "doch noch zwei Posts"  # the same dict, changed

    repo.put(USER, current)

    stored = repo.get(USER)
    assert stored is not None and stored["checkins"][5]["win"] == "doch noch zwei Posts"


def test_a_shorter_history_is_stored_as_it_is(repo: TinyDBUserRepository, data_dir: Path) -> None:
    repo.put(USER, document(60))
    for count in (40, 10, 0):
        shorter = document(count)
        repo.put(USER, shorter)
        assert repo.get(USER) == {**shorter, "schema": 1}
    assert not files_of(data_dir)[1].exists()  # no stored document names it any more


def test_a_document_read_without_its_older_part_is_written_back_without_losing_it(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    whole = document(52)
    repo.put(USER, whole)
    _, side = files_of(data_dir)
    before = side.stat()

    recent = repo.get_recent(USER)
    assert recent is not None
    assert recent["checkins"] == whole["checkins"][-WINDOW:]
    assert recent[ARCHIVE_KEY] == {"first": 0, "count": 52 - WINDOW}
    recent["reminder"] = {"sent_weeks": [week(52)]}  # what a claim changes
    repo.put(USER, recent)

    after = repo.get(USER)
    assert after == {**whole, "reminder": {"sent_weeks": [week(52)]}, "schema": 1}
    assert (side.stat().st_ino, side.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_document_without_an_older_part_reads_the_same_either_way(
    repo: TinyDBUserRepository,
) -> None:
    repo.put(USER, document(20))
    assert repo.get_recent(USER) == repo.get(USER)
    assert repo.get_recent("nobody") is None


def test_a_partial_document_that_no_longer_matches_is_refused(
    repo: TinyDBUserRepository,
) -> None:
    repo.put(USER, document(52))
    recent = repo.get_recent(USER)
    assert recent is not None
    whole = repo.get(USER)
    assert whole is not None
    whole["checkins"] += [record(n) for n in range(52, 70)]
    repo.put(USER, whole)  # moves more of them out: the partial one is stale now

    with pytest.raises(StorageError, match="older check-ins"):
        repo.put(USER, recent)
    assert repo.get(USER) == {**whole, "schema": 1}


def test_a_file_from_before_the_side_files_reads_as_ever_and_is_split_at_its_next_put(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    main, side = files_of(data_dir)
    old = {**document(52), "schema": 1}
    main.parent.mkdir(parents=True)
    main.write_bytes(json.dumps({"user": {"1": old}}).encode())

    assert repo.get_recent(USER) == old
    assert repo.get(USER) == old
    repo.put(USER, old)

    assert side.exists() and len(stored_main(data_dir)["checkins"]) == WINDOW
    assert repo.get(USER) == old


def test_delete_removes_the_side_file_its_damaged_copies_and_temp_files(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    repo.put(USER, document(52))
    main, side = files_of(data_dir)
    leftovers = [
        side.with_name(f"{side.name}.damaged-20260101T000000.000000Z"),
        side.with_name(f".{side.name}.123-4.tmp"),
    ]
    for path in leftovers:
        path.write_bytes(b"{}")

    assert repo.delete(USER)

    assert not main.parent.exists()
    assert repo.get(USER) is None


def test_start_up_removes_temp_files_of_side_files(data_dir: Path) -> None:
    with TinyDBUserRepository(data_dir) as repo:
        repo.put(USER, document(52))
    _, side = files_of(data_dir)
    temp = side.with_name(f".{side.name}.99-1.tmp")
    temp.write_bytes(b'{"first":0,')

    with TinyDBUserRepository(data_dir) as repo:
        assert not temp.exists()
        assert repo.get(USER) == {**document(52), "schema": 1}


def test_a_crash_between_the_two_writes_leaves_every_answer_exactly_once(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acknowledged = document(2 * WINDOW)
    with TinyDBUserRepository(data_dir) as repo:
        repo.put(USER, acknowledged)
    _, side = files_of(data_dir)

    def dies(*_args: Any) -> Any:
        raise OSError(28, "No space left on device")

    # The side file is written (records move out), then the user's file fails: as a crash.
    monkeypatch.setattr(tinydb_module, "write_json_tables", dies)
    with TinyDBUserRepository(data_dir) as repo:
        grown = repo.get(USER)
        assert grown is not None
        grown["checkins"].append(record(2 * WINDOW))
        with pytest.raises(OSError, match="No space"):
            repo.put(USER, grown)
    assert side.exists()  # written before the failure
    monkeypatch.undo()

    with TinyDBUserRepository(data_dir) as repo:
        assert repo.get(USER) == {**acknowledged, "schema": 1}
        # And writing on from there stores the new answer once.
        again = repo.get(USER)
        assert again is not None
        again["checkins"].append(record(2 * WINDOW))
        repo.put(USER, again)
        assert repo.get(USER) == {**again, "schema": 1}


def test_a_crash_after_the_side_file_of_a_changed_older_part_loses_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TinyDBUserRepository(data_dir) as repo:
        repo.put(USER, document(60))
        acknowledged = repo.get(USER)
        assert acknowledged is not None
    changed = json.loads(json.dumps(acknowledged))
    changed["checkins"] = [r for r in changed["checkins"] if r["week"] != week(2)]
    changed["checkins"] += [record(2, hours=1.5), *(record(n) for n in range(60, 80))]

    def dies(*_args: Any) -> Any:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(tinydb_module, "write_json_tables", dies)
    with TinyDBUserRepository(data_dir) as repo, pytest.raises(OSError, match="Input/output"):
        repo.put(USER, changed)
    monkeypatch.undo()

    with TinyDBUserRepository(data_dir) as repo:
        assert repo.get(USER) == acknowledged
        repo.put(USER, changed)
        assert repo.get(USER) == {**changed, "schema": 1}


def test_a_crash_after_the_side_file_of_a_cut_history_loses_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TinyDBUserRepository(data_dir) as repo:
        repo.put(USER, document(104))
        acknowledged = repo.get(USER)
        assert acknowledged is not None
    # The oldest cut off (as record_checkin keeps 104) and enough new ones that more move out.
    cut = json.loads(json.dumps(acknowledged))
    cut["checkins"] = [*cut["checkins"], *(record(n) for n in range(104, 124))][-104:]

    def dies(*_args: Any) -> Any:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(tinydb_module, "write_json_tables", dies)
    with TinyDBUserRepository(data_dir) as repo:
        repo.get(USER)  # known to the process, as before a dialogue step's put
        with pytest.raises(OSError, match="Input/output"):
            repo.put(USER, cut)
    monkeypatch.undo()

    with TinyDBUserRepository(data_dir) as repo:
        assert repo.get(USER) == acknowledged
        repo.get(USER)
        repo.put(USER, cut)
        assert repo.get(USER) == {**cut, "schema": 1}
        assert stored_main(data_dir)[ARCHIVE_KEY] == {"first": 20, "count": 104 - WINDOW}


def test_a_failed_side_write_leaves_the_stored_document_as_it_was(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TinyDBUserRepository(data_dir) as repo:
        repo.put(USER, document(52))
        grown = repo.get(USER)
        assert grown is not None
        grown["checkins"] += [record(n) for n in range(52, 70)]

        def dies(*_args: Any, **_kwargs: Any) -> Any:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(tinydb_module, "replace_atomically", dies)
        with pytest.raises(OSError, match="No space"):
            repo.put(USER, grown)
        monkeypatch.undo()
        assert repo.get(USER) == {**document(52), "schema": 1}


def test_a_non_finite_number_in_the_older_part_is_refused_as_before(
    repo: TinyDBUserRepository,
) -> None:
    repo.put(USER, document(52))
    current = repo.get(USER)
    assert current is not None
    current["checkins"][0]["hours"] = float("nan")

    with pytest.raises(ValueError, match="not JSON compliant"):
        repo.put(USER, current)
    assert repo.get(USER) == {**document(52), "schema": 1}


def test_a_non_finite_number_where_the_older_part_stores_null_leaves_it_null(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    # A step's put compares the older part without the walk for NaN (a third of that
    # comparison): a NaN that encodes as the stored null is taken as unchanged, and the store
    # stays what it was, valid JSON with its null.
    stored = document(52)
    stored["checkins"][0]["win"] = None
    repo.put(USER, stored)
    side = files_of(data_dir)[1].read_bytes()
    current = repo.get(USER)
    assert current is not None
    current["checkins"][0]["win"] = float("nan")
    current["lang"] = "en"

    repo.put(USER, current)

    assert files_of(data_dir)[1].read_bytes() == side
    assert repo.get(USER) == {**stored, "lang": "en", "schema": 1}


SIDE_FILES_WRONG = [
    b"[]",
    b'{"checkins": []}',
    b'{"first": "0", "checkins": []}',
    b'{"first": 0, "checkins": {}}',
    b'{"first": 0, "checkins": [1, 2]}',
    b'{"first": 0, "checkins": []}',  # lacks the records the user's file names
    b'{"first": 5, "checkins": []}',
    b"not json",
]


@pytest.mark.parametrize("raw", SIDE_FILES_WRONG)
def test_a_wrong_side_file_is_damage_and_is_kept_aside_with_the_users_file(
    repo: TinyDBUserRepository, data_dir: Path, raw: bytes
) -> None:
    repo.put(USER, document(40))
    repo.put("ben", document(40, "ben"))
    main, side = files_of(data_dir)
    if raw == b'{"first": 0, "checkins": [1, 2]}':
        raw = json.dumps({"first": 0, "checkins": [1] * 24}).encode()
    side.write_bytes(raw)
    main_raw = main.read_bytes()

    with pytest.raises(DamagedDocumentError):
        repo.get(USER)
    assert repo.get_recent(USER) is not None  # the user's own file is fine
    repo.close()
    with TinyDBUserRepository(data_dir) as again:  # forgets what it knew
        with pytest.raises(DamagedDocumentError):
            again.get(USER)
        again.put(USER, document(0))  # a fresh start, as the engine makes one

        assert again.get(USER) == {**document(0), "schema": 1}
        assert [p.read_bytes() for p in main.parent.glob(f"{main.name}.damaged-*")] == [main_raw]
        assert [p.read_bytes() for p in main.parent.glob(f"{side.name}.damaged-*")] == [raw]
        assert again.get("ben") == {**document(40, "ben"), "schema": 1}


def test_a_missing_side_file_is_damage(repo: TinyDBUserRepository, data_dir: Path) -> None:
    repo.put(USER, document(40))
    files_of(data_dir)[1].unlink()

    with pytest.raises(DamagedDocumentError, match="is missing"):
        repo.get(USER)


@pytest.mark.parametrize(
    "marker",
    [[], "0:24", {"first": 0}, {"first": -1, "count": 24}, {"first": 0, "count": 0}, True],
)
def test_a_wrong_marker_in_the_users_file_is_damage(
    repo: TinyDBUserRepository, data_dir: Path, marker: Any
) -> None:
    repo.put(USER, document(40))
    main, _ = files_of(data_dir)
    stored = stored_main(data_dir)
    stored[ARCHIVE_KEY] = marker
    main.write_bytes(json.dumps({"user": {"1": stored}}).encode())

    for read in (repo.get, repo.get_recent):
        with pytest.raises(DamagedDocumentError, match=ARCHIVE_KEY):
            read(USER)


def test_a_scan_matches_on_the_users_file_alone(repo: TinyDBUserRepository) -> None:
    import re

    repo.put(USER, {**document(40), "active": False})
    found = dict(repo.documents_matching(re.compile(rb'"active":false')))
    assert list(found) == [USER]
    assert found[USER][ARCHIVE_KEY] == {"first": 0, "count": 40 - WINDOW}


# ---- SIGKILL at random instants while the history grows and moves --------------------------
ROUNDS = 30


def grown(n: int) -> dict[str, Any]:
    """After the n-th acknowledged put: n + 1 answers; every seventh one re-answers an old week
    (moved to the end, as record_checkin does), so the older part changes now and then."""
    records = [record(k) for k in range(n + 1)]
    for k in range(7, n + 1, 7):
        old = week(k // 2)
        records = [r for r in records if r["week"] != old] + [record(k // 2, hours=0.5 + k)]
    return {"user_id": USER, "n": n, "checkins": records[-104:]}


WRITER = f"""
import pathlib, sys
from typing import Any
sys.path.insert(0, {str(ROOT)!r})
from storage import open_repository
{inspect.getsource(week)}
{inspect.getsource(record)}
{inspect.getsource(grown)}
USER = {USER!r}
repo = open_repository(pathlib.Path(sys.argv[1]))
n = int(sys.argv[2])
while True:
    repo.put(USER, grown(n))
    print(n, flush=True)
    n += 1
"""


def test_sigkill_while_the_history_moves_loses_and_doubles_no_answer(data_dir: Path) -> None:
    rng = random.Random(16)
    next_n = 0
    for _ in range(ROUNDS):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data_dir), str(next_n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as child:
            assert child.stdout is not None and child.stderr is not None
            lines = [child.stdout.readline() for _ in range(rng.randint(1, 5))]
            assert lines[-1], child.stderr.read()
            time.sleep(rng.uniform(0, 0.004))
            child.kill()
            lines += child.stdout.readlines()
            child.wait()
        acked = [int(line) for line in lines if line.endswith("\n")]
        with TinyDBUserRepository(data_dir) as repo:
            stored = repo.get(USER)
        assert stored is not None
        # The last acknowledged put, or the one after it that was under way at the kill.
        assert stored["n"] in (acked[-1], acked[-1] + 1)
        assert stored == {**grown(stored["n"]), "schema": 1}
        weeks = [r["week"] for r in stored["checkins"]]
        assert len(weeks) == len(set(weeks))  # none doubled
        next_n = stored["n"] + 1
    assert next_n > 2 * WINDOW + 20  # the older part moved and changed on the way
    assert os.path.exists(files_of(data_dir)[1])
