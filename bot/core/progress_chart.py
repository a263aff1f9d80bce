"""The progress chart as a PNG: hours per week as bars against the budget line.

Drawn with matplotlib's object API on the Agg canvas (``Figure`` + ``FigureCanvasAgg``, never
pyplot: no global figure registry, no GUI backend). matplotlib is imported when the first chart
is drawn, not when the bot starts, so start-up time and idle memory stay as they were.

Made to be read on a phone and without colour: large type, few labels (every other week once
there are more than ``_ALL_TICKS_UP_TO`` bars), the Okabe-Ito colour-blind-safe palette, and
each status told apart by more than its colour: on plan is a solid bar with a star above it,
partly is hatched ``///``, off plan is cross-hatched ``xx`` with a cross above it; a legend
names all three and the budget, which is a thick dashed line. Every word on it comes from
``ChartTexts`` (rendered from the templates by ``progress_view``); numbers on the axis are
written the user's way (``1,5``).

matplotlib's font and text caches are shared by all threads, so one chart is drawn at a time
(``_DRAWING``); a chart takes a fraction of a second, see ``bench/chart_bench.py``.
"""

from __future__ import annotations

import gc
import io
import threading
from dataclasses import dataclass
from typing import Any

from bot.core.checkin_stats import WeekStatus
from bot.core.locale_format import format_number
from bot.core.progress import Progress

__all__ = ["CHART_DPI", "CHART_INCHES", "ChartTexts", "render_chart"]

# 8 x 5 inches at 125 dpi: 1000 x 625 pixels, sharp on a phone yet a small upload (~40 KB).
CHART_INCHES = (8.0, 5.0)
CHART_DPI = 125

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour
# vision deficiency. Each status also has its own hatch (and on plan its marker).
_BLUISH_GREEN = "#009E73"
_ORANGE = "#E69F00"
_VERMILLION = "#D55E00"
_BLACK = "#000000"
_GRID = "#BBBBBB"


@dataclass(frozen=True)
class _Look:
    face: str
    edge: str
    hatch: str | None


_LOOKS = {
    WeekStatus.ON_PLAN: _Look(face=_BLUISH_GREEN, edge="#00523C", hatch=None),
    WeekStatus.PARTLY: _Look(face=_ORANGE, edge="#6B4A00", hatch="///"),
    WeekStatus.OFF: _Look(face=_VERMILLION, edge="#5E2A00", hatch="xx"),
}
# Above every bar on plan a star, above every bar off plan a cross (also a zero-hour week).
_MARKERS = {WeekStatus.ON_PLAN: "*", WeekStatus.OFF: "X"}
_MARKER_SIZE = 18

_TITLE_SIZE = 18
_LABEL_SIZE = 15
_TICK_SIZE = 14
_LEGEND_SIZE = 13
_ALL_TICKS_UP_TO = 8
_HEADROOM = 1.3  # above the tallest bar or budget: room for the marks

# matplotlib keeps font and text-layout caches across threads: draw one chart at a time.
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class ChartTexts:
    """Every word on the chart, in the user's language (plain text, no HTML)."""

    lang: str  # for the numbers on the hours axis
    title: str  # may span two lines
    hours_axis: str
    weeks: tuple[str, ...]  # one tick label per bar, oldest first
    on_plan: str
    partly: str
    off: str
    budget: str


def render_chart(chart: Progress, texts: ChartTexts) -> bytes:
    """Draw ``chart`` with ``texts`` and return the PNG bytes.

    Blocking (a fraction of a second): call it from a worker thread, never on the event loop.
    """
    if len(texts.weeks) != len(chart.bars):
        raise ValueError("one week label per bar is needed")
    with _DRAWING:
        png = _draw(chart, texts)
        # A figure is a web of reference cycles (figure, canvas, axes, artists, Agg buffer),
        # all still young: collecting them now (about 1 ms) keeps the process at its size after
        # the first chart, where waiting for the collector let it grow by ~35 MB over 20 charts.
        gc.collect(1)
    return png


def _draw(chart: Progress, texts: ChartTexts) -> bytes:
    # Imported here, not at module level: see the module docstring.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figure = Figure(figsize=CHART_INCHES, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bars = chart.bars
    positions = list(range(len(bars)))

    for position, bar in zip(positions, bars, strict=True):
        look = _LOOKS[bar.status]
        axes.bar(
            position,
            bar.hours,
            width=0.72,
            color=look.face,
            edgecolor=look.edge,  # also the hatch's colour
            hatch=look.hatch,
            linewidth=1.5,
            zorder=2,
        )
    top = max([bar.hours for bar in bars] + [bar.budget for bar in bars] + [1.0]) * _HEADROOM
    # A mark above each bar on plan (a star) and off plan (a cross), clear of the budget line.
    for status, marker in _MARKERS.items():
        marked = [(p, b) for p, b in zip(positions, bars, strict=True) if b.status is status]
        if marked:
            axes.plot(
                [p for p, _ in marked],
                [max(b.hours, b.budget) + top * 0.07 for _, b in marked],
                linestyle="none",
                marker=marker,
                markersize=_MARKER_SIZE,
                color=_BLACK,
                zorder=3,
            )
    # The budget as a step line over each week's own budget (it moves when the plan changes).
    edges = [p - 0.5 for p in positions] + [positions[-1] + 0.5]
    budgets = [bar.budget for bar in bars]
    axes.step(
        edges,
        [*budgets, budgets[-1]],
        where="post",
        color=_BLACK,
        linestyle=(0, (4, 2)),
        linewidth=3,
        zorder=4,
    )

    axes.set_xlim(-0.6, len(bars) - 0.4)
    axes.set_ylim(0, top)
    shown = [p for p in positions if len(bars) <= _ALL_TICKS_UP_TO or (len(bars) - 1 - p) % 2 == 0]
    axes.set_xticks(shown, [texts.weeks[p] for p in shown])
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _: format_number(value, texts.lang))
    )
    axes.tick_params(labelsize=_TICK_SIZE)
    axes.set_ylabel(texts.hours_axis, fontsize=_LABEL_SIZE)
    axes.grid(axis="y", color=_GRID, linewidth=0.8, zorder=0)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_title(texts.title, fontsize=_TITLE_SIZE, loc="left")

    handles: list[Any] = [
        (_patch(Patch, WeekStatus.ON_PLAN), _mark(Line2D, WeekStatus.ON_PLAN)),
        _patch(Patch, WeekStatus.PARTLY),
        (_patch(Patch, WeekStatus.OFF), _mark(Line2D, WeekStatus.OFF)),
        Line2D([], [], color=_BLACK, linestyle=(0, (4, 2)), linewidth=3),
    ]
    figure.legend(
        handles,
        [texts.on_plan, texts.partly, texts.off, texts.budget],
        loc="outside lower center",
        ncols=2,
        fontsize=_LEGEND_SIZE,
        frameon=False,
        handlelength=2.6,
        handleheight=1.3,
    )
    buffer = io.BytesIO()
    # No "Software" stamp: the picture says nothing about the server it was drawn on.
    figure.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _patch(patch: Any, status: WeekStatus) -> Any:
    look = _LOOKS[status]
    return patch(facecolor=look.face, edgecolor=look.edge, hatch=look.hatch, linewidth=1.5)


def _mark(line: Any, status: WeekStatus) -> Any:
    return line([], [], linestyle="none", marker=_MARKERS[status], markersize=13, color=_BLACK)
