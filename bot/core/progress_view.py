"""The picture of progress as the user gets it: the chart, its caption in words, a sparkline.

``progress_reply`` turns a user's check-ins into one ``Reply`` of kind ``PHOTO``: the PNG from
``progress_chart``, the caption (template ``common/progress``) saying the same in words, and the
hours as a one-line sparkline for the terminal. Every word comes from the templates: the chart's
from the labels in ``CHART_LABEL_KEYS``. It is sent with /history and with the feedback after a
check-in from the second one on (``progress.FEEDBACK_CHART_FROM``).

A chart that cannot be drawn must not cost the user their check-in (the engine saves after the
replies are built): the caption then comes alone, as text, and the failure is logged.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from bot.core.checkin_stats import WeekStatus
from bot.core.coaching import FocusPlan
from bot.core.content import Content
from bot.core.contract_view import ledger_of
from bot.core.messages import Photo, Reply, ReplyKind
from bot.core.progress import Progress, Score, progress, sparkline
from bot.core.progress_chart import ChartTexts, render_chart
from bot.core.state import UserState

__all__ = [
    "CAPTION_LIMIT",
    "CAPTION_TEMPLATE",
    "CHART_LABEL_KEYS",
    "caption_context",
    "chart_texts",
    "progress_reply",
    "user_progress",
]

log = logging.getLogger(__name__)

CAPTION_TEMPLATE: Final = "common/progress"
# Telegram's limit for a photo caption (visible characters); `focus-coach check` keeps the
# caption of a full chart under it, in every language.
CAPTION_LIMIT: Final = 1024
# The label of each status on the chart's legend and in the caption.
STATUS_LABELS: Final = {
    WeekStatus.ON_PLAN: "chart_on_plan",
    WeekStatus.PARTLY: "chart_partly",
    WeekStatus.OFF: "chart_off",
}
CHART_LABEL_KEYS: Final = (
    "chart_streak",
    "chart_score",
    "chart_hours",
    "chart_week",
    "chart_budget",
    *STATUS_LABELS.values(),
)


def user_progress(user: UserState, now: datetime | None = None) -> Progress | None:
    """The user's progress over their check-ins; None before the first one.

    With ``now``, the streak and the score are the streak contract's (``week_ledger``: jokers
    and repairs keep the streak, weeks on plan out of the last 12), as the texts beside it say.
    """
    if not user.checkins:
        return None
    plan = FocusPlan.from_dict(user.plan) if user.plan else None
    chart = progress(user.checkins, plan.hours_planned if plan else 0.0)
    if now is None:
        return chart
    ledger = ledger_of(user, now)
    on_plan, counted = ledger.score
    return replace(chart, streak=ledger.streak, score=Score(on_plan=on_plan, weeks=counted))


def _title_lines(content: Content, lang: str, chart: Progress) -> tuple[str, str]:
    label = content.texts.label
    streak = label(lang, "chart_streak", count=chart.streak)
    score = label(lang, "chart_score", count=chart.score.weeks, on_plan=chart.score.on_plan)
    return streak, score


def chart_texts(content: Content, lang: str, chart: Progress) -> ChartTexts:
    """Every word on the chart in ``lang``."""
    label = content.texts.label
    return ChartTexts(
        lang=lang,
        title="\n".join(_title_lines(content, lang, chart)),
        hours_axis=label(lang, "chart_hours"),
        weeks=tuple(label(lang, "chart_week", number=bar.number) for bar in chart.bars),
        on_plan=label(lang, STATUS_LABELS[WeekStatus.ON_PLAN]),
        partly=label(lang, STATUS_LABELS[WeekStatus.PARTLY]),
        off=label(lang, STATUS_LABELS[WeekStatus.OFF]),
        budget=label(lang, "chart_budget", value=chart.budget),
    )


def caption_context(content: Content, lang: str, chart: Progress) -> dict[str, Any]:
    """What the caption template reads: ``chart`` (the progress), ``title``, status words."""
    streak, score = _title_lines(content, lang, chart)
    context = chart.as_context()
    for bar in context["bars"]:
        bar["status_text"] = content.texts.label(lang, STATUS_LABELS[WeekStatus(bar["status"])])
    return {"chart": context, "streak_text": streak, "score_text": score}


def progress_reply(content: Content, user: UserState, now: datetime | None = None) -> Reply | None:
    """The progress chart with its caption; None before the first check-in."""
    chart = user_progress(user, now)
    if chart is None:
        return None
    lang = user.lang
    caption = content.texts.render(lang, CAPTION_TEMPLATE, **caption_context(content, lang, chart))
    try:
        png = render_chart(chart, chart_texts(content, lang, chart))
    except Exception:
        # Drawing is an extra: the words still reach the user, and the check-in is saved.
        log.exception("the progress chart of user %s could not be drawn", user.user_id)
        return Reply(text=caption)
    return Reply(
        text=caption,
        kind=ReplyKind.PHOTO,
        photo=Photo(
            filename=f"fokus-coach-progress-{user.user_id.replace(':', '-')}.png",
            content=png,
            text_line=sparkline([bar.hours for bar in chart.bars]),
        ),
    )
