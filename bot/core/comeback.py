"""The comeback offer after two or more missed weeks: a minimum viable week, never a reset.

The dispatcher sends it once per lapse on a fresh start (``bot.core.due_kinds``, ``Kind.COMEBACK``;
``bot.core.lapses``). It proposes the plan's main kept channel only, at its smallest weekly
rhythm, for the week up to the next check-in (``bot.core.light_week``); the plan and the history
stay as they are. The user starts that week, goes back to the normal plan, or pauses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.content import Content
from bot.core.focus_plan import FocusPlan
from bot.core.lapses import lapse
from bot.core.light_week import LightWeek, light_context, minimum_week, next_checkin_week
from bot.core.schedule import next_occurrence
from bot.core.state import UserState

__all__ = ["comeback_context", "proposal"]


def proposal(content: Content, user: UserState, now: datetime) -> LightWeek | None:
    """The minimum week offered now: the main kept channel until the next check-in."""
    if user.plan is None:
        return None
    zone = user.zone
    week = next_checkin_week(user.reminder, zone, now)
    return minimum_week(FocusPlan.from_dict(user.plan), content.catalogue, week)


def comeback_context(content: Content, user: UserState, now: datetime) -> dict[str, Any]:
    """What the offer shows: the weeks missed, the minimum week and when its check-in comes."""
    offered = proposal(content, user, now)
    reminder = user.reminder
    answered = {str(record.get("week")) for record in user.checkins}
    missed = 0 if reminder is None else lapse(reminder, answered, now).missed
    following = (
        None
        if reminder is None
        else next_occurrence(reminder.slot, now).astimezone(ZoneInfo(reminder.zone))
    )
    return {
        "missed": missed,
        "minimum": None
        if offered is None
        else light_context(content.catalogue, offered, user.lang),
        "next_checkin": following,
    }
