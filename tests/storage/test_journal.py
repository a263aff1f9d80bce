"""AppendJournal on real files: segments, appends, torn and wrong lines, removal."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from storage.journal import JOURNAL_FOLDER, AppendJournal


def test_appends_go_to_one_segment_until_it_is_rotated(tmp_path: Path) -> None:
    journal = AppendJournal(tmp_path)
    assert journal.load() == []
    first = journal.append([{"n": 1}, {"n": 2}])
    assert journal.append([{"n": 3}]) == first
    assert journal.rotate() == first
    second = journal.append([{"n": 4}])

    assert second != first
    loaded = AppendJournal(tmp_path).load()
    assert [(s.name, s.records) for s in loaded] == [
        (first, ({"n": 1}, {"n": 2}, {"n": 3})),
        (second, ({"n": 4},)),
    ]


def test_after_a_load_appends_start_a_new_segment_after_the_newest(tmp_path: Path) -> None:
    old = AppendJournal(tmp_path)
    old.append([{"n": 1}])
    old.rotate()
    newest = old.append([{"n": 2}])

    journal = AppendJournal(tmp_path)
    journal.load()
    name = journal.append([{"n": 3}])

    assert name > newest  # never appended to a file an earlier run may have cut off
    assert [s.records for s in journal.load()] == [({"n": 1},), ({"n": 2},), ({"n": 3},)]


def test_a_torn_last_line_and_wrong_lines_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = AppendJournal(tmp_path)
    name = journal.append([{"n": 1}])
    path = tmp_path / JOURNAL_FOLDER / name
    with path.open("ab") as handle:
        handle.write(b"[1, 2]\n\xff\xfe\n" + json.dumps({"n": 2}).encode() + b'\n{"n": 3, "cut')

    with caplog.at_level(logging.WARNING):
        [segment] = AppendJournal(tmp_path).load()

    assert segment.records == ({"n": 1}, {"n": 2})
    assert "cut off mid-write" in caplog.text
    assert "not a JSON object" in caplog.text
    assert "not a JSON record" in caplog.text


def test_remove_deletes_a_segment_and_refuses_other_files(tmp_path: Path) -> None:
    journal = AppendJournal(tmp_path)
    name = journal.append([{"n": 1}])
    journal.remove(name)

    assert journal.load() == []
    assert journal.current is None
    with pytest.raises(ValueError, match="not a journal segment"):
        journal.remove("../users/ab/1.json")


def test_files_that_are_no_segments_are_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / JOURNAL_FOLDER
    folder.mkdir()
    (folder / "notes.txt").write_text("an operator's note")
    journal = AppendJournal(tmp_path)

    assert journal.load() == []
    journal.append([{"n": 1}])
    assert (folder / "notes.txt").read_text() == "an operator's note"


def test_records_can_be_removed_from_every_segment(tmp_path: Path) -> None:
    journal = AppendJournal(tmp_path)
    only_hers = journal.append([{"user": "anna"}])
    journal.rotate()
    mixed = journal.append([{"user": "ben"}, {"user": "anna"}, {"user": "cem"}])
    with (tmp_path / JOURNAL_FOLDER / mixed).open("ab") as handle:
        handle.write(b'{"user": "anna", "we')  # torn: it names her too

    assert journal.remove_records(lambda record: record.get("user") == "anna") == 2

    [segment] = AppendJournal(tmp_path).load()
    assert (segment.name, segment.records) == (mixed, ({"user": "ben"}, {"user": "cem"}))
    assert b"anna" not in (tmp_path / JOURNAL_FOLDER / mixed).read_bytes()
    assert not (tmp_path / JOURNAL_FOLDER / only_hers).exists()
    assert journal.append([{"user": "dora"}]) == mixed  # appends go on in the current one
