"""The hours a user won back by dropping channels: what /history adds up so far.

For each channel the current plan drops: the whole weeks since the plan versions began dropping
it without a break (``bot.core.plan_versions``), less the weeks a check-in says it crept back,
times what it would have cost a week. That cost is the user's own estimate where their
check-ins know it (the channel was kept before: its share of those weeks' hours, as
``own_results.estimated_minutes`` splits them), else the catalogue's minimum viable cadence for
it (domain.md section 2, an estimate [E]). Both are estimates, and the texts say which one each
line rests on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from bot.core.flow_ids import NO_CREEP
from bot.core.own_results import estimated_minutes
from bot.core.schedule import local_week_key

__all__ = [
    "CostSource",
    "PlanPeriod",
    "Reclaimed",
    "crept_weeks",
    "dropped_since",
    "reclaimed_hours",
    "spent_per_week",
]

_WEEK: Final = timedelta(weeks=1)
_MINUTES_PER_HOUR: Final = 60


class CostSource(StrEnum):
    """Where a dropped channel's weekly cost comes from."""

    OWN = "own"  # the user's own weeks with it (estimated from their check-ins)
    CATALOGUE = "catalogue"  # the catalogue's minimum viable cadence


@dataclass(frozen=True)
class PlanPeriod:
    """One plan version: when it was made (None in documents from before versions had dates)
    and the channels it dropped."""

    made_at: datetime | None
    dropped: frozenset[str]


@dataclass(frozen=True)
class Reclaimed:
    """A dropped channel's hours won back so far."""

    channel: str
    since: datetime
    weeks: int  # whole weeks dropped, the weeks it crept back not counted
    crept: int  # weeks it crept back since
    per_week: float  # hours a week it would have cost
    source: CostSource

    @property
    def hours(self) -> float:
        """The hours won back so far."""
        return self.weeks * self.per_week


def dropped_since(periods: Sequence[PlanPeriod], channel: str) -> datetime | None:
    """When the versions began dropping ``channel`` without a break, up to the current (last)
    one; None if the current one does not drop it or that version has no date."""
    since: datetime | None = None
    for period in reversed(periods):
        if channel not in period.dropped:
            break
        since = period.made_at
        if since is None:
            break  # an undated version: how long before it is unknown
    return since


def _ratings(record: Mapping[str, Any]) -> Mapping[str, Any]:
    ratings = record.get("channels")
    return ratings if isinstance(ratings, Mapping) else {}


def _answered_week(record: Mapping[str, Any]) -> str:
    week = record.get("week")
    return week if isinstance(week, str) else ""


def crept_weeks(
    records: Sequence[Mapping[str, Any]], channel: str, since: datetime, zone: str
) -> int:
    """The checked-in weeks from ``since`` on (in ``zone``) in which ``channel`` crept back."""
    first = local_week_key(since, zone)
    return sum(
        1
        for record in records
        if record.get("creep", NO_CREEP) == channel and _answered_week(record) >= first
    )


def spent_per_week(
    records: Sequence[Mapping[str, Any]], channel: str, planned_hours: Mapping[str, float]
) -> float | None:
    """The hours a week ``channel`` took on average in the check-ins that rated it (weeks it was
    kept), estimated; None when no check-in rated it."""
    rated = [
        r for r in records if isinstance(r.get("channels"), Mapping) and channel in r["channels"]
    ]
    if not rated:
        return None
    minutes = sum(estimated_minutes(r, channel, planned_hours) for r in rated)
    return minutes / len(rated) / _MINUTES_PER_HOUR


def reclaimed_hours(
    periods: Sequence[PlanPeriod],
    records: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    zone: str,
    catalogue_hours: Mapping[str, float],
    planned_hours: Mapping[str, float],
) -> list[Reclaimed]:
    """Each channel the current plan (the last period) drops, with its hours won back so far.

    ``catalogue_hours``: a week of each channel's minimum viable cadence (a channel missing
    there is left out: nothing to estimate from); ``planned_hours``: see ``spent_per_week``.
    """
    if not periods:
        return []
    found = []
    for channel in sorted(periods[-1].dropped):
        since = dropped_since(periods, channel)
        spent = spent_per_week(records, channel, planned_hours)
        if since is None or (spent is None and channel not in catalogue_hours):
            continue
        crept = crept_weeks(records, channel, since, zone)
        whole = max(0, int((now - since) / _WEEK))
        found.append(
            Reclaimed(
                channel=channel,
                since=since,
                weeks=max(0, whole - crept),
                crept=crept,
                per_week=catalogue_hours[channel] if spent is None else spent,
                source=CostSource.CATALOGUE if spent is None else CostSource.OWN,
            )
        )
    return found
