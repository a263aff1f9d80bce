"""Steps that say something rather than ask: continue, the summary, the plan, a finish."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core import confirmations
from bot.core.callbacks import Action, ButtonToken
from bot.core.coaching import FocusPlan
from bot.core.exit_view import exits_context
from bot.core.flow_ids import checkin_setup_target, sunset_target
from bot.core.flow_model import Step
from bot.core.messages import Button, Reply
from bot.core.plan_view import plan_context
from bot.core.questions.base import Asked, QuestionKind, Report, Turn, in_rows

__all__ = ["Continue", "Finish", "PlanMenu", "Summary", "summary_rows"]


def summary_rows(asked: Asked, shown: Mapping[str, str]) -> list[dict[str, str]]:
    """One row per changeable answer of a summary step: its field name and the answer shown."""
    rows = []
    for step_id in asked.step.edits:
        save = asked.flow.step(step_id).save or ""
        rows.append(
            {
                "field": asked.label(f"field_{save}"),
                "value": shown.get(save, asked.label("answer_none")),
            }
        )
    return rows


class Continue(QuestionKind):
    """A statement with a "continue" button."""

    label_keys = ("continue",)

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """Just "continue"."""
        return [(asked.button(asked.label("continue"), Action.CONTINUE),)]

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """Go on."""
        return turn.advance() if token.action is Action.CONTINUE else None


class Summary(QuestionKind):
    """All answers listed, each changeable with one tap (``edits``), then on to the plan."""

    allows_edits = True
    label_keys = ("change", "show_plan", "answer_none")

    def check(self, step: Step, report: Report) -> None:
        """It must say which answers can be changed."""
        if not step.edits:
            report("a summary step needs 'edits': the steps whose answers can be changed")

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """The answers as rows."""
        return {"rows": summary_rows(asked, shown)}

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """One "change" button per answer, then "show me my plan"."""
        edits = [
            asked.button(
                asked.label("change", field=asked.label(f"field_{asked.flow.step(step_id).save}")),
                Action.EDIT,
                step_id,
            )
            for step_id in asked.step.edits
        ]
        return [*in_rows(edits), (asked.button(asked.label("show_plan"), Action.CONTINUE),)]

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """Change one answer, or go on."""
        if token.action is Action.CONTINUE:
            return turn.advance()
        if token.action is Action.EDIT and token.value in asked.step.edits:
            return turn.change(token.value)
        return None


def _side_flows(asked: Asked) -> dict[str, str]:
    """The side flows the plan menu offers this user: ``{target: button label}``.

    The weekly check-in set-up always; leaving gracefully when the plan drops a channel or
    keeps one as a profile only (no more posting there: its followers, bio and handle still
    need care). A
    button press may start only one of these: a forged target could enter a flow at its
    finish step and run its action on answers never given.
    """
    reminder = asked.user.reminder is not None
    offered = {
        checkin_setup_target(has_reminder=reminder): asked.label("setup_checkin", active=reminder)
    }
    plan = FocusPlan.from_dict(asked.user.plan) if asked.user.plan else None
    sunset = sunset_target(list(plan.left_behind) if plan else [])
    if sunset is not None:
        offered[sunset] = asked.label("leave_gracefully")
    return offered


class PlanMenu(QuestionKind):
    """The focus plan, then its menu: check-in, leaving gracefully, show again, change, restart."""

    ends_flow = True
    offers_back = False  # "change answers" is the way back
    shows_plan = True
    label_keys = (
        "setup_checkin",
        "leave_gracefully",
        "show_plan_again",
        "change_answers",
        "restart",
    )

    def enter(self, asked: Asked, turn: Turn) -> list[Reply]:
        """Build the plan from the answers and show it, the menu introduced in full."""
        return turn.present_plan(intro=True)

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """The plan, for a menu text that refers to it; ``intro`` asks for the full menu text."""
        plan = FocusPlan.from_dict(asked.user.plan) if asked.user.plan else None
        return {
            "plan": plan_context(asked.content, plan, asked.lang) if plan else None,
            "intro": False,
            # The tracked exits from channels the plan leaves out: how far each one is.
            "exits": []
            if asked.now is None
            else exits_context(asked.content, asked.user, asked.now),
        }

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """The menu under the plan."""
        flows = [
            (asked.button(label, Action.FLOW, target),)
            for target, label in _side_flows(asked).items()
        ]
        return [
            *flows,
            (asked.button(asked.label("show_plan_again"), Action.PLAN, "show"),),
            (
                asked.button(asked.label("change_answers"), Action.BACK),
                asked.button(asked.label("restart"), Action.PLAN, confirmations.RESTART),
            ),
        ]

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """Show the plan again, confirm a restart, or start a side flow the menu offers."""
        if token.action is Action.PLAN and token.value == "show":
            return turn.present_plan()
        if token.action is Action.PLAN and token.value == confirmations.RESTART:
            return turn.confirm(confirmations.RESTART)
        if token.action is Action.FLOW:
            if token.value not in _side_flows(asked):
                return None  # never a forged entry point (say, straight to a finish step)
            flow_id, _, step_id = token.value.partition(":")
            return turn.start_flow(flow_id, step_id or None)
        return None


class Finish(QuestionKind):
    """Ends a side flow: runs its ``action``, says the result, then ``then`` decides."""

    ends_flow = True
    allows_action = True
    offers_back = False
    waits = False

    def enter(self, asked: Asked, turn: Turn) -> list[Reply]:
        """Finish at once: nothing is asked here."""
        return turn.finish(asked.step)
