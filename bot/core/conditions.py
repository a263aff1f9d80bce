"""The names a flow's conditions see (``next`` rules, ``skip_when``, options' ``when``).

- ``answers``: the answers of the running flow so far;
- ``plan``: the user's focus plan (its stored form), or None;
- ``last_checkin``: the latest check-in before the week being checked in, or None (so the
  check-in can first ask whether last week's if-then plan worked).

One place, so the engine and ``focus-coach check`` evaluate conditions over the same names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.actions import checkin_week
from bot.core.state import UserState

__all__ = ["condition_names", "previous_checkin"]

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


def condition_names(
    user: UserState, answers: Mapping[str, Any], now: datetime | None
) -> dict[str, Any]:
    """What a condition of the running flow may read."""
    return {
        "answers": answers,
        "plan": user.plan,
        "last_checkin": previous_checkin(user, now),
    }
