"""Prompts that interrupt a flow: restart, delete, language, and the check-in reminder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.callbacks import Action, encode
from bot.core.content import Content
from bot.core.messages import Button, Reply, ReplyKind

__all__ = [
    "CHECKIN",
    "CHECKIN_CHOICES",
    "DELETE",
    "LABEL_KEYS",
    "LANGUAGE",
    "NO",
    "RESTART",
    "SKIP",
    "SNOOZE_CHOICES",
    "SNOOZE_EVENING",
    "SNOOZE_HOUR",
    "SNOOZE_TOMORROW",
    "START",
    "YES",
    "confirmation",
]

RESTART = "restart"
DELETE = "delete"
LANGUAGE = "language"
CHECKIN = "checkin"
YES = "yes"
NO = "no"
# The check-in reminder's buttons: start now, snooze (three ways) or skip this week.
START = "start"
SKIP = "skip"
SNOOZE_HOUR = "snooze_1h"
SNOOZE_EVENING = "snooze_evening"
SNOOZE_TOMORROW = "snooze_tomorrow"
SNOOZE_CHOICES = (SNOOZE_HOUR, SNOOZE_EVENING, SNOOZE_TOMORROW)
CHECKIN_CHOICES = (START, *SNOOZE_CHOICES, SKIP)
# Label keys the prompts use in every language.
LABEL_KEYS = (
    "restart_yes",
    "restart_no",
    "delete_yes",
    "delete_no",
    *(f"checkin_{choice}" for choice in CHECKIN_CHOICES),
)


def _buttons(
    content: Content, lang: str, turn: int, action: Action, choices: Sequence[tuple[str, str]]
) -> tuple[tuple[Button, ...], ...]:
    return tuple(
        (Button(content.texts.label(lang, key), encode(turn, action, value)),)
        for value, key in choices
    )


def confirmation(
    content: Content, kind: str, lang: str, turn: int, context: dict[str, Any]
) -> Reply:
    """Render the pending prompt ``kind`` with buttons carrying ``turn``."""
    texts = content.texts
    if kind == LANGUAGE:
        row = tuple(
            Button(texts.label(lang, f"language_{code}"), encode(turn, Action.LANGUAGE, code))
            for code in content.languages
        )
        buttons: tuple[tuple[Button, ...], ...] = (row,)
        template = "common/choose_language"
    elif kind == CHECKIN:
        buttons = _buttons(
            content, lang, turn, Action.CHECKIN, [(c, f"checkin_{c}") for c in CHECKIN_CHOICES]
        )
        template = "checkin/reminder"
    else:
        yes, no = ("delete_yes", "delete_no") if kind == DELETE else ("restart_yes", "restart_no")
        buttons = (
            (
                Button(texts.label(lang, yes), encode(turn, Action.CONFIRM, YES)),
                Button(texts.label(lang, no), encode(turn, Action.CONFIRM, NO)),
            ),
        )
        template = "common/delete_confirm" if kind == DELETE else "common/restart_confirm"
    return Reply(
        text=texts.render(lang, template, **context), kind=ReplyKind.QUESTION, buttons=buttons
    )
