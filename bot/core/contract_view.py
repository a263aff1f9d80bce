"""The streak contract of one user: their ledger, and what texts and flow conditions read of it.

``ledger_of`` builds the user's ``week_ledger.Ledger`` from their state; ``contract_context``
turns it into plain data for the /rules text, the check-in feedback, /history, the reminder and
the conditions of the rules flow (which joker or repair to offer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.core.focus_plan import hours_planned_of
from bot.core.state import UserState
from bot.core.week_ledger import (
    JOKERS_PER_QUARTER,
    SCORE_WEEKS,
    Ledger,
    Outcome,
    build_ledger,
    jokers_left_at,
    open_last_week,
    quarter_of,
    week_after,
)

__all__ = [
    "LazyContract",
    "contract_context",
    "jokers_left_of",
    "ledger_of",
    "open_last_week_of",
]


T = TypeVar("T")


def _budget(user: UserState) -> float:
    """The weekly hours the user's plan asks for, against which their weeks are judged."""
    return hours_planned_of(user.plan) if user.plan else 0.0


def _judged(of_weeks: Callable[..., T], user: UserState, now: datetime) -> T:
    """``of_weeks`` (``build_ledger`` or one of its shortcuts) over the user's weeks at ``now``."""
    return of_weeks(
        user.checkins,
        user.contract,
        reminder=user.reminder,
        zone=user.zone,
        now=now,
        budget=_budget(user),
    )


def ledger_of(user: UserState, now: datetime) -> Ledger:
    """The user's weeks at ``now``, judged against their plan's budget."""
    return _judged(build_ledger, user, now)


def jokers_left_of(user: UserState, now: datetime) -> int:
    """``ledger_of(user, now).jokers_left()`` without judging every week."""
    return _judged(jokers_left_at, user, now)


def open_last_week_of(user: UserState, now: datetime) -> str | None:
    """Last week while it can still be logged late (``week_ledger.open_last_week``)."""
    return _judged(open_last_week, user, now)


def _number(week: str) -> int:
    return int(week.partition("-W")[2])


def contract_context(user: UserState, now: datetime | None) -> dict[str, Any]:
    """The contract as templates and conditions read it (nothing to offer without ``now``)."""
    if now is None:
        return _EMPTY
    ledger = ledger_of(user, now)
    zone = ZoneInfo(user.zone)
    on_plan, counted = ledger.score
    following = week_after(ledger.current)
    open_week, uncovered, repairing = ledger.open_week, ledger.uncovered, ledger.repairing
    quarter = quarter_of(ledger.current)
    return {
        "streak": ledger.streak,
        "on_plan": on_plan,
        "counted": counted,
        "score_weeks": SCORE_WEEKS,
        "jokers_per_quarter": JOKERS_PER_QUARTER,
        "jokers_left": ledger.jokers_left(),
        "quarter": quarter.partition("-")[2],
        "joker_weeks": [
            _number(joker.week)
            for joker in user.contract.jokers
            if quarter_of(joker.week) == quarter and joker.week not in ledger.on_plan_weeks
        ],
        "next_week": _number(following),
        "can_declare_next": ledger.can_declare(following),
        "declared_next": user.contract.joker(following) is not None,
        "open": None
        if open_week is None
        else {
            "week_number": open_week.number,
            "until": open_week.closes.astimezone(zone),
            "this_week": open_week.week == ledger.current,
        },
        "uncovered": None
        if uncovered is None
        else {
            "week_number": uncovered.number,
            "can_joker": ledger.can_use_joker(uncovered.week),
            "make_up_week": _number(ledger.make_up_week()),
        },
        "repairing": None
        if repairing is None or repairing.repair is None
        else {
            "week_number": repairing.number,
            "by": _number(repairing.repair.by),
            "action": repairing.repair.action,
            "due_now": repairing.repair.by == ledger.current,
        },
        # The recent weeks without a check-in of their own (or covered by a joker), newest
        # first: /history lists them beside the check-ins.
        "gaps": [
            {"week_number": week.number, "outcome": str(week.outcome)}
            for week in reversed(ledger.weeks[-SCORE_WEEKS:])
            if week.outcome in _GAPS
        ],
        "missed_recent": sum(
            1 for week in ledger.weeks[-SCORE_WEEKS:] if week.outcome is Outcome.MISSED
        ),
    }


_EMPTY: dict[str, Any] = {
    "streak": 0,
    "on_plan": 0,
    "counted": 0,
    "score_weeks": SCORE_WEEKS,
    "jokers_per_quarter": JOKERS_PER_QUARTER,
    "jokers_left": JOKERS_PER_QUARTER,
    "quarter": "Q1",
    "joker_weeks": [],
    "next_week": 1,
    "can_declare_next": False,
    "declared_next": False,
    "open": None,
    "uncovered": None,
    "repairing": None,
    "gaps": [],
    "missed_recent": 0,
}
_GAPS = frozenset(
    {
        Outcome.JOKER,
        Outcome.REPAIRED,
        Outcome.REPAIRING,
        Outcome.PAUSED,
        Outcome.OPEN,
        Outcome.MISSED,
    }
)


class LazyContract(Mapping[str, Any]):
    """``contract_context`` worked out on first use: most conditions and most questions never
    read it, and building the ledger for every condition and every question shown is waste.

    ``jokers_left``, which every weekly reminder reads, is worked out on its own (judging this
    quarter's joker weeks only) until something needs the whole ledger.
    """

    def __init__(self, user: UserState, now: datetime | None) -> None:
        self._user, self._now = user, now
        self._context: dict[str, Any] | None = None
        self._jokers_left: int | None = None

    def _read(self) -> dict[str, Any]:
        if self._context is None:
            self._context = contract_context(self._user, self._now)
        return self._context

    def __getitem__(self, key: str) -> Any:
        if key == "jokers_left" and self._context is None and self._now is not None:
            if self._jokers_left is None:
                self._jokers_left = jokers_left_of(self._user, self._now)
            return self._jokers_left
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())
