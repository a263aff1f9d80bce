"""A light week: one week at a smaller rhythm, after a lapse (``bot.core.lapses``).

Two ways lead to one, both for the week of the next check-in:

- the comeback offer after two or more missed weeks: the *minimum viable week*, the plan's main
  kept channel only (its first), at its smallest weekly rhythm;
- the softer check-in after one missed week, answered "too much on" or "the plan was too big":
  every kept channel at its smallest weekly rhythm, for one week.

The smallest weekly rhythm of a channel is one unit (a post, a video ...) plus the least reply
time a reduced rhythm keeps (``scoring.min_reply_minutes``), never more than the plan gives it.
The plan itself stays as it is: a light week is a new chapter, not a reset. Its check-in rates
only its channels and judges the week against its budget (the record carries both).

Stored as the document's ``"light_week"``: ``{"week", "channels", "budget", "why"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from bot.core.checkin_schedule import Reminder
from bot.core.content import Content
from bot.core.flow_ids import IN_THE_WAY_TOO_BIG, IN_THE_WAY_TOO_MUCH
from bot.core.focus_plan import FocusPlan, KeptChannel
from bot.core.rules import Catalogue
from bot.core.schedule import local_week_key, next_occurrence
from bot.core.state import UserState

__all__ = [
    "LIGHT_WEEK",
    "WHY",
    "LightWeek",
    "coming_light_week",
    "light_context",
    "light_week_of",
    "lighter_week",
    "minimum_week",
    "next_checkin_week",
    "smallest_weekly_hours",
]

LIGHT_WEEK: Final = "light_week"  # the document key
COMEBACK: Final = "comeback"  # the minimum viable week of a comeback offer
TOO_MUCH: Final = IN_THE_WAY_TOO_MUCH  # "what got in the way?": too much on
TOO_BIG: Final = IN_THE_WAY_TOO_BIG  # "what got in the way?": the plan was too big
WHY: Final = frozenset({COMEBACK, TOO_MUCH, TOO_BIG})
_HOURS_PRECISION = 2


@dataclass(frozen=True)
class LightWeek:
    """One week at a smaller rhythm: which week, which channels, its budget, and why."""

    week: str
    channels: tuple[str, ...]
    budget: float
    why: str

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "week": self.week,
            "channels": list(self.channels),
            "budget": self.budget,
            "why": self.why,
        }

    @classmethod
    def from_document(cls, raw: object) -> LightWeek | None:
        """Read the stored form; None for none or anything malformed (it is one week's help)."""
        if not isinstance(raw, dict):
            return None
        week, channels, budget, why = (
            raw.get("week"),
            raw.get("channels"),
            raw.get("budget"),
            raw.get("why"),
        )
        if (
            not isinstance(week, str)
            or not isinstance(channels, list)
            or not channels
            or not all(isinstance(channel, str) for channel in channels)
            or isinstance(budget, bool)
            or not isinstance(budget, int | float)
            or budget < 0
            or why not in WHY
        ):
            return None
        return cls(week, tuple(channels), float(budget), str(why))

    def narrow(self, plan: dict[str, Any]) -> dict[str, Any]:
        """``plan`` (stored form) keeping only this week's channels: what its check-in rates."""
        kept = [entry for entry in plan.get("kept", []) if entry.get("channel") in self.channels]
        return {**plan, "kept": kept} if kept else plan


def light_week_of(stored: object, week: str | None) -> LightWeek | None:
    """The stored light week if it is ``week``'s, else None."""
    light = LightWeek.from_document(stored)
    return light if light is not None and week is not None and light.week == week else None


def light_context(catalogue: Catalogue, light: LightWeek, lang: str) -> dict[str, Any]:
    """A light week as templates show it: week number, channel names, budget, why, and the
    smallest rhythm of a single channel (its unit and reply minutes) to name it."""
    first = catalogue.channel(light.channels[0])
    return {
        "week": light.week,
        "week_number": int(light.week.split("-W")[1]),
        "channels": [catalogue.channel(channel).label[lang] for channel in light.channels],
        "budget": light.budget,
        "why": light.why,
        "unit": first.effort.unit,
        "reply_minutes": int(catalogue.scoring.min_reply_minutes),
    }


def coming_light_week(content: Content, user: UserState, now: datetime) -> dict[str, Any] | None:
    """The stored light week if it is this week's or a coming one's and not checked in yet, as
    templates show it."""
    light = LightWeek.from_document(user.light_week)
    zone = user.zone
    if (
        light is None
        or light.week < local_week_key(now, zone)
        or any(record.get("week") == light.week for record in user.checkins)
    ):
        return None
    return light_context(content.catalogue, light, user.lang)


def smallest_weekly_hours(kept: KeptChannel, catalogue: Catalogue) -> float:
    """One unit of ``kept`` this week plus the least reply time, at most its planned hours."""
    effort = catalogue.channel(kept.channel).effort
    minutes = effort.minutes_per_unit + catalogue.scoring.min_reply_minutes
    return round(min(kept.hours, minutes / 60), _HOURS_PRECISION)


def minimum_week(plan: FocusPlan, catalogue: Catalogue, week: str) -> LightWeek | None:
    """The minimum viable week: the main kept channel only, at its smallest rhythm."""
    if not plan.kept:
        return None
    main = plan.kept[0]
    return LightWeek(week, (main.channel,), smallest_weekly_hours(main, catalogue), COMEBACK)


def lighter_week(plan: FocusPlan, catalogue: Catalogue, week: str, why: str) -> LightWeek | None:
    """One lighter week: every kept channel at its smallest rhythm."""
    if not plan.kept:
        return None
    hours = sum(smallest_weekly_hours(kept, catalogue) for kept in plan.kept)
    channels = tuple(kept.channel for kept in plan.kept)
    return LightWeek(week, channels, round(hours, _HOURS_PRECISION), why)


def next_checkin_week(reminder: Reminder | None, zone: str, now: datetime, after: str = "") -> str:
    """The week of the next check-in after ``now`` that is later than the week ``after``.

    Without a weekly check-in: the calendar week after ``after`` (a week later than now).
    """
    if reminder is None:
        week = local_week_key(now, zone)
        return week if week > after else local_week_key(now + timedelta(weeks=1), zone)
    instant = next_occurrence(reminder.slot, now)
    week = local_week_key(instant, reminder.zone)
    while week <= after:
        instant = next_occurrence(reminder.slot, instant)
        week = local_week_key(instant, reminder.zone)
    return week
