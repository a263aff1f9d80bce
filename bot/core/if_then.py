"""This check-in's if-then plan in words: the obstacles offered, the one chosen, its plan.

The check-in's ``obstacle`` step and the ``intention`` step after it (the rehearsal) draw from
here, and so does ``record_checkin``, which stores the obstacle and the plan as words (so next
week's check-in can quote them even when the plan changed since). The plan is the one the user
will have next week: with this check-in's decision about a dropped channel that came back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from bot.core.content import Content
from bot.core.flow_ids import (
    CREEP_ANSWER,
    DECISION_ANSWER,
    KEEP_INTENTION,
    NO_CREEP,
    OBSTACLE_ANSWER,
    WIN_FIRST,
)
from bot.core.focus_plan import FocusPlan
from bot.core.intentions import (
    OBSTACLE_IDS,
    TYPED,
    Obstacle,
    Suggestion,
    contingent_plan,
    obstacles,
)
from bot.core.plan_answers import plan_input
from bot.core.plan_changes import DROP_AGAIN, apply_creep_choice
from bot.core.state import UserState

__all__ = [
    "chosen_plan",
    "obstacle_buttons",
    "obstacle_words",
    "offered",
    "plan_sentence",
    "plan_values",
]


def next_weeks_plan(
    user: UserState, answers: Mapping[str, Any], content: Content
) -> FocusPlan | None:
    """The plan as it will be next week: with this check-in's decision about a returning one."""
    if user.plan is None:
        return None
    plan = FocusPlan.from_dict(user.plan)
    creep, decision = answers.get(CREEP_ANSWER), answers.get(DECISION_ANSWER)
    onboarding = user.onboarding()
    inputs = plan_input(onboarding.answers) if onboarding is not None else None
    if inputs is None or not isinstance(creep, str) or not isinstance(decision, str):
        return plan
    try:
        changed = apply_creep_choice(plan, inputs, content.catalogue, creep, decision)
    except KeyError:
        return plan
    return changed or plan


def _tempting(answers: Mapping[str, Any]) -> str | None:
    """The dropped channel that came back this week and goes again: the likeliest temptation."""
    creep = answers.get(CREEP_ANSWER)
    if not isinstance(creep, str) or creep == NO_CREEP:
        return None
    return creep if answers.get(DECISION_ANSWER, DROP_AGAIN) == DROP_AGAIN else None


def _channel(content: Content, lang: str, channel_id: str, *, brief: bool = False) -> str:
    channel = content.catalogue.channel(channel_id)
    return (channel.short or channel.label)[lang] if brief else channel.label[lang]


def offered(user: UserState, answers: Mapping[str, Any], content: Content) -> list[Obstacle]:
    """The obstacles this user is offered now."""
    plan = next_weeks_plan(user, answers, content)
    return [] if plan is None else obstacles(plan, _tempting(answers))


def obstacle_buttons(
    user: UserState, answers: Mapping[str, Any], content: Content
) -> list[tuple[str, str, str]]:
    """``(id, button label, narrow button label)`` of each obstacle offered (the narrow one
    names a tempting channel by its short name, "X/Twitter")."""
    found = []
    for obstacle in offered(user, answers, content):
        key, dropped = f"obstacle_{obstacle.id}", obstacle.values.get("dropped")
        if dropped is None:
            label = short = content.texts.label(user.lang, key)
        else:
            label = content.texts.label(
                user.lang, key, dropped=_channel(content, user.lang, dropped)
            )
            short = content.texts.label(
                user.lang, key, dropped=_channel(content, user.lang, dropped, brief=True)
            )
        found.append((obstacle.id, label, short))
    return found


def obstacle_words(user: UserState, answers: Mapping[str, Any], content: Content) -> str | None:
    """The obstacle chosen, in words (a typed one as typed); None when none was chosen.

    "Keep last week's plan" and "note a win first" are no obstacle.
    """
    answer = answers.get(OBSTACLE_ANSWER)
    if not isinstance(answer, str) or not answer.strip():
        return None
    if answer not in OBSTACLE_IDS:
        return None if answer in (KEEP_INTENTION, WIN_FIRST) else answer
    found = next((o for o in offered(user, answers, content) if o.id == answer), None)
    if found is None:
        return None
    values = (
        {"dropped": _channel(content, user.lang, found.values["dropped"])}
        if "dropped" in found.values
        else {}
    )
    return content.texts.label(user.lang, f"obstacle_{answer}_text", **values)


def chosen_plan(
    user: UserState, answers: Mapping[str, Any], content: Content
) -> Suggestion | None:
    """The contingent plan for the obstacle chosen (a typed one gets the general plan)."""
    answer = answers.get(OBSTACLE_ANSWER)
    plan = next_weeks_plan(user, answers, content)
    if plan is None or obstacle_words(user, answers, content) is None:
        return None
    kind = answer if answer in OBSTACLE_IDS else TYPED
    return contingent_plan(str(kind), plan, user.reminder, _tempting(answers))


def plan_values(
    user: UserState, answers: Mapping[str, Any], content: Content, suggestion: Suggestion
) -> dict[str, Any]:
    """What the plan's label reads: the channel names, the weekday in words, the time and a
    typed obstacle (as typed: it is escaped where the sentence is shown)."""
    lang = user.lang
    values: dict[str, Any] = {
        "channel": _channel(content, lang, suggestion.channel),
        "day": content.texts.label(lang, f"weekday_{suggestion.values['weekday']}"),
        "time": suggestion.values["time"],
    }
    if "dropped" in suggestion.values:
        values["dropped"] = _channel(content, lang, suggestion.values["dropped"])
    if suggestion.id == TYPED:
        values["obstacle"] = Markup(str(answers.get(OBSTACLE_ANSWER, "")))  # noqa: S704
    return values


def plan_sentence(user: UserState, answers: Mapping[str, Any], content: Content) -> str | None:
    """The contingent plan for the obstacle chosen, as the sentence the user confirms."""
    suggestion = chosen_plan(user, answers, content)
    if suggestion is None:
        return None
    values = plan_values(user, answers, content, suggestion)
    return content.texts.label(user.lang, f"intention_{suggestion.id}", **values)
