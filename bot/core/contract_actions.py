"""What the user does with the streak contract: declare a joker, use one, start a repair.

The rules flow's finish steps run these by name (``actions.ACTIONS``); the reminder's "skip
this week" declares a joker through ``skip_with_joker``. Each checks the ledger first, so a
stale button or a forged answer cannot spend a third joker in a quarter or cover a week twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from bot.core.contract_view import contract_context, ledger_of
from bot.core.state import UserState
from bot.core.streak_contract import JokerHow, Repair
from bot.core.week_ledger import week_after

if TYPE_CHECKING:
    from bot.core.actions import ActionContext

__all__ = [
    "CONTRACT_ACTIONS",
    "MAKE_UP_ANSWER",
    "declare_joker",
    "skip_with_joker",
    "start_repair",
    "use_joker",
]

# The rules flow's answer holding the make-up week's extra action.
MAKE_UP_ANSWER: Final = "make_up_action"


def _number(week: str) -> int:
    return int(week.partition("-W")[2])


def declare_joker(ctx: ActionContext) -> dict[str, Any]:
    """Next week is a joker week, if a joker is left in its quarter."""
    ledger = ledger_of(ctx.user, ctx.now)
    week = week_after(ledger.current)
    done = ledger.can_declare(week)
    if done:
        ctx.user.contract = ctx.user.contract.with_joker(week, JokerHow.DECLARED)
    return {"done": done, "week_number": _number(week), **_after(ctx)}


def use_joker(ctx: ActionContext) -> dict[str, Any]:
    """The missed week that can still be covered becomes a joker week, if one is left."""
    ledger = ledger_of(ctx.user, ctx.now)
    missed = ledger.uncovered
    done = missed is not None and ledger.can_use_joker(missed.week)
    if missed is not None and done:
        ctx.user.contract = ctx.user.contract.with_joker(missed.week, JokerHow.USED)
    return {"done": done, "week_number": None if missed is None else missed.number, **_after(ctx)}


def start_repair(ctx: ActionContext) -> dict[str, Any]:
    """The missed week that can still be covered is made up by the next week plus an action."""
    ledger = ledger_of(ctx.user, ctx.now)
    missed = ledger.uncovered
    action = str(ctx.answers.get(MAKE_UP_ANSWER) or "").strip()
    if missed is None or not action:
        return {"done": False, "week_number": None, **_after(ctx)}
    by = ledger.make_up_week()
    ctx.user.contract = ctx.user.contract.with_repair(Repair(missed.week, by, action))
    return {
        "done": True,
        "week_number": missed.number,
        "by": _number(by),
        "action": action,
        **_after(ctx),
    }


def _after(ctx: ActionContext) -> dict[str, Any]:
    """The contract as it stands after the action, for the finish text."""
    return {"contract": contract_context(ctx.user, ctx.now)}


def skip_with_joker(user: UserState, week: str, now: datetime) -> bool:
    """The reminder's "skip this week": a declared joker when one is left, else a miss."""
    ledger = ledger_of(user, now)
    if user.contract.joker(week) is not None:
        return True
    if week in ledger.on_plan_weeks or ledger.jokers_left(week) == 0:
        return False
    user.contract = user.contract.with_joker(week, JokerHow.DECLARED)
    return True


CONTRACT_ACTIONS: Final = {
    "declare_joker": declare_joker,
    "use_joker": use_joker,
    "start_repair": start_repair,
}
