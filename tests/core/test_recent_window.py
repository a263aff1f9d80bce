"""The check-in's claim reads a year-old user without their older check-ins: nothing it says changes.

The file store keeps a user's older check-ins aside (``storage.history_archive``) and the claim
and confirm of ``ReminderService`` read the document without them (``get_recent``). Everything
they work out from the check-ins (answered weeks, the lapse, this quarter's jokers, the late
window, the count) must come out the same from the newest ``WINDOW`` records as from all of
them. Proved on many generated year-old users (``bench.datagen``): every kind of reminder
composed from both documents, and a month of ticks claimed from both stores, compared byte for
byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.datagen import DocumentFactory, user_ids
from bot.core.checkin_claims import Claim, ReminderService
from bot.core.checkin_schedule import REMINDER, Reminder
from bot.core.content import Content
from bot.core.document_schema import USER_DOCUMENTS
from bot.core.due_kinds import Kind
from bot.core.engine import DialogueEngine
from bot.core.exits import EXITS, Exit, Heartbeat, Mode
from bot.core.schedule import local_week_key
from storage import ScheduleIndex, TinyDBUserRepository
from storage.history_archive import ARCHIVE_KEY, WINDOW

ANCHOR = datetime(2026, 12, 4, 12, tzinfo=UTC)
USERS = 120
TICKS_USERS = 30


class WholeDocuments:
    """The file store as the claim saw it before: ``get`` only, so whole documents."""

    def __init__(self, inner: TinyDBUserRepository) -> None:
        self.inner = inner

    def get(self, user_id: str) -> dict[str, Any] | None:
        return self.inner.get(user_id)

    def put(self, user_id: str, document: dict[str, Any]) -> None:
        self.inner.put(user_id, document)

    def delete(self, user_id: str) -> bool:
        return self.inner.delete(user_id)

    def user_ids(self) -> Iterator[str]:
        return self.inner.user_ids()

    def close(self) -> None:
        self.inner.close()


def varied(document: dict[str, Any], number: int) -> dict[str, Any]:
    """A generated user given what makes each kind of reminder due now and then."""
    document = json.loads(json.dumps(document))
    reminder = document[REMINDER]
    if number % 3 == 0:
        # Quiet for a while: the last check-ins unanswered, their weeks sent (a lapse).
        gone = document["checkins"][-(number % 4 + 1) :]
        document["checkins"] = document["checkins"][: -(number % 4 + 1)]
        reminder["sent_weeks"] = sorted({*reminder["sent_weeks"], *(r["week"] for r in gone)})
    if number % 4 == 1:
        reminder["review_offered"] = None  # a year-old plan: its review is due
    if number % 5 == 2:
        dropped = [entry["channel"] for entry in document["plan"]["dropped"]]
        if dropped:
            since = ANCHOR - timedelta(days=20 + number % 9)
            left = Exit(
                dropped[0],
                Mode.QUIET,
                since.date() - timedelta(days=30),
                finished_at=since,
                heartbeat=Heartbeat(since, 30, 7),
            )
            document[EXITS] = {dropped[0]: left.to_document()}
    if number % 7 == 3:
        document["quiet_hours"] = {"start": "21:00", "end": "08:00", "on": True}
    return document


@pytest.fixture(scope="module")
def users(content: Content) -> dict[str, dict[str, Any]]:
    factory = DocumentFactory(content)
    found = {}
    for number, user_id in enumerate(user_ids(USERS)):
        anchor = ANCHOR - timedelta(hours=7 * number)
        found[user_id] = varied(factory.document(user_id, anchor), number)
    assert all(len(doc["checkins"]) > 2 * WINDOW for doc in found.values())
    return found


@pytest.fixture(scope="module")
def stored(
    users: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each user's document as ``get`` and as ``get_recent`` read it from the file store."""
    data_dir = tmp_path_factory.mktemp("window")
    read = {}
    with TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS) as repo:
        for user_id, document in users.items():
            repo.put(user_id, document)
            whole, recent = repo.get(user_id), repo.get_recent(user_id)
            assert whole is not None and recent is not None
            read[user_id] = (whole, recent)
    return read


def rejoined(recent: dict[str, Any], whole: dict[str, Any]) -> dict[str, Any]:
    """A document composed from ``recent``, with the older check-ins of ``whole`` put back."""
    marker = recent.get(ARCHIVE_KEY)
    assert marker is not None
    joined = {key: value for key, value in recent.items() if key != ARCHIVE_KEY}
    older = whole["checkins"][: marker["count"]]
    joined["checkins"] = older + recent["checkins"]
    return joined


def attempt(engine: DialogueEngine, document: dict[str, Any], **asked: Any) -> Any:
    try:
        return engine.compose_reminder(json.loads(json.dumps(document)), **asked)
    except Exception as error:  # the same failure from both is the same outcome
        return f"{type(error).__name__}: {error}"


def test_the_stored_users_keep_a_window_and_name_the_rest(
    stored: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    users: dict[str, dict[str, Any]],
) -> None:
    for user_id, (whole, recent) in stored.items():
        assert whole == {**users[user_id], "schema": 1}
        assert WINDOW <= len(recent["checkins"]) <= 2 * WINDOW
        assert recent[ARCHIVE_KEY]["count"] + len(recent["checkins"]) == len(whole["checkins"])


@pytest.mark.parametrize("kind", list(Kind))
def test_every_reminder_is_composed_alike_from_the_window_and_from_the_whole_history(
    kind: Kind, content: Content, stored: dict[str, tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    composed = 0
    for number, (read_whole, read_recent) in enumerate(stored.values()):
        whole, recent = read_whole, read_recent
        reminder = Reminder.from_dict(whole[REMINDER])
        now = ANCHOR + timedelta(hours=5 * number)
        engine = DialogueEngine(
            content, WholeDocuments.__new__(WholeDocuments), clock=lambda at=now: at
        )
        if kind is Kind.HEARTBEAT:
            # Composed for the channel its claim names, as the claim's write stores it.
            channels = list(whole.get(EXITS) or {})
            if not channels:
                continue
            beat = {"channel": channels[0], "previous": None}
            whole, recent = (
                {**doc, REMINDER: {**doc[REMINDER], "heartbeat_claim": beat}}
                for doc in (read_whole, read_recent)
            )
        for late in (False, True):
            week = local_week_key(now - timedelta(days=7 * late), reminder.zone)
            asked = {
                "week": week,
                "late": late,
                "missed_weeks": tuple(reminder.sent_weeks[-2:]) if late else (),
                "snooze": number % 6 == 5,
                "kind": kind,
            }
            from_whole = attempt(engine, whole, **asked)
            from_recent = attempt(engine, recent, **asked)
            if isinstance(from_whole, str) or isinstance(from_recent, str):
                assert from_whole == from_recent
                continue
            (document_whole, replies_whole), (document_recent, replies_recent) = (
                from_whole,
                from_recent,
            )
            assert replies_recent == replies_whole
            assert [r.text for r in replies_recent] == [r.text for r in replies_whole]
            assert rejoined(document_recent, whole) == document_whole
            composed += bool(replies_whole)
    assert composed > 0


def test_a_month_of_ticks_claims_and_composes_alike_from_both_stores(
    content: Content, users: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    chosen = dict(list(users.items())[:TICKS_USERS])
    now = [ANCHOR]

    def clock() -> datetime:
        return now[0]

    services: list[tuple[ReminderService, TinyDBUserRepository]] = []
    for name in ("whole", "window"):
        data_dir = tmp_path / name
        repo = TinyDBUserRepository(data_dir, migrator=USER_DOCUMENTS)
        for user_id, document in chosen.items():
            repo.put(user_id, document)
        seen = WholeDocuments(repo) if name == "whole" else repo
        service = ReminderService(seen, ScheduleIndex(data_dir), clock=clock)
        engine = DialogueEngine(content, seen, clock=clock, reminders=service)
        service.compose_with(engine.compose_reminder)
        service.load()
        services.append((service, repo))
    kinds: set[Kind] = set()
    try:
        while now[0] < ANCHOR + timedelta(days=35):
            outcomes: list[list[tuple[Claim | None, Any]]] = []
            for service, _ in services:
                due = sorted(service.due_users(now[0]))
                claims = [service.claim(user_id, now[0]) for user_id in due]
                for claim in claims:
                    if claim is not None:
                        service.confirm(claim)
                outcomes.append([(claim, claim and claim.replies) for claim in claims])
            assert outcomes[1] == outcomes[0], now[0]
            kinds |= {claim.kind for claim, _ in outcomes[0] if claim is not None}
            now[0] += timedelta(hours=3)
        for user_id in chosen:
            assert services[1][1].get(user_id) == services[0][1].get(user_id)
    finally:
        for _, repo in services:
            repo.close()
    # A month of silence brings check-ins, follow-ups, comebacks, reviews and heartbeats.
    assert kinds == set(Kind), kinds


def test_the_count_of_check_ins_includes_the_ones_kept_aside(
    content: Content, stored: dict[str, tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    from bot.core.question_view import UserContext
    from bot.core.state import UserState

    for whole, recent in stored.values():
        counts = [
            UserContext(content, UserState.from_document(doc), ANCHOR)["checkins_count"]
            for doc in (whole, recent)
        ]
        assert counts == [len(whole["checkins"])] * 2
