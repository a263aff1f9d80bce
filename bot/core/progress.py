"""Progress over the weeks, as the chart and its caption show it: plain data, no drawing.

A bar per check-in (the latest ``CHART_WEEKS``, the weeks /history lists), each with its hours,
the budget it was measured against and its status as ``checkin_stats.judge_week`` gives it (on
plan, partly, off plan); the streak; and a forgiving score over the last ``SCORE_WINDOW``
check-ins ("3 of the last 4 weeks on plan"). A week without a check-in is not a bar; the chart
the user sees takes its streak and score from the streak contract (``progress_view``, over the
last 12 weeks of ``week_ledger``), where a missed week counts and a paused one does not.
``sparkline`` draws the hours as one line of text for the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bot.core.checkin_stats import HISTORY_WEEKS, WeekStatus, evaluate, judge_week

__all__ = [
    "CHART_WEEKS",
    "FEEDBACK_CHART_FROM",
    "SCORE_WINDOW",
    "Progress",
    "Score",
    "WeekBar",
    "forgiving_score",
    "progress",
    "sparkline",
]

# The chart shows the weeks /history lists, so picture and list always agree.
CHART_WEEKS = HISTORY_WEEKS
# The score looks at a month of check-ins: one bad week costs a quarter, not the whole picture.
SCORE_WINDOW = 4
# The feedback after a check-in carries the chart from the second check-in on: one bar is no
# picture of progress yet (/history shows it from the first).
FEEDBACK_CHART_FROM = 2
# Eight heights, lowest first: U+2581 .. U+2588.
SPARK_LEVELS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class WeekBar:
    """One check-in as a bar: its ISO week, the hours spent and planned, and its status."""

    week: str  # "2026-W48"
    number: int  # 48
    year: int  # 2026
    hours: float
    budget: float
    status: WeekStatus

    @property
    def on_plan(self) -> bool:
        """Whether the week counts for the streak and the score."""
        return self.status is WeekStatus.ON_PLAN


@dataclass(frozen=True)
class Score:
    """How many of the last ``weeks`` check-ins were on plan."""

    on_plan: int
    weeks: int


@dataclass(frozen=True)
class Progress:
    """What the chart draws and its caption says."""

    bars: tuple[WeekBar, ...]  # oldest first
    streak: int
    score: Score
    budget: float  # the latest week's budget: the one the line is labelled with

    def as_context(self) -> dict[str, Any]:
        """The progress as the caption template reads it (``chart.score.on_plan`` ...)."""
        context = asdict(self)
        for bar in context["bars"]:
            bar["status"] = str(bar["status"])
        return context


def forgiving_score(statuses: Sequence[WeekStatus], window: int = SCORE_WINDOW) -> Score:
    """Count the weeks on plan among the last ``window`` check-ins (``statuses`` oldest first).

    Only a week on plan counts: "partly" is said in words and drawn apart, but the score is the
    one the feedback can keep honest ("3 of the last 4 weeks on plan").
    """
    if window < 1:
        raise ValueError("the score needs a window of at least one check-in")
    recent = statuses[-window:]
    return Score(
        on_plan=sum(1 for status in recent if status is WeekStatus.ON_PLAN), weeks=len(recent)
    )


def sparkline(values: Sequence[float]) -> str:
    """The values as one line of block characters, from zero (``▁``) up to the largest (``█``).

    The scale starts at zero, not at the smallest value, so that a steady 3, 3, 3 reads as full
    weeks and not as nothing; all zeros (or none spent) stay on the floor.
    """
    top = max(values, default=0.0)
    if top <= 0:
        return SPARK_LEVELS[0] * len(values)
    steps = len(SPARK_LEVELS) - 1
    return "".join(SPARK_LEVELS[round(max(value, 0.0) / top * steps)] for value in values)


def _bar(record: Mapping[str, Any], budget: float) -> WeekBar:
    year, _, number = str(record["week"]).partition("-W")
    return WeekBar(
        week=str(record["week"]),
        number=int(number),
        year=int(year),
        hours=float(record.get("hours", 0.0)),
        budget=float(record.get("budget", budget)),
        # The status the feedback and /history state, so picture and words agree.
        status=judge_week(record, budget).status,
    )


def progress(records: Sequence[Mapping[str, Any]], budget: float) -> Progress:
    """The progress over check-ins ordered oldest first (at least one).

    ``budget`` is the plan's hours, for records stored before each check-in kept its own.
    """
    if not records:
        raise ValueError("progress needs at least one check-in")
    bars = tuple(_bar(record, budget) for record in records[-CHART_WEEKS:])
    return Progress(
        bars=bars,
        # The streak the feedback text states, over all check-ins, not only the drawn ones.
        streak=evaluate(records, budget).streak,
        score=forgiving_score([bar.status for bar in bars]),
        budget=bars[-1].budget,
    )
