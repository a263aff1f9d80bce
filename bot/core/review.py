"""The quarterly review: the plan walked through with what was stored when it was made.

Twelve weeks after a plan version (or any time with /review) the coach asks again what the plan
rests on: the hours a week (against the hours the last twelve check-ins really took), each
channel left out with the reason stored for it ("still true?"), and the parked channels. Plain
functions; the ``review_plan`` action of the review flow turns the result into a plan version.

A channel whose reason "has changed" or a parked one the user picks is kept at what the buffer
holds (``plan_changes.add_channel``); one the buffer cannot hold stays out, and the coach says
so. New hours make the plan anew from the answers, keeping the user's own earlier choices
("TikTok instead of LinkedIn") where the new plan still allows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from statistics import fmean
from typing import Any, Final

from bot.core.coaching import PlanInput, build_plan
from bot.core.focus_plan import DropReason, FocusPlan
from bot.core.plan_changes import add_channel, apply_creep_choice
from bot.core.rules import Catalogue

__all__ = ["REVIEW_WEEKS", "RecentHours", "Reviewed", "recent_hours", "review"]

# A quarter: long enough for a plan to show what it does (a new channel takes months, domain.md
# 4.5), short enough that a plan that no longer fits does not run for half a year.
REVIEW_WEEKS: Final = 12


@dataclass(frozen=True)
class RecentHours:
    """The hours the last check-ins (at most ``REVIEW_WEEKS``) took: how many, on average."""

    weeks: int
    average: float
    planned: float  # the budget those weeks ran under, on average


def recent_hours(records: Sequence[Mapping[str, Any]]) -> RecentHours | None:
    """The real hours of the last twelve check-ins; None without any."""
    recent = records[-REVIEW_WEEKS:]
    if not recent:
        return None
    return RecentHours(
        weeks=len(recent),
        average=fmean(float(r.get("hours", 0.0)) for r in recent),
        planned=fmean(float(r.get("budget", 0.0)) for r in recent),
    )


@dataclass(frozen=True)
class Reviewed:
    """The plan after the review, the answers it now rests on, and what was added or not."""

    plan: FocusPlan
    inputs: PlanInput
    added: tuple[str, ...]
    no_room: tuple[str, ...]


def _rebuilt(plan: FocusPlan, inputs: PlanInput, catalogue: Catalogue) -> FocusPlan:
    """The plan made anew for new hours, with the user's earlier swaps where still possible."""
    rebuilt = build_plan(inputs, catalogue)
    for dropped in plan.dropped:
        if dropped.reason is DropReason.CHOICE and dropped.replaced_by is not None:
            swapped = apply_creep_choice(
                rebuilt, inputs, catalogue, dropped.replaced_by, dropped.channel
            )
            rebuilt = swapped or rebuilt
    return rebuilt


def review(
    plan: FocusPlan,
    inputs: PlanInput,
    catalogue: Catalogue,
    *,
    hours: float,
    changed: Sequence[str],
    wanted: Sequence[str],
) -> Reviewed:
    """The plan after the review: ``hours`` a week, ``changed`` reasons, ``wanted`` parked ones."""
    new_inputs = replace(inputs, hours=float(hours))
    current = plan if new_inputs == inputs else _rebuilt(plan, new_inputs, catalogue)
    added: list[str] = []
    no_room: list[str] = []
    for channel in dict.fromkeys([*changed, *wanted]):
        if any(k.channel == channel for k in current.kept):
            continue  # new hours made room for it already
        grown = add_channel(current, new_inputs, catalogue, channel)
        if grown is None:
            no_room.append(channel)
        else:
            current = grown
            added.append(channel)
    return Reviewed(current, new_inputs, tuple(added), tuple(no_room))
