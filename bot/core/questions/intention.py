"""The if-then plan for next week: first what will most likely get in the way, then the plan.

``obstacle`` (mental contrasting, domain.md 4.1) offers the obstacles that fit the user's plan
(``bot.core.intentions``), takes a typed one, and its fixed options from the flow: keep last
week's plan when it worked (one tap; the plan is quoted above it, so the tap rehearses it) and
"note a win first". ``intention`` then shows the contingent plan built from that obstacle
("If <the obstacle shows up>, then <a step from next week's plan>") and asks the user to
confirm it once more, by tapping it or by typing it in their own words (the rehearsal). Either
step can be skipped. The plan is saved as the sentence itself, so next week's check-in can
quote it even if the plan changed since.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from bot.core.callbacks import Action, ButtonToken
from bot.core.conditions import previous_checkin
from bot.core.flow_ids import KEEP_INTENTION
from bot.core.flow_model import Step
from bot.core.if_then import obstacle_buttons, obstacle_words, plan_sentence
from bot.core.messages import Button, Reply
from bot.core.questions.base import Asked, Report, Turn, in_rows
from bot.core.questions.values import FreeText

__all__ = ["IntentionChoice", "ObstacleChoice"]

# The one button of the rehearsal: "yes, that is my plan".
CONFIRM: Final = "confirm"


def _obstacles(asked: Asked) -> list[tuple[str, str, str]]:
    return obstacle_buttons(asked.user, asked.dialogue.answers, asked.content)


class ObstacleChoice(FreeText):
    """What will most likely get in the way: an obstacle tapped or typed, or a fixed option
    (keep last week's plan, note a win first), or skip."""

    has_options = True
    label_keys: ClassVar[tuple[str, ...]] = ("skip", "answer_skipped")

    def check(self, step: Step, report: Report) -> None:
        """A length limit for typed obstacles; the obstacles come from the plan."""
        super().check(step, report)
        if step.options_from:
            report("an obstacle step takes its obstacles from the plan: no 'options_from'")

    def options(self, asked: Asked) -> list[tuple[str, str]]:
        """Keeping last week's plan first (when offered), the obstacles, the other options."""
        fixed = asked.offered(asked.content.fixed_options(asked.step, asked.lang))
        keep = [option for option in fixed if option[0] == KEEP_INTENTION]
        return [
            *keep,
            *((oid, label) for oid, label, _ in _obstacles(asked)),
            *(option for option in fixed if option[0] != KEEP_INTENTION),
        ]

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """Last week's plan, when it can be kept as it is (the text quotes it)."""
        keeps = KEEP_INTENTION in dict(asked.options)
        return {"keep_plan": _last_intention(asked) if keeps else None}

    def short_caption(self, asked: Asked, option_id: str) -> str:
        """An obstacle with a channel's short name, for a narrow row."""
        return next((short for oid, _, short in _obstacles(asked) if oid == option_id), "")

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """One per option, then "skip" when the step is optional."""
        shorts = {oid: short for oid, _, short in _obstacles(asked)}
        rows = in_rows(
            [
                asked.button(text, Action.CHOOSE, oid, short=shorts.get(oid, ""))
                for oid, text in asked.options
            ]
        )
        return [*rows, *super().buttons(asked)]

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """An option offered now saves its id; skip saves nothing."""
        if token.action is Action.CHOOSE:
            return turn.answer(token.value) if token.value in dict(asked.options) else None
        return super().on_button(asked, token, turn)

    def show(self, asked: Asked, value: Any) -> str:
        """An option by its label; a typed obstacle as typed."""
        labels = dict(asked.content.fixed_options(asked.step, asked.lang))
        labels.update((oid, label) for oid, label, _ in _obstacles(asked))
        if isinstance(value, str) and value in labels:
            return labels[value]
        return super().show(asked, value)

    def sample(self, asked: Asked) -> Any:
        """The first obstacle offered."""
        found = _obstacles(asked)
        return found[0][0] if found else "x"


def _last_intention(asked: Asked) -> str | None:
    """Last week's if-then plan (the latest check-in before this week's)."""
    last = previous_checkin(asked.user, asked.now)
    intention = last.get("intention") if last else None
    return intention if isinstance(intention, str) else None


class IntentionChoice(FreeText):
    """The rehearsal: the contingent plan for the obstacle chosen, confirmed by a tap, or the
    user's own sentence typed; or skip."""

    has_options = True
    label_keys: ClassVar[tuple[str, ...]] = ("skip", "answer_skipped", "intention_confirm")

    def check(self, step: Step, report: Report) -> None:
        """A length limit for typed plans; the plan is built from the obstacle."""
        super().check(step, report)
        if step.options_from or step.options:
            report("an intention step builds its plan from the obstacle: no options")

    def options(self, asked: Asked) -> list[tuple[str, str]]:
        """Confirming the plan built, when there is one."""
        sentence = plan_sentence(asked.user, asked.dialogue.answers, asked.content)
        return [(CONFIRM, asked.label("intention_confirm"))] if sentence else []

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """The obstacle and the plan built from it, for the text above the button."""
        answers, content = asked.dialogue.answers, asked.content
        return {
            "obstacle": obstacle_words(asked.user, answers, content),
            "sentence": plan_sentence(asked.user, answers, content),
        }

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """ "Yes, that is my plan", then "skip"."""
        rows = in_rows([asked.button(text, Action.CHOOSE, oid) for oid, text in asked.options])
        return [*rows, *super().buttons(asked)]

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """Confirming saves the sentence shown; skip nothing."""
        if token.action is Action.CHOOSE:
            if token.value != CONFIRM:
                return None
            sentence = plan_sentence(asked.user, asked.dialogue.answers, asked.content)
            return turn.answer(sentence) if sentence else None
        return super().on_button(asked, token, turn)

    def sample(self, asked: Asked) -> Any:
        """The plan built from the sample obstacle."""
        return plan_sentence(asked.user, asked.dialogue.answers, asked.content) or "x"
