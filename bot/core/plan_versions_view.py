"""Plan versions as the user reads them: when the plan changed and why, in their language.

The words come from ``labels.yaml`` (``plan_reason_*`` and, for a check-in decision, the very
labels its buttons had: "Instagram stays, LinkedIn goes").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.content import Content
from bot.core.focus_plan import PlanChange
from bot.core.plan_changes import DROP_AGAIN, TAKE_BUFFER
from bot.core.plan_versions import versions
from bot.core.state import UserState

__all__ = [
    "HISTORY_VERSIONS",
    "LABEL_KEYS",
    "change_text",
    "history_versions",
]

LABEL_KEYS = tuple(f"plan_reason_{reason}" for reason in PlanChange)
# /history lists the latest plan changes; the export holds all of them.
HISTORY_VERSIONS = 5


def change_text(content: Content, lang: str, reason: str, detail: Mapping[str, str]) -> str:
    """Why a version was made, as one short phrase."""
    label = content.texts.label
    choice, channel = detail.get("choice"), detail.get("channel")
    if reason == PlanChange.CHECKIN and channel and choice and choice != DROP_AGAIN:
        back = content.catalogue.channel_name(channel, lang)
        if choice == TAKE_BUFFER:
            return label(lang, "audit_buffer", channel=back, hours=float(detail.get("hours", 0)))
        return label(
            lang,
            "audit_swap",
            channel=back,
            gives_way=content.catalogue.channel_name(choice, lang),
        )
    known = reason if reason in {r.value for r in PlanChange} else PlanChange.FIRST.value
    return label(lang, f"plan_reason_{known}")


def history_versions(content: Content, user: UserState, zone: str) -> list[dict[str, Any]]:
    """The latest plan versions, newest first: number, local date (None if unknown) and why."""
    shown = []
    for entry in reversed(versions(user)[-HISTORY_VERSIONS:]):
        made_at = entry.get("made_at")
        shown.append(
            {
                "version": entry["version"],
                "made_at": None
                if made_at is None
                else datetime.fromisoformat(made_at).astimezone(ZoneInfo(zone)),
                "why": change_text(content, user.lang, entry["reason"], entry["detail"]),
                "current": entry["current"],
                "hours": entry["hours_planned"],
            }
        )
    return shown
