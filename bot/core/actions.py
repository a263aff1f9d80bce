"""Actions a flow's finish step runs by name (``action: save_schedule``), and their results.

Each action changes the user's state from the answers of the side flow that just ended and
returns what its finish template shows. The checker knows every name in ``ACTIONS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.checkin_schedule import Reminder
from bot.core.checkin_stats import evaluate, parked_ready, recalled_win
from bot.core.coaching import FocusPlan
from bot.core.content import Content
from bot.core.contract_actions import CONTRACT_ACTIONS
from bot.core.contract_view import contract_context
from bot.core.cool_off import request, returning, settle
from bot.core.cool_off_view import COOL_OFF_NOTE, note_reply
from bot.core.exit_view import exit_context, tick_exit_answer
from bot.core.exit_view import start_exit as start_exit_of
from bot.core.exits import Mode
from bot.core.flow_ids import (
    COVER_TARGET,
    CREEP_ANSWER,
    DECISION_ANSWER,
    ENERGY_LEVELS,
    EXIT_MODE_ANSWER,
    EXIT_STEPS_ANSWER,
    IN_THE_WAY,
    IN_THE_WAY_ANSWER,
    IN_THE_WAY_FORGOT,
    IN_THE_WAY_TOO_BIG,
    IN_THE_WAY_TOO_MUCH,
    INTENTION_ANSWER,
    INTENTION_KEPT_ANSWER,
    KEEP_INTENTION,
    MAKE_UP_DONE,
    MAKE_UP_DONE_ANSWER,
    NO_CREEP,
    OBSTACLE_ANSWER,
    PAUSE_WEEKS,
    REASON_CHANGED,
    REVIEW_ACTION,
    REVIEW_ADD,
    REVIEW_HOURS,
    REVIEW_REASONS,
    REVIEW_ROOM,
    SUNSET_ACTION,
    WEEKDAYS,
)
from bot.core.focus_plan import PlanChange
from bot.core.if_then import obstacle_words
from bot.core.light_week import (
    LightWeek,
    light_context,
    light_week_of,
    lighter_week,
    next_checkin_week,
)
from bot.core.message_banks import feedback_bank
from bot.core.own_results import RESULTS_KEY
from bot.core.plan_answers import plan_input
from bot.core.plan_changes import DROP_AGAIN, apply_creep_choice
from bot.core.plan_versions import adopt
from bot.core.progress import FEEDBACK_CHART_FROM
from bot.core.quiet_hours import parse_quiet_option
from bot.core.review import REVIEW_WEEKS, review
from bot.core.schedule import local_week_key, next_occurrence
from bot.core.state import UserState
from bot.core.sunset_view import chosen_channel
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
    today = ctx.now.astimezone(ZoneInfo(reminder.zone)).date()
    until = today + timedelta(weeks=weeks)
    reminder.paused_until = until
    # Kept in the contract: its weeks stay neutral for the streak after the pause is over.
    # A pause set anew replaces the one running (it may be shorter).
    ctx.user.contract = ctx.user.contract.ending_pauses(today).with_pause(today, until)
    return {"until": until, "weeks": weeks, "no_reminder": False}


def resume_reminders(ctx: ActionContext) -> dict[str, Any]:
    """End a pause: the next regular slot applies."""
    reminder = ctx.user.reminder
    if reminder is None:
        return {"no_reminder": True, "was_paused": False}
    was_paused = reminder.paused_until is not None
    reminder.paused_until = None
    today = ctx.now.astimezone(ZoneInfo(reminder.zone)).date()
    ctx.user.contract = ctx.user.contract.ending_pauses(today)
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
    zone = user.zone
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
    zone = user.zone
    current_week = local_week_key(ctx.now, zone)
    plan = FocusPlan.from_dict(user.plan) if user.plan else None
    # A light week (after a lapse) is judged against its own smaller budget.
    light = light_week_of(user.light_week, week)
    budget = light.budget if light is not None else plan.hours_planned if plan else 0.0
    intention, obstacle = _if_then_plan(ctx, week)
    in_the_way = answers.get(IN_THE_WAY_ANSWER)
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
        # What got in the way after a missed week, and the light week this was, if either.
        "in_the_way": in_the_way if in_the_way in IN_THE_WAY else None,
        "light": None if light is None else light.why,
    }
    repair = user.contract.repair_by(week)
    if repair is not None and answers.get(MAKE_UP_DONE_ANSWER) is not None:
        # The make-up week's extra action: done or not decides whether the repair holds.
        done = answers[MAKE_UP_DONE_ANSWER] == MAKE_UP_DONE
        user.contract = user.contract.with_repair(replace(repair, done=done))
    replaced = any(r["week"] == week for r in user.checkins)
    records = [r for r in user.checkins if r["week"] != week] + [record]
    records.sort(key=lambda r: str(r["week"]))
    user.checkins = records[-MAX_CHECKINS:]
    user.pending_checkin = None
    if user.reminder is not None and user.reminder.followup_week == week:
        user.reminder.drop_followup()  # answered: no follow-up
    stats = evaluate(user.checkins, budget)
    choose(user, ctx.content, feedback_bank(stats.status), week)  # the feedback's fresh line
    contract = contract_context(user, ctx.now)
    # The streak is the contract's: jokers and repairs keep it, a missed week ends it.
    context = with_reasons(
        ctx.content, user.lang, {**stats.as_context(), "streak": contract["streak"]}
    )
    rules_intro = not user.contract.rules_shown
    user.contract = user.contract.shown()
    advice = next(
        (rule.id for rule in ctx.content.advice if ctx.condition(rule.when)({"stats": context})),
        None,
    )
    ready = parked_ready(plan, user.checkins) if plan else []
    requested = _apply_creep_decision(ctx, plan, record, week) or {}
    next_light = _lighter_next_week(ctx, plan, week, record["in_the_way"])
    tick_exit_answer(user, ctx.content, answers.get(EXIT_STEPS_ANSWER), ctx.now)
    return {
        **requested,
        # A light week checked in, and what the answer to "what got in the way?" changes.
        "light": None if light is None else _light_context(ctx, light),
        "in_the_way": record["in_the_way"],
        "next_light": None if next_light is None else _light_context(ctx, next_light),
        "smaller_intention": record["in_the_way"] == IN_THE_WAY_FORGOT,
        "intention": record["intention"],
        "obstacle": record["obstacle"],
        "intention_kept": record["intention_kept"],
        "recalled_win": recalled_win(user.checkins),
        "stats": context,
        "contract": contract,
        # The contract's rules in short, once, after the first check-in (then /rules).
        "rules_intro": rules_intro,
        # A missed week that a joker or a repair can still cover: offered after the feedback.
        "follow_up": COVER_TARGET if contract["uncovered"] else None,
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


def _lighter_next_week(
    ctx: ActionContext, plan: FocusPlan | None, week: str, in_the_way: object
) -> LightWeek | None:
    """Too much on, or a plan too big: the next check-in's week is a lighter one (stored)."""
    user = ctx.user
    if plan is None or in_the_way not in (IN_THE_WAY_TOO_MUCH, IN_THE_WAY_TOO_BIG):
        return None
    zone = user.zone
    following = next_checkin_week(user.reminder, zone, ctx.now, week)
    light = lighter_week(plan, ctx.content.catalogue, following, str(in_the_way))
    user.light_week = None if light is None else light.to_dict()
    return light


def _light_context(ctx: ActionContext, light: LightWeek) -> dict[str, Any]:
    """A light week as the templates show it: its week number, channels by name, budget."""
    return light_context(ctx.content.catalogue, light, ctx.user.lang)


def _apply_creep_decision(
    ctx: ActionContext, plan: FocusPlan | None, record: dict[str, Any], week: str
) -> dict[str, Any] | None:
    """A dropped channel that came back and stays: the plan's new version, after a cool-off.

    Keeping it eases the focus, so the new plan waits seven days as the user's pending change
    (``bot.core.cool_off``); the note saying so, with the reason it was left out, follows the
    feedback (``COOL_OFF_NOTE``). Letting it go again changes nothing. The week just recorded
    keeps the budget it ran under either way.
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
    settled = request(
        ctx.user,
        changed,
        before=plan,
        reason=PlanChange.CHECKIN,
        detail=detail,
        inputs=inputs,
        instead=decision,  # the kept channel that makes room (the only way back in)
        now=ctx.now,
        zone=ctx.user.zone,
    )
    return {COOL_OFF_NOTE: note_reply(ctx.content, ctx.user, settled, before=plan)}


def review_plan(ctx: ActionContext) -> dict[str, Any]:
    """The review's answers as a new plan version; the next review twelve weeks on.

    The new hours become the onboarding answer too: the plan is made from that answer, and a
    plan whose answers changed would otherwise be made anew on the next /plan. Bringing back a
    channel the plan left out eases the focus and waits out the cool-off as the pending change
    (``bot.core.cool_off``): the one whose reason has changed, swapped one in, one out for the
    kept channel the user picked, on top of the reviewed plan; and a result whose new hours
    alone bring one back waits as a whole, hours and all. Everything else applies at once.
    """
    user, answers, catalogue = ctx.user, ctx.answers, ctx.content.catalogue
    onboarding = user.onboarding()
    inputs = plan_input(onboarding.answers) if onboarding is not None else None
    if user.plan is None or onboarding is None or inputs is None:
        return {"no_plan": True}
    before = FocusPlan.from_dict(user.plan)
    reviewed = review(
        before,
        inputs,
        catalogue,
        hours=float(answers.get(REVIEW_HOURS, inputs.hours)),
        changed=[],  # one in, one out (the answer `room`), not into the buffer
        wanted=list(answers.get(REVIEW_ADD) or []),
    )
    reasons = answers.get(REVIEW_REASONS) or {}
    changed = next((c for c, rating in reasons.items() if rating == REASON_CHANGED), None)
    room = answers.get(REVIEW_ROOM)
    swapped = None
    if isinstance(changed, str) and isinstance(room, str) and room != DROP_AGAIN:
        try:
            swapped = apply_creep_choice(reviewed.plan, reviewed.inputs, catalogue, changed, room)
        except KeyError:  # a channel the catalogue no longer has
            swapped = None
    no_room = [
        *reviewed.no_room,
        *(
            [changed]
            if isinstance(changed, str) and room not in (None, DROP_AGAIN) and not swapped
            else []
        ),
    ]
    detail = {
        "hours": f"{reviewed.inputs.hours:g}",
        "added": ",".join(reviewed.added),
        "no_room": ",".join(no_room),
    }
    by_hours = returning(before, reviewed.plan)
    note = None
    if not by_hours:
        # Narrowing, new hours, parked channels: at once. A change still waiting rests on the
        # plan this replaces: it no longer applies (a new one below replaces it instead).
        onboarding.answers["hours"] = reviewed.inputs.hours
        adopt(
            user,
            reviewed.plan,
            reason=PlanChange.REVIEW,
            now=ctx.now,
            inputs=reviewed.inputs,
            detail=detail,
        )
        if swapped is None:
            known = [channel.id for channel in catalogue.channels]
            withdrawn = settle(user, ctx.now, known)
            note = None if withdrawn is None else note_reply(ctx.content, user, withdrawn)
    waiting = swapped or (reviewed.plan if by_hours else None)
    if waiting is not None:
        settled = request(
            user,
            waiting,
            before=FocusPlan.from_dict(user.plan),
            reason=PlanChange.REVIEW,
            detail=detail
            if by_hours
            else {**detail, "channel": str(changed), "choice": str(room)},
            inputs=reviewed.inputs,
            instead=None if swapped is None else str(room),
            now=ctx.now,
            zone=user.zone,
        )
        note = note_reply(ctx.content, user, settled, before=before)
    zone = user.zone

    def names(channels: Sequence[str]) -> list[str]:
        return [catalogue.channel_name(channel, user.lang) for channel in channels]

    coming_back = returning(FocusPlan.from_dict(user.plan), waiting) if waiting else ()
    return {
        COOL_OFF_NOTE: note,
        "no_plan": False,
        "version": user.plan_info["version"] if user.plan_info else 1,
        # Channels coming back after the cool-off (the note after the text says when).
        "waiting": names(coming_back),
        "added": [] if by_hours else names(reviewed.added),
        "no_room": names(no_room),
        "hours": reviewed.inputs.hours,
        "budget": (waiting or reviewed.plan).hours_planned,
        "next_review": _local(ctx.now + timedelta(weeks=REVIEW_WEEKS), zone).date(),
    }


def start_exit(ctx: ActionContext) -> dict[str, Any]:
    """Start the tracked exit from the chosen dropped channel the way the user picked.

    "announce" or "quiet" start it today (``exit_view.start_exit``; one already started stays
    as it is); "tips" or "ok" change nothing. The result shows the exit's dated steps.
    """
    user = ctx.user
    plan = FocusPlan.from_dict(user.plan) if user.plan else None
    channel = chosen_channel(plan, ctx.answers)
    mode = ctx.answers.get(EXIT_MODE_ANSWER)
    if channel is not None and mode in tuple(Mode):
        start_exit_of(user, ctx.content, channel, Mode(str(mode)), ctx.now)
    if channel is None or channel not in user.exits:
        return {"exit": None}
    return {"exit": exit_context(ctx.content, user, channel, ctx.now)}


ACTIONS: dict[str, Callable[[ActionContext], dict[str, Any]]] = {
    "save_schedule": save_schedule,
    "pause_reminders": pause_reminders,
    "resume_reminders": resume_reminders,
    "set_quiet_hours": set_quiet_hours,
    "set_language": set_language,
    "record_checkin": record_checkin,
    SUNSET_ACTION: start_exit,
    REVIEW_ACTION: review_plan,
    **CONTRACT_ACTIONS,
}
