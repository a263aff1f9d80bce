"""The review's look at the channels left out: each with the reason stored for it, still true?

Rows are the plan's dropped and profile-only channels (``options_from: plan_dropped``), rated
with the step's options; every row starts at the first ("still true"), so a plan whose reasons
all hold is confirmed with one tap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.coaching import FocusPlan
from bot.core.flow_model import Step
from bot.core.messages import Reply
from bot.core.questions.base import Asked, Report, Turn
from bot.core.questions.choices import ChannelGrid, grid_ratings

__all__ = ["ReasonGrid"]


def _reasons(asked: Asked) -> dict[str, dict[str, str | None]]:
    """Channel id -> its stored reason and, for the user's own choice, the channel chosen."""
    if asked.user.plan is None:
        return {}
    plan = FocusPlan.from_dict(asked.user.plan)
    catalogue, lang = asked.content.catalogue, asked.lang
    reasons: dict[str, dict[str, str | None]] = {}
    for dropped in plan.dropped:
        instead = dropped.replaced_by
        reasons[dropped.channel] = {
            "reason": str(dropped.reason),
            "instead": None if instead is None else catalogue.channel(instead).label[lang],
        }
    for profile in plan.profile_only:
        reasons[profile.channel] = {"reason": str(profile.reason), "instead": None}
    return reasons


class ReasonGrid(ChannelGrid):
    """One row per channel left out, its stored reason in the text, "still true" preset."""

    def check(self, step: Step, report: Report) -> None:
        """Rows from the channels left out, and at least two ratings to give them."""
        if step.options_from != "plan_dropped" or len(step.options) < 2:
            report("a reason_grid needs 'options_from: plan_dropped' and two or more 'options'")

    def enter(self, asked: Asked, turn: Turn) -> list[Reply]:
        """Every row at the first rating, unless the user rated them before."""
        previous: Mapping[str, str] = asked.answer or {}
        first = asked.step.options[0].id
        ratings = {cid: previous.get(cid, first) for cid, _ in asked.options}
        return turn.ask(selection=[f"{c}:{r}" for c, r in ratings.items()])

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """Each row with its stored reason as well as its rating."""
        rows = super().context(asked, shown)["grid"]
        reasons = _reasons(asked)
        for row, (cid, _) in zip(rows, asked.options, strict=True):
            row.update(reasons.get(cid, {"reason": "", "instead": None}))
        return {"grid": rows, "rated": grid_ratings(asked.selection)}
