"""Actions a flow's finish step runs by name (``action: save_schedule``), and their results.

Each action changes the user's state from the answers of the side flow that just ended and
returns what its finish template shows. The checker knows every name in ``ACTIONS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.checkin_schedule import Reminder
from bot.core.checkin_stats import evaluate, parked_ready, recalled_win
from bot.core.coaching import FocusPlan
from bot.core.content import Content
from bot.core.flow_ids import (
    CREEP_ANSWER,
    DECISION_ANSWER,
    ENERGY_LEVELS,
    INTENTION_ANSWER,
    INTENTION_KEPT_ANSWER,
    KEEP_INTENTION,
    NO_CREEP,
    OBSTACLE_ANSWER,
    PAUSE_WEEKS,
    REASON_CHANGED,
    REVIEW_ACTION,
    REVIEW_ADD,
    REVIEW_HOURS,
    REVIEW_REASONS,
    SUNSET_ACTION,
    WEEKDAYS,
)
from bot.core.focus_plan import PlanChange
from bot.core.if_then import obstacle_words
from bot.core.message_banks import feedback_bank
from bot.core.own_results import RESULTS_KEY
from bot.core.plan_answers import plan_input
from bot.core.plan_changes import apply_creep_choice
from bot.core.plan_versions import adopt
from bot.core.plan_versions_view import plan_change_text
from bot.core.progress import FEEDBACK_CHART_FROM
from bot.core.quiet_hours import parse_quiet_option
from bot.core.review import REVIEW_WEEKS, review
from bot.core.schedule import local_week_key, next_occurrence, suggested_zone
from bot.core.state import UserState
from bot.core.sunset_view import chosen_channel, playbook_context
from bot.core.templating import Condition
from bot.core.variety import choose
from bot.core.week_view import with_reasons

__all__ = ["ACTIONS", "MAX_CHECKINS", "ActionContext", "checkin_week"]

# How many check-ins are kept per user: two years of weeks is plenty for /history and advice.
MAX_CHECKINS = 104
# The energy a check-in without an answer records: the middle of the scale.
_DEFAULT_ENERGY = 3


@dataclass
class ActionContext:
    """What an action works on."""

    user: UserState
    answers: dict[str, Any]
    now: datetime
    content: Content
    condition: Callable[[str], Condition]


def _local(instant: datetime, zone: str) -> datetime:
    """``instant`` on the user's wall clock: templates write it out with ``date`` and ``time``."""
    return instant.astimezone(ZoneInfo(zone))


def save_schedule(ctx: ActionContext) -> dict[str, Any]:
    """Store weekday, time and zone; compute the next check-in instant."""
    weekday = WEEKDAYS.index(ctx.answers["weekday"])
    local_time, zone = ctx.answers["time"], ctx.answers["zone"]
    current = ctx.user.reminder
    reminder = (
        Reminder(weekday, local_time, zone)
        if current is None
        else current.with_slot(weekday, local_time, zone)
    )
    reminder.next_due = next_occurrence(reminder.slot, ctx.now)
    ctx.user.reminder = reminder
    return {"next": _local(reminder.next_due, zone)}


def pause_reminders(ctx: ActionContext) -> dict[str, Any]:
    """Pause check-ins for a number of weeks (holidays); the streak is not affected."""
    reminder = ctx.user.reminder
    if reminder is None:
        return {"no_reminder": True}
    weeks = PAUSE_WEEKS[str(ctx.answers["pause"])]
    until = (ctx.now.astimezone(ZoneInfo(reminder.zone)) + timedelta(weeks=weeks)).date()
    reminder.paused_until = until
    return {"until": until, "weeks": weeks, "no_reminder": False}


def resume_reminders(ctx: ActionContext) -> dict[str, Any]:
    """End a pause: the next regular slot applies."""
    reminder = ctx.user.reminder
    if reminder is None:
        return {"no_reminder": True, "was_paused": False}
    was_paused = reminder.paused_until is not None
    reminder.paused_until = None
    reminder.next_due = next_occurrence(reminder.slot, ctx.now)
    return {
        "no_reminder": False,
        "was_paused": was_paused,
        "next": _local(reminder.next_due, reminder.zone),
    }


def set_quiet_hours(ctx: ActionContext) -> dict[str, Any]:
    """Store the quiet hours chosen ("q22_07"), or turn them off ("off": the times are kept)."""
    chosen = parse_quiet_option(str(ctx.answers["quiet"]))
    if chosen is None:  # the checker makes sure every option parses
        raise ValueError(f"unknown quiet hours option {ctx.answers['quiet']!r}")
    current = ctx.user.quiet_hours
    ctx.user.quiet_hours = chosen if chosen.on else replace(current, on=False)
    return {}


def set_language(ctx: ActionContext) -> dict[str, Any]:
    """Switch the language the coach speaks."""
    ctx.user.lang = str(ctx.answers["language"])
    return {}


def checkin_week(user: UserState, now: datetime) -> str:
    """The week a check-in is about: the pending reminder's, else the current local week."""
    if user.pending_checkin is not None:
        return str(user.pending_checkin["week"])
    zone = user.reminder.zone if user.reminder else suggested_zone(user.lang)
    return local_week_key(now, zone)


def _marked_results(answers: dict[str, Any]) -> list[str]:
    """The channels the grid marked as having brought a result, among those it rated."""
    marked, rated = answers.get(RESULTS_KEY), answers.get("channels")
    if not isinstance(marked, list) or not isinstance(rated, dict):
        return []
    return [channel for channel in dict.fromkeys(marked) if channel in rated]


def record_checkin(ctx: ActionContext) -> dict[str, Any]:
    """Store this week's check-in, then evaluate all of them and pick one piece of advice."""
    user, answers = ctx.user, ctx.answers
    week = checkin_week(user, ctx.now)
    zone = user.reminder.zone if user.reminder else suggested_zone(user.lang)
    current_week = local_week_key(ctx.now, zone)
    plan = FocusPlan.from_dict(user.plan) if user.plan else None
    budget = plan.hours_planned if plan else 0.0
    intention, obstacle = _if_then_plan(ctx, week)
    record = {
        "week": week,
        "answered_at": ctx.now.isoformat(),
        "channels": dict(answers.get("channels") or {}),
        # The channels marked 🎯 ("it brought a result"): only those rated this week count.
        RESULTS_KEY: _marked_results(answers),
        "hours": float(answers.get("hours", 0.0)),
        "creep": answers.get(CREEP_ANSWER, NO_CREEP),
        "audit": answers.get(DECISION_ANSWER),
        "win": answers.get("win"),
        # The if-then plan for next week and the obstacle it answers, in words, and whether
        # last week's plan worked.
        "intention": intention,
        "obstacle": obstacle,
        "intention_kept": answers.get(INTENTION_KEPT_ANSWER),
        "energy": ENERGY_LEVELS.get(str(answers.get("energy")), _DEFAULT_ENERGY),
        "budget": budget,
    }
    replaced = any(r["week"] == week for r in user.checkins)
    records = [r for r in user.checkins if r["week"] != week] + [record]
    records.sort(key=lambda r: str(r["week"]))
    user.checkins = records[-MAX_CHECKINS:]
    user.pending_checkin = None
    if user.reminder is not None and user.reminder.followup_week == week:
        user.reminder.drop_followup()  # answered: no follow-up
    stats = evaluate(user.checkins, budget)
    choose(user, ctx.content, feedback_bank(stats.status), week)  # the feedback's fresh line
    context = with_reasons(ctx.content, user.lang, stats.as_context())
    advice = next(
        (rule.id for rule in ctx.content.advice if ctx.condition(rule.when)({"stats": context})),
        None,
    )
    ready = parked_ready(plan, user.checkins) if plan else []
    changed = _apply_creep_decision(ctx, plan, record, week)
    return {
        "plan_changed": changed,
        "intention": record["intention"],
        "obstacle": record["obstacle"],
        "intention_kept": record["intention_kept"],
        "recalled_win": recalled_win(user.checkins),
        "stats": context,
        "advice": advice,
        # A parked channel whose trigger fired: the plan may grow (the user decides).
        "parked_ready": [ctx.content.catalogue.channel(c).label[user.lang] for c in ready],
        "parked_weeks": plan.parked[0].trigger_weeks if plan and plan.parked else 0,
        "week": week,
        "week_number": int(week.split("-W")[1]),
        "late": week != current_week,
        "replaced": replaced,
        # The picture of progress follows the feedback from the second check-in on.
        "show_progress": len(user.checkins) >= FEEDBACK_CHART_FROM,
    }


def _if_then_plan(ctx: ActionContext, week: str) -> tuple[str | None, str | None]:
    """Next week's if-then plan and the obstacle it answers, in words (either may be None).

    "Keep my plan" takes last week's as it was. A plan counts only after an obstacle (or from
    a check-in begun before the obstacle step existed, whose answers have no obstacle).
    Read before this check-in's decision changes the plan: the obstacles were offered for it.
    """
    user, answers = ctx.user, ctx.answers
    if answers.get(OBSTACLE_ANSWER) == KEEP_INTENTION:
        earlier = [record for record in user.checkins if str(record["week"]) < week]
        last = earlier[-1] if earlier else {}
        return _words(last.get("intention")), _words(last.get("obstacle"))
    obstacle = obstacle_words(user, answers, ctx.content)
    if obstacle is None and OBSTACLE_ANSWER in answers:
        return None, None
    return _words(answers.get(INTENTION_ANSWER)), obstacle


def _words(value: Any) -> str | None:
    """A stored sentence, or None for anything else."""
    return value if isinstance(value, str) and value.strip() else None


def _apply_creep_decision(
    ctx: ActionContext, plan: FocusPlan | None, record: dict[str, Any], week: str
) -> dict[str, Any] | None:
    """A dropped channel that came back and stays: the plan's new version (its new budget).

    The week just recorded keeps the budget it ran under; the new plan counts from the next.
    """
    creep, decision = record["creep"], record["audit"]
    onboarding = ctx.user.onboarding()
    inputs = plan_input(onboarding.answers) if onboarding is not None else None
    if plan is None or inputs is None or creep == NO_CREEP or not isinstance(decision, str):
        return None
    catalogue = ctx.content.catalogue
    try:
        changed = apply_creep_choice(plan, inputs, catalogue, str(creep), decision)
    except KeyError:  # a channel the catalogue no longer has
        return None
    if changed is None:
        return None
    hours = next(k.hours for k in changed.kept if k.channel == creep)
    detail = {"week": week, "channel": str(creep), "choice": decision, "hours": f"{hours:.2f}"}
    adopt(ctx.user, changed, reason=PlanChange.CHECKIN, now=ctx.now, inputs=inputs, detail=detail)
    return {"budget": changed.hours_planned, "decision": plan_change_text(ctx.content, ctx.user)}


def review_plan(ctx: ActionContext) -> dict[str, Any]:
    """The review's answers as a new plan version; the next review twelve weeks on.

    The new hours become the onboarding answer too: the plan is made from that answer, and a
    plan whose answers changed would otherwise be made anew on the next /plan.
    """
    user, answers, catalogue = ctx.user, ctx.answers, ctx.content.catalogue
    onboarding = user.onboarding()
    inputs = plan_input(onboarding.answers) if onboarding is not None else None
    if user.plan is None or onboarding is None or inputs is None:
        return {"no_plan": True}
    reasons = answers.get(REVIEW_REASONS) or {}
    reviewed = review(
        FocusPlan.from_dict(user.plan),
        inputs,
        catalogue,
        hours=float(answers.get(REVIEW_HOURS, inputs.hours)),
        changed=[channel for channel, rating in reasons.items() if rating == REASON_CHANGED],
        wanted=list(answers.get(REVIEW_ADD) or []),
    )
    onboarding.answers["hours"] = reviewed.inputs.hours
    detail = {
        "hours": f"{reviewed.inputs.hours:g}",
        "added": ",".join(reviewed.added),
        "no_room": ",".join(reviewed.no_room),
    }
    adopt(
        user,
        reviewed.plan,
        reason=PlanChange.REVIEW,
        now=ctx.now,
        inputs=reviewed.inputs,
        detail=detail,
    )
    zone = user.reminder.zone if user.reminder else suggested_zone(user.lang)

    def names(channels: tuple[str, ...]) -> list[str]:
        return [catalogue.channel(channel).label[user.lang] for channel in channels]

    return {
        "no_plan": False,
        "version": user.plan_info["version"] if user.plan_info else 1,
        "added": names(reviewed.added),
        "no_room": names(reviewed.no_room),
        "hours": reviewed.inputs.hours,
        "budget": reviewed.plan.hours_planned,
        "next_review": _local(ctx.now + timedelta(weeks=REVIEW_WEEKS), zone).date(),
    }


def sunset_playbook(ctx: ActionContext) -> dict[str, Any]:
    """The playbook for leaving the chosen dropped channel, pointing to the first kept one.

    Changes nothing. Without a choice it takes the plan's only dropped channel (the plan menu
    starts here directly then); with none to take, the playbook says there is nothing to leave.
    """
    plan = FocusPlan.from_dict(ctx.user.plan) if ctx.user.plan else None
    kept = plan.kept[0].channel if plan and plan.kept else None
    channel = chosen_channel(plan, ctx.answers)
    return playbook_context(ctx.content, channel, kept, ctx.user.lang)


ACTIONS: dict[str, Callable[[ActionContext], dict[str, Any]]] = {
    "save_schedule": save_schedule,
    "pause_reminders": pause_reminders,
    "resume_reminders": resume_reminders,
    "set_quiet_hours": set_quiet_hours,
    "set_language": set_language,
    "record_checkin": record_checkin,
    SUNSET_ACTION: sunset_playbook,
    REVIEW_ACTION: review_plan,
}
