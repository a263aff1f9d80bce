"""The flow, step, answer and option ids Python relies on, and the check that the YAML has them.

A coach may rename captions, reorder steps and add options freely; these ids are the contract
between the flow files and the code (the plan reads ``team``, a pause of ``w2`` is two weeks).
``focus-coach check`` reports every id here that a flow file lacks or changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Final

from bot.core.flow_model import Flow
from bot.core.problems import shown_path
from bot.core.quiet_hours import parse_quiet_option
from bot.core.rules import LANGUAGES

__all__ = [
    "CHECKIN_FLOW",
    "CREEP_ANSWER",
    "DECISION_ANSWER",
    "ENERGY_LEVELS",
    "INTENTION_ANSWER",
    "INTENTION_KEPT",
    "INTENTION_KEPT_ANSWER",
    "KEEP_INTENTION",
    "NOT_ON_PLAN",
    "NO_CREEP",
    "NO_PRESSURE",
    "OBSTACLE_ANSWER",
    "ONBOARDING_FLOW",
    "ON_PLAN",
    "PARTLY",
    "PAUSE_WEEKS",
    "QUIET_ANSWER",
    "REASON_CHANGED",
    "REQUIRED_FLOWS",
    "REVIEW_ACTION",
    "REVIEW_ADD",
    "REVIEW_FLOW",
    "REVIEW_HOURS",
    "REVIEW_REASONS",
    "SCHEDULE_STEP",
    "SETTINGS_FLOW",
    "STILL_TRUE",
    "SUNSET_ACTION",
    "SUNSET_ANSWER",
    "SUNSET_FLOW",
    "SUNSET_PLAYBOOK_STEP",
    "TEAM",
    "WEEKDAYS",
    "WIN_FIRST",
    "check_flow_ids",
    "checkin_setup_target",
    "sunset_target",
]

ONBOARDING_FLOW: Final = "onboarding"
CHECKIN_FLOW: Final = "checkin"
SETTINGS_FLOW: Final = "settings"
SUNSET_FLOW: Final = "sunset"
REVIEW_FLOW: Final = "review"
REQUIRED_FLOWS: Final = (ONBOARDING_FLOW, CHECKIN_FLOW, SETTINGS_FLOW, SUNSET_FLOW, REVIEW_FLOW)
# review: a stored reason "still true" or "changed"; the answers its action reads.
STILL_TRUE: Final = "still_true"
REASON_CHANGED: Final = "changed"
REVIEW_HOURS: Final = "hours"
REVIEW_REASONS: Final = "reasons"
REVIEW_ADD: Final = "add"
REVIEW_ACTION: Final = "review_plan"
# The settings step the plan menu's check-in button enters while no check-in is set up.
SCHEDULE_STEP: Final = "weekday"
# sunset: the answer naming the dropped channel to leave, and the finish step showing its
# playbook, where the plan menu starts the flow when there is only one channel to leave.
SUNSET_ANSWER: Final = "channel"
SUNSET_PLAYBOOK_STEP: Final = "playbook"
SUNSET_ACTION: Final = "sunset_playbook"

# onboarding: the answer 'team' means "in a team"; 'pressure' "no channel feels like a must".
TEAM: Final = "team"
NO_PRESSURE: Final = "none"
# settings: the answer 'weekday', Monday first (datetime.weekday() order); 'pause' in weeks.
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PAUSE_WEEKS: Final[Mapping[str, int]] = MappingProxyType({f"w{n}": n for n in range(1, 9)})
# settings: the answer 'quiet', quiet hours as "qHH_HH" (from HH:00 to HH:00) or "off".
QUIET_ANSWER: Final = "quiet"
# checkin: the ratings of the answer 'channels', 'creep' when nothing came back, 'energy' 1-5.
ON_PLAN: Final = "on_plan"
PARTLY: Final = "partly"
NOT_ON_PLAN: Final = "not"
NO_CREEP: Final = "none"
# The answer naming the dropped channel that came back (a creep_decision step decides on it),
# and the answer holding that decision.
CREEP_ANSWER: Final = "creep"
DECISION_ANSWER: Final = "audit"
# checkin: the if-then plan for next week, whether last week's worked, and the option that
# notes a win first (it routes; it is no plan).
INTENTION_ANSWER: Final = "intention"
INTENTION_KEPT_ANSWER: Final = "intention_kept"
INTENTION_KEPT: Final = ("yes", "partly", "no")
WIN_FIRST: Final = "win_first"
# checkin: what will most likely get in the way next week (an obstacle's id, typed words, or
# one of the options below), asked before the if-then plan; its option that keeps last week's
# plan when it worked (one tap, which also rehearses it).
OBSTACLE_ANSWER: Final = "obstacle"
KEEP_INTENTION: Final = "keep"
ENERGY_LEVELS: Final[Mapping[str, int]] = MappingProxyType({f"e{n}": n for n in range(1, 6)})


def checkin_setup_target(*, has_reminder: bool) -> str:
    """The side flow (``flow`` or ``flow:step``) the plan menu's check-in button starts.

    Without a check-in yet it goes straight to the weekday question of the settings flow. The
    plan menu accepts only this target: a forged one could enter a flow at its finish step
    and run its action on answers never given.
    """
    return SETTINGS_FLOW if has_reminder else f"{SETTINGS_FLOW}:{SCHEDULE_STEP}"


def sunset_target(dropped: Sequence[str]) -> str | None:
    """The side flow the plan menu's "leave gracefully" button starts; None: no such button.

    A plan that drops nothing offers no button. With one dropped channel there is nothing to
    choose, so the flow starts at its playbook step, whose action takes that one channel. With
    several it starts at the choice. The plan menu accepts only this target, so the playbook is
    never reached without a choice while there is one to make.
    """
    if not dropped:
        return None
    return f"{SUNSET_FLOW}:{SUNSET_PLAYBOOK_STEP}" if len(dropped) == 1 else SUNSET_FLOW


class _Rule(Enum):
    HAS = "needs an option with id"  # these ids must be offered (others may be too)
    ONLY = "may only offer the option ids"  # no id outside these
    EXACTLY = "must offer exactly the option ids, in this order"


@dataclass(frozen=True)
class _Expected:
    flow: str
    answer: str
    ids: tuple[str, ...]
    rule: _Rule


_EXPECTED: Final = (
    _Expected(ONBOARDING_FLOW, "team", (TEAM,), _Rule.HAS),
    _Expected(ONBOARDING_FLOW, "pressure", (NO_PRESSURE,), _Rule.HAS),
    _Expected(SETTINGS_FLOW, "weekday", WEEKDAYS, _Rule.EXACTLY),
    _Expected(SETTINGS_FLOW, "pause", tuple(PAUSE_WEEKS), _Rule.ONLY),
    _Expected(SETTINGS_FLOW, "language", LANGUAGES, _Rule.ONLY),
    _Expected(CHECKIN_FLOW, "channels", (ON_PLAN, PARTLY, NOT_ON_PLAN), _Rule.EXACTLY),
    _Expected(CHECKIN_FLOW, CREEP_ANSWER, (NO_CREEP,), _Rule.HAS),
    _Expected(CHECKIN_FLOW, "energy", tuple(ENERGY_LEVELS), _Rule.ONLY),
    _Expected(CHECKIN_FLOW, INTENTION_KEPT_ANSWER, INTENTION_KEPT, _Rule.ONLY),
    _Expected(CHECKIN_FLOW, OBSTACLE_ANSWER, (KEEP_INTENTION, WIN_FIRST), _Rule.ONLY),
    _Expected(CHECKIN_FLOW, INTENTION_ANSWER, (), _Rule.ONLY),
    _Expected(REVIEW_FLOW, REVIEW_REASONS, (STILL_TRUE, REASON_CHANGED), _Rule.EXACTLY),
)


def _id_problem(expected: _Expected, offered: tuple[str, ...]) -> str | None:
    ids = expected.ids
    if expected.rule is _Rule.HAS:
        missing = [oid for oid in ids if oid not in offered]
        return f"needs an option with id '{missing[0]}'" if missing else None
    if expected.rule is _Rule.ONLY:
        unknown = [oid for oid in offered if oid not in ids]
        if unknown:
            return f"option id '{unknown[0]}' is not one the coach knows; use {', '.join(ids)}"
        return None
    if offered != ids:
        return f"{expected.rule.value} {', '.join(ids)}"
    return None


def check_flow_ids(flows: Mapping[str, Flow]) -> list[str]:
    """Every id above where the flows must have it.

    A flow or an answer step that is missing altogether is not reported here: the checks of
    the answers a flow must collect (the plan's, the schedule's) say so.
    """
    problems: list[str] = []
    settings = flows.get(SETTINGS_FLOW)
    if settings is not None and SCHEDULE_STEP not in settings.steps:
        problems.append(
            f"{shown_path(settings.path)}: needs a step '{SCHEDULE_STEP}': the plan menu "
            "starts the weekly check-in set-up there"
        )
    problems += _sunset_problems(flows.get(SUNSET_FLOW))
    problems += _quiet_problems(flows.get(SETTINGS_FLOW))
    for expected in _EXPECTED:
        flow = flows.get(expected.flow)
        if flow is None:
            continue
        where = shown_path(flow.path)
        step = flow.step_saving(expected.answer)
        if step is None:
            continue
        problem = _id_problem(expected, tuple(option.id for option in step.options))
        if problem is not None:
            problems.append(f"{where}: step '{step.id}': {problem}")
    return problems


def _quiet_problems(settings: Flow | None) -> list[str]:
    """Every quiet-hours option id says its hours ("q22_07") or is "off"."""
    step = None if settings is None else settings.step_saving(QUIET_ANSWER)
    if settings is None or step is None:
        return []
    return [
        f"{shown_path(settings.path)}: step '{step.id}': option id '{option.id}' is no quiet "
        "hours; use qHH_HH (from HH:00 to HH:00, e.g. q22_07) or off"
        for option in step.options
        if parse_quiet_option(option.id) is None
    ]


def _sunset_problems(sunset: Flow | None) -> list[str]:
    """The playbook step the plan menu enters, and the choice its action reads."""
    if sunset is None:
        return []
    where = shown_path(sunset.path)
    problems = []
    playbook = sunset.steps.get(SUNSET_PLAYBOOK_STEP)
    if playbook is None or playbook.action != SUNSET_ACTION:
        problems.append(
            f"{where}: needs a step '{SUNSET_PLAYBOOK_STEP}' with 'action: {SUNSET_ACTION}': "
            "the plan menu starts there when the plan drops one channel"
        )
    choice = sunset.step_saving(SUNSET_ANSWER)
    if choice is None or choice.options_from != "plan_dropped":
        problems.append(
            f"{where}: needs a step that saves '{SUNSET_ANSWER}' with "
            "'options_from: plan_dropped': the playbook shows the channel chosen there"
        )
    return problems
