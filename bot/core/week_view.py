"""A checked-in week as the user reads it: its status and, when it is not on plan, why.

``checkin_stats`` judges a week with channel ids; this turns the judgement into the words of the
user's language (labels ``week_missed``, ``week_over_budget``, ``week_crept``) for the feedback
after a check-in and for /history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from bot.core.checkin_stats import OVER_BUDGET_FACTOR
from bot.core.content import Content

__all__ = ["LABEL_KEYS", "week_reasons", "with_reasons"]

LABEL_KEYS = ("week_missed", "week_over_budget", "week_crept")


def week_reasons(
    content: Content,
    lang: str,
    *,
    missed: Sequence[str],
    over_budget: bool,
    crept: str | None,
) -> list[Markup]:
    """Why a week is not on plan, one short phrase per reason ("LinkedIn lief nur teilweise")."""
    label = content.texts.label
    reasons: list[str] = []
    if missed:
        names = ", ".join(content.catalogue.channel_name(channel, lang) for channel in missed)
        reasons.append(label(lang, "week_missed", count=len(missed), names=names))
    if over_budget:
        tolerance = round((OVER_BUDGET_FACTOR - 1) * 100)
        reasons.append(label(lang, "week_over_budget", tolerance=tolerance))
    if crept is not None:
        reasons.append(
            label(lang, "week_crept", channel=content.catalogue.channel_name(crept, lang))
        )
    # Rendered and escaped by our own sandbox: marked safe so the page does not escape twice.
    return [Markup(reason) for reason in reasons]  # noqa: S704


def with_reasons(content: Content, lang: str, week: Mapping[str, Any]) -> dict[str, Any]:
    """A judged week (``stats`` or a /history entry) with its ``reasons`` added."""
    return {
        **week,
        "reasons": week_reasons(
            content,
            lang,
            missed=week["missed"],
            over_budget=week["over_budget"],
            crept=week["crept"],
        ),
    }
