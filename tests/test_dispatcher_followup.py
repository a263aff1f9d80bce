"""The follow-up and quiet hours through the Dispatcher: injected clock, real zoneinfo, real files.

A restart is a new ReminderService (and repository) on the same folder; a crash is a claim that
was never confirmed. Quiet hours are the default 21:00-08:00 unless a test sets others.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_dispatcher import Clock, FakeSender

from bot.core.checkin_claims import Claim, ReminderService
from bot.core.due_kinds import Kind
from bot.core.schedule import WeeklySlot, next_occurrence
from bot.dispatcher import Dispatcher, SendResult
from storage import ScheduleIndex, TinyDBUserRepository

BERLIN = "Europe/Berlin"
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Berlin wall-clock time as a UTC instant (real zoneinfo, first pass of a repeated hour)."""
    local = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN))
    return local.astimezone(UTC)


def write_user(
    repo: TinyDBUserRepository,
    user_id: str,
    *,
    weekday: int,
    at: str,
    after: datetime,
    quiet: dict[str, Any] | None = None,
    **reminder: Any,
) -> datetime:
    """A user whose weekly check-in (Berlin) is next due after ``after``; returns that instant."""
    due = next_occurrence(WeeklySlot(weekday, time.fromisoformat(at), BERLIN), after)
    document: dict[str, Any] = {
        "user_id": user_id,
        "lang": "de",
        "active": True,
        "reminder": {
            "weekday": weekday,
            "time": at,
            "zone": BERLIN,
            "next_due": due.isoformat(),
            "sent_weeks": [],
            "missed_weeks": [],
            **reminder,
        },
    }
    if quiet is not None:
        document["quiet_hours"] = quiet
    repo.put(user_id, document)
    return due


def edit(repo: TinyDBUserRepository, user_id: str, **changes: Any) -> None:
    """Change the document as the dialogue would (top-level keys; ``reminder`` is merged)."""
    document = repo.get(user_id)
    assert document is not None
    document["reminder"].update(changes.pop("reminder", {}))
    document.update(changes)
    repo.put(user_id, document)


def make_service(repo: TinyDBUserRepository, data_dir: Path, clock: Clock) -> ReminderService:
    service = ReminderService(repo, ScheduleIndex(data_dir), clock=clock)
    service.load()
    return service


async def run(
    dispatcher: Dispatcher, send: FakeSender, clock: Clock, until: datetime, step: timedelta
) -> list[tuple[datetime, Claim]]:
    """Tick every ``step`` from the clock's time up to ``until``; what was sent, and when."""
    seen = len(send.calls)
    sent: list[tuple[datetime, Claim]] = []
    while clock.now <= until:
        await dispatcher.tick()
        sent += [(clock.now, claim) for claim in send.calls[seen:]]
        seen = len(send.calls)
        clock.now += step
    return sent


def kinds(sent: list[tuple[datetime, Claim]]) -> list[tuple[datetime, Kind, str]]:
    return [(at, claim.kind, claim.week) for at, claim in sent]


# ---- the follow-up ---------------------------------------------------------------------------
async def test_an_unanswered_check_in_gets_one_follow_up_the_next_day(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    due = write_user(repo, "a", weekday=0, at="09:00", after=berlin(2026, 11, 22, 12))
    clock = Clock(due)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, due + 8 * DAY, 15 * MINUTE)

    assert kinds(sent) == [
        (berlin(2026, 11, 23, 9), Kind.CHECKIN, "2026-W48"),
        (berlin(2026, 11, 24, 9), Kind.FOLLOWUP, "2026-W48"),  # the next day, same time
        (berlin(2026, 11, 30, 9), Kind.CHECKIN, "2026-W49"),
        # W48 is missed now: W49 is the second unanswered week in a row, and a lapse gets
        # one follow-up only (never miss twice, domain.md 4.4 and 4.6).
    ]
    assert [claim.late for _, claim in sent] == [False] * 3


@pytest.mark.parametrize(
    "change",
    [
        {"checkins": [{"week": "2026-W48", "hours": 2.0}]},  # answered
        {"reminder": {"skipped_week": "2026-W48"}},
        {"reminder": {"paused_until": "2026-11-30"}},  # a holiday from Tuesday on
        {"active": False},  # blocked the bot
    ],
    ids=["answered", "skipped", "paused", "blocked"],
)
async def test_no_follow_up_once_answered_skipped_paused_or_blocked(
    repo: TinyDBUserRepository, data_dir: Path, change: dict[str, Any]
) -> None:
    due = write_user(repo, "a", weekday=0, at="09:00", after=berlin(2026, 11, 22, 12))
    clock = Clock(due)
    send = FakeSender()
    service = make_service(repo, data_dir, clock)
    dispatcher = Dispatcher(service, send, clock=clock)
    await run(dispatcher, send, clock, due, MINUTE)  # the check-in goes out

    clock.now = due + 3 * 60 * MINUTE  # the user does something about it at noon
    edit(repo, "a", **change)
    service.reschedule("a")
    sent = await run(dispatcher, send, clock, due + 6 * DAY, 15 * MINUTE)

    assert kinds(sent) == []
    assert [claim.kind for claim in send.calls] == [Kind.CHECKIN]


async def test_the_follow_up_survives_a_crash_and_restarts_exactly_once(data_dir: Path) -> None:
    first_repo = TinyDBUserRepository(data_dir)
    due = write_user(first_repo, "a", weekday=0, at="09:00", after=berlin(2026, 11, 22, 12))
    clock = Clock(due)
    first = make_service(first_repo, data_dir, clock)
    send = FakeSender()
    await run(Dispatcher(first, send, clock=clock), send, clock, due, MINUTE)
    followup = due + DAY
    clock.now = followup
    [user] = first.due_users(followup)
    claim = first.claim(user, followup)
    assert claim is not None and claim.kind is Kind.FOLLOWUP
    # Crash after the claim was written: no confirm. The folder lock goes with the process.
    del first
    first_repo.close()

    for restart in range(3):
        with TinyDBUserRepository(data_dir) as repo:
            clock.now = followup + (restart + 1) * 5 * MINUTE
            again = FakeSender()
            dispatcher = Dispatcher(make_service(repo, data_dir, clock), again, clock=clock)
            sent = await run(dispatcher, again, clock, clock.now + 2 * DAY, 30 * MINUTE)
            expected = [(Kind.FOLLOWUP, "2026-W48", True)] if restart == 0 else []
            assert [(c.kind, c.week, c.resend) for _, c in sent] == expected
            document = repo.get("a")
            assert document is not None
            block = document["reminder"]
            assert (block["sending"], block["followup_due"]) == (None, None)


async def test_a_follow_up_whose_send_failed_is_tried_again_not_dropped(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    due = write_user(repo, "a", weekday=0, at="09:00", after=berlin(2026, 11, 22, 12))
    clock = Clock(due)
    send = FakeSender([SendResult.SENT, SendResult.FAILED])
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, due + 2 * DAY, MINUTE)

    assert [(at - due, claim.kind) for at, claim in sent] == [
        (timedelta(0), Kind.CHECKIN),
        (DAY, Kind.FOLLOWUP),  # failed
        (DAY + MINUTE, Kind.FOLLOWUP),  # released and sent at the next tick
    ]


# ---- quiet hours -----------------------------------------------------------------------------
async def test_a_check_in_at_a_chosen_time_inside_quiet_hours_is_sent_on_time(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    due = write_user(repo, "owl", weekday=6, at="21:30", after=berlin(2026, 11, 22, 12))
    clock = Clock(due - 5 * MINUTE)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, due + 2 * DAY, 5 * MINUTE)

    assert kinds(sent) == [
        (berlin(2026, 11, 22, 21, 30), Kind.CHECKIN, "2026-W47"),
        # The next day at 21:30 is quiet: the follow-up comes that morning, when they end.
        (berlin(2026, 11, 23, 8), Kind.FOLLOWUP, "2026-W47"),
    ]


@pytest.mark.parametrize(
    ("saturday", "morning_utc"),
    [
        (date(2026, 10, 24), datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),  # clocks go back: CET
        (date(2026, 3, 28), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),  # clocks go forward: CEST
        (date(2026, 11, 21), datetime(2026, 11, 22, 7, 0, tzinfo=UTC)),  # no change
    ],
    ids=["fall-back", "spring-forward", "plain"],
)
async def test_a_snooze_into_quiet_hours_goes_out_at_their_end(
    repo: TinyDBUserRepository, data_dir: Path, saturday: date, morning_utc: datetime
) -> None:
    friday = datetime.combine(saturday - DAY, time(12), tzinfo=UTC)
    due = write_user(repo, "a", weekday=5, at="20:00", after=friday)
    clock = Clock(due)
    send = FakeSender()
    service = make_service(repo, data_dir, clock)
    dispatcher = Dispatcher(service, send, clock=clock)
    await run(dispatcher, send, clock, due, MINUTE)
    # At 22:00 the user snoozes for an hour: 23:00 is quiet (as answer_reminder stores it).
    clock.now = berlin(saturday.year, saturday.month, saturday.day, 22)
    snooze = berlin(saturday.year, saturday.month, saturday.day, 23)
    week = send.calls[0].week
    edit(repo, "a", reminder={"snoozed_until": snooze.isoformat(), "snoozed_week": week})
    service.reschedule("a")

    # Flat: the index says 08:00 local at once, so no tick in between looks at the document.
    assert ScheduleIndex(data_dir).get("a") == morning_utc
    assert service.due_users(morning_utc - MINUTE) == []
    sent = await run(dispatcher, send, clock, morning_utc + DAY, MINUTE)

    assert [(at, c.kind, c.snooze, c.late) for at, c in sent] == [
        (morning_utc, Kind.CHECKIN, True, False)
    ]
    assert morning_utc.astimezone(ZoneInfo(BERLIN)).time() == time(8, 0)


async def test_without_quiet_hours_a_snooze_comes_when_asked(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    quiet_off = {"start": "21:00", "end": "08:00", "on": False}
    due = write_user(
        repo, "a", weekday=5, at="20:00", after=berlin(2026, 11, 20, 12), quiet=quiet_off
    )
    clock = Clock(due)
    send = FakeSender()
    service = make_service(repo, data_dir, clock)
    dispatcher = Dispatcher(service, send, clock=clock)
    await run(dispatcher, send, clock, due, MINUTE)
    clock.now = berlin(2026, 11, 21, 22)
    snooze = berlin(2026, 11, 21, 23)
    edit(repo, "a", reminder={"snoozed_until": snooze.isoformat(), "snoozed_week": "2026-W47"})
    service.reschedule("a")

    sent = await run(dispatcher, send, clock, snooze + 60 * MINUTE, MINUTE)

    assert kinds(sent) == [(snooze, Kind.CHECKIN, "2026-W47")]


async def test_a_catch_up_after_downtime_waits_for_the_end_of_quiet_hours(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    # Monday 19:00 check-ins; the bot is down from 18:00 until 21:30 (quiet from 21:00).
    due = write_user(repo, "a", weekday=0, at="19:00", after=berlin(2026, 11, 22, 12))
    clock = Clock(berlin(2026, 11, 23, 21, 30))
    send = FakeSender()
    service = make_service(repo, data_dir, clock)
    dispatcher = Dispatcher(service, send, clock=clock)

    await dispatcher.tick()  # what the start-up catch-up does
    assert send.calls == []
    morning = berlin(2026, 11, 24, 8)
    assert ScheduleIndex(data_dir).get("a") == morning

    sent = await run(dispatcher, send, clock, morning + 2 * DAY, 5 * MINUTE)

    # 13 hours after the slot: past the 12-hour grace window on the clock, but the 10.5 quiet
    # hours it waited through do not count, so it is still sent, late, with an apology.
    assert [(at, c.kind, c.week, c.late) for at, c in sent] == [
        (morning, Kind.CHECKIN, "2026-W48", True),
        # The follow-up: the day after it went out, at the check-in's time.
        (berlin(2026, 11, 25, 19), Kind.FOLLOWUP, "2026-W48", False),
    ]
    assert due == berlin(2026, 11, 23, 19)


async def test_a_crashed_follow_up_is_not_resent_inside_quiet_hours(data_dir: Path) -> None:
    first_repo = TinyDBUserRepository(data_dir)
    due = write_user(first_repo, "a", weekday=0, at="19:00", after=berlin(2026, 11, 22, 12))
    clock = Clock(due)
    first = make_service(first_repo, data_dir, clock)
    send = FakeSender()
    await run(Dispatcher(first, send, clock=clock), send, clock, due, MINUTE)
    followup = due + DAY  # Tuesday 19:00
    assert first.claim("a", followup) is not None
    del first  # crash before the confirm
    first_repo.close()

    with TinyDBUserRepository(data_dir) as repo:
        clock.now = berlin(2026, 11, 24, 22)  # back at 22:00: quiet
        again = FakeSender()
        dispatcher = Dispatcher(make_service(repo, data_dir, clock), again, clock=clock)
        sent = await run(dispatcher, again, clock, clock.now + DAY, 10 * MINUTE)

    assert [(at, c.kind, c.resend) for at, c in sent] == [
        (berlin(2026, 11, 25, 8), Kind.FOLLOWUP, True)
    ]
