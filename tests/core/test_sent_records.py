"""One document write per check-in: the claim composes the reminder, a journal records it sent.

Real files, the shipped content and engine, realistic users (``bench.datagen``), an injected
clock. A restart is a new repository, journal and service on the same folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.datagen import DocumentFactory
from bot.core.checkin_claims import Claim, Delivered, ReminderService
from bot.core.content import Content
from bot.core.due_kinds import Kind
from bot.core.engine import DialogueEngine
from bot.core.messages import Command
from bot.core.schedule import local_week_key
from bot.core.sent_records import SentRecord, SentRecords, apply_sent, as_recorded
from storage import ScheduleIndex, TinyDBUserRepository
from storage.journal import JOURNAL_FOLDER, AppendJournal

DUE = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday: each user's slot is this instant
USERS = ("700000001", "700000002", "700000003")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class CountingRepository:
    """The file store, counting the documents written."""

    def __init__(self, inner: TinyDBUserRepository) -> None:
        self.inner = inner
        self.puts: list[str] = []

    def get(self, user_id: str) -> dict[str, Any] | None:
        return self.inner.get(user_id)

    def put(self, user_id: str, document: dict[str, Any]) -> None:
        self.puts.append(user_id)
        self.inner.put(user_id, document)

    def delete(self, user_id: str) -> bool:
        return self.inner.delete(user_id)

    def user_ids(self) -> Iterator[str]:
        return self.inner.user_ids()

    def close(self) -> None:
        self.inner.close()


class Bot:
    """What ``focus-coach run`` wires, on one data folder (a new one is a restart)."""

    def __init__(self, data_dir: Path, content: Content, clock: Clock) -> None:
        self.files = CountingRepository(TinyDBUserRepository(data_dir))
        self.sent = SentRecords(self.files, AppendJournal(data_dir))
        self.service = ReminderService(
            self.sent, ScheduleIndex(data_dir), clock=clock, sent=self.sent
        )
        self.engine = DialogueEngine(content, self.sent, clock=clock, reminders=self.service)
        self.service.compose_with(self.engine.compose_reminder)
        self.service.load()
        self.files.puts.clear()

    def claim_all(self, now: datetime) -> list[Claim]:
        return [c for c in self.service.claim_many(self.service.due_users(now), now) if c]

    def close(self) -> None:
        self.sent.close()


@pytest.fixture
def folder(tmp_path: Path, content: Content) -> Path:
    data_dir = tmp_path / "data"
    factory = DocumentFactory(content)
    with TinyDBUserRepository(data_dir) as repo:
        for user_id in USERS:
            repo.put(user_id, factory.document(user_id, DUE, due=DUE))
    return data_dir


@pytest.fixture
def bot(folder: Path, content: Content) -> Iterator[Bot]:
    running = Bot(folder, content, Clock(DUE))
    yield running
    running.close()


def raw(data_dir: Path, user_id: str) -> dict[str, Any]:
    """The user's file as it is on disk, without the journal."""
    path = next(data_dir.rglob(f"{user_id}.json"))
    document: dict[str, Any] = json.loads(path.read_text())["user"]["1"]
    return document


def week_of(document: dict[str, Any]) -> str:
    return local_week_key(DUE, document["reminder"]["zone"])


def segments(data_dir: Path) -> list[str]:
    folder = data_dir / JOURNAL_FOLDER
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_check_in_costs_one_document_write(bot: Bot, folder: Path) -> None:
    bot.service.hold_hints()
    claims = bot.claim_all(DUE)

    assert sorted(c.user_id for c in claims) == sorted(USERS)
    assert sorted(bot.files.puts) == sorted(USERS)  # one write each
    for claim in claims:
        assert claim.replies, "the reminder is composed in the claim's write"
        stored = raw(folder, claim.user_id)
        assert stored["reminder"]["sending"]["week"] == claim.week
        assert stored["pending_checkin"]["week"] == claim.week  # the dialogue asks it already

    bot.service.confirm_many([Delivered(claim, 41) for claim in claims])
    bot.service.release_hints()

    assert len(bot.files.puts) == len(USERS), "the confirm writes no document"
    for user_id in USERS:
        stored = bot.sent.get(user_id)
        assert stored is not None
        assert stored["reminder"]["sending"] is None
        assert week_of(stored) in stored["reminder"]["sent_weeks"]
        assert stored["live_message"] == 41
        assert raw(folder, user_id)["reminder"]["sending"] is not None  # not written yet
    assert bot.service.due_users(DUE + timedelta(hours=1)) == []


def test_the_next_write_takes_the_record_along_and_the_segment_goes(
    bot: Bot, folder: Path
) -> None:
    bot.service.hold_hints()
    claims = bot.claim_all(DUE)
    bot.service.confirm_many([Delivered(claim, claim.live_message) for claim in claims])
    bot.service.release_hints()
    [segment] = segments(folder)

    for user_id in USERS:  # each user asks something: their own write carries the record
        bot.engine.handle(user_id, Command("help"))

    for user_id in USERS:
        stored = raw(folder, user_id)
        assert stored["reminder"]["sending"] is None
        assert week_of(stored) in stored["reminder"]["sent_weeks"]
    assert bot.sent.pending_users() == []
    bot.sent.remove_settled_segments()
    assert segment not in segments(folder)


def test_sent_records_survive_a_restart_and_are_compacted_after_an_hour(
    bot: Bot, folder: Path, content: Content
) -> None:
    claims = bot.claim_all(DUE)
    bot.service.confirm_many([Delivered(claim, claim.live_message) for claim in claims])
    bot.close()  # a crash right after the journal append: no document has it yet

    clock = Clock(DUE + timedelta(minutes=1))
    again = Bot(folder, content, clock)
    try:
        assert again.claim_all(clock.now) == []  # nothing is sent twice
        assert all(raw(folder, u)["reminder"]["sending"] is not None for u in USERS)

        assert again.service.compact_sent(clock.now) == 0  # the hour starts now
        assert again.files.puts == []
        clock.now += timedelta(hours=1)
        assert again.service.compact_sent(clock.now) == 0

        assert sorted(again.files.puts) == sorted(USERS)
        for user_id in USERS:
            stored = raw(folder, user_id)
            assert stored["reminder"]["sending"] is None
            assert week_of(stored) in stored["reminder"]["sent_weeks"]
        assert segments(folder) == []
    finally:
        again.close()


def test_a_crash_before_the_record_sends_once_more(
    bot: Bot, folder: Path, content: Content
) -> None:
    claims = bot.claim_all(DUE)
    bot.service.confirm_many([Delivered(claims[0], claims[0].live_message)])
    bot.close()  # the other two went out, their records never made it

    clock = Clock(DUE + timedelta(minutes=1))
    again = Bot(folder, content, clock)
    try:
        resent = again.claim_all(clock.now)
        assert sorted(c.user_id for c in resent) == sorted(c.user_id for c in claims[1:])
        assert all(c.resend and c.replies for c in resent)
        again.service.confirm_many([Delivered(c, c.live_message) for c in resent])
        assert again.claim_all(clock.now + timedelta(minutes=1)) == []
    finally:
        again.close()


def test_wrong_journal_lines_leave_the_claim_pending_and_it_is_sent_once_more(
    bot: Bot, folder: Path, content: Content
) -> None:
    claims = bot.claim_all(DUE)
    first = claims[0]
    bot.close()
    (folder / JOURNAL_FOLDER).mkdir(exist_ok=True)
    wrong = [
        {"user": first.user_id},  # valid JSON, but no record
        {"user": first.user_id, "week": 48, "kind": "checkin", "claimed_at": "x"},
        {"user": first.user_id, "week": first.week, "kind": "nope", "claimed_at": "2026-11-23"},
        {**SentRecord(first.user_id, first.week, Kind.CHECKIN, DUE).to_json(), "live": [1]},
    ]
    lines = "".join(json.dumps(line) + "\n" for line in wrong)
    (folder / JOURNAL_FOLDER / "00000001.jsonl").write_text(lines)

    again = Bot(folder, content, Clock(DUE + timedelta(minutes=1)))
    try:
        resent = again.claim_all(DUE + timedelta(minutes=1))
        assert sorted(c.user_id for c in resent) == sorted(c.user_id for c in claims)
        assert all(c.resend for c in resent)
    finally:
        again.close()


def test_a_record_never_confirms_a_later_claim_of_the_same_week(bot: Bot, folder: Path) -> None:
    [claim, *_] = bot.claim_all(DUE)
    document = bot.sent.get(claim.user_id)
    assert claim.claimed_at is not None
    earlier = SentRecord(claim.user_id, claim.week, claim.kind, claim.claimed_at - timedelta(1))
    other_kind = SentRecord(claim.user_id, claim.week, Kind.FOLLOWUP, claim.claimed_at)
    mine = SentRecord(claim.user_id, claim.week, claim.kind, claim.claimed_at)

    assert apply_sent(document, earlier) is None  # a snoozed week is claimed again
    assert apply_sent(document, other_kind) is None
    applied = apply_sent(document, mine)
    assert applied is not None and applied["reminder"]["sending"] is None
    assert apply_sent(applied, mine) is None  # applying twice changes nothing


def test_the_live_message_moves_only_from_the_one_the_claim_saw(bot: Bot) -> None:
    [claim, *_] = bot.claim_all(DUE)
    assert claim.claimed_at is not None
    document = bot.sent.get(claim.user_id)
    assert document is not None
    moved = SentRecord(claim.user_id, claim.week, claim.kind, claim.claimed_at, live=(None, 7))

    assert apply_sent({**document, "live_message": None}, moved)["live_message"] == 7  # type: ignore[index]
    # A step between the send and the record showed a newer question: it stays live.
    assert apply_sent({**document, "live_message": 9}, moved)["live_message"] == 9  # type: ignore[index]


def test_a_reader_outside_the_bot_sees_the_journalled_check_in(bot: Bot, folder: Path) -> None:
    [claim, *_] = bot.claim_all(DUE)
    bot.service.confirm_many([Delivered(claim, claim.live_message)])

    seen = as_recorded(folder, claim.user_id, raw(folder, claim.user_id))
    assert seen is not None
    assert seen["reminder"]["sending"] is None
    assert claim.week in seen["reminder"]["sent_weeks"]


def test_nothing_to_ask_is_settled_in_the_claims_own_write(bot: Bot, folder: Path) -> None:
    user_id = USERS[0]
    document = bot.sent.get(user_id)
    assert document is not None
    bot.sent.put(user_id, {**document, "plan": None})  # no plan any more
    bot.files.puts.clear()

    claims = bot.claim_all(DUE)

    assert user_id not in {c.user_id for c in claims}
    assert bot.files.puts.count(user_id) == 1
    stored = raw(folder, user_id)
    assert stored["reminder"]["sending"] is None
    assert week_of(stored) in stored["reminder"]["sent_weeks"]


def test_deleting_a_user_leaves_no_journal_line_naming_them(bot: Bot, folder: Path) -> None:
    claims = bot.claim_all(DUE)
    bot.service.confirm_many([Delivered(claim, claim.live_message) for claim in claims])
    gone, *others = (claim.user_id for claim in claims)

    bot.sent.delete(gone)

    journal = b"".join(p.read_bytes() for p in (folder / JOURNAL_FOLDER).iterdir())
    assert gone.encode() not in journal
    assert all(user_id.encode() in journal for user_id in others)
    assert set(bot.sent.pending_users()) == set(others)
