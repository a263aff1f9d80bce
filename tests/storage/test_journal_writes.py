"""The journal's appends on a disk that takes only part of a write (a full disk).

``os.write`` may write fewer bytes than asked and report it; a record cut off that way was lost
although ``append`` said it was durable, and the next append glued its first record onto the
cut-off line (neither could be read back).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import storage.journal
from storage.journal import JOURNAL_FOLDER, AppendJournal

Write = Callable[[int, bytes], int]


@contextmanager
def disk_taking(monkeypatch: pytest.MonkeyPatch, write: Write) -> Iterator[None]:
    """``os.write`` as seen by the journal is ``write`` (it gets the real one to call)."""
    with monkeypatch.context() as patch:
        patch.setattr(storage.journal.os, "write", write)
        yield


def records(*numbers: int) -> list[dict[str, object]]:
    return [{"user": f"user-{n}", "week": "2026-W48", "note": "ü" * 40} for n in numbers]


def read_back(data_dir: Path) -> list[dict[str, object]]:
    return [record for segment in AppendJournal(data_dir).load() for record in segment.records]


def test_a_write_that_takes_only_part_of_a_batch_is_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.write
    journal = AppendJournal(tmp_path)

    def seven_bytes_at_a_time(fd: int, data: bytes) -> int:
        return real(fd, bytes(data[:7]))

    with disk_taking(monkeypatch, seven_bytes_at_a_time):
        journal.append(records(1, 2, 3))
    journal.append(records(4))

    assert read_back(tmp_path) == records(1, 2, 3, 4)


def test_after_an_append_failed_midway_the_next_one_starts_a_new_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.write
    journal = AppendJournal(tmp_path)
    journal.append(records(1))
    calls = 0

    def full_after_a_part(fd: int, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real(fd, bytes(data[:30]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with disk_taking(monkeypatch, full_after_a_part), pytest.raises(OSError):
        journal.append(records(2, 3))
    journal.append(records(4, 5))  # room again

    # The failed batch's cut-off line stays the last of its segment and is skipped; the
    # records acknowledged before and after it are all there.
    assert read_back(tmp_path) == records(1, 4, 5)
    assert len(list((tmp_path / JOURNAL_FOLDER).iterdir())) == 2
