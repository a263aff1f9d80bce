"""One in, one out: the check-in question after a dropped channel came back, and the review's
question after the reason for leaving one out has changed.

Every button says what will happen to the plan ("Instagram stays, LinkedIn goes"), never a bare
channel name; ``bot.core.plan_changes`` works out the choices and ``actions.record_checkin``
applies the one taken as a new plan version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bot.core.coaching import FocusPlan
from bot.core.cool_off import COOL_OFF
from bot.core.cool_off_view import left_out
from bot.core.flow_ids import CREEP_ANSWER, REASON_CHANGED, REVIEW_FLOW, REVIEW_REASONS
from bot.core.flow_model import Step
from bot.core.plan_answers import plan_input
from bot.core.plan_changes import DROP_AGAIN, CreepChoice, creep_choices
from bot.core.questions.base import Asked, Report
from bot.core.questions.choices import SingleChoice

__all__ = ["CreepDecision"]


def _changed(asked: Asked) -> list[str]:
    """In a review: the channels left out whose stored reason "has changed", in order."""
    reasons = asked.dialogue.answers.get(REVIEW_REASONS)
    if asked.flow.id != REVIEW_FLOW or not isinstance(reasons, dict):
        return []
    return [channel for channel, rating in reasons.items() if rating == REASON_CHANGED]


def _returning(asked: Asked) -> str | None:
    """The channel to decide on: the one that came back (a check-in), or in a review the first
    one whose reason has changed (one in, one out: one at a time)."""
    if asked.flow.id == REVIEW_FLOW:
        return next(iter(_changed(asked)), None)
    channel = asked.dialogue.answers.get(CREEP_ANSWER)
    return channel if isinstance(channel, str) else None


def _choices(asked: Asked) -> tuple[str | None, list[CreepChoice]]:
    """The channel that came back, and what the user may decide about it."""
    channel = _returning(asked)
    onboarding = asked.user.onboarding()
    inputs = plan_input(onboarding.answers) if onboarding is not None else None
    if not isinstance(channel, str) or asked.user.plan is None or inputs is None:
        return None, []
    plan = FocusPlan.from_dict(asked.user.plan)
    try:
        return channel, creep_choices(plan, inputs, asked.content.catalogue, channel)
    except KeyError:  # a channel the catalogue no longer has: nothing to decide
        return None, []


def _labelled(asked: Asked, *, short: bool) -> list[tuple[str, str]]:
    """``(id, label)`` of each choice; ``short``: short names ("X/Twitter"), short wording."""
    channel, choices = _choices(asked)
    if channel is None:
        return []
    lang, catalogue = asked.lang, asked.content.catalogue

    def name(channel_id: str) -> str:
        named = catalogue.channel(channel_id)
        return (named.short or named.label)[lang] if short else named.label[lang]

    suffix = "_short" if short else ""
    back, options = name(channel), []
    for choice in choices:
        if choice.id == DROP_AGAIN:
            stays_out = "review_keep_out" if asked.flow.id == REVIEW_FLOW else "audit_drop_again"
            label = asked.label(stays_out, channel=back)
        else:
            label = asked.label(f"audit_swap{suffix}", channel=back, gives_way=name(choice.id))
        options.append((choice.id, label))
    return options


class CreepDecision(SingleChoice):
    """The choices for the channel saved as ``creep``: it goes again, takes the buffer, swaps."""

    label_keys: ClassVar[tuple[str, ...]] = (
        "audit_drop_again",
        "review_keep_out",
        "audit_buffer",  # no longer offered: the history of older plan versions says it
        "audit_swap",
        "audit_swap_short",
        "chosen",
        "answer_none",
    )

    def check(self, step: Step, report: Report) -> None:
        """The choices come from the plan; the step lists none of its own."""
        if step.options or step.options_from:
            report("a creep_decision step takes its choices from the plan: no 'options'")

    def options(self, asked: Asked) -> list[tuple[str, str]]:
        """``(id, label)`` of each choice, the label saying what happens."""
        return _labelled(asked, short=False)

    def short_caption(self, asked: Asked, option_id: str) -> str:
        """The choice with short channel names and the short wording, for a narrow row."""
        return dict(_labelled(asked, short=True)).get(option_id, "")

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """Why the plan left the channel out (with its sources), and how long a change that
        brings it back waits."""
        channel, _ = _choices(asked)
        reason = None
        if channel is not None and asked.user.plan is not None:
            plan = FocusPlan.from_dict(asked.user.plan)
            reason = left_out(asked.content, plan, channel, asked.lang)
        return {
            "channel": None
            if channel is None
            else asked.content.catalogue.channel_name(channel, asked.lang),
            "left_out": reason,
            "cool_off_days": COOL_OFF.days,
            # In a review, further channels whose reason changed: one comes back at a time.
            "others": [
                asked.content.catalogue.channel_name(other, asked.lang)
                for other in _changed(asked)[1:]
            ],
        }

    def sample(self, asked: Asked) -> Any:
        """The last choice (a kept channel gives way: the plan changes), else going again."""
        return self.options(asked)[-1][0] if self.options(asked) else DROP_AGAIN
