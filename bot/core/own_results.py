"""The user's own results against the catalogue's data: which decides the order of the channels.

Each check-in can mark the kept channels that brought a result this week (a lead, a booking, a
conversation: the 🎯 of the channel grid, stored as the record's ``results``). Self-monitoring
works best when it is recorded and reported back (domain.md 4.2, Harkin et al. 2016), so after
``MIN_WEEKS`` check-ins with results the coach shows minutes per result per kept channel.

Nobody logs minutes per channel (that would cost taps every week), so a channel's minutes in a
week are an estimate: the week's hours split by the plan's hours per channel among the channels
rated that week. The texts say it is an estimate.

The order of the kept channels is decided by the user's own numbers once there are enough weeks
(``MIN_WEEKS``) and results (``MIN_RESULTS``) to compare; until then by the catalogue's data (the
plan's order: audience and goal fit), and the coach says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

__all__ = [
    "MIN_RESULTS",
    "MIN_WEEKS",
    "RESULTS_KEY",
    "ChannelResults",
    "Decider",
    "OwnResults",
    "estimated_minutes",
    "own_results",
    "recorded_results",
]

# The record key of the channels that brought a result that week (a list of channel ids).
RESULTS_KEY: Final = "results"
# Two months of weeks: fewer say more about one good or bad week than about a channel.
MIN_WEEKS: Final = 8
# Fewer results than this in all those weeks cannot rank channels: one lucky lead would decide.
MIN_RESULTS: Final = 3
_MINUTES_PER_HOUR: Final = 60


class Decider(StrEnum):
    """What decided the order of the kept channels, and why the catalogue when it did."""

    OWN = "own"  # the user's own minutes per result
    FEW_WEEKS = "few_weeks"  # the catalogue: fewer than MIN_WEEKS check-ins with results yet
    FEW_RESULTS = "few_results"  # the catalogue: enough weeks, but too few results to compare


@dataclass(frozen=True)
class ChannelResults:
    """One kept channel over the weeks with results recorded: estimated minutes, results."""

    channel: str
    weeks: int  # weeks it was rated in a check-in that recorded results
    minutes: float  # estimated minutes spent on it in those weeks
    results: int  # weeks it brought a result

    @property
    def minutes_per_result(self) -> float | None:
        """Estimated minutes per result; None while it brought none."""
        return self.minutes / self.results if self.results else None


@dataclass(frozen=True)
class OwnResults:
    """The kept channels' own numbers and what decided their order."""

    weeks: int  # check-ins with results recorded
    results: int  # results in them, all kept channels together
    channels: tuple[ChannelResults, ...]  # in the decided order
    decided_by: Decider
    catalogue_order: tuple[str, ...]  # the plan's order (the catalogue's data)

    @property
    def own_order(self) -> tuple[str, ...]:
        """The kept channels by the user's own numbers: fewest minutes per result first."""
        return tuple(c.channel for c in _by_own_numbers(self.channels, self.catalogue_order))

    @property
    def differs(self) -> bool:
        """Whether the user's own numbers order the channels differently from the catalogue."""
        return self.decided_by is Decider.OWN and self.own_order != self.catalogue_order

    def as_context(self) -> dict[str, Any]:
        """Plain data for templates (channel ids; a view adds names)."""
        return {
            "weeks": self.weeks,
            "weeks_needed": MIN_WEEKS,
            "results": self.results,
            "results_needed": MIN_RESULTS,
            "decided_by": str(self.decided_by),
            "own": self.decided_by is Decider.OWN,
            "differs": self.differs,
            "channels": [
                {
                    "channel": c.channel,
                    "weeks": c.weeks,
                    "minutes": round(c.minutes),
                    "results": c.results,
                    "minutes_per_result": (
                        None if c.minutes_per_result is None else round(c.minutes_per_result)
                    ),
                }
                for c in self.channels
            ],
            "own_order": list(self.own_order),
            "catalogue_order": list(self.catalogue_order),
        }


def recorded_results(record: Mapping[str, Any]) -> list[str] | None:
    """The channels a check-in marked as having brought a result; None when it recorded none.

    Records from before the 🎯 (no key) and damaged ones (not a list of ids) recorded nothing:
    they neither count as a week with results nor break a view.
    """
    value = record.get(RESULTS_KEY)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return list(dict.fromkeys(value))


def _ratings(record: Mapping[str, Any]) -> Mapping[str, Any]:
    ratings = record.get("channels")
    return ratings if isinstance(ratings, Mapping) else {}


def _hours(record: Mapping[str, Any]) -> float:
    value = record.get("hours")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0.0
    return float(value)


def estimated_minutes(
    record: Mapping[str, Any], channel: str, planned_hours: Mapping[str, float]
) -> float:
    """The minutes ``channel`` took in a check-in's week, estimated.

    The week's hours are split among the channels rated that week by their planned hours
    (``planned_hours``; a channel missing there, or planned at nothing, weighs one hour).
    A channel not rated that week took none of them.
    """
    rated = [str(c) for c in _ratings(record)]
    if channel not in rated:
        return 0.0

    def weight(name: str) -> float:
        hours = planned_hours.get(name, 0.0)
        return hours if hours > 0 else 1.0

    share = weight(channel) / sum(weight(c) for c in rated)
    return _hours(record) * _MINUTES_PER_HOUR * share


def _by_own_numbers(
    channels: Sequence[ChannelResults], catalogue_order: Sequence[str]
) -> list[ChannelResults]:
    """Fewest minutes per result first; channels without a result last; ties keep the plan's
    order (the catalogue's)."""
    position = {channel: index for index, channel in enumerate(catalogue_order)}

    def key(item: ChannelResults) -> tuple[bool, float, int]:
        per_result = item.minutes_per_result
        return (per_result is None, per_result or 0.0, position.get(item.channel, len(position)))

    return sorted(channels, key=key)


def own_results(
    records: Sequence[Mapping[str, Any]],
    kept: Sequence[str],
    planned_hours: Mapping[str, float],
) -> OwnResults:
    """The kept channels' own numbers over the check-ins with results, and what decides.

    ``kept``: the plan's kept channels in the plan's order (the catalogue's data decided it);
    ``planned_hours``: hours a week per channel, for splitting a week's hours.
    """
    counted = [(r, marked) for r in records if (marked := recorded_results(r)) is not None]
    channels = []
    for channel in kept:
        rated = [(r, marked) for r, marked in counted if channel in _ratings(r)]
        channels.append(
            ChannelResults(
                channel=channel,
                weeks=len(rated),
                minutes=sum(estimated_minutes(r, channel, planned_hours) for r, _ in rated),
                results=sum(1 for _, marked in rated if channel in marked),
            )
        )
    total = sum(c.results for c in channels)
    if len(counted) < MIN_WEEKS:
        decider = Decider.FEW_WEEKS
    elif total < MIN_RESULTS:
        decider = Decider.FEW_RESULTS
    else:
        decider = Decider.OWN
    ordered = _by_own_numbers(channels, kept) if decider is Decider.OWN else channels
    return OwnResults(
        weeks=len(counted),
        results=total,
        channels=tuple(ordered),
        decided_by=decider,
        catalogue_order=tuple(kept),
    )
