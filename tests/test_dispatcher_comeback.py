"""Never miss twice through the Dispatcher: injected clock, real zoneinfo and files.

A user who stops answering gets one follow-up for the lapse, no follow-up for the second week
in a row, then no weekly nag but exactly one comeback offer on a fresh start (the next Monday
at their check-in time, or a month's first check-in), and after it their check-ins again; never
twice across a crash and restarts.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialogue_driver import Chat, plain
from test_dispatcher import Clock, FakeSender
from test_dispatcher_followup import DAY, MINUTE, kinds, make_service, run

from bot.core.checkin_claims import Claim
from bot.core.content import Content
from bot.core.due_kinds import Kind
from bot.core.engine import DialogueEngine
from bot.core.schedule import WeeklySlot, next_occurrence
from bot.dispatcher import Dispatcher, SendResult
from storage import TinyDBUserRepository

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
WEEK = timedelta(weeks=1)


def local(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def write_user(
    repo: TinyDBUserRepository,
    user_id: str,
    *,
    zone: str,
    weekday: int,
    after: datetime,
    answered: tuple[str, ...] = (),
    **reminder: Any,
) -> datetime:
    """A user with a plan whose 09:00 check-in is next due after ``after``; returns that instant."""
    due = next_occurrence(WeeklySlot(weekday, time(9), zone), after)
    repo.put(
        user_id,
        {
            "user_id": user_id,
            "lang": "de",
            "active": True,
            "plan": {"kept": []},  # only that there is one: the sender is faked here
            "checkins": [{"week": week} for week in answered],
            "reminder": {
                "weekday": weekday,
                "time": "09:00",
                "zone": zone,
                "next_due": due.isoformat(),
                "sent_weeks": [],
                "missed_weeks": [],
                **reminder,
            },
        },
    )
    return due


def reminder_of(repo: TinyDBUserRepository, user_id: str) -> dict[str, Any]:
    document = repo.get(user_id)
    assert document is not None
    return dict(document["reminder"])


async def test_a_silent_user_gets_one_follow_up_then_one_comeback_on_monday(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    start = local(BERLIN, 2026, 11, 22, 12)
    write_user(repo, "a", zone=BERLIN, weekday=0, after=start, answered=("2026-W47",))
    clock = Clock(start)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, local(BERLIN, 2027, 1, 12, 12), 15 * MINUTE)

    assert kinds(sent) == [
        (local(BERLIN, 2026, 11, 23, 9), Kind.CHECKIN, "2026-W48"),
        (local(BERLIN, 2026, 11, 24, 9), Kind.FOLLOWUP, "2026-W48"),  # the lapse's only one
        (local(BERLIN, 2026, 11, 30, 9), Kind.CHECKIN, "2026-W49"),  # softer: one week missed
        # Two missed in a row: no check-in for W50, the comeback instead (a Monday).
        (local(BERLIN, 2026, 12, 7, 9), Kind.COMEBACK, "2026-W50"),
        # Then regular check-ins again, without follow-ups while the lapse lasts.
        (local(BERLIN, 2026, 12, 14, 9), Kind.CHECKIN, "2026-W51"),
        (local(BERLIN, 2026, 12, 21, 9), Kind.CHECKIN, "2026-W52"),
        (local(BERLIN, 2026, 12, 28, 9), Kind.CHECKIN, "2026-W53"),
        (local(BERLIN, 2027, 1, 4, 9), Kind.CHECKIN, "2027-W01"),
        (local(BERLIN, 2027, 1, 11, 9), Kind.CHECKIN, "2027-W02"),
    ]
    stored = reminder_of(repo, "a")
    assert stored["comeback_offered"] == "2026-W50"
    assert "2026-W50" not in stored["sent_weeks"] + stored["missed_weeks"]  # held, not missed


async def test_across_the_end_of_summer_time_in_new_york_the_offer_keeps_the_wall_clock(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    start = local(NEW_YORK, 2026, 10, 14, 12)  # a Wednesday; Thursday check-ins
    write_user(repo, "ny", zone=NEW_YORK, weekday=3, after=start, answered=("2026-W41",))
    clock = Clock(start)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, local(NEW_YORK, 2026, 11, 6, 12), 15 * MINUTE)

    assert kinds(sent) == [
        (local(NEW_YORK, 2026, 10, 15, 9), Kind.CHECKIN, "2026-W42"),
        (local(NEW_YORK, 2026, 10, 16, 9), Kind.FOLLOWUP, "2026-W42"),
        (local(NEW_YORK, 2026, 10, 22, 9), Kind.CHECKIN, "2026-W43"),
        # The W44 check-in (29 Oct) is held; the offer comes on Monday 2 November, 09:00 EST
        # (14:00 UTC, an hour later than 09:00 EDT the week before).
        (local(NEW_YORK, 2026, 11, 2, 9), Kind.COMEBACK, "2026-W45"),
        (local(NEW_YORK, 2026, 11, 5, 9), Kind.CHECKIN, "2026-W45"),
    ]
    assert local(NEW_YORK, 2026, 11, 2, 9) == datetime(2026, 11, 2, 14, tzinfo=UTC)


async def test_a_months_first_check_in_is_the_fresh_start_when_it_comes_before_monday(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    start = local(BERLIN, 2026, 9, 16, 12)  # Thursday check-ins; 1 October is a Thursday
    write_user(repo, "a", zone=BERLIN, weekday=3, after=start, answered=("2026-W37",))
    clock = Clock(start)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, local(BERLIN, 2026, 10, 9, 12), 15 * MINUTE)

    assert kinds(sent) == [
        (local(BERLIN, 2026, 9, 17, 9), Kind.CHECKIN, "2026-W38"),
        (local(BERLIN, 2026, 9, 18, 9), Kind.FOLLOWUP, "2026-W38"),
        (local(BERLIN, 2026, 9, 24, 9), Kind.CHECKIN, "2026-W39"),
        (local(BERLIN, 2026, 10, 1, 9), Kind.COMEBACK, "2026-W40"),  # in place of the check-in
        (local(BERLIN, 2026, 10, 8, 9), Kind.CHECKIN, "2026-W41"),
    ]


async def test_an_answer_ends_the_lapse_and_a_new_one_gets_its_own_follow_up_and_offer(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    start = local(BERLIN, 2026, 11, 22, 12)
    write_user(repo, "a", zone=BERLIN, weekday=0, after=start, answered=("2026-W47",))
    clock = Clock(start)
    service = make_service(repo, data_dir, clock)
    send = FakeSender()
    dispatcher = Dispatcher(service, send, clock=clock)
    first = await run(dispatcher, send, clock, local(BERLIN, 2026, 12, 15, 12), 15 * MINUTE)
    assert [kind for _, kind, _ in kinds(first)].count(Kind.COMEBACK) == 1
    document = repo.get("a")
    assert document is not None
    document["checkins"].append({"week": "2026-W51"})  # back: the W51 check-in is answered
    repo.put("a", document)
    service.reschedule("a")

    later = await run(dispatcher, send, clock, local(BERLIN, 2027, 1, 12, 12), 15 * MINUTE)

    assert kinds(later) == [
        (local(BERLIN, 2026, 12, 21, 9), Kind.CHECKIN, "2026-W52"),
        (local(BERLIN, 2026, 12, 22, 9), Kind.FOLLOWUP, "2026-W52"),
        (local(BERLIN, 2026, 12, 28, 9), Kind.CHECKIN, "2026-W53"),
        (local(BERLIN, 2027, 1, 4, 9), Kind.COMEBACK, "2027-W01"),
        (local(BERLIN, 2027, 1, 11, 9), Kind.CHECKIN, "2027-W02"),
    ]


async def test_a_pause_holds_the_offer_until_the_first_fresh_start_after_it(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    start = local(BERLIN, 2026, 11, 22, 12)
    write_user(repo, "a", zone=BERLIN, weekday=0, after=start, answered=("2026-W47",))
    clock = Clock(start)
    service = make_service(repo, data_dir, clock)
    send = FakeSender()
    dispatcher = Dispatcher(service, send, clock=clock)
    before = await run(dispatcher, send, clock, local(BERLIN, 2026, 12, 1, 12), 15 * MINUTE)
    assert [week for _, kind, week in kinds(before) if kind is Kind.CHECKIN] == [
        "2026-W48",
        "2026-W49",
    ]
    document = repo.get("a")
    assert document is not None
    document["reminder"]["paused_until"] = "2026-12-16"  # a holiday until that Wednesday
    repo.put("a", document)
    service.reschedule("a")

    sent = await run(dispatcher, send, clock, local(BERLIN, 2026, 12, 29, 12), 15 * MINUTE)

    assert kinds(sent) == [
        (local(BERLIN, 2026, 12, 21, 9), Kind.COMEBACK, "2026-W52"),  # the Monday after it
        (local(BERLIN, 2026, 12, 28, 9), Kind.CHECKIN, "2026-W53"),
    ]


async def test_the_comeback_is_sent_exactly_once_across_a_crash_and_restarts(
    data_dir: Path,
) -> None:
    offer_at = local(BERLIN, 2026, 12, 7, 9)
    with TinyDBUserRepository(data_dir) as first_repo:
        write_user(
            first_repo,
            "a",
            zone=BERLIN,
            weekday=0,
            after=offer_at - timedelta(minutes=1),
            answered=("2026-W47",),
            sent_weeks=["2026-W48", "2026-W49"],
        )
        clock = Clock(offer_at)
        first = make_service(first_repo, data_dir, clock)
        due = list(first.due_users(offer_at))
        claim = first.claim(due[0], offer_at)
        assert claim is not None and claim.kind is Kind.COMEBACK
        del first  # crash after the claim was written, before it was confirmed

    sent_total: list[Any] = []
    for restart in range(3):
        with TinyDBUserRepository(data_dir) as again:
            clock.now = offer_at + (restart + 1) * 5 * MINUTE
            send = FakeSender()
            dispatcher = Dispatcher(make_service(again, data_dir, clock), send, clock=clock)
            sent_total += kinds(await run(dispatcher, send, clock, clock.now + DAY, 30 * MINUTE))
            stored = reminder_of(again, "a")
            assert stored["sending"] is None
            assert stored["comeback_offered"] == "2026-W50"
    # Re-sent once by the first restart (the crash left it unconfirmed), never again after.
    assert [(kind, week) for _, kind, week in sent_total] == [(Kind.COMEBACK, "2026-W50")]
    # And the next Monday the regular check-in is back.
    with TinyDBUserRepository(data_dir) as last:
        clock.now = offer_at + WEEK - MINUTE
        send = FakeSender()
        dispatcher = Dispatcher(make_service(last, data_dir, clock), send, clock=clock)
        after = kinds(await run(dispatcher, send, clock, offer_at + WEEK + MINUTE, MINUTE))
    assert after == [(offer_at + WEEK, Kind.CHECKIN, "2026-W51")]


def onboard_de(chat: Chat) -> None:
    """The onboarding of a B2B consultant with six hours (two channels kept)."""
    chat.send("/start")
    chat.press("continue", "linkedin", "xing", "tiktok", "done")
    chat.send("6")
    chat.press("b2b_dach", "done", "leads", "done", "alone", "tiktok")


class EngineSender:
    """Sends through the real engine, as the Telegram sender does; keeps what the user reads."""

    def __init__(self, engine: DialogueEngine) -> None:
        self.engine = engine
        self.calls: list[Claim] = []
        self.texts: list[str] = []

    async def __call__(self, claim: Claim) -> SendResult:
        replies = self.engine.checkin_reminder(
            claim.user_id,
            week=claim.week,
            late=claim.late,
            missed_weeks=claim.missed_weeks,
            snooze=claim.snooze,
            kind=claim.kind,
        )
        self.calls.append(claim)
        self.texts.append("\n".join(plain(reply.text) for reply in replies))
        return SendResult.SENT


async def test_what_a_silent_user_reads_softer_once_then_one_comeback(
    repo: TinyDBUserRepository, data_dir: Path, content: Content
) -> None:
    clock = Clock(local(BERLIN, 2026, 11, 20, 12))
    service = make_service(repo, data_dir, clock)
    engine = DialogueEngine(content, repo, clock=clock, reminders=service)
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan", "setup_checkin", "mon")
    chat.send("9:00")
    chat.send("Berlin")
    chat.send("/checkin")  # W47 answered
    chat.press(*[k["channel"] for k in repo.get("anna")["plan"]["kept"]], "done")  # type: ignore[index]
    chat.send("2")
    chat.press("none", "e4", "skip")
    send = EngineSender(engine)
    dispatcher = Dispatcher(service, send, clock=clock)  # type: ignore[arg-type]

    sent = await run(dispatcher, send, clock, local(BERLIN, 2026, 12, 15, 12), 15 * MINUTE)  # type: ignore[arg-type]

    assert [kind for _, kind, _ in kinds(sent)] == [
        Kind.CHECKIN,
        Kind.FOLLOWUP,
        Kind.CHECKIN,
        Kind.COMEBACK,
        Kind.CHECKIN,
    ]
    first, follow_up, softer, comeback, after = send.texts
    assert "Zeit für deinen Fokus-Check-in (KW 48)" in first
    assert "Ich frage nicht noch einmal" in follow_up
    assert "Neue Woche, neues Kapitel (KW 49)" in softer
    assert "Ein neues Kapitel" in comeback and "Minimalwoche: nur LinkedIn" in comeback
    assert "Zeit für deinen Fokus-Check-in (KW 51)" in after


async def test_a_late_evening_check_in_gets_its_comeback_on_the_monday_morning(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    # A Thursday 22:30 check-in lies in the default quiet hours (21:00-08:00). The fresh start
    # is Monday at 22:30, in them too: the offer comes that Monday morning at their end, not
    # on the Tuesday (a Monday's fresh start must stay a Monday).
    start = local(BERLIN, 2026, 11, 22, 12)
    due = next_occurrence(WeeklySlot(3, time(22, 30), BERLIN), start)
    write_user(
        repo,
        "late",
        zone=BERLIN,
        weekday=3,
        after=start,
        answered=("2026-W47",),
        time="22:30",
        next_due=due.isoformat(),
    )
    clock = Clock(start)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, local(BERLIN, 2026, 12, 31, 12), 15 * MINUTE)

    [comeback] = [at for at, kind, _ in kinds(sent) if kind is Kind.COMEBACK]
    assert comeback == local(BERLIN, 2026, 12, 14, 8)  # Monday, the end of the quiet hours
    checkins = [at for at, kind, _ in kinds(sent) if kind is Kind.CHECKIN]
    assert all(at.astimezone(ZoneInfo(BERLIN)).time() == time(22, 30) for at in checkins)
