"""The focus plan as the user reads it: the template context, with labels in their language."""

from __future__ import annotations

from typing import Any

from bot.core.coaching import FocusPlan
from bot.core.content import Content
from bot.core.messages import Reply, ReplyKind

__all__ = ["PLAN_TEMPLATE", "plan_context", "plan_reply"]

PLAN_TEMPLATE = "common/plan"
# The source key of the project's own estimates: never shown as a study.
_OWN_ESTIMATE = "E"


def plan_context(content: Content, plan: FocusPlan, lang: str) -> dict[str, Any]:
    """Everything the plan template needs, with labels in ``lang``."""
    catalogue = content.catalogue

    def name(channel_id: str) -> str:
        return str(catalogue.channel(channel_id).label[lang])

    cited: list[str] = []
    kept = []
    for item in plan.kept:
        channel = catalogue.channel(item.channel)
        kept.append(
            {
                "id": item.channel,
                "name": name(item.channel),
                "hours": item.hours,
                "reduced": item.reduced,
                "cadence": channel.cadence[lang],
                "note": channel.note[lang] if channel.note else "",
                "audience_fit": item.audience_fit,
                "goal_fit": item.goal_fit,
                "sources": list(item.sources),
            }
        )
        cited.extend(key for key in item.sources if key not in cited)
    sources = [
        {"key": key, "title": catalogue.source(key).title} for key in cited if key != _OWN_ESTIMATE
    ]
    pressure = None
    if plan.pressure is not None:
        pressure = {
            "name": name(plan.pressure.channel),
            "status": str(plan.pressure.status),
            "reason": str(plan.pressure.reason) if plan.pressure.reason else "",
        }
    return {
        "capacity": plan.capacity,
        "max_channels": plan.max_channels,
        "text_only": plan.text_only,
        "reply_overhead": plan.reply_overhead,
        "hours_planned": plan.hours_planned,
        "buffer": plan.buffer,
        "kept": kept,
        "dropped": [{"name": name(d.channel), "reason": str(d.reason)} for d in plan.dropped],
        "parked": [{"name": name(p.channel), "reason": str(p.reason)} for p in plan.parked],
        "pressure": pressure,
        "sources": sources,
    }


def plan_reply(content: Content, plan: FocusPlan, lang: str) -> Reply:
    """Render the whole focus plan."""

    def source_title(key: str) -> str:
        return str(content.catalogue.source(key).title)

    text = content.texts.render(
        lang, PLAN_TEMPLATE, plan=plan_context(content, plan, lang), source=source_title
    )
    return Reply(text=text, kind=ReplyKind.INFO)
