"""Fit a stored user state to the coaching content as it is now.

A document can be well-formed (``document_schema``) and still not fit the content: a coach
renamed a step or removed a channel, or an answer is not one the step could give. Nothing of
that may lock a user out, and none of it is damage worth a fresh start: the position moves to
the nearest sensible place, answers that no longer fit are dropped (and asked again when the
user gets there), and a plan naming unknown channels is made again from the answers.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core import confirmations
from bot.core.coaching import FocusPlan, build_plan
from bot.core.content import Content
from bot.core.flow_ids import ONBOARDING_FLOW
from bot.core.focus_plan import PlanChange
from bot.core.plan_answers import plan_input
from bot.core.plan_versions import adopt, inputs_record, set_aside
from bot.core.questions import asked, kind_of
from bot.core.state import DialogueState, UserState

__all__ = ["fit_to_content"]

log = logging.getLogger(__name__)


def fit_to_content(
    user: UserState, content: Content, *, language_hint: str | None, now: datetime
) -> list[str]:
    """Repair what does not fit ``content`` in place; return what was changed (for the log)."""
    changes: list[str] = []
    if user.lang not in content.languages:
        changes.append(f"language {user.lang!r} is not offered")
        user.lang = content.pick_language(language_hint)
    changes += _fit_dialogues(user, content)
    for dialogue in (user.dialogue, user.suspended):
        if dialogue is not None:
            changes += _fit_answers(user, dialogue, content)
    changes += _fit_plan(user, content, now)
    if changes:
        log.warning("stored state of user %s repaired: %s", user.user_id, "; ".join(changes))
    return changes


def _fits(dialogue: DialogueState, content: Content) -> bool:
    """The flow and step exist, and the step is one a user can wait at (not a finish)."""
    flow = content.flows.get(dialogue.flow)
    return (
        flow is not None
        and dialogue.step in flow.steps
        and kind_of(flow.steps[dialogue.step]).waits
    )


def _fit_dialogues(user: UserState, content: Content) -> list[str]:
    changes: list[str] = []
    if user.dialogue is None and user.suspended is not None:
        user.dialogue, user.suspended = user.suspended, None
        changes.append("a waiting dialogue without an open one")
    onboarding = user.suspended
    if onboarding is not None and (
        onboarding.flow != ONBOARDING_FLOW or not _fits(onboarding, content)
    ):
        user.suspended = _onboarding_position(user, onboarding, content)
        changes.append(f"the waiting onboarding was at {onboarding.flow}/{onboarding.step}")
    current = user.dialogue
    if current is not None and not _fits(current, content):
        changes.append(f"the dialogue was at {current.flow}/{current.step}")
        if user.suspended is not None:
            # A side flow that cannot go on: back to the onboarding it interrupted.
            user.dialogue, user.suspended = user.suspended, None
            user.dialogue.turn = max(user.dialogue.turn, current.turn) + 1
        else:
            user.dialogue = _onboarding_position(user, current, content)
    for dialogue in (user.dialogue, user.suspended):
        if dialogue is not None:
            changes += _fit_position(dialogue, content)
    return changes


def _onboarding_position(
    user: UserState, dialogue: DialogueState, content: Content
) -> DialogueState:
    """The onboarding at the plan if its answers make one, else at its first step."""
    flow = content.flows[ONBOARDING_FLOW]
    answers = dialogue.answers if dialogue.flow == ONBOARDING_FLOW else {}
    plan_step = next((s.id for s in flow.steps.values() if kind_of(s).shows_plan), None)
    step = plan_step if plan_step and plan_input(answers) is not None else flow.start
    return DialogueState(flow=flow.id, step=step, turn=dialogue.turn + 1, answers=dict(answers))


def _fit_position(dialogue: DialogueState, content: Content) -> list[str]:
    """Way back, way forward and pending prompt must point at things that exist."""
    steps = content.flows[dialogue.flow].steps
    changes: list[str] = []
    history = [step for step in dialogue.history if step in steps]
    if history != dialogue.history:
        changes.append("unknown steps in the way back")
        dialogue.history = history
    if dialogue.return_to is not None and dialogue.return_to not in steps:
        changes.append(f"unknown step to return to {dialogue.return_to!r}")
        dialogue.return_to = None
    if dialogue.confirm is not None and dialogue.confirm not in confirmations.PROMPTS:
        changes.append(f"unknown prompt {dialogue.confirm!r}")
        dialogue.confirm = None
    return changes


def _fit_answers(user: UserState, dialogue: DialogueState, content: Content) -> list[str]:
    """Drop answers their step could not have given (they are asked again)."""
    flow = content.flows[dialogue.flow]
    dropped = []
    for name, value in list(dialogue.answers.items()):
        step = flow.step_saving(name)
        if step is None:
            continue  # an answer no step asks any more is harmless
        question = asked(content, user, dialogue, step)
        if not question.kind.accepts(question, value):
            del dialogue.answers[name]
            dropped.append(name)
    return [f"answers {dropped} do not fit their steps"] if dropped else []


def _fit_plan(user: UserState, content: Content, now: datetime) -> list[str]:
    """A plan naming channels the catalogue no longer has is made again from the answers.

    A plan stored before fields were added is brought to the current shape (not a repair:
    ``FocusPlan.from_dict`` reads the missing fields with their defaults).
    """
    if user.plan is None:
        return []
    plan = user.plan = FocusPlan.from_dict(user.plan).to_dict()
    known = {channel.id for channel in content.catalogue.channels}
    named = [
        entry["channel"]
        for section in ("kept", "dropped", "parked")
        for entry in plan.get(section, [])
    ]
    pressure = plan.get("pressure")
    if pressure is not None:
        named.append(pressure["channel"])
    fits = all(channel in known for channel in named)
    if fits and user.plan_info is not None:
        return []  # the usual case, on every load: the answers need not be read
    onboarding = user.onboarding()
    inputs = plan_input(onboarding.answers) if onboarding is not None else None
    if fits:
        # A plan made before plans had versions: version 1, made from today's answers.
        user.plan_info = {
            "version": 1,
            "made_at": None,
            "reason": PlanChange.FIRST.value,
            "detail": {},
            "inputs": None if inputs is None else inputs_record(inputs),
        }
        return []
    if inputs is None:
        set_aside(user)
    else:
        adopt(
            user,
            build_plan(inputs, content.catalogue),
            reason=PlanChange.REPAIR,
            now=now,
            inputs=inputs,
        )
    return ["the plan named unknown channels"]
