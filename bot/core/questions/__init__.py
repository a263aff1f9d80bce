"""Question kinds: one module per family, one registry that maps ``ask:`` to its kind.

- ``choices``: single_choice, multi_choice, channel_grid
- ``plan_change``: creep_decision
- ``intention``: obstacle, intention (an if-then plan and what gets in its way)
- ``review``: reason_grid
- ``values``: number, time_of_day, timezone, text
- ``statements``: continue, summary, plan, finish

Every kind follows ``base.QuestionKind``. This registry is the only place that branches on
``AskType``: a new kind of question is one new class, added here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Final

from bot.core.content import Content
from bot.core.flow_model import AskType, Flow, Step
from bot.core.questions.base import Asked, ButtonRows, QuestionKind, Report, Turn
from bot.core.questions.choices import ChannelGrid, MultiChoice, SingleChoice
from bot.core.questions.intention import IntentionChoice, ObstacleChoice
from bot.core.questions.plan_change import CreepDecision
from bot.core.questions.review import ReasonGrid
from bot.core.questions.statements import Continue, Finish, PlanMenu, Summary
from bot.core.questions.values import FreeText, Number, TimeOfDay, TimeZone
from bot.core.state import DialogueState, UserState

__all__ = [
    "KINDS",
    "LABEL_KEYS",
    "Asked",
    "ButtonRows",
    "QuestionKind",
    "Report",
    "Turn",
    "asked",
    "kind_of",
    "shown_answers",
]

KINDS: Final[Mapping[AskType, QuestionKind]] = MappingProxyType(
    {
        AskType.CONTINUE: Continue(),
        AskType.SINGLE_CHOICE: SingleChoice(),
        AskType.MULTI_CHOICE: MultiChoice(),
        AskType.CHANNEL_GRID: ChannelGrid(),
        AskType.CREEP_DECISION: CreepDecision(),
        AskType.OBSTACLE: ObstacleChoice(),
        AskType.INTENTION: IntentionChoice(),
        AskType.REASON_GRID: ReasonGrid(),
        AskType.NUMBER: Number(),
        AskType.TIME_OF_DAY: TimeOfDay(),
        AskType.TIMEZONE: TimeZone(),
        AskType.TEXT: FreeText(),
        AskType.SUMMARY: Summary(),
        AskType.PLAN: PlanMenu(),
        AskType.FINISH: Finish(),
    }
)
if set(KINDS) != set(AskType):  # a kind without behaviour would fail only when a user meets it
    raise RuntimeError(f"question kinds without a module: {set(AskType) - set(KINDS)}")

# Label keys the questions use in every flow ("back" goes under every kind that offers it).
LABEL_KEYS: Final = tuple(
    dict.fromkeys(("back", *(k for q in KINDS.values() for k in q.label_keys)))
)


def kind_of(step: Step) -> QuestionKind:
    """The kind of question ``step`` asks."""
    return KINDS[step.ask]


def asked(
    content: Content,
    user: UserState,
    dialogue: DialogueState,
    step: Step,
    *,
    now: datetime | None = None,
) -> Asked:
    """``step`` of the dialogue's flow as ``user`` is asked it (``now``: see ``Asked.now``)."""
    flow: Flow = content.flows[dialogue.flow]
    return Asked(kind_of(step), step, flow, dialogue, user, content, now)


def shown_answers(content: Content, user: UserState, dialogue: DialogueState) -> dict[str, str]:
    """Each answer of the dialogue by name, as people read it (labels, hours, zones)."""
    flow = content.flows[dialogue.flow]
    shown: dict[str, str] = {}
    for name, value in dialogue.answers.items():
        step = flow.step_saving(name)
        if step is not None:
            question = asked(content, user, dialogue, step)
            shown[name] = question.kind.show(question, value)
    return shown
