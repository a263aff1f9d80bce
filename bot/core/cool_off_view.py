"""The cool-off as the user reads it: the reason a channel was left out, the waiting change with
its local date and time, its cancel button, and the one-time notes when it took effect or was
withdrawn.

The words are in templates (``common/cool_off*.j2``) and labels (``left_out_*``,
``cool_off_cancel``); this module only gathers what they need.
"""

from __future__ import annotations

from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core.callbacks import Action, encode
from bot.core.content import Content
from bot.core.cool_off import COOL_OFF, Outcome, PendingChange, Settled, waiting
from bot.core.focus_plan import DropReason, FocusPlan
from bot.core.messages import Button, Reply, ReplyKind
from bot.core.plan_view import cites
from bot.core.state import UserState

__all__ = [
    "CANCEL_LABEL",
    "COOL_OFF_NOTE",
    "COOL_OFF_TEMPLATE",
    "LABEL_KEYS",
    "cancel_button",
    "change_context",
    "left_out",
    "note_reply",
    "pending_view",
]

COOL_OFF_TEMPLATE: Final = "common/cool_off"
# The key of an action's result that carries a cool-off note (a ``Reply`` with its cancel
# button): the conversation shows it after the finish step's text.
COOL_OFF_NOTE: Final = "cool_off_note"
CANCEL_LABEL: Final = "cool_off_cancel"
LABEL_KEYS: Final = (CANCEL_LABEL, *(f"left_out_{reason}" for reason in DropReason))
# A cancel button is never checked against the turn: it stays valid as long as its change waits.
_ANY_TURN: Final = 0


def left_out(content: Content, plan: FocusPlan, channel: str, lang: str) -> dict[str, Any] | None:
    """Why ``plan`` leaves ``channel`` out, as stored, with the short names of its sources."""
    catalogue = content.catalogue
    found: list[tuple[str, DropReason, tuple[str, ...], str | None, bool]] = [
        (d.channel, d.reason, d.sources, d.replaced_by, False) for d in plan.dropped
    ] + [(p.channel, p.reason, p.sources, None, True) for p in plan.profile_only]
    for left, reason, sources, instead, profile in found:
        if left == channel:
            return {
                "name": catalogue.channel_name(channel, lang),
                "why": content.texts.label(
                    lang,
                    f"left_out_{reason}",
                    instead=catalogue.channel_name(instead, lang) if instead else "",
                ),
                "cites": cites(catalogue, sources, lang, limit=3),
                "profile": profile,
            }
    return None


def change_context(
    content: Content, change: PendingChange, lang: str, zone: str
) -> dict[str, Any]:
    """A change as the templates read it: names, and its instants on the user's wall clock."""
    name = content.catalogue.channel_name
    local = ZoneInfo(zone)
    return {
        "id": change.id,
        "channel": name(change.channel, lang),
        "others": [name(other, lang) for other in change.others],
        "instead": None if change.instead is None else name(change.instead, lang),
        "requested": change.requested_at.astimezone(local),
        "effective": change.due_at().astimezone(local),
        "days": COOL_OFF.days,
    }


def cancel_button(
    content: Content, change: PendingChange, lang: str
) -> tuple[tuple[Button, ...], ...]:
    """The "↩ cancel" button of a waiting change (one row)."""
    label = content.texts.label(lang, CANCEL_LABEL)
    return ((Button(label, encode(_ANY_TURN, Action.UNDO, change.id)),),)


def pending_view(
    content: Content, user: UserState
) -> tuple[dict[str, Any] | None, tuple[tuple[Button, ...], ...]]:
    """The waiting change for /plan (None if none) and its cancel button."""
    change = waiting(user)
    if change is None:
        return None, ()
    context = change_context(content, change, user.lang, user.zone)
    return context, cancel_button(content, change, user.lang)


def note_reply(
    content: Content, user: UserState, settled: Settled, *, before: FocusPlan | None = None
) -> Reply | None:
    """What the user is told about ``settled`` (None when there is nothing to say)."""
    change = settled.change
    if change is None and settled.outcome is not Outcome.NOTHING:
        return None
    lang = user.lang
    zone = user.zone
    context: dict[str, Any] = {
        "outcome": settled.outcome.value,
        "change": None if change is None else change_context(content, change, lang, zone),
        "previous": None
        if settled.previous is None
        else change_context(content, settled.previous, lang, zone),
        "left_out": None
        if before is None or change is None
        else left_out(content, before, change.channel, lang),
    }
    text = content.texts.render(lang, COOL_OFF_TEMPLATE, cool_off=context)
    waiting_now = settled.outcome in (Outcome.REQUESTED, Outcome.REPLACED, Outcome.SAME)
    buttons = cancel_button(content, change, lang) if waiting_now and change else ()
    return Reply(text=text, kind=ReplyKind.INFO, buttons=buttons)
