"""Quiet hours: the local hours in which the bot starts no conversation of its own.

Stored in the user document as ``"quiet_hours": {"start": "21:00", "end": "08:00", "on": true}``;
a document without the key (older ones) has the default, 21:00-08:00. A window whose start is
later than its end runs across midnight. Instants are computed like check-in slots
(``schedule._firing_instant``): a wall-clock time skipped by a spring-forward change lies as far
after the gap as it lay after the gap's start, and a repeated one is taken at its first pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_QUIET", "QUIET_HOURS", "QuietHours", "parse_quiet_option"]

QUIET_HOURS: Final = "quiet_hours"  # the document key
# A preset's option id in the settings flow: "q21_08" is 21:00-08:00; "off" turns them off.
_OPTION = re.compile(r"q([01]\d|2[0-3])_([01]\d|2[0-3])")
_OFF: Final = "off"
# Beyond this, lateness is not worth measuring window by window: a week late is too late.
_LONGEST_LOOK: Final = timedelta(days=7)


def _wall(day: date, wall_time: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of ``wall_time`` on ``day`` (fold=0, as for check-in slots)."""
    return datetime.combine(day, wall_time, tzinfo=zone).replace(fold=0).astimezone(UTC)


@dataclass(frozen=True)
class QuietHours:
    """A daily local window, ``start`` up to (not including) ``end``; ``on`` false: none."""

    start: time
    end: time
    on: bool = True

    def __post_init__(self) -> None:
        """Reject a window that is empty or not in whole minutes."""
        for value in (self.start, self.end):
            if not isinstance(value, time) or value.second or value.microsecond or value.tzinfo:
                raise ValueError(f"quiet hours need local times in whole minutes, got {value!r}")
        if self.start == self.end:
            raise ValueError("quiet hours must not start when they end")

    @classmethod
    def from_document(cls, document: dict[str, Any] | None) -> QuietHours:
        """The user's quiet hours; the default when the document has none (older documents).

        Raises KeyError, TypeError or ValueError for a malformed block.
        """
        raw = None if document is None else document.get(QUIET_HOURS)
        if raw is None:
            return DEFAULT_QUIET
        if not isinstance(raw, dict):
            raise TypeError(f"quiet_hours must be an object, got {raw!r}")
        start, end, on = raw["start"], raw["end"], raw.get("on", True)
        if not isinstance(start, str) or not isinstance(end, str) or not isinstance(on, bool):
            raise TypeError(f"malformed quiet_hours {raw!r}")
        return cls(time.fromisoformat(start), time.fromisoformat(end), on)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (a new dict each time: the caller may change it)."""
        start, end = _shown(self.start, self.end)
        return {"start": start, "end": end, "on": self.on}

    def _windows(self, first: date, last: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """The windows starting on the local days ``first`` .. ``last``, as UTC instants."""
        overnight = self.end < self.start
        found = []
        day = first
        while day <= last:
            end_day = day + timedelta(days=1) if overnight else day
            found.append((_wall(day, self.start, zone), _wall(end_day, self.end, zone)))
            day += timedelta(days=1)
        return found

    def release(self, instant: datetime, zone: str) -> datetime:
        """``instant`` itself, or the end of the quiet hours it falls in.

        Quiet is what the wall clock shows; the end is the next wall-clock ``end`` after it.
        """
        if not self.on:
            return instant
        tz = ZoneInfo(zone)
        local = instant.astimezone(tz)
        shown = local.time().replace(tzinfo=None, fold=0)
        if self.end < self.start:  # across midnight
            if self.end <= shown < self.start:
                return instant
            end_day = local.date() + timedelta(days=1 if shown >= self.start else 0)
        else:
            if not self.start <= shown < self.end:
                return instant
            end_day = local.date()
        return max(instant, _wall(end_day, self.end, tz))

    def quiet_between(self, since: datetime, until: datetime, zone: str) -> timedelta:
        """How much of ``since`` .. ``until`` lies in quiet hours (at most about a week)."""
        if not self.on or until <= since:
            return timedelta(0)
        since = max(since, until - _LONGEST_LOOK)
        tz = ZoneInfo(zone)
        first = since.astimezone(tz).date() - timedelta(days=1)
        last = until.astimezone(tz).date()
        total = timedelta(0)
        for start, end in self._windows(first, last, tz):
            overlap = min(end, until) - max(start, since)
            if overlap > timedelta(0):
                total += overlap
        return total

    def first_outside(self, day: date, zone: str) -> datetime:
        """The first instant of the local ``day`` outside quiet hours."""
        tz = ZoneInfo(zone)
        return self.release(_wall(day, time(0), tz), zone)


@lru_cache(maxsize=256)
def _shown(start: time, end: time) -> tuple[str, str]:
    """A window's times as stored ("21:00"), kept: every document is saved with them."""
    return start.strftime("%H:%M"), end.strftime("%H:%M")


DEFAULT_QUIET: Final = QuietHours(time(21, 0), time(8, 0))


def parse_quiet_option(option: str) -> QuietHours | None:
    """The quiet hours a settings option id stands for ("q22_07", "off"); None if it is neither."""
    if option == _OFF:
        return QuietHours(DEFAULT_QUIET.start, DEFAULT_QUIET.end, on=False)
    match = _OPTION.fullmatch(option)
    if match is None or match.group(1) == match.group(2):
        return None
    return QuietHours(time(int(match.group(1))), time(int(match.group(2))))
