"""Tracked exits as the user meets them: starting one, its dated steps, ticking, the heartbeat.

``bot.core.exits`` holds the records and their arithmetic; this module connects them to the
user's state and content: the local day (the check-in's zone), the platform's inactivity rule
from ``prompts/rules/sunset.yaml``, and the template contexts (labels, dates, sources).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.content import Content
from bot.core.exits import Exit, Heartbeat, Mode
from bot.core.state import UserState
from bot.core.sunset_rules import InactivityRule

__all__ = [
    "ALL_DUE",
    "NOT_YET",
    "answer_heartbeat",
    "asked_heartbeat",
    "due_exit_steps",
    "exit_context",
    "exits_context",
    "heartbeat_context",
    "inactivity_rule",
    "left_out",
    "local_today",
    "offer_heartbeat",
    "start_exit",
    "step_option",
    "tick_exit_answer",
]

# The check-in's fixed answers besides the steps: every due step done, or none yet.
ALL_DUE: Final = "all_due"
NOT_YET: Final = "not_yet"
_SEPARATOR: Final = "/"  # an option id is "<channel>/<step>"


def local_today(user: UserState, now: datetime) -> date:
    """The user's local day (the check-in's zone, else the language's usual one)."""
    zone = user.zone
    return now.astimezone(ZoneInfo(zone)).date()


def left_out(user: UserState) -> list[str]:
    """The channels the plan drops or keeps as a profile only, in plan order."""
    plan = user.plan or {}
    return [
        entry["channel"]
        for section in ("dropped", "profile_only")
        for entry in plan.get(section, [])
        if isinstance(entry, dict) and isinstance(entry.get("channel"), str)
    ]


def inactivity_rule(content: Content, channel: str) -> InactivityRule | None:
    """The platform's stated inactivity rule, or None (no rule: no heartbeat)."""
    try:
        return content.sunset.playbook(channel).inactivity
    except KeyError:
        return None


def _rule_days(rule: InactivityRule | None) -> tuple[int, int] | None:
    return None if rule is None else (rule.days, rule.remind_before)


def start_exit(user: UserState, content: Content, channel: str, mode: Mode, now: datetime) -> Exit:
    """Start the exit from ``channel`` today (an exit already started is kept as it is)."""
    found = user.exits.get(channel)
    if found is None:
        found = Exit(channel=channel, mode=mode, started=local_today(user, now))
        user.exits = {**user.exits, channel: found}
    return found


def due_exit_steps(user: UserState, now: datetime) -> list[tuple[str, str]]:
    """``(channel, step id)`` of every step due by today, of channels the plan still leaves."""
    today = local_today(user, now)
    still_left = left_out(user)
    return [
        (channel, step)
        for channel, found in sorted(user.exits.items())
        if channel in still_left
        for step in found.due_steps(today)
    ]


def step_option(channel: str, step: str) -> str:
    """The check-in option id of one due step."""
    return f"{channel}{_SEPARATOR}{step}"


def tick_exit_answer(
    user: UserState, content: Content, answer: object, now: datetime
) -> list[tuple[str, str]]:
    """Tick what the check-in's answer says was done; return ``(channel, step)`` ticked.

    ``ALL_DUE`` ticks every step due now; ``"<channel>/<step>"`` that one step (a step not
    due, or not of an exit, is ignored: a stale answer ticks nothing it was not asked about).
    """
    due = due_exit_steps(user, now)
    if answer == ALL_DUE:
        chosen = due
    elif isinstance(answer, str):
        channel, _, step = answer.partition(_SEPARATOR)
        chosen = [(channel, step)] if (channel, step) in due else []
    else:
        chosen = []
    ticked: list[tuple[str, str]] = []
    for channel in dict.fromkeys(channel for channel, _ in chosen):
        steps = [step for ch, step in chosen if ch == channel]
        rule = _rule_days(inactivity_rule(content, channel))
        ticked += [(channel, s) for s in user.exits[channel].tick(steps, now, rule)]
    return ticked


def _channel_name(content: Content, channel: str, lang: str) -> str:
    try:
        return content.catalogue.channel(channel).label[lang]
    except KeyError:
        return channel


def exit_context(content: Content, user: UserState, channel: str, now: datetime) -> dict[str, Any]:
    """One exit for a template: its dated steps (done, due), whether done, its heartbeat."""
    found = user.exits[channel]
    lang, today = user.lang, local_today(user, now)
    name = _channel_name(content, channel, lang)
    steps = [
        {
            "id": step.id,
            "text": content.texts.label(lang, f"exit_step_{step.id}", channel=name),
            "date": found.date_of(step),
            "done": step.id in found.done,
            "due": step.id not in found.done and found.date_of(step) <= today,
        }
        for step in found.steps
    ]
    rule = inactivity_rule(content, channel)
    beat = found.heartbeat
    return {
        "channel": {"id": channel, "name": name},
        "mode": found.mode.value,
        "steps": steps,
        "done_count": sum(1 for s in steps if s["done"]),
        "finished": found.finished,
        "heartbeat": None if beat is None else _heartbeat_view(content, user, channel, beat),
        "has_rule": rule is not None,
    }


def exits_context(content: Content, user: UserState, now: datetime) -> list[dict[str, Any]]:
    """Every exit of a channel the plan still leaves, for /plan."""
    still_left = left_out(user)
    return [
        exit_context(content, user, channel, now)
        for channel in sorted(user.exits)
        if channel in still_left
    ]


def _heartbeat_view(
    content: Content, user: UserState, channel: str, beat: Heartbeat
) -> dict[str, Any]:
    """A heartbeat for a template: the window's end as a local day, the rule's evidence."""
    zone = user.zone
    end = beat.asked if beat.asked is not None else beat.since + beat.period
    rule = inactivity_rule(content, channel)
    return {
        "channel": {"id": channel, "name": _channel_name(content, channel, user.lang)},
        "deadline": end.astimezone(ZoneInfo(zone)).date(),
        "stopped": beat.stopped,
        "days": beat.days,
        "risk": None if rule is None else rule.risk[user.lang],
        "certainty": None if rule is None else rule.certainty.value,
        "as_of": None if rule is None else {"year": rule.as_of.year, "month": rule.as_of.month},
        "sources": [] if rule is None else list(rule.sources),
    }


def offer_heartbeat(user: UserState, channel: str, end: datetime) -> bool:
    """Put the heartbeat of ``channel`` (its window ending at ``end``) in front of the user."""
    found = user.exits.get(channel)
    if found is None or found.heartbeat is None or found.heartbeat.stopped:
        return False
    for other in user.exits.values():  # one heartbeat on screen at a time: the newest
        if other.heartbeat is not None:
            other.heartbeat.asked = None
    found.heartbeat.asked = end
    return True


def asked_heartbeat(user: UserState) -> str | None:
    """The channel whose heartbeat is on screen, or None."""
    return next((ch for ch, ex in user.exits.items() if ex.heartbeat and ex.heartbeat.asked), None)


def heartbeat_context(content: Content, user: UserState) -> dict[str, Any] | None:
    """The heartbeat on screen, for its prompt (None when there is none)."""
    channel = asked_heartbeat(user)
    if channel is None:
        return None
    beat = user.exits[channel].heartbeat
    assert beat is not None  # for mypy: asked_heartbeat found it
    return _heartbeat_view(content, user, channel, beat)


def answer_heartbeat(
    user: UserState, content: Content, *, logged_in: bool, now: datetime
) -> str | None:
    """ "Logged in": the next window starts now; "let it go": no more heartbeats.

    Returns the channel answered, or None when no heartbeat is on screen (a stale button).
    """
    channel = asked_heartbeat(user)
    if channel is None:
        return None
    found = user.exits[channel]
    beat = found.heartbeat
    assert beat is not None  # for mypy: asked_heartbeat found it
    rule = inactivity_rule(content, channel)
    if logged_in and rule is not None:
        # A new window, with the rule as it is now.
        found.heartbeat = Heartbeat(now, rule.days, rule.remind_before)
    else:  # let go, or the rule is no longer in the file: no more reminders
        beat.stopped = True
        beat.asked = None
    return channel
