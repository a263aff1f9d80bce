"""The asyncio Dispatcher over a real ReminderService on disk, with a fake async sender."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.checkin_claims import Claim, ReminderService
from bot.core.schedule import WeeklySlot, next_occurrence
from bot.core.sent_records import SentRecords, journaled
from bot.dispatcher import JOB_ID, Dispatcher, SendResult
from storage import ScheduleIndex, TinyDBUserRepository, UserRepository

START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DUE = next_occurrence(WeeklySlot(0, time(9, 0), "Europe/Berlin"), START)  # Mon 2026-11-23
MINUTE = timedelta(minutes=1)
PATIENCE = 10  # seconds: a guard against hanging, never reached when the code works


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeSender:
    """Records each claim; answers from ``results`` (then SENT); can hold sends at a gate."""

    def __init__(self, results: list[SendResult | Exception] | None = None) -> None:
        self.calls: list[Claim] = []
        self.results: deque[SendResult | Exception] = deque(results or [])
        self.gate = asyncio.Event()
        self.gate.set()
        self.active = 0
        self.max_active = 0
        self._counts: dict[int, asyncio.Event] = {}

    async def __call__(self, claim: Claim) -> SendResult:
        self.calls.append(claim)
        self.calls_reached(len(self.calls)).set()
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await self.gate.wait()
            for _ in range(5):  # let other sends start, if they are allowed to
                await asyncio.sleep(0)
        finally:
            self.active -= 1
        result = self.results.popleft() if self.results else SendResult.SENT
        if isinstance(result, Exception):
            raise result
        return result

    def calls_reached(self, count: int) -> asyncio.Event:
        return self._counts.setdefault(count, asyncio.Event())

    async def wait_for_calls(self, count: int) -> None:
        if len(self.calls) < count:
            await asyncio.wait_for(self.calls_reached(count).wait(), PATIENCE)


@pytest.fixture(params=["confirm-in-document", "sent-journal"])
def repo(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[UserRepository]:
    """Every test runs with the confirm rewriting the document, and as shipped: journalled."""
    stored = TinyDBUserRepository(data_dir)
    if request.param == "sent-journal":
        sent = journaled(stored)
        sent.load()
        yield sent
    else:
        yield stored
    stored.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(DUE)


def add_users(repo: UserRepository, *user_ids: str) -> None:
    for user_id in user_ids:
        repo.put(
            user_id,
            {
                "user_id": user_id,
                "lang": "de",
                "active": True,
                "reminder": {
                    "weekday": 0,
                    "time": "09:00",
                    "zone": "Europe/Berlin",
                    "next_due": DUE.isoformat(),
                    "sent_weeks": [],
                    "missed_weeks": [],
                },
            },
        )


def make_service(repo: UserRepository, data_dir: Path, clock: Clock) -> ReminderService:
    sent = repo if isinstance(repo, SentRecords) else None
    service = ReminderService(repo, ScheduleIndex(data_dir), clock=clock, sent=sent)
    service.load()
    return service


def reminder_of(repo: UserRepository, user_id: str) -> dict[str, Any]:
    document = repo.get(user_id)
    assert document is not None
    block: dict[str, Any] = document["reminder"]
    return block


async def test_overlapping_ticks_send_each_check_in_once(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    add_users(repo, "a", "b", "c")
    send = FakeSender()
    send.gate.clear()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    first = asyncio.create_task(dispatcher.tick())
    await send.wait_for_calls(3)
    await asyncio.gather(dispatcher.tick(), dispatcher.tick())  # while the sends hang
    send.gate.set()
    await first
    await asyncio.gather(dispatcher.tick(), dispatcher.tick())

    assert sorted(claim.user_id for claim in send.calls) == ["a", "b", "c"]
    for user_id in "abc":
        assert reminder_of(repo, user_id)["sent_weeks"] == ["2026-W48"]


async def test_ticks_started_together_send_once(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    add_users(repo, *[f"u{n}" for n in range(20)])
    send = FakeSender()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    await asyncio.gather(*(dispatcher.tick() for _ in range(3)))

    assert sorted(claim.user_id for claim in send.calls) == sorted(f"u{n}" for n in range(20))


async def test_sends_are_bounded(repo: UserRepository, data_dir: Path, clock: Clock) -> None:
    add_users(repo, *[f"u{n}" for n in range(6)])
    send = FakeSender()
    send.gate.clear()
    dispatcher = Dispatcher(
        make_service(repo, data_dir, clock), send, clock=clock, max_in_flight=2
    )

    ticking = asyncio.create_task(dispatcher.tick())
    await send.wait_for_calls(2)
    in_flight_while_blocked = dispatcher.in_flight
    send.gate.set()
    await ticking

    assert in_flight_while_blocked == 2
    assert len(send.calls) == 6
    assert send.max_active <= 2


async def test_blocked_marks_the_user_inactive(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    add_users(repo, "a")
    send = FakeSender([SendResult.BLOCKED])
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    await dispatcher.tick()
    clock.now += timedelta(days=7)
    await dispatcher.tick()

    document = repo.get("a")
    assert document is not None
    assert (document["active"], document["reminder"]["sending"]) == (False, None)
    assert len(send.calls) == 1
    assert ScheduleIndex(data_dir).load_all() == {}


@pytest.mark.parametrize("failure", [SendResult.FAILED, RuntimeError("network down")])
async def test_a_failed_send_is_released_and_retried_next_tick(
    repo: UserRepository,
    data_dir: Path,
    clock: Clock,
    failure: SendResult | Exception,
    caplog: pytest.LogCaptureFixture,
) -> None:
    add_users(repo, "a")
    send = FakeSender([failure])
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    await dispatcher.tick()
    assert reminder_of(repo, "a")["sending"] is None
    assert reminder_of(repo, "a")["sent_weeks"] == []
    clock.now += MINUTE
    await dispatcher.tick()
    clock.now += MINUTE
    await dispatcher.tick()

    assert [(claim.user_id, claim.week, claim.resend) for claim in send.calls] == [
        ("a", "2026-W48", False),
        ("a", "2026-W48", False),
    ]
    assert reminder_of(repo, "a")["sent_weeks"] == ["2026-W48"]
    if isinstance(failure, Exception):
        assert "sending the check-in of a failed" in caplog.text


async def test_start_catches_up_at_once_with_one_job(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    add_users(repo, "a")
    clock.now = DUE + timedelta(hours=2)  # the bot was down
    send = FakeSender()
    send.gate.clear()
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), send, clock=clock)

    dispatcher.start()
    try:
        scheduler = dispatcher.scheduler
        assert scheduler is not None
        [job] = scheduler.get_jobs()
        assert (job.id, job.max_instances, job.coalesce, job.misfire_grace_time) == (
            JOB_ID,
            1,
            True,
            None,
        )
        assert job.trigger.interval == timedelta(seconds=60)
        await send.wait_for_calls(1)
    finally:
        stopping = asyncio.create_task(dispatcher.shutdown())
        await asyncio.sleep(0)
        assert not stopping.done()  # waits for the send in flight
        send.gate.set()
        await stopping

    assert [(claim.user_id, claim.late) for claim in send.calls] == [("a", True)]
    assert reminder_of(repo, "a")["sent_weeks"] == ["2026-W48"]
    assert dispatcher.scheduler is None


async def test_shutdown_gives_back_users_not_yet_claimed(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    add_users(repo, "a", "b", "c")
    service = make_service(repo, data_dir, clock)
    send = FakeSender()
    send.gate.clear()
    dispatcher = Dispatcher(service, send, clock=clock, max_in_flight=1)

    ticking = asyncio.create_task(dispatcher.tick())
    await send.wait_for_calls(1)
    stopping = asyncio.create_task(dispatcher.shutdown())
    await asyncio.sleep(0)
    send.gate.set()
    await stopping
    await ticking

    [sent] = send.calls
    assert reminder_of(repo, sent.user_id)["sent_weeks"] == ["2026-W48"]
    others = sorted({"a", "b", "c"} - {sent.user_id})
    assert sorted(service.due_users(clock.now)) == others
    assert all(reminder_of(repo, user_id).get("sending") is None for user_id in others)


def test_start_needs_positive_settings(repo: UserRepository, data_dir: Path, clock: Clock) -> None:
    service = make_service(repo, data_dir, clock)
    with pytest.raises(ValueError, match="interval"):
        Dispatcher(service, FakeSender(), clock=clock, interval=0)


async def test_each_finished_tick_is_told_with_its_end(
    repo: UserRepository, data_dir: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    add_users(repo, "a")
    heard: list[tuple[datetime, int]] = []
    send = FakeSender()

    async def on_tick(at: datetime) -> None:
        heard.append((at, len(send.calls)))
        if len(heard) == 2:
            raise OSError("disk full")

    dispatcher = Dispatcher(
        make_service(repo, data_dir, clock), send, clock=clock, on_tick=on_tick
    )
    assert dispatcher.last_tick_at is None

    await dispatcher.tick()
    clock.now += MINUTE
    await dispatcher.tick()  # the listener fails: logged, the tick still counts

    assert heard == [(DUE, 1), (DUE + MINUTE, 1)]  # told after the send, not before
    assert dispatcher.last_tick_at == DUE + MINUTE
    assert "the listener of finished ticks failed" in caplog.text


async def test_shutdown_waits_for_the_listener_of_the_last_tick(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    add_users(repo, "a")
    gate = asyncio.Event()
    heard: list[datetime] = []

    async def on_tick(at: datetime) -> None:
        await gate.wait()
        heard.append(at)

    dispatcher = Dispatcher(
        make_service(repo, data_dir, clock), FakeSender(), clock=clock, on_tick=on_tick
    )
    dispatcher.start()  # the catch-up tick runs at once
    for _ in range(50):
        await asyncio.sleep(0.01)
    stopping = asyncio.create_task(dispatcher.shutdown())
    await asyncio.sleep(0.05)
    assert not stopping.done()
    gate.set()
    await asyncio.wait_for(stopping, PATIENCE)

    # The catch-up tick, and a tick of the real-time grid if a minute began meanwhile.
    assert heard
    assert set(heard) == {DUE}


async def test_a_running_tick_tells_how_far_it_got(
    repo: UserRepository, data_dir: Path, clock: Clock
) -> None:
    add_users(repo, "a", "b", "c")
    seen: list[tuple[datetime, int] | None] = []
    gate = asyncio.Event()

    async def send(claim: Claim) -> SendResult:
        progress = dispatcher.progress
        seen.append(None if progress is None else (progress.started_at, progress.settled))
        if len(seen) == 3:
            await gate.wait()
        clock.now += timedelta(seconds=1)
        return SendResult.SENT

    dispatcher = Dispatcher(
        make_service(repo, data_dir, clock), send, clock=clock, max_in_flight=1
    )
    assert dispatcher.progress is None

    ticking = asyncio.create_task(dispatcher.tick())
    for _ in range(200):
        if len(seen) == 3:
            break
        await asyncio.sleep(0.01)
    progress = dispatcher.progress
    assert progress is not None
    assert (progress.settled, progress.last_settled_at) == (2, DUE + timedelta(seconds=2))
    gate.set()
    await asyncio.wait_for(ticking, PATIENCE)

    assert seen == [(DUE, 0), (DUE, 1), (DUE, 2)]  # one at a time: each sees the ones before
    assert dispatcher.progress is None  # between ticks
    assert dispatcher.last_tick_at == DUE + timedelta(seconds=3)


async def test_sent_records_reach_the_documents_in_the_background_an_hour_later(
    data_dir: Path, clock: Clock
) -> None:
    stored = TinyDBUserRepository(data_dir)
    sent = journaled(stored)
    sent.load()
    try:
        add_users(sent, "a", "b")
        service = ReminderService(sent, ScheduleIndex(data_dir), clock=clock, sent=sent)
        service.load()
        dispatcher = Dispatcher(service, FakeSender(), clock=clock)

        await dispatcher.tick()
        clock.now += timedelta(minutes=59)
        await dispatcher.tick()
        await asyncio.sleep(0.1)
        assert all(reminder_of(stored, u)["sending"] is not None for u in "ab")  # journal only
        assert sent.segments() != []

        clock.now += timedelta(minutes=2)
        await dispatcher.tick()
        await dispatcher.shutdown()  # waits for the background pass

        for user_id in "ab":
            assert reminder_of(stored, user_id)["sending"] is None
            assert reminder_of(stored, user_id)["sent_weeks"] == ["2026-W48"]
        assert sent.segments() == []
        assert list((data_dir / "journal").iterdir()) == []
    finally:
        stored.close()
