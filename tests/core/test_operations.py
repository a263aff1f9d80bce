"""The operator's counters: a 24-hour sliding window of one-minute buckets, on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.operations import Event, OperationsRecorder, SlidingCount

START = datetime(2026, 12, 5, 9, 0, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
DAY = timedelta(hours=24)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_events_leave_the_window_a_day_after_their_minute() -> None:
    count = SlidingCount()
    count.add(START)
    count.add(START + 10 * MINUTE, 3)
    assert count.in_window(START + 10 * MINUTE) == 4
    # 09:00:30 falls in the 09:00 bucket: counted until 08:59:59 the next day, gone at 09:00.
    assert count.in_window(START + DAY - timedelta(seconds=31)) == 4
    assert count.in_window(START + DAY - timedelta(seconds=30)) == 3
    assert count.in_window(START + DAY + 10 * MINUTE) == 0
    assert count.total == 4  # the total since the start never shrinks


def test_memory_stays_at_one_bucket_per_minute_however_many_events() -> None:
    count = SlidingCount()
    at = START
    for _ in range(3 * 24 * 60):  # three days, a minute apart, 50 events each
        count.add(at, 50)
        at += MINUTE
    assert len(count._buckets) == 24 * 60
    assert count.in_window(at - MINUTE) == 24 * 60 * 50
    assert count.total == 3 * 24 * 60 * 50


def test_zones_do_not_matter_and_naive_times_are_refused() -> None:
    count = SlidingCount()
    berlin = START.astimezone(ZoneInfo("Europe/Berlin"))
    count.add(berlin)
    assert count.in_window(START) == 1
    with pytest.raises(ValueError, match="aware"):
        count.add(datetime(2026, 12, 5, 9, 0))


def test_a_clock_step_backwards_counts_into_the_newest_bucket() -> None:
    count = SlidingCount()
    count.add(START + 5 * MINUTE)
    count.add(START)  # NTP stepped the clock back
    assert count.in_window(START + 5 * MINUTE) == 2


def test_the_recorder_snapshots_each_event_and_the_uptime() -> None:
    clock = Clock(START)
    recorder = OperationsRecorder(clock)
    recorder.record(Event.SENT)
    recorder.record(Event.RATE_LIMITED)
    clock.now = START + 23 * timedelta(hours=1)
    recorder.record(Event.SENT, 2)
    recorder.record(Event.CHECKIN_SENT)
    clock.now = START + DAY + timedelta(hours=1)
    snapshot = recorder.snapshot()
    assert snapshot.uptime == DAY + timedelta(hours=1)
    assert snapshot.last_24h[Event.SENT] == 2
    assert snapshot.last_24h[Event.RATE_LIMITED] == 0
    assert snapshot.last_24h[Event.CHECKIN_SENT] == 1
    assert snapshot.totals[Event.SENT] == 3
    assert snapshot.totals[Event.RATE_LIMITED] == 1
    assert snapshot.last_24h[Event.FAILED] == snapshot.totals[Event.FAILED] == 0
