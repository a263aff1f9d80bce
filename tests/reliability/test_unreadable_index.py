"""An index shard the bot cannot read never stops the reminders: they come from the user files.

The reminder service starts (``load``) on real files whose schedule index a previous run left
complete, after one shard was made unreadable; the dispatcher's first tick must then send the
check-in of the user in that shard as if nothing had happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from test_damaged_files import DUE, START, RecordingSender, store_due_user
from unreadable import (
    deny_writes,
    fifo_in_place,
    folder_in_place,
    needs_non_root,
    reads_refused,
    unreadable_by_mode,
)

from bot.core.checkin_claims import ReminderService
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.messages import Command
from bot.dispatcher import Dispatcher
from storage import ScheduleIndex, TinyDBUserRepository
from storage.tinydb_repo import shard_of

USERS = ("u1", "u2", "u3")


def shard_file(data_dir: Path, user_id: str) -> Path:
    return data_dir / "schedule" / f"{shard_of(user_id)}.json"


@pytest.fixture
def previous_run(file_repo: TinyDBUserRepository) -> Path:
    """Three users due at DUE, and the complete index the last run left; the data folder."""
    for user_id in USERS:
        store_due_user(file_repo, user_id)
    ReminderService(file_repo, ScheduleIndex(file_repo.data_dir), clock=lambda: START).load()
    assert len({shard_of(user_id) for user_id in USERS}) == len(USERS)
    return file_repo.data_dir


async def first_tick(repo: TinyDBUserRepository) -> list[str]:
    """Start the service as `focus-coach run` does and run one tick; the users sent to."""
    now = DUE + timedelta(minutes=1)
    service = ReminderService(repo, ScheduleIndex(repo.data_dir), clock=lambda: now)
    sender = RecordingSender()
    service.load()
    await Dispatcher(service, sender, clock=lambda: now).tick()
    return sorted(claim.user_id for claim in sender.claims)


@pytest.mark.parametrize(
    "make_unreadable",
    [folder_in_place, fifo_in_place, pytest.param(unreadable_by_mode, marks=needs_non_root)],
    ids=["folder", "fifo", "mode-000"],
)
async def test_the_user_of_an_unreadable_shard_still_gets_the_checkin(
    make_unreadable: Callable[[Path, str], None],
    previous_run: Path,
    file_repo: TinyDBUserRepository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shard = shard_file(previous_run, "u2")
    make_unreadable(shard, "u2")

    with caplog.at_level(logging.WARNING):
        sent = await first_tick(file_repo)

    assert sent == list(USERS)
    assert shard.is_file()  # rebuilt in place
    assert list(shard.parent.glob("*.damaged-*")) == []
    assert str(shard) in caplog.text


async def test_a_refused_read_is_set_aside_too(
    previous_run: Path, file_repo: TinyDBUserRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads_refused(monkeypatch)(shard_file(previous_run, "u2"), "u2")

    assert await first_tick(file_repo) == list(USERS)
    assert list((previous_run / "schedule").glob("*.damaged-*")) == []


def test_a_read_only_index_folder_does_not_stop_the_start(
    previous_run: Path,
    file_repo: TinyDBUserRepository,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shard = shard_file(previous_run, "u2")
    reads_refused(monkeypatch)(shard, "u2")
    deny_writes(monkeypatch, previous_run / "schedule")
    now = DUE + timedelta(minutes=1)
    service = ReminderService(file_repo, ScheduleIndex(previous_run), clock=lambda: now)

    with caplog.at_level(logging.WARNING):
        service.load()

    # Nothing could be moved or written, yet every user is due from the user files. (Index
    # writes later in the run still fail like any other write to a read-only folder.)
    assert sorted(service.due_users(now)) == list(USERS)
    assert "cannot move it aside" in caplog.text
    assert "cannot rebuild the schedule index" in caplog.text


def test_index_writes_failing_while_running_break_no_step_and_no_check_in(
    previous_run: Path,
    file_repo: TinyDBUserRepository,
    content: Content,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = DUE + timedelta(minutes=1)
    service = ReminderService(file_repo, ScheduleIndex(previous_run), clock=lambda: now)
    service.load()
    deny_writes(monkeypatch, previous_run / "schedule")  # the folder turns read-only now
    engine = DialogueEngine(content, file_repo, clock=lambda: now, reminders=service)

    with caplog.at_level(logging.ERROR):
        claims = [service.claim(uid, now) for uid in service.due_users(now)]
        for claim in claims:
            assert claim is not None
            service.confirm(claim)  # moves each hint a week on: an index write that fails
        replies = engine.handle("u1", Command("settings"), language_hint="de")

    assert [claim.user_id for claim in claims if claim is not None] == list(USERS)
    assert "telegram/failed" not in str(replies) and replies[-1].buttons
    assert caplog.text.count("the next start rebuilds the index") == 1  # said once
    monkeypatch.undo()  # the operator makes the folder writable again before the next start
    assert not ScheduleIndex(previous_run).is_complete()  # so that start rebuilds
    restarted = ReminderService(file_repo, ScheduleIndex(previous_run), clock=lambda: now)
    restarted.load()
    assert ScheduleIndex(previous_run).is_complete()
