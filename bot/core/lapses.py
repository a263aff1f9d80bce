"""Weekly check-ins missed in a row, since when, and when a comeback fits (domain.md 4.3, 4.4).

A week is *missed* when its check-in went out (``sent_weeks``), it was neither answered nor
skipped, and the slot of the week after it has passed: until then it can still be logged late.
Weeks without a check-in neither count nor break a run: a pause, a week the coach held back
during a lapse, and a week lost while the bot was down (``missed_weeks``: the user was never
asked, and the catch-up check-in says it does not count against them). An answered or skipped
week ends a run. A *lapse* is the run of missed weeks up to now, oldest first.

"Never miss twice": after one missed week the next check-in is softer and asks what got in the
way; from the second one on the coach stops the weekly nag and offers one comeback, on a fresh
start (``fresh_start``): the next Monday at the user's check-in time, or the first check-in of
a new month if that comes first (Dai, Milkman & Riis 2014).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.checkin_schedule import Reminder
from bot.core.schedule import WeeklySlot, next_occurrence

__all__ = [
    "COMEBACK_AFTER",
    "Lapse",
    "closes_at",
    "comeback_offered_for",
    "fresh_start",
    "lapse",
    "missed_in_a_row",
]

# From this many missed weeks in a row on, the weekly nag stops and one comeback is offered.
COMEBACK_AFTER: Final = 2
_MONDAY = 0
_FIRST_WEEK_OF_MONTH = 7  # a slot on day 1-7 of its month is the month's first
_INSTANT = timedelta(microseconds=1)
# Far enough ahead that every week sent so far has closed (``lapse(..., now=None)``).
_NEVER: Final = datetime.max.replace(tzinfo=UTC) - timedelta(days=14)


@dataclass(frozen=True)
class Lapse:
    """The weeks missed in a row, oldest first (empty: no lapse)."""

    weeks: tuple[str, ...] = ()

    @property
    def missed(self) -> int:
        """How many weeks in a row were missed."""
        return len(self.weeks)

    @property
    def began(self) -> str | None:
        """The first missed week of the run, or None."""
        return self.weeks[0] if self.weeks else None


def _monday(week: str) -> date:
    """The Monday of an ISO week key such as ``"2026-W48"``."""
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


@lru_cache(maxsize=4096)
def closes_at(slot: WeeklySlot, week: str) -> datetime:
    """When ``week`` can no longer be logged late: the slot of the week after it (UTC).

    Kept per process (a lapse asks it of the same few weeks for every user of a slot).
    """
    following = _monday(week) + timedelta(days=7)
    start = datetime.combine(following, datetime.min.time(), tzinfo=ZoneInfo(slot.zone))
    return next_occurrence(slot, start - _INSTANT)


def lapse(
    reminder: Reminder,
    answered_weeks: Collection[str],
    now: datetime | None,
    *,
    before: str | None = None,
    answered_in_order: Sequence[str] | None = None,
) -> Lapse:
    """The run of weeks missed up to ``now`` (None: as if every week sent had closed).

    ``before``: only weeks before it count (the lapse as the check-in of ``before`` sees it).
    ``answered_in_order``: ``answered_weeks`` sorted, if at hand (an outlook keeps them so for
    the several lapses of one claim): the newest one before ``before`` is looked up in it.
    """
    at = _NEVER if now is None else now
    skipped = reminder.skipped_week
    # The run goes back from the newest week to the last answered or skipped one: only sent
    # weeks after that one (and before ``before``) can be in it.
    last_kept: str | None = None
    if answered_in_order is not None:
        in_order = answered_in_order
        older = len(in_order) if before is None else bisect_left(in_order, before)
        last_kept = in_order[older - 1] if older else None
        candidates: Collection[str] = () if skipped is None else (skipped,)
    else:
        # Without sorting the year of answered weeks, when they are not kept sorted.
        candidates = (*answered_weeks, skipped) if skipped is not None else answered_weeks
    for week in candidates:
        if (before is None or week < before) and (last_kept is None or week > last_kept):
            last_kept = week
    run = [
        week
        for week in sorted(set(reminder.sent_weeks), reverse=True)
        if (before is None or week < before)
        and (last_kept is None or week > last_kept)
        and closes_at(reminder.slot, week) <= at
    ]
    return Lapse(tuple(reversed(run)))


def missed_in_a_row(
    reminder: Reminder, answered_weeks: Collection[str], now: datetime | None
) -> int:
    """How many weeks in a row were missed up to ``now``."""
    return lapse(reminder, answered_weeks, now).missed


def comeback_offered_for(reminder: Reminder, found: Lapse) -> bool:
    """Whether the comeback of this lapse was offered (it is offered once per lapse).

    The offer stores the week it went out in; the lapse had it when that week lies within the
    run. A run that begins after it is a new lapse (answered weeks in between, or, for a user
    silent for a quarter, the oldest sent weeks dropped from the record): it gets its own.
    """
    offered = reminder.comeback_offered
    return found.began is not None and offered is not None and offered >= found.began


def fresh_start(slot: WeeklySlot, after: datetime) -> datetime:
    """The first fresh start at or after ``after`` (UTC), at the check-in's time of day.

    The next Monday at that time, or the first check-in slot of a new month if it comes first.
    """
    monday = next_occurrence(WeeklySlot(_MONDAY, slot.time, slot.zone), after - _INSTANT)
    month_first = next_occurrence(slot, after - _INSTANT)
    zone = ZoneInfo(slot.zone)
    while month_first.astimezone(zone).day > _FIRST_WEEK_OF_MONTH and month_first < monday:
        month_first = next_occurrence(slot, month_first)
    return min(monday, month_first)
