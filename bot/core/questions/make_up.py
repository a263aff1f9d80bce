"""The make-up week's extra action: a suggestion for the main kept channel tapped, or typed.

The answer saved is the sentence itself, so the make-up week's check-in can quote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.callbacks import Action, ButtonToken
from bot.core.coaching import FocusPlan
from bot.core.flow_model import Step
from bot.core.make_up import LABEL_KEYS, MAKE_UP_IDS, main_channel
from bot.core.messages import Button, Reply
from bot.core.questions.base import Asked, Report, Turn, in_rows
from bot.core.questions.values import FreeText

__all__ = ["MakeUpChoice"]


def _sentences(asked: Asked) -> list[tuple[str, str, str]]:
    """``(id, button label, sentence)`` of each suggestion (none without a kept channel)."""
    plan = FocusPlan.from_dict(asked.user.plan) if asked.user.plan else None
    channel_id = main_channel(plan)
    if channel_id is None:
        return []
    channel = asked.content.catalogue.channel(channel_id)
    name, short = channel.label[asked.lang], (channel.short or channel.label)[asked.lang]
    return [
        (
            mid,
            asked.label(f"make_up_{mid}_short", channel=short),
            asked.label(f"make_up_{mid}", channel=name),
        )
        for mid in MAKE_UP_IDS
    ]


class MakeUpChoice(FreeText):
    """The suggestions as buttons (the sentences above them), or an action typed."""

    allows_optional = False
    label_keys = LABEL_KEYS

    def check(self, step: Step, report: Report) -> None:
        """A length limit for a typed action; the suggestions come from the plan."""
        super().check(step, report)
        if step.optional:
            report("a make_up step cannot be skipped: the extra action is what repairs the week")

    def context(self, asked: Asked, shown: Mapping[str, str]) -> dict[str, Any]:
        """The suggestions in full, for the text above the buttons."""
        return {"suggestions": [{"short": s, "text": t} for _, s, t in _sentences(asked)]}

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """One button per suggestion."""
        return in_rows(
            [asked.button(short, Action.CHOOSE, mid) for mid, short, _ in _sentences(asked)]
        )

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """A suggestion saves its sentence."""
        if token.action is not Action.CHOOSE:
            return None
        sentences = {mid: sentence for mid, _, sentence in _sentences(asked)}
        return turn.answer(sentences[token.value]) if token.value in sentences else None

    def accepts(self, asked: Asked, value: Any) -> bool:
        """A sentence (an extra action is never skipped)."""
        return isinstance(value, str) and bool(value)

    def sample(self, asked: Asked) -> Any:
        """The first suggestion's sentence."""
        sentences = _sentences(asked)
        return sentences[0][2] if sentences else "x"
