"""What the picture of progress costs: render time and memory of a 12-week chart.

``python -m bench.chart_bench`` (or as part of ``python -m bench``, see ``--chart-runs``) draws
the chart of a user with twelve check-ins (every status, a budget change) the way the bot does
(``progress_view.progress_reply``: texts from the templates, matplotlib Figure on Agg, PNG bytes),
in a fresh interpreter, and prints JSON (``--table`` for a Markdown table):

* the first chart: matplotlib is imported then (the bot does not import it at start-up), so its
  time includes the import and the process's resident memory (RSS) grows by what it loads;
* the charts after it: median and 95th percentile render time over ``--runs``;
* peak Python allocation while one chart is drawn (``tracemalloc``, a separate pass: tracing
  slows drawing down), and the process's peak RSS (``VmHWM``) before and after all charts.

Figures only, never a pass/fail on time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

__all__ = ["main", "measure"]

_MB = 1024 * 1024
_WEEKS = 12


def _status_kb(field: str) -> int:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in bytes; 0 elsewhere."""
    try:
        with Path("/proc/self/status").open() as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _user(lang: str) -> Any:
    """A user with twelve check-ins: every status, hours around a budget that changes once."""
    from bot.core.state import UserState

    ratings = ["on_plan", "on_plan", "partly", "on_plan", "not", "on_plan"] * 2
    hours = [3.0, 4.5, 2.0, 5.0, 0.0, 3.5, 3.0, 4.0, 6.0, 3.0, 3.5, 4.0]
    user = UserState(user_id="bench", lang=lang)
    user.checkins = [
        {
            "week": f"2026-W{number:02d}",
            "channels": {"linkedin": ratings[number - 1]},
            "hours": hours[number - 1],
            "budget": 3.5 if number <= 6 else 4.0,
            "energy": 3,
        }
        for number in range(1, _WEEKS + 1)
    ]
    return user


def measure(runs: int, lang: str) -> dict[str, Any]:
    """Draw ``runs`` + 1 charts (plus ``runs`` traced ones); return the figures."""
    from bot.core.checker import load_content
    from bot.core.content import DEFAULT_PROMPTS_DIR
    from bot.core.progress_view import progress_reply

    content = load_content(DEFAULT_PROMPTS_DIR)
    user = _user(lang)
    matplotlib_loaded_before = "matplotlib" in sys.modules
    rss_before = _status_kb("VmRSS")
    hwm_before = _status_kb("VmHWM")

    started = time.perf_counter()
    first = progress_reply(content, user)
    first_seconds = time.perf_counter() - started
    if first is None or first.photo is None:
        raise RuntimeError("no chart was drawn")
    rss_after_first = _status_kb("VmRSS")

    seconds: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        progress_reply(content, user)
        seconds.append(time.perf_counter() - started)
    rss_after = _status_kb("VmRSS")
    hwm_after = _status_kb("VmHWM")

    peaks: list[int] = []
    for _ in range(max(1, runs // 4)):
        tracemalloc.start()
        progress_reply(content, user)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()

    ordered = sorted(seconds)
    return {
        "weeks": _WEEKS,
        "lang": lang,
        "runs": runs,
        "png_bytes": len(first.photo.content),
        "matplotlib_loaded_before_first_chart": matplotlib_loaded_before,
        "first_chart_seconds": first_seconds,
        "median_seconds": statistics.median(seconds) if seconds else first_seconds,
        "p95_seconds": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        if ordered
        else first_seconds,
        "tracemalloc_peak_bytes": max(peaks),
        "rss_before_bytes": rss_before,
        "rss_after_first_bytes": rss_after_first,
        "rss_after_bytes": rss_after,
        "hwm_before_bytes": hwm_before,
        "hwm_after_bytes": hwm_after,
    }


def table(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    rows = [
        ("Chart size: weeks / PNG bytes", f"{figures['weeks']} / {figures['png_bytes']:,}"),
        (
            "First chart, matplotlib imported with it (s)",
            f"{figures['first_chart_seconds']:.2f}",
        ),
        (
            f"Each chart after it: median / p95 of {figures['runs']} (ms)",
            f"{figures['median_seconds'] * 1e3:.0f} / {figures['p95_seconds'] * 1e3:.0f}",
        ),
        (
            "Peak Python allocation while drawing one chart (tracemalloc, MB)",
            f"{figures['tracemalloc_peak_bytes'] / _MB:.1f}",
        ),
        (
            "Resident memory: before / after the first chart / after all (MB)",
            f"{figures['rss_before_bytes'] / _MB:.0f} / "
            f"{figures['rss_after_first_bytes'] / _MB:.0f} / "
            f"{figures['rss_after_bytes'] / _MB:.0f}",
        ),
        (
            "Peak RSS (VmHWM): before / after the charts (MB)",
            f"{figures['hwm_before_bytes'] / _MB:.0f} / {figures['hwm_after_bytes'] / _MB:.0f}",
        ),
    ]
    lines = ["| Measure | Value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure in this (fresh) interpreter and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.chart_bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="charts timed after the first")
    parser.add_argument("--lang", default="de", choices=["de", "en"])
    parser.add_argument("--table", action="store_true", help="a Markdown table, not JSON")
    args = parser.parse_args(argv)
    figures = measure(max(args.runs, 1), args.lang)
    print(table(figures) if args.table else json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
