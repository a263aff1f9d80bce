"""The answers a flow must collect before the focus plan can be built, and their conversion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.coaching import PlanInput
from bot.core.flow_ids import NO_PRESSURE, TEAM

__all__ = ["PLAN_ANSWERS", "plan_input"]

# Answer names a flow with a plan step must save (the flow loader enforces it).
PLAN_ANSWERS = ("channels", "hours", "audiences", "goals", "team", "pressure")


def plan_input(answers: Mapping[str, Any]) -> PlanInput | None:
    """Build the plan's input from the answers; None while any of them is missing."""
    if any(name not in answers for name in PLAN_ANSWERS):
        return None
    pressure = answers["pressure"]
    return PlanInput(
        channels_used=tuple(answers["channels"]),
        hours=float(answers["hours"]),
        audiences=tuple(answers["audiences"]),
        goals=tuple(answers["goals"]),
        team=answers["team"] == TEAM,
        pressure=None if pressure == NO_PRESSURE else str(pressure),
    )
