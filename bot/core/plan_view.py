"""The focus plan as the user reads it: the template context, with labels in their language.

Every judgement carries the short citations of the (at most three) sources behind it; the
coach's own estimate is named as such, never as a study. ``/sources`` lists them in full.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.content import Content
from bot.core.focus_plan import FocusPlan, KeptChannel
from bot.core.messages import Button, Reply, ReplyKind
from bot.core.rules import Catalogue

__all__ = [
    "PLAN_TEMPLATE",
    "SOURCES_TEMPLATE",
    "cites",
    "plan_context",
    "plan_reply",
    "sources_context",
]

PLAN_TEMPLATE = "common/plan"
SOURCES_TEMPLATE = "common/sources"
_ESTIMATE = "E"  # the coach's own estimate (sources.yaml)
_MAX_CITES = 3  # sources cited inline after one statement (/sources lists them all)
# Below this many minutes a week per channel the user runs, the plan shows their arithmetic:
# an hour is less than the usual rhythm of all but the lightest channels in the catalogue.
_THIN_MINUTES = 60


def cites(
    catalogue: Catalogue, keys: Iterable[str], lang: str, *, limit: int | None = None
) -> list[str]:
    """Short inline citations ("Bitkom 2023"), the estimate last; at most ``limit``."""
    ordered = sorted(dict.fromkeys(keys), key=lambda key: key == _ESTIMATE)
    return [catalogue.source(key).short[lang] for key in ordered[:limit]]


def _dropped_groups(catalogue: Catalogue, plan: FocusPlan, lang: str) -> list[dict[str, Any]]:
    """Dropped channels with the same reason on one line: ten channels stay readable.

    Channels the user gave up for another (reason "choice") group by the one they chose.
    """
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for item in plan.dropped:
        instead = (
            None if item.replaced_by is None else catalogue.channel_name(item.replaced_by, lang)
        )
        group = groups.setdefault(
            (item.reason, instead),
            {"names": [], "reason": str(item.reason), "keys": [], "instead": instead},
        )
        group["names"].append(catalogue.channel(item.channel).label[lang])
        group["keys"].extend(item.sources)
    return [
        {
            "names": group["names"],
            "reason": group["reason"],
            "instead": group["instead"],
            "cites": cites(catalogue, group.pop("keys"), lang, limit=_MAX_CITES),
        }
        for group in groups.values()
    ]


def _kept(content: Content, item: KeptChannel, lang: str) -> dict[str, Any]:
    catalogue = content.catalogue
    channel = catalogue.channel(item.channel)
    rhythm = item.rhythm
    return {
        "name": channel.label[lang],
        "hours": item.hours,
        "reduced": item.reduced,
        "cadence": channel.cadence[lang],
        "rhythm": None
        if rhythm is None
        else {
            "units": rhythm.units,
            "per": rhythm.per,
            "reply_minutes": rhythm.reply_minutes,
            "unit": channel.effort.unit,
        },
        "new": not item.in_use,
        # Kept by the user's own decision: said so, and a weak fit is named, not explained away.
        "chosen": item.chosen,
        "weak_fit": min(item.audience_fit, item.goal_fit) < catalogue.scoring.min_fit,
        "closest": not item.chosen
        and min(item.audience_fit, item.goal_fit) < catalogue.scoring.min_fit,
        "audience_fit": item.audience_fit,
        "goal_fit": item.goal_fit,
        "note": channel.note[lang] if channel.note else "",
        "cites": cites(catalogue, item.sources, lang),
    }


def plan_context(content: Content, plan: FocusPlan, lang: str) -> dict[str, Any]:
    """Everything the plan template needs, with labels in ``lang``."""
    catalogue = content.catalogue
    scoring = catalogue.scoring

    def name(channel_id: str) -> str:
        return str(catalogue.channel(channel_id).label[lang])

    pressure = None
    if plan.pressure is not None:
        pressure = {
            "name": name(plan.pressure.channel),
            "status": str(plan.pressure.status),
            "reason": str(plan.pressure.reason) if plan.pressure.reason else "",
        }
    in_use = plan.channels_in_use
    buffered = plan.capacity >= scoring.buffer_from_hours
    # Rounded as shown, so that planned + reserve + spare add up to the hours on screen.
    reserve = round(plan.capacity * scoring.buffer_share, 1) if buffered else 0.0
    spare = max(0.0, plan.buffer - reserve)
    minutes_each = round(plan.capacity * 60 / max(in_use, 1))
    return {
        "capacity": plan.capacity,
        "max_channels": plan.max_channels,
        "text_only": plan.text_only,
        "reply_overhead": plan.reply_overhead,
        "hours_planned": plan.hours_planned,
        "buffer": plan.buffer,
        "buffer_share": round(scoring.buffer_share * 100),
        "buffered": buffered,
        # Hours beyond the buffer that no channel takes (a ceiling was reached first): the
        # plan splits them off and says where they go, instead of calling 10 h a "buffer".
        "reserve": reserve if spare >= scoring.spare_note_from_hours else plan.buffer,
        "spare": spare if spare >= scoring.spare_note_from_hours else 0.0,
        "already_focused": plan.already_focused,
        "channels_in_use": in_use,
        # The user's own arithmetic, where it makes the point: little time per channel.
        "minutes_each": minutes_each if in_use >= 2 and minutes_each < _THIN_MINUTES else None,
        "kept": [_kept(content, item, lang) for item in plan.kept],
        "profile": [
            {
                "name": name(p.channel),
                "reason": str(p.reason),
                "minutes": round(p.minutes_per_month),
                "cites": cites(catalogue, p.sources, lang),
            }
            for p in plan.profile_only
        ],
        "dropped": _dropped_groups(catalogue, plan, lang),
        "parked": [
            {
                "name": name(p.channel),
                "reason": str(p.reason),
                "weeks": p.trigger_weeks,
                "hours": p.trigger_hours,
                "cites": cites(catalogue, p.sources, lang),
            }
            for p in plan.parked
        ],
        "pressure": pressure,
        "left_behind": [name(channel_id) for channel_id in plan.left_behind],
        "focus_cites": cites(catalogue, scoring.sources["focus"], lang),
        "estimate": catalogue.source(_ESTIMATE).short[lang],
        # A change waiting out its cool-off (``plan_reply`` fills it in for /plan).
        "pending": None,
    }


def plan_reply(
    content: Content,
    plan: FocusPlan,
    lang: str,
    *,
    pending: Mapping[str, Any] | None = None,
    buttons: tuple[tuple[Button, ...], ...] = (),
    light_week: Mapping[str, Any] | None = None,
) -> Reply:
    """Render the whole focus plan; ``pending``: a change waiting out its cool-off (its line
    on top), ``buttons``: its cancel button; ``light_week``: a coming light week to show with
    it (``bot.core.light_week.light_context``)."""
    context = {**plan_context(content, plan, lang), "pending": pending}
    text = content.texts.render(lang, PLAN_TEMPLATE, plan=context, light_week=light_week)
    return Reply(text=text, kind=ReplyKind.INFO, buttons=buttons)


def sources_context(content: Content, plan: FocusPlan | None, lang: str) -> dict[str, Any]:
    """Every source the user's plan cites, in full (``/sources``); the estimate explained."""
    catalogue = content.catalogue
    keys: list[str] = []
    if plan is not None:
        for items in (plan.kept, plan.profile_only, plan.dropped, plan.parked):
            for item in items:
                keys.extend(item.sources)
    keys.extend(catalogue.scoring.sources["focus"])
    entries = [
        {
            "short": catalogue.source(key).short[lang],
            "title": catalogue.source(key).title[lang],
            "where": catalogue.source(key).where,
            "estimate": key == _ESTIMATE,
        }
        for key in sorted(dict.fromkeys(keys), key=lambda key: key == _ESTIMATE)
    ]
    return {"sources": entries, "has_plan": plan is not None}
