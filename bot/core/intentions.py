"""If-then plans for next week (implementation intentions), each built from an obstacle.

An if-then plan names a cue and the action it triggers. Across 94 tests it raised goal
attainment by d = .65 (GS06); a later meta-analysis of 642 tests found larger effects with the
*contingent* format ("if <the obstacle shows up>, then <what I do instead>") and with plans
that are rehearsed (Sheeran, Listrom & Gollwitzer 2024; domain.md 4.1). Mental contrasting
(WOOP/MCII) asks first what will most likely get in the way. So the check-in asks for the
obstacle, builds one contingent plan from it and the user's plan, and has the user confirm it
once more (tap or type).

The obstacles are the ones this coaching meets: no time, it slips my mind, no idea what to
post, a dropped channel tempts (named, when the plan has one), low energy; or a typed one. The
words are labels (``obstacle_<id>`` the button, ``obstacle_<id>_text`` the obstacle as stored,
``intention_<id>`` the plan); which obstacles fit and what each plan needs is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from bot.core.checkin_schedule import Reminder
from bot.core.focus_plan import FocusPlan

__all__ = [
    "LABEL_KEYS",
    "OBSTACLE_IDS",
    "TEMPTED",
    "TYPED",
    "Obstacle",
    "Suggestion",
    "contingent_plan",
    "obstacles",
]

TEMPTED: Final = "tempted"
OBSTACLE_IDS: Final = ("no_time", "forget", "no_idea", TEMPTED, "low_energy")
# A typed obstacle has no id of its own; its plan is built from this one.
TYPED: Final = "typed"
LABEL_KEYS: Final = (
    *(f"obstacle_{oid}" for oid in OBSTACLE_IDS),
    *(f"obstacle_{oid}_text" for oid in OBSTACLE_IDS),
    *(f"intention_{oid}" for oid in (*OBSTACLE_IDS, TYPED)),
)
# Without a weekly check-in, the cue day is Monday morning: the start of the working week.
_DEFAULT_WEEKDAY, _DEFAULT_TIME = 0, "09:00"
_SATURDAY = 5


@dataclass(frozen=True)
class Obstacle:
    """What may get in the way next week: its id and what its labels need (a channel id)."""

    id: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suggestion:
    """One if-then plan: the obstacle it answers, and what its label needs (the kept channel
    the action is for, the cue's weekday and time, a dropped channel)."""

    id: str
    channel: str
    values: dict[str, Any] = field(default_factory=dict)


def _cue_day(reminder: Reminder | None) -> tuple[int, str]:
    """The working day after the check-in, at the check-in's time (a time the user has)."""
    if reminder is None:
        return _DEFAULT_WEEKDAY, _DEFAULT_TIME
    day = (reminder.weekday + 1) % 7
    return (_DEFAULT_WEEKDAY if day >= _SATURDAY else day), reminder.time


def _temptation(plan: FocusPlan, tempting: str | None) -> str | None:
    """The dropped channel most likely to tempt: the one that came back, else the first."""
    focus = plan.kept[0].channel if plan.kept else None
    left = [c for c in plan.left_behind if c != focus]
    return tempting if tempting in left else (left[0] if left else None)


def obstacles(plan: FocusPlan, tempting: str | None) -> list[Obstacle]:
    """The obstacles to offer for ``plan``; ``tempting``: a dropped channel that came back.

    None without a kept channel: there is no action to plan then.
    """
    if not plan.kept:
        return []
    temptation = _temptation(plan, tempting)
    return [
        Obstacle(oid, {"dropped": temptation} if oid == TEMPTED else {})
        for oid in OBSTACLE_IDS
        if oid != TEMPTED or temptation is not None
    ]


def contingent_plan(
    obstacle: str, plan: FocusPlan, reminder: Reminder | None, tempting: str | None
) -> Suggestion | None:
    """The if-then plan that answers ``obstacle`` (an id, or ``TYPED``) with the first kept
    channel: the cue is the obstacle showing up, the action a concrete step from the plan."""
    if not plan.kept or obstacle not in (*OBSTACLE_IDS, TYPED):
        return None
    focus = plan.kept[0].channel
    weekday, time = _cue_day(reminder)
    values: dict[str, Any] = {"weekday": weekday, "time": time}
    if obstacle == TEMPTED:
        temptation = _temptation(plan, tempting)
        if temptation is None:
            return None
        values["dropped"] = temptation
    return Suggestion(obstacle, focus, values)
