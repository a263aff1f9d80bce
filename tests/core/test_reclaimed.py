"""The hours won back from dropped channels: weeks since the drop, creep, and the weekly cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.reclaimed import (
    CostSource,
    PlanPeriod,
    crept_weeks,
    dropped_since,
    reclaimed_hours,
    spent_per_week,
)

ZONE = "Europe/Berlin"
FIRST = datetime(2026, 9, 4, 8, 0, tzinfo=UTC)  # a Friday, ISO week 36
CATALOGUE = {"tiktok": 4.0, "xing": 0.5, "linkedin": 2.0, "newsletter": 1.5}
PLANNED = {"linkedin": 2.0, "newsletter": 1.0}


def period(days: int, *dropped: str, dated: bool = True) -> PlanPeriod:
    return PlanPeriod(FIRST + timedelta(days=days) if dated else None, frozenset(dropped))


def test_dropped_since_the_first_version_of_the_current_unbroken_run() -> None:
    periods = [period(0, "tiktok"), period(14), period(28, "tiktok"), period(42, "tiktok")]
    assert dropped_since(periods, "tiktok") == FIRST + timedelta(days=28)
    assert dropped_since(periods, "xing") is None  # the current version does not drop it


def test_an_undated_version_leaves_the_start_unknown() -> None:
    assert dropped_since([period(0, "tiktok", dated=False)], "tiktok") is None
    # An undated older version ends the run at the dated one after it.
    periods = [period(0, "tiktok", dated=False), period(7, "tiktok")]
    assert dropped_since(periods, "tiktok") is None


def test_only_creep_of_that_channel_from_the_drop_on_counts() -> None:
    records: list[dict[str, Any]] = [
        {"week": "2026-W35", "creep": "tiktok"},  # before the drop
        {"week": "2026-W36", "creep": "tiktok"},  # the week of the drop counts
        {"week": "2026-W40", "creep": "xing"},
        {"week": "2026-W41", "creep": "none"},
        {"week": "2026-W42"},
        {"week": 42, "creep": "tiktok"},  # damaged: not counted
    ]
    assert crept_weeks(records, "tiktok", FIRST, ZONE) == 1


def test_the_hours_spent_come_from_the_weeks_it_was_rated() -> None:
    records = [
        {"channels": {"linkedin": "on_plan", "tiktok": "on_plan"}, "hours": 6.0},
        {"channels": {"linkedin": "on_plan", "tiktok": "partly"}, "hours": 3.0},
        {"channels": {"linkedin": "on_plan"}, "hours": 2.0},
    ]
    # TikTok weighs 1 h (not planned now), LinkedIn 2 h: a third of 6 h and of 3 h.
    assert spent_per_week(records, "tiktok", PLANNED) == pytest.approx(1.5)
    assert spent_per_week(records, "xing", PLANNED) is None


def test_reclaimed_hours_count_whole_weeks_less_creep_times_the_cost() -> None:
    now = FIRST + timedelta(weeks=10, days=3)
    records = [
        {"week": "2026-W30", "channels": {"linkedin": "on_plan", "xing": "on_plan"}, "hours": 3.0},
        {"week": "2026-W40", "channels": {"linkedin": "on_plan"}, "creep": "tiktok", "hours": 2},
    ]
    found = reclaimed_hours(
        [period(0, "tiktok", "xing")],
        records,
        now=now,
        zone=ZONE,
        catalogue_hours=CATALOGUE,
        planned_hours=PLANNED,
    )
    tiktok, xing = found
    assert (tiktok.channel, tiktok.weeks, tiktok.crept) == ("tiktok", 9, 1)
    assert (tiktok.per_week, tiktok.source) == (4.0, CostSource.CATALOGUE)
    assert tiktok.hours == pytest.approx(36.0)
    # Xing was rated in a check-in while it was kept: its own share of that week (1 of 3 h).
    assert (xing.weeks, xing.source) == (10, CostSource.OWN)
    assert xing.per_week == pytest.approx(1.0)


def test_nothing_to_reclaim_without_versions_a_date_or_anything_to_estimate_from() -> None:
    now = FIRST + timedelta(weeks=5)
    common: dict[str, Any] = {
        "now": now,
        "zone": ZONE,
        "catalogue_hours": CATALOGUE,
        "planned_hours": PLANNED,
    }
    assert reclaimed_hours([], [], **common) == []
    assert reclaimed_hours([period(0, "tiktok", dated=False)], [], **common) == []
    assert reclaimed_hours([period(0, "gone_channel")], [], **common) == []


def test_a_drop_in_the_future_or_creep_every_week_never_goes_negative() -> None:
    records = [{"week": f"2026-W{n}", "creep": "tiktok"} for n in range(36, 46)]
    found = reclaimed_hours(
        [period(0, "tiktok")],
        records,
        now=FIRST + timedelta(weeks=3),
        zone=ZONE,
        catalogue_hours=CATALOGUE,
        planned_hours=PLANNED,
    )
    assert found[0].weeks == 0 and found[0].hours == 0.0
    future = reclaimed_hours(
        [period(30, "tiktok")],
        [],
        now=FIRST,
        zone=ZONE,
        catalogue_hours=CATALOGUE,
        planned_hours=PLANNED,
    )
    assert future[0].weeks == 0
