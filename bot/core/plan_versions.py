"""The plan's versions: the current plan with when and why it was made, and the ones before it.

A plan is made from the onboarding answers and then lives: a check-in decision (a dropped
channel that came back stays) or a review changes it. Each change is a new version with its
instant, its reason and what was decided (``detail``); the plan it replaces is kept in
``UserState.previous_plans``, so /history can say when the plan changed and why and /export can
hand over every version.

The current plan is reused while the answers it was made from stay the same: showing /plan again
must not undo what a check-in changed. New answers (the user changed them) make a new plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any, Final

from bot.core.coaching import PlanInput, build_plan
from bot.core.content import Content
from bot.core.focus_plan import FocusPlan, PlanChange
from bot.core.plan_answers import plan_input
from bot.core.state import UserState

__all__ = [
    "MAX_PREVIOUS_PLANS",
    "PlanChange",
    "adopt",
    "current_plan",
    "inputs_record",
    "plan_summary",
    "set_aside",
    "versions",
]

# Plans change a few times a year (a check-in decision, a quarterly review): 24 versions are
# years of history, and keep the document (read on every message) small.
MAX_PREVIOUS_PLANS: Final = 24


def inputs_record(inputs: PlanInput) -> dict[str, Any]:
    """The answers a plan was made from, in their stored (JSON) form."""
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in asdict(inputs).items()
    }


def _info(user: UserState) -> dict[str, Any]:
    """The current plan's version, date, reason and detail (a plan older than versions: 1)."""
    info = user.plan_info or {}
    return {
        "version": int(info.get("version", 1)),
        "made_at": info.get("made_at"),
        "reason": info.get("reason", PlanChange.FIRST.value),
        "detail": dict(info.get("detail", {})),
    }


def _archive(user: UserState) -> None:
    """Keep the current plan as the newest previous version (the oldest beyond the cap go)."""
    if user.plan is not None:
        archived = {**_info(user), "plan": user.plan}
        user.previous_plans = [*user.previous_plans, archived][-MAX_PREVIOUS_PLANS:]


def adopt(
    user: UserState,
    plan: FocusPlan,
    *,
    reason: PlanChange,
    now: datetime,
    inputs: PlanInput | None,
    detail: Mapping[str, str] | None = None,
) -> None:
    """Make ``plan`` the user's current plan; the one it replaces becomes a previous version."""
    _archive(user)
    latest = max((int(p["version"]) for p in user.previous_plans), default=0)
    user.plan = plan.to_dict()
    user.plan_info = {
        "version": latest + 1,
        "made_at": UserState.now_iso(now),
        "reason": reason.value,
        "detail": dict(detail or {}),
        "inputs": None if inputs is None else inputs_record(inputs),
    }


def set_aside(user: UserState) -> None:
    """Start over: the current plan becomes a previous version and there is none until the next."""
    _archive(user)
    user.plan = None
    user.plan_info = None


def current_plan(user: UserState, content: Content, now: datetime) -> FocusPlan | None:
    """The user's plan: the stored one while its answers hold, else a new version from them.

    None while the onboarding answers a plan needs are incomplete.
    """
    onboarding = user.onboarding()
    inputs = plan_input(onboarding.answers) if onboarding is not None else None
    if inputs is None:
        return None
    info = user.plan_info or {}
    if user.plan is not None and info.get("inputs") == inputs_record(inputs):
        return FocusPlan.from_dict(user.plan)
    plan = build_plan(inputs, content.catalogue)
    first = user.plan is None and not user.previous_plans
    adopt(
        user,
        plan,
        reason=PlanChange.FIRST if first else PlanChange.ANSWERS,
        now=now,
        inputs=inputs,
    )
    return plan


def plan_summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """A stored plan as the export lists it: kept (with hours), profile only, dropped, parked."""
    parsed = FocusPlan.from_dict(plan)
    return {
        "capacity": parsed.capacity,
        "hours_planned": round(parsed.hours_planned, 2),
        "kept": [{"channel": k.channel, "hours": round(k.hours, 2)} for k in parsed.kept],
        "profile_only": [
            {"channel": p.channel, "reason": p.reason.value} for p in parsed.profile_only
        ],
        "dropped": [{"channel": d.channel, "reason": d.reason.value} for d in parsed.dropped],
        "parked": [{"channel": p.channel, "reason": p.reason.value} for p in parsed.parked],
    }


def versions(user: UserState) -> list[dict[str, Any]]:
    """Every plan version, oldest first, the current one last: when, why, and the plan."""
    entries = [
        {key: value for key, value in previous.items() if key != "plan"}
        | {"current": False, **plan_summary(previous["plan"])}
        for previous in user.previous_plans
    ]
    if user.plan is not None:
        entries.append({**_info(user), "current": True, **plan_summary(user.plan)})
    return entries
