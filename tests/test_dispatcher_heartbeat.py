"""The handle heartbeat through the Dispatcher over a simulated year: injected clock, real
zoneinfo (Berlin, across both DST changes) and real files.

One more kind of message under the claim/confirm protocol: once per inactivity window of each
channel whose exit is done (TikTok 180 days, reminded 30 days ahead; X 30 days, a week ahead),
at the check-in's time of day, held back by quiet hours and pauses, never twice across a crash
and restarts, moved by a login and ended by letting the name go.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from test_dispatcher import Clock, FakeSender
from test_dispatcher_followup import DAY, MINUTE, berlin, edit, make_service, run, write_user

from bot.core.checkin_claims import Claim
from bot.core.due_kinds import Kind
from bot.dispatcher import Dispatcher
from storage import TinyDBUserRepository

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)
YEAR = timedelta(days=365)
# The exits were finished (and the handles last logged in to) on Saturday 5 December 2026.
SINCE = berlin(2026, 12, 5, 11)
RULES = {"tiktok": (180, 30), "x": (30, 7)}


def with_exits(
    store: TinyDBUserRepository,
    user_id: str,
    since: datetime = SINCE,
    channels: tuple[str, ...] = ("tiktok", "x"),
) -> None:
    """The plan drops ``channels``; each one's quiet exit is done, its heartbeat from ``since``."""
    document = store.get(user_id)
    assert document is not None
    document["plan"] = {
        "kept": [],
        "dropped": [{"channel": c, "reason": "no_audience", "sources": []} for c in channels],
    }
    document["exits"] = {
        channel: {
            "mode": "quiet",
            "started": since.astimezone(BERLIN).date().isoformat(),
            "done": ["bio_link", "auto_reply", "export"],
            "finished_at": since.isoformat(),
            "heartbeat": {
                "since": since.isoformat(),
                "days": RULES[channel][0],
                "remind_before": RULES[channel][1],
                "stopped": False,
                "asked": None,
            },
        }
        for channel in channels
    }
    store.put(user_id, document)


def heartbeats(sent: list[tuple[datetime, Claim]]) -> list[datetime]:
    return [at for at, claim in sent if claim.kind is Kind.HEARTBEAT]


def local(at: datetime) -> tuple[date, time]:
    wall = at.astimezone(BERLIN)
    return wall.date(), wall.time()


def expected(channel: str, count: int, since: datetime = SINCE) -> list[date]:
    """The local days of the first ``count`` reminders of unanswered windows from ``since``."""
    days, before = RULES[channel]
    return [
        (since + timedelta(days=days * n)).astimezone(BERLIN).date() - timedelta(days=before)
        for n in range(1, count + 1)
    ]


async def test_a_year_of_heartbeats_once_per_window_at_the_checkin_time_across_dst(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    write_user(repo, "a", weekday=4, at="09:00", after=SINCE)  # Fridays 09:00, Berlin
    with_exits(repo, "a")
    clock = Clock(SINCE)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, SINCE + YEAR, HOUR)

    got = [local(at) for at in heartbeats(sent)]
    # X: every 30 days, a week ahead (12 in a year); TikTok: every 180 days, 30 days ahead.
    days = sorted([*expected("x", 12), *expected("tiktok", 2)])
    assert [day for day, _ in got] == days
    # At 09:00 in winter and in summer time; when the check-in or its follow-up goes out at
    # 09:00 that day, right after it (one message per tick: the next tick, an hour later here).
    others = {local(at) for at, claim in sent if claim.kind is not Kind.HEARTBEAT}
    for day, wall in got:
        after_other = wall == time(10, 0) and (day, time(9, 0)) in others
        assert wall == time(9, 0) or after_other, (day, wall)
    assert sum(wall == time(9, 0) for _, wall in got) >= 10
    assert date(2027, 5, 4) in days  # TikTok's first: 180 days after 5 Dec, minus 30
    document = repo.get("a")
    assert document is not None
    offered = document["reminder"]["heartbeat_offered"]
    assert datetime.fromisoformat(offered["x"]) == SINCE + timedelta(days=30 * 11)
    assert datetime.fromisoformat(offered["tiktok"]) == SINCE + timedelta(days=180)
    assert document["reminder"]["sending"] is None
    assert document["reminder"]["heartbeat_claim"] is None


async def test_a_login_starts_the_next_window_and_letting_go_ends_them(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    write_user(repo, "a", weekday=4, at="09:00", after=SINCE)
    with_exits(repo, "a", channels=("x",))
    clock = Clock(SINCE)
    service = make_service(repo, data_dir, clock)
    send = FakeSender()
    dispatcher = Dispatcher(service, send, clock=clock)

    first = heartbeats(await run(dispatcher, send, clock, SINCE + 25 * DAY, HOUR))
    assert [local(at)[0] for at in first] == expected("x", 1)
    login = clock.now  # "✅ logged in", two days after the reminder
    document = repo.get("a")
    assert document is not None
    document["exits"]["x"]["heartbeat"]["since"] = login.isoformat()
    repo.put("a", document)
    service.reschedule("a")

    second = heartbeats(await run(dispatcher, send, clock, login + 40 * DAY, HOUR))
    assert [local(at)[0] for at in second] == expected("x", 1, since=login)

    document = repo.get("a")
    assert document is not None
    document["exits"]["x"]["heartbeat"]["stopped"] = True  # "I'll let the name go"
    repo.put("a", document)
    service.reschedule("a")
    assert heartbeats(await run(dispatcher, send, clock, login + 200 * DAY, 6 * HOUR)) == []


async def test_no_heartbeat_once_the_plan_takes_the_channel_back(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    write_user(repo, "a", weekday=4, at="09:00", after=SINCE)
    with_exits(repo, "a", channels=("x",))
    edit(repo, "a", plan={"kept": [{"channel": "x"}], "dropped": []})
    clock = Clock(SINCE)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    assert heartbeats(await run(dispatcher, send, clock, SINCE + 70 * DAY, 3 * HOUR)) == []


async def test_a_heartbeat_due_in_quiet_hours_waits_for_their_end(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    # The check-in is at 22:30, inside the default quiet hours (21:00-08:00): the check-in
    # goes out at its chosen time, the heartbeat waits for the morning.
    write_user(repo, "a", weekday=4, at="22:30", after=SINCE)
    with_exits(repo, "a", channels=("x",))
    clock = Clock(SINCE)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, SINCE + 30 * DAY, 15 * MINUTE)

    (at,) = heartbeats(sent)
    day = expected("x", 1)[0]
    assert local(at) == (day + timedelta(days=1), time(8, 0))
    checkins = [a for a, claim in sent if claim.kind is Kind.CHECKIN]
    assert checkins and all(local(a)[1] == time(22, 30) for a in checkins)


async def test_a_pause_holds_the_heartbeat_until_the_first_day_back(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    day = expected("x", 1)[0]
    back = day + timedelta(days=3)
    write_user(repo, "a", weekday=4, at="09:00", after=SINCE, paused_until=back.isoformat())
    with_exits(repo, "a", channels=("x",))
    clock = Clock(SINCE)
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    sent = await run(dispatcher, send, clock, SINCE + 30 * DAY, 15 * MINUTE)

    # The pause ends at local midnight, inside quiet hours: the morning after it.
    assert [local(at) for at in heartbeats(sent)] == [(back, time(8, 0))]


async def test_a_heartbeat_is_sent_exactly_once_across_a_crash_and_restarts(
    data_dir: Path,
) -> None:
    with TinyDBUserRepository(data_dir) as first_repo:
        write_user(first_repo, "a", weekday=4, at="09:00", after=SINCE)
        with_exits(first_repo, "a", channels=("tiktok",))
        due_day = expected("tiktok", 1)[0]
        due = datetime.combine(due_day, time(9, 0), tzinfo=BERLIN).astimezone(UTC)
        clock = Clock(due)
        first = make_service(first_repo, data_dir, clock)
        claim = first.claim(first.due_users(due)[0], due)
        assert claim is not None and claim.kind is Kind.HEARTBEAT
        del first  # crash after the claim was written, before it was confirmed

    sent_total: list[Any] = []
    for restart in range(3):
        with TinyDBUserRepository(data_dir) as again:
            clock.now = due + (restart + 1) * 5 * MINUTE
            send = FakeSender()
            dispatcher = Dispatcher(make_service(again, data_dir, clock), send, clock=clock)
            sent = await run(dispatcher, send, clock, clock.now + 2 * DAY, 30 * MINUTE)
            sent_total += [(claim.kind, claim.resend) for _, claim in sent]
            document = again.get("a")
            assert document is not None
            reminder = document["reminder"]
            assert reminder["sending"] is None and reminder["heartbeat_claim"] is None
            assert datetime.fromisoformat(reminder["heartbeat_offered"]["tiktok"]) == SINCE
    assert [entry for entry in sent_total if entry[0] is Kind.HEARTBEAT] == [
        (Kind.HEARTBEAT, True)
    ]


async def test_a_failed_heartbeat_is_offered_again_not_lost(
    repo: TinyDBUserRepository, data_dir: Path
) -> None:
    write_user(repo, "a", weekday=4, at="09:00", after=SINCE)
    with_exits(repo, "a", channels=("x",))
    due = datetime.combine(expected("x", 1)[0], time(9, 0), tzinfo=BERLIN).astimezone(UTC)
    clock = Clock(due)
    service = make_service(repo, data_dir, clock)
    claim = service.claim(service.due_users(due)[0], due)
    assert claim is not None and claim.kind is Kind.HEARTBEAT

    service.release(claim)

    document = repo.get("a")
    assert document is not None
    assert document["reminder"]["heartbeat_offered"] == {}
    assert document["reminder"]["heartbeat_claim"] is None
    again = service.claim(service.due_users(due + MINUTE)[0], due + MINUTE)
    assert again is not None and again.kind is Kind.HEARTBEAT
