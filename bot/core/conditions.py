"""The names a flow's conditions see (``next`` rules, ``skip_when``, options' ``when``).

- ``answers``: the answers of the running flow so far;
- ``plan``: the user's focus plan (its stored form), or None;
- ``last_checkin``: the latest check-in before the week being checked in, or None (so the
  check-in can first ask whether last week's if-then plan worked);
- ``make_up``: in a make-up week, the missed week it makes up and its extra action, or None;
- ``contract``: the streak contract (``contract_view.contract_context``): jokers left, the
  week that can be covered, the repair under way;
- ``lapse``: the weeks missed in a row before the week being checked in (``missed``, a count,
  and ``weeks``; ``bot.core.lapses``), so the check-in after a missed week can be softer.
- ``exit_due``: whether a step of a tracked exit is due (the check-in asks about it only then);
- ``exit_started``: whether the channel being left (the sunset flow's) has a tracked exit.

One place, so the engine and ``focus-coach check`` evaluate conditions over the same names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.actions import checkin_week
from bot.core.coaching import FocusPlan
from bot.core.contract_view import LazyContract
from bot.core.exit_view import due_exit_steps, left_out
from bot.core.lapses import lapse
from bot.core.state import UserState
from bot.core.sunset_view import chosen_channel

__all__ = ["condition_names", "lapse_before", "make_up", "previous_checkin"]

_RECORD_DEFAULTS: dict[str, Any] = {
    "intention": None,
    "intention_kept": None,
    "obstacle": None,
    "win": None,
}


def previous_checkin(user: UserState, now: datetime | None) -> dict[str, Any] | None:
    """The latest check-in for a week before the one a check-in now is about.

    Without ``now`` (a question read, not asked), the latest check-in.
    """
    if now is None:
        earlier = user.checkins
    else:
        week = checkin_week(user, now)
        earlier = [record for record in user.checkins if str(record["week"]) < week]
    # Check-ins stored before if-then plans existed read as having none.
    return {**_RECORD_DEFAULTS, **earlier[-1]} if earlier else None


def lapse_before(user: UserState, now: datetime | None) -> dict[str, Any]:
    """The weeks missed in a row before the week a check-in now is about (none without ``now``
    or a weekly check-in)."""
    if user.reminder is None or now is None:
        return {"missed": 0, "weeks": []}
    answered = {str(record.get("week")) for record in user.checkins}
    found = lapse(user.reminder, answered, now, before=checkin_week(user, now))
    return {"missed": found.missed, "weeks": list(found.weeks)}


def condition_names(
    user: UserState, answers: Mapping[str, Any], now: datetime | None
) -> dict[str, Any]:
    """What a condition of the running flow may read."""
    return {
        "answers": answers,
        "plan": user.plan,
        "last_checkin": previous_checkin(user, now),
        "contract": LazyContract(user, now),
        "make_up": make_up(user, now),
        "lapse": lapse_before(user, now),
        "exit_due": _exit_due(user, now),
        "exit_started": _exit_started(user, answers),
    }


def make_up(user: UserState, now: datetime | None) -> dict[str, Any] | None:
    """The repair the week being checked in makes up, while its extra action is unanswered."""
    if now is None:
        return None
    repair = user.contract.repair_by(checkin_week(user, now))
    if repair is None or repair.done is not None:
        return None
    return {"week_number": int(repair.week.partition("-W")[2]), "action": repair.action}


def _exit_started(user: UserState, answers: Mapping[str, Any]) -> bool:
    """The channel being left (``sunset_view.chosen_channel``) has an exit already."""
    if not user.exits:
        return False  # the usual case, asked at every condition: no plan to read
    plan = FocusPlan.from_dict(user.plan) if user.plan else None
    return chosen_channel(plan, answers) in user.exits


def _exit_due(user: UserState, now: datetime | None) -> bool:
    """A step of an exit is due; without ``now`` (a question read), any step still open."""
    if not user.exits:
        return False
    if now is not None:
        return bool(due_exit_steps(user, now))
    still_left = left_out(user)
    return any(not found.finished for ch, found in user.exits.items() if ch in still_left)
