"""What the review and /history show of the user's own results and of the hours reclaimed.

Builds template context (channel names in the user's language, dates on their wall clock) from
the pure judgements in ``bot.core.own_results`` and ``bot.core.reclaimed``. Stored documents are
read tolerantly: a plan version without a date, or a channel the catalogue no longer knows,
leaves its line out instead of failing the view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.content import Content
from bot.core.focus_plan import FocusPlan
from bot.core.own_results import own_results
from bot.core.reclaimed import CostSource, PlanPeriod, reclaimed_hours
from bot.core.rules import Catalogue
from bot.core.state import UserState

__all__ = [
    "own_results_context",
    "plan_periods",
    "planned_hours",
    "reclaimed_context",
]

_ESTIMATE = "E"  # the coach's own estimate (sources.yaml): cited last


def planned_hours(catalogue: Catalogue, plan: FocusPlan) -> dict[str, float]:
    """Hours a week per channel for splitting a week's hours: the plan's for its kept channels,
    the catalogue's minimum viable cadence for any other (a channel kept in an older version)."""
    hours = {channel.id: channel.hours_per_week for channel in catalogue.channels}
    return hours | {kept.channel: kept.hours for kept in plan.kept}


def _effort_cites(catalogue: Catalogue, channel: str, lang: str) -> list[str]:
    """Short citations of the sources behind a channel's cost, the coach's estimate last."""
    keys = dict.fromkeys(catalogue.channel(channel).effort_sources)
    ordered = sorted(keys, key=lambda key: key == _ESTIMATE)
    return [catalogue.source(key).short[lang] for key in ordered]


def own_results_context(content: Content, user: UserState) -> dict[str, Any] | None:
    """The kept channels' own numbers and what decides their order; None without a plan."""
    if user.plan is None:
        return None
    plan = FocusPlan.from_dict(user.plan)
    if not plan.kept:
        return None
    catalogue, lang = content.catalogue, user.lang
    kept = [k.channel for k in plan.kept]
    found = own_results(user.checkins, kept, planned_hours(catalogue, plan)).as_context()
    for row in found["channels"]:
        row["name"] = catalogue.channel_name(row["channel"], lang)
    for order in ("own_order", "catalogue_order"):
        found[f"{order}_names"] = [catalogue.channel_name(c, lang) for c in found[order]]
    return found


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def plan_periods(user: UserState) -> list[PlanPeriod]:
    """Every plan version, oldest first, the current one last: its date and dropped channels."""
    periods = []
    for previous in user.previous_plans:
        plan = FocusPlan.from_dict(previous["plan"])
        dropped = frozenset(d.channel for d in plan.dropped)
        periods.append(PlanPeriod(_instant(previous.get("made_at")), dropped))
    if user.plan is not None:
        plan = FocusPlan.from_dict(user.plan)
        made_at = _instant((user.plan_info or {}).get("made_at"))
        periods.append(PlanPeriod(made_at, frozenset(d.channel for d in plan.dropped)))
    return periods


def reclaimed_context(
    content: Content, user: UserState, *, now: datetime, zone: str
) -> dict[str, Any] | None:
    """The hours won back from each dropped channel so far; None when there is nothing to say
    (no plan, nothing dropped, or no whole week yet)."""
    if user.plan is None:
        return None
    catalogue, lang = content.catalogue, user.lang
    plan = FocusPlan.from_dict(user.plan)
    found = reclaimed_hours(
        plan_periods(user),
        user.checkins,
        now=now,
        zone=zone,
        catalogue_hours={c.id: c.hours_per_week for c in catalogue.channels},
        planned_hours=planned_hours(catalogue, plan),
    )
    rows: list[dict[str, Any]] = []
    for item in found:
        if item.weeks == 0 and item.crept == 0:
            continue  # dropped this week: nothing won yet
        known = item.channel in {c.id for c in catalogue.channels}
        # The hours from the rounded weekly figure, so the sum in the text adds up.
        per_week = round(item.per_week, 1)
        rows.append(
            {
                "name": catalogue.channel_name(item.channel, lang),
                "since": item.since.astimezone(ZoneInfo(zone)).date(),
                "weeks": item.weeks,
                "crept": item.crept,
                "per_week": per_week,
                "hours": round(item.weeks * per_week, 1),
                "own": item.source is CostSource.OWN,
                "cadence": catalogue.channel(item.channel).cadence[lang] if known else "",
                "cites": _effort_cites(catalogue, item.channel, lang) if known else [],
            }
        )
    if not rows:
        return None
    return {"channels": rows, "hours": round(sum(r["hours"] for r in rows), 1)}
