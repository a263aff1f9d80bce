"""The if-then plan for next week: a suggestion tapped, one typed, or skipped.

Suggestions come from ``bot.core.intentions`` for the plan as it will be next week (after a
decision about a channel that came back, taken in this very check-in). The answer saved is the
sentence itself, so next week's check-in can quote it even if the plan changed since. A fixed
option (``options`` in the flow, e.g. "note a win first") is saved as its id and routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bot.core.callbacks import Action, ButtonToken
from bot.core.coaching import FocusPlan
from bot.core.flow_ids import (
    CREEP_ANSWER,
    DECISION_ANSWER,
    IN_THE_WAY_ANSWER,
    IN_THE_WAY_FORGOT,
    NO_CREEP,
)
from bot.core.flow_model import Step
from bot.core.intentions import Suggestion, suggestions
from bot.core.messages import Button, Reply
from bot.core.plan_answers import plan_input
from bot.core.plan_changes import DROP_AGAIN, apply_creep_choice
from bot.core.questions.base import Asked, Report, Turn, in_rows
from bot.core.questions.values import FreeText

__all__ = ["IntentionChoice"]


def _next_weeks_plan(asked: Asked) -> FocusPlan | None:
    """The plan as it will be next week: with this check-in's decision about a returning one."""
    if asked.user.plan is None:
        return None
    plan = FocusPlan.from_dict(asked.user.plan)
    answers = asked.dialogue.answers
    creep, decision = answers.get(CREEP_ANSWER), answers.get(DECISION_ANSWER)
    onboarding = asked.user.onboarding()
    inputs = plan_input(onboarding.answers) if onboarding is not None else None
    if inputs is None or not isinstance(creep, str) or not isinstance(decision, str):
        return plan
    try:
        changed = apply_creep_choice(plan, inputs, asked.content.catalogue, creep, decision)
    except KeyError:
        return plan
    return changed or plan


def _suggested(asked: Asked) -> list[Suggestion]:
    plan = _next_weeks_plan(asked)
    if plan is None:
        return []
    answers = asked.dialogue.answers
    creep = answers.get(CREEP_ANSWER)
    tempting = (
        creep
        if isinstance(creep, str)
        and creep != NO_CREEP
        and answers.get(DECISION_ANSWER, DROP_AGAIN) == DROP_AGAIN
        else None
    )
    # After a week that slipped the user's mind, the smallest if-then (never miss twice).
    smallest = answers.get(IN_THE_WAY_ANSWER) == IN_THE_WAY_FORGOT
    return suggestions(plan, asked.user.reminder, tempting, smallest=smallest)


def _label_values(asked: Asked, suggestion: Suggestion, *, brief: bool = False) -> dict[str, Any]:
    """A suggestion's values as its labels read them: names, the weekday in words; ``brief``:
    short names ("X/Twitter") and the short weekday, for a narrow button."""
    catalogue, lang = asked.content.catalogue, asked.lang

    def name(channel_id: str) -> str:
        channel = catalogue.channel(channel_id)
        return (channel.short or channel.label)[lang] if brief else channel.label[lang]

    values: dict[str, Any] = {"channel": name(suggestion.channel)}
    if "dropped" in suggestion.values:
        values["dropped"] = name(suggestion.values["dropped"])
    if "weekday" in suggestion.values:
        day = "weekday_short" if brief else "weekday"
        values["day"] = asked.label(f"{day}_{suggestion.values['weekday']}")
        values["time"] = suggestion.values["time"]
    return values


def _sentences(asked: Asked) -> list[tuple[str, str, str, str]]:
    """``(id, button label, sentence, narrow button label)`` of each suggestion."""
    found = []
    for suggestion in _suggested(asked):
        values = _label_values(asked, suggestion)
        brief = _label_values(asked, suggestion, brief=True)
        found.append(
            (
                suggestion.id,
                asked.label(f"intention_{suggestion.id}_short", **values),
                asked.label(f"intention_{suggestion.id}", **values),
                asked.label(f"intention_{suggestion.id}_short", **brief),
            )
        )
    return found


class IntentionChoice(FreeText):
    """Suggestions as buttons (the sentences above them), typed text, fixed options, skip."""

    has_options = True
    label_keys: ClassVar[tuple[str, ...]] = ("skip", "answer_skipped")

    def check(self, step: Step, report: Report) -> None:
        """A length limit for typed plans; the suggestions come from the plan."""
        super().check(step, report)
        if step.options_from:
            report("an intention step takes its suggestions from the plan: no 'options_from'")

    def options(self, asked: Asked) -> list[tuple[str, str]]:
        """The suggestions' buttons, then the fixed options offered now."""
        return [
            *((sid, short) for sid, short, _, _ in _sentences(asked)),
            *asked.offered(asked.content.fixed_options(asked.step, asked.lang)),
        ]

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """The suggestions in full, for the text above the buttons."""
        return {"suggestions": [{"short": s, "text": t} for _, s, t, _ in _sentences(asked)]}

    def short_caption(self, asked: Asked, option_id: str) -> str:
        """A suggestion with short names and weekday, for a narrow row."""
        return next((brief for sid, _, _, brief in _sentences(asked) if sid == option_id), "")

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """One per suggestion and fixed option, then "skip" when the step is optional."""
        briefs = {sid: brief for sid, _, _, brief in _sentences(asked)}
        rows = in_rows(
            [
                asked.button(text, Action.CHOOSE, oid, short=briefs.get(oid, ""))
                for oid, text in asked.options
            ]
        )
        return [*rows, *super().buttons(asked)]

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """A suggestion saves its sentence; a fixed option its id; skip nothing."""
        if token.action is Action.CHOOSE:
            sentences = {sid: sentence for sid, _, sentence, _ in _sentences(asked)}
            if token.value in sentences:
                return turn.answer(sentences[token.value])
            if token.value in dict(asked.options):
                return turn.answer(token.value)
            return None
        return super().on_button(asked, token, turn)

    def show(self, asked: Asked, value: Any) -> str:
        """The plan as written; a fixed option by its label."""
        fixed = dict(asked.content.fixed_options(asked.step, asked.lang))
        if isinstance(value, str) and value in fixed:
            return fixed[value]
        return super().show(asked, value)

    def sample(self, asked: Asked) -> Any:
        """The first suggestion's sentence."""
        sentences = _sentences(asked)
        return sentences[0][2] if sentences else "x"
