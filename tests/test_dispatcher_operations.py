"""What the dispatcher tells the operator: when its last tick ended, and each check-in's outcome."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from test_dispatcher import DUE, Clock, FakeSender, add_users, make_service

from bot.core.operations import Event, OperationsRecorder
from bot.dispatcher import Dispatcher, SendResult
from storage import TinyDBUserRepository


@pytest.fixture
def clock() -> Clock:
    return Clock(DUE)


async def test_last_tick_at_is_the_end_of_the_last_tick_in_utc(
    repo: TinyDBUserRepository, data_dir: Path, clock: Clock
) -> None:
    dispatcher = Dispatcher(make_service(repo, data_dir, clock), FakeSender(), clock=clock)
    assert dispatcher.last_tick_at is None
    await dispatcher.tick()  # nobody due: still a tick
    assert dispatcher.last_tick_at == DUE
    assert dispatcher.last_tick_at.tzinfo is UTC
    clock.now = DUE + timedelta(minutes=1)
    await dispatcher.tick()
    assert dispatcher.last_tick_at == DUE + timedelta(minutes=1)


async def test_each_check_in_is_counted_once_by_its_outcome(
    repo: TinyDBUserRepository, data_dir: Path, clock: Clock
) -> None:
    add_users(repo, "a", "b", "c", "d")
    recorder = OperationsRecorder(clock)
    send = FakeSender(
        [SendResult.SENT, SendResult.BLOCKED, SendResult.FAILED, RuntimeError("network")]
    )
    service = make_service(repo, data_dir, clock)
    dispatcher = Dispatcher(service, send, clock=clock, recorder=recorder)
    await dispatcher.tick()

    counted = recorder.snapshot().last_24h
    assert len(send.calls) == 4
    # A blocked user is counted among the users (as blocked), not as a failed send.
    assert counted[Event.CHECKIN_SENT] == 1
    assert counted[Event.CHECKIN_FAILED] == 2
    assert counted[Event.SENT] == 0  # Bot API calls are the rate limiter's to count
