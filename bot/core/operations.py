"""The bot's operational figures: uptime and the messages sent, retried and given up lately.

Counted where each event happens once (``bot.telegram.ratelimit`` sees every Bot API call that
sends or edits a message, with its 429s; the dispatcher sees each check-in's outcome) and read
by /status and the optional Prometheus endpoint. No transport is imported here.

A count "in the last 24 hours" is a sliding window of one-minute buckets: memory stays at most
1,440 small entries however many messages go out, and a figure is exact to the minute.
Each counter also keeps its total since the start, which Prometheus wants (a counter only grows).
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = [
    "WINDOW",
    "Event",
    "OperationsRecorder",
    "OperationsSnapshot",
    "SlidingCount",
]

WINDOW: Final = timedelta(hours=24)
_BUCKET: Final = timedelta(minutes=1)
_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)


class Event(enum.Enum):
    """What the figures count."""

    SENT = "sent"  # a Bot API call that sends or edits a message, accepted by Telegram
    RETRIED = "retried"  # a 429 that was waited out and the call made again
    RATE_LIMITED = "rate_limited"  # every 429 (RetryAfter) Telegram answered
    FAILED = "failed"  # a sending call given up: 429s beyond the retries, or another error
    CHECKIN_SENT = "checkin_sent"  # a check-in (or follow-up) delivered by the dispatcher
    CHECKIN_FAILED = "checkin_failed"  # a check-in given back to be tried again later


class SlidingCount:
    """Events in the last ``window``, in buckets of ``bucket``, plus the total since creation.

    Not thread-safe by itself (``OperationsRecorder`` holds a lock around it). Times must be
    timezone-aware; one going backwards (a clock step) counts into the newest bucket.
    """

    def __init__(self, window: timedelta = WINDOW, bucket: timedelta = _BUCKET) -> None:
        if bucket <= timedelta(0) or window < bucket:
            raise ValueError("the bucket must be positive and no longer than the window")
        self._bucket = bucket
        self._buckets_in_window = window // bucket
        self._buckets: deque[list[int]] = deque()  # [bucket number, count], oldest first
        self.total = 0

    def add(self, at: datetime, count: int = 1) -> None:
        """Count ``count`` events at ``at``."""
        number = self._number(at)
        self.total += count
        if self._buckets and self._buckets[-1][0] >= number:
            self._buckets[-1][1] += count
        else:
            self._buckets.append([number, count])
        self._forget_before(number)

    def in_window(self, now: datetime) -> int:
        """Events in the window that ends at ``now`` (the current bucket included)."""
        self._forget_before(self._number(now))
        return sum(count for _, count in self._buckets)

    def _number(self, at: datetime) -> int:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("times must be timezone-aware")
        return (at - _EPOCH) // self._bucket

    def _forget_before(self, newest: int) -> None:
        oldest_kept = newest - self._buckets_in_window + 1
        while self._buckets and self._buckets[0][0] < oldest_kept:
            self._buckets.popleft()


@dataclass(frozen=True)
class OperationsSnapshot:
    """The counted figures at one moment: the last 24 hours, and totals since the start."""

    started_at: datetime
    taken_at: datetime
    last_24h: dict[Event, int]
    totals: dict[Event, int]

    @property
    def uptime(self) -> timedelta:
        """How long the process has been counting."""
        return self.taken_at - self.started_at


class OperationsRecorder:
    """Thread-safe counters of the events in ``Event``; ``clock`` gives aware datetimes."""

    def __init__(self, clock: Callable[[], datetime], *, window: timedelta = WINDOW) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts = {event: SlidingCount(window) for event in Event}
        self.started_at = clock()

    def record(self, event: Event, count: int = 1) -> None:
        """Count ``event`` now (cheap: one bucket touched)."""
        now = self._clock()
        with self._lock:
            self._counts[event].add(now, count)

    def snapshot(self) -> OperationsSnapshot:
        """Every figure now."""
        now = self._clock()
        with self._lock:
            last = {event: count.in_window(now) for event, count in self._counts.items()}
            totals = {event: count.total for event, count in self._counts.items()}
        return OperationsSnapshot(self.started_at, now, last, totals)
