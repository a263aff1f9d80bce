"""Keyboards held to a phone's budget: every waiting step, in every language, at its widest.

``focus-coach check`` renders each step the way the engine does, with sample answers and with
every multi-choice answer ticked in full (a user who ticked all channels), and in each state a
step's keyboard can take (nothing ticked, all ticked, a narrowed choice opened up). A keyboard
taller than ``MAX_ROWS`` or a label too wide for its row is reported with the step and label.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.core import questions
from bot.core.callbacks import MAX_CALLBACK_BYTES
from bot.core.content import Content
from bot.core.flow_model import AskType, Flow, Step
from bot.core.messages import Reply
from bot.core.problems import shown_path
from bot.core.question_view import render_question
from bot.core.questions.choices import ALL_SHOWN, MARK_PREFIX
from bot.core.questions.layout import keyboard_problems
from bot.core.rules import LANGUAGES
from bot.core.state import DialogueState, UserState

__all__ = ["KeyboardView", "check_keyboards", "keyboard_views", "widest_answers"]

_GRIDS = (AskType.CHANNEL_GRID, AskType.REASON_GRID)


@dataclass(frozen=True)
class KeyboardView:
    """A step's question as one user sees it: the language, the ticks, the reply."""

    lang: str
    selection: tuple[str, ...]
    reply: Reply


def widest_answers(
    content: Content, flow: Flow, user: UserState, answers: dict[str, Any]
) -> dict[str, Any]:
    """``answers`` with every multi-choice answer holding all of its options."""
    widest = dict(answers)
    for step in flow.steps.values():
        if step.save and step.ask is AskType.MULTI_CHOICE:
            dialogue = DialogueState(flow=flow.id, step=step.id, answers=widest)
            asked = questions.asked(content, user, dialogue, step)
            widest[step.save] = [oid for oid, _ in asked.options]
    return widest


def _selections(
    content: Content, step: Step, user: UserState, dialogue: DialogueState
) -> list[list[str]]:
    """The states a step's keyboard can take: as first asked, and at its fullest."""
    asked = questions.asked(content, user, dialogue, step)
    ids = [oid for oid, _ in asked.options]
    if step.ask is AskType.MULTI_CHOICE:
        return [[], ids]
    if step.ask in _GRIDS and step.options:
        # At its fullest: every row rated, and marked where the grid has marks (🎯).
        marks = [f"{MARK_PREFIX}{oid}" for oid in ids] if step.save_marks else []
        return [[], [*(f"{oid}:{step.options[-1].id}" for oid in ids), *marks]]
    if step.narrow_to:
        return [[], [ALL_SHOWN]]
    return [[]]


def keyboard_views(
    content: Content, flow: Flow, step: Step, user: UserState, answers: dict[str, Any]
) -> Iterator[KeyboardView]:
    """The step rendered as the engine would, in every language and keyboard state."""
    for lang in LANGUAGES:
        sample = copy.deepcopy(user)
        sample.lang = lang
        base = DialogueState(flow=flow.id, step=step.id, answers=dict(answers))
        for selection in _selections(content, step, sample, base):
            dialogue = DialogueState(
                flow=flow.id,
                step=step.id,
                turn=10**9,  # the largest turn a long-lived user may reach
                history=["x"],
                answers=dict(answers),
                selection=list(selection),
            )
            sample.dialogue = dialogue
            reply = render_question(questions.asked(content, sample, dialogue, step))
            yield KeyboardView(lang, tuple(selection), reply)


def view_problems(view: KeyboardView) -> list[str]:
    """What does not fit a phone in one view, and button data over Telegram's 64 bytes."""
    found = keyboard_problems(view.reply.buttons)
    found.extend(
        f"the button '{button.label}' carries {len(button.data.encode())} bytes; "
        f"at most {MAX_CALLBACK_BYTES} fit"
        for row in view.reply.buttons
        for button in row
        if len(button.data.encode()) > MAX_CALLBACK_BYTES
    )
    return found


def check_keyboards(
    content: Content, flow: Flow, user: UserState, answers: dict[str, Any]
) -> list[str]:
    """Every keyboard of the flow that does not fit a phone, by file, step and language."""
    where, found = shown_path(flow.path), list[str]()
    for answered in (answers, widest_answers(content, flow, user, answers)):
        for step in flow.steps.values():
            if not questions.kind_of(step).waits:
                continue
            for view in keyboard_views(content, flow, step, user, answered):
                found.extend(
                    f"{where}: step '{step.id}' ({view.lang}): {problem}"
                    for problem in view_problems(view)
                )
    return list(dict.fromkeys(found))
