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
    "LANGUAGE",
    "NO",
    "RESTART",
    "SNOOZE_CHOICES",
    "YES",
    "confirmation",
]

RESTART = "restart"
DELETE = "delete"
LANGUAGE = "language"
CHECKIN = "checkin"
YES = "yes"
NO = "no"
SNOOZE_CHOICES = ("snooze_1h", "snooze_evening", "snooze_tomorrow")
CHECKIN_CHOICES = ("start", *SNOOZE_CHOICES, "skip")


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
