"""Prompts that interrupt a flow: restart, delete, language, resume, the check-in reminder, its
follow-up, the offers of a review and of a comeback, and the handle heartbeat.

Each prompt is a template and a row of buttons; ``bot.core.engine`` applies the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.core.callbacks import Action, encode
from bot.core.content import Content
from bot.core.messages import Button, Reply, ReplyKind

__all__ = [
    "CHECKIN",
    "CHECKIN_CHOICES",
    "COMEBACK",
    "COMEBACK_CHOICES",
    "COMEBACK_MINIMUM",
    "COMEBACK_NORMAL",
    "COMEBACK_PAUSE",
    "CONTINUE",
    "DELETE",
    "FOLLOWUP",
    "FOLLOWUP_CHOICES",
    "HEARTBEAT",
    "LABEL_KEYS",
    "LANGUAGE",
    "LET_GO",
    "LOGGED_IN",
    "NO",
    "PROMPTS",
    "RESTART",
    "RESUME",
    "REVIEW",
    "SKIP",
    "SNOOZE_CHOICES",
    "SNOOZE_EVENING",
    "SNOOZE_HOUR",
    "SNOOZE_TOMORROW",
    "START",
    "START_OVER",
    "YES",
    "confirmation",
]

RESTART = "restart"
DELETE = "delete"
LANGUAGE = "language"
CHECKIN = "checkin"
RESUME = "resume"  # a side flow was open when the user came back: continue it or start over
FOLLOWUP = "followup"  # the day after an unanswered check-in reminder: do it now or skip
REVIEW = "review"  # twelve weeks after a plan version: review it now, or later with /review
# After two or more missed weeks: a minimum week, the normal plan, or a pause.
COMEBACK = "comeback"
COMEBACK_MINIMUM = "minimum"
COMEBACK_NORMAL = "normal"
COMEBACK_PAUSE = "pause"
COMEBACK_CHOICES = (COMEBACK_MINIMUM, COMEBACK_NORMAL, COMEBACK_PAUSE)
HEARTBEAT = "heartbeat"  # log in to a left channel before its inactivity rule: done, or let go
LOGGED_IN = "logged_in"
LET_GO = "let_go"
YES = "yes"
NO = "no"
CONTINUE = "continue"
START_OVER = "over"
# The check-in reminder's buttons: start now, snooze (three ways) or skip this week.
START = "start"
SKIP = "skip"
SNOOZE_HOUR = "snooze_1h"
SNOOZE_EVENING = "snooze_evening"
SNOOZE_TOMORROW = "snooze_tomorrow"
SNOOZE_CHOICES = (SNOOZE_HOUR, SNOOZE_EVENING, SNOOZE_TOMORROW)
CHECKIN_CHOICES = (START, *SNOOZE_CHOICES, SKIP)
# The follow-up's: the check-in reminder's own answers, minus the snoozes (not put off again).
FOLLOWUP_CHOICES = (START, SKIP)


@dataclass(frozen=True)
class _Prompt:
    template: str
    action: Action  # what its buttons do
    choices: tuple[tuple[str, str], ...]  # (value, label key), in button order
    one_row: bool  # short answers side by side; long ones one per row


_PROMPTS: Final = {
    RESTART: _Prompt(
        "common/restart_confirm", Action.CONFIRM, ((YES, "restart_yes"), (NO, "restart_no")), True
    ),
    DELETE: _Prompt(
        "common/delete_confirm", Action.CONFIRM, ((YES, "delete_yes"), (NO, "delete_no")), True
    ),
    RESUME: _Prompt(
        "common/resume_side",
        Action.CONFIRM,
        ((CONTINUE, "resume_continue"), (START_OVER, "resume_over")),
        True,
    ),
    CHECKIN: _Prompt(
        "checkin/reminder",
        Action.CHECKIN,
        tuple((choice, f"checkin_{choice}") for choice in CHECKIN_CHOICES),
        False,
    ),
    FOLLOWUP: _Prompt(
        "checkin/followup",
        Action.CHECKIN,
        tuple((choice, f"checkin_{choice}") for choice in FOLLOWUP_CHOICES),
        False,
    ),
    REVIEW: _Prompt(
        "review/offer", Action.CONFIRM, ((YES, "review_offer_yes"), (NO, "review_offer_no")), False
    ),
    COMEBACK: _Prompt(
        "checkin/comeback",
        Action.CONFIRM,
        tuple((choice, f"comeback_{choice}") for choice in COMEBACK_CHOICES),
        False,
    ),
    HEARTBEAT: _Prompt(
        "heartbeat/reminder",
        Action.CONFIRM,
        ((LOGGED_IN, "heartbeat_logged_in"), (LET_GO, "heartbeat_let_go")),
        False,
    ),
}
# Label keys the prompts use in every language (the language prompt's come from the languages).
LABEL_KEYS: Final = tuple(key for prompt in _PROMPTS.values() for _, key in prompt.choices)
# Every prompt a dialogue can wait at (a stored one outside these is dropped on load).
PROMPTS: Final = frozenset({*_PROMPTS, LANGUAGE})


def confirmation(
    content: Content, kind: str, lang: str, turn: int, context: Mapping[str, Any]
) -> Reply:
    """Render the pending prompt ``kind`` with buttons carrying ``turn``.

    Only what the prompt's template reads is taken from ``context`` (``render_from``).
    """
    if kind == LANGUAGE:
        prompt = _Prompt(
            "common/choose_language",
            Action.LANGUAGE,
            tuple((code, f"language_{code}") for code in content.languages),
            True,
        )
    else:
        prompt = _PROMPTS[kind]
    buttons = [
        Button(content.texts.label(lang, key), encode(turn, prompt.action, value))
        for value, key in prompt.choices
    ]
    rows = (tuple(buttons),) if prompt.one_row else tuple((button,) for button in buttons)
    text = content.texts.render_from(lang, prompt.template, context)
    return Reply(text=text, kind=ReplyKind.QUESTION, buttons=rows)
