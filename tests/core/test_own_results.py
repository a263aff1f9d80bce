"""The user's own results against the catalogue's data: estimates, counts, and what decides."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.own_results import (
    MIN_RESULTS,
    MIN_WEEKS,
    Decider,
    estimated_minutes,
    own_results,
    recorded_results,
)

PLANNED = {"linkedin": 2.0, "newsletter": 1.0}
KEPT = ["linkedin", "newsletter"]  # the plan's order: the catalogue's data decided it


def week(n: int, results: Any, *, hours: float = 3.0) -> dict[str, Any]:
    return {
        "week": f"2026-W{n:02d}",
        "channels": {"linkedin": "on_plan", "newsletter": "partly"},
        "hours": hours,
        "results": results,
    }


def test_a_weeks_hours_are_split_by_the_plans_hours_per_channel() -> None:
    record = week(1, [])
    assert estimated_minutes(record, "linkedin", PLANNED) == pytest.approx(120.0)
    assert estimated_minutes(record, "newsletter", PLANNED) == pytest.approx(60.0)
    # A channel not rated that week took none of its hours.
    assert estimated_minutes(record, "tiktok", PLANNED) == 0.0


def test_a_channel_without_planned_hours_weighs_one_hour() -> None:
    record = {"channels": {"linkedin": "on_plan", "xing": "on_plan"}, "hours": 3.0}
    assert estimated_minutes(record, "xing", PLANNED) == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        (["linkedin"], ["linkedin"]),
        ([], []),
        (["linkedin", "linkedin"], ["linkedin"]),
        (None, None),
        ("linkedin", None),
        ({"linkedin": True}, None),
        ([1, "linkedin"], None),
    ],
)
def test_recorded_results_are_read_tolerantly(stored: Any, read: list[str] | None) -> None:
    assert recorded_results({"results": stored}) == read


def test_records_from_before_the_mark_count_no_week() -> None:
    old = {"week": "2026-W01", "channels": {"linkedin": "on_plan"}, "hours": 2.0}
    found = own_results([old] * 10, KEPT, PLANNED)
    assert (found.weeks, found.results, found.decided_by) == (0, 0, Decider.FEW_WEEKS)


def test_under_eight_weeks_the_catalogue_decides() -> None:
    records = [week(n, ["newsletter"]) for n in range(1, MIN_WEEKS)]
    found = own_results(records, KEPT, PLANNED)
    assert found.weeks == MIN_WEEKS - 1
    assert found.decided_by is Decider.FEW_WEEKS
    assert [c.channel for c in found.channels] == KEPT  # the plan's order stays
    assert not found.differs


def test_enough_weeks_but_too_few_results_leave_it_to_the_catalogue() -> None:
    records = [week(n, ["newsletter"] if n == 1 else []) for n in range(1, MIN_WEEKS + 1)]
    found = own_results(records, KEPT, PLANNED)
    assert found.results == 1 < MIN_RESULTS
    assert found.decided_by is Decider.FEW_RESULTS
    assert found.as_context()["own"] is False


def test_own_numbers_decide_and_say_where_they_differ_from_the_catalogue() -> None:
    # The newsletter brings a result every week at a third of the hours; LinkedIn once.
    records = [
        week(n, ["newsletter", "linkedin"] if n == 1 else ["newsletter"])
        for n in range(1, MIN_WEEKS + 1)
    ]
    found = own_results(records, KEPT, PLANNED)
    assert found.decided_by is Decider.OWN
    newsletter, linkedin = found.channels
    assert newsletter.channel == "newsletter"
    assert (newsletter.weeks, newsletter.results) == (MIN_WEEKS, MIN_WEEKS)
    assert newsletter.minutes == pytest.approx(MIN_WEEKS * 60.0)
    assert newsletter.minutes_per_result == pytest.approx(60.0)
    assert linkedin.minutes_per_result == pytest.approx(MIN_WEEKS * 120.0)
    assert found.own_order == ("newsletter", "linkedin")
    assert found.differs
    context = found.as_context()
    assert context["channels"][0]["minutes_per_result"] == 60
    assert context["catalogue_order"] == KEPT


def test_a_channel_without_any_result_goes_last_and_own_numbers_can_agree() -> None:
    records = [week(n, ["linkedin"]) for n in range(1, MIN_WEEKS + 1)]
    found = own_results(records, KEPT, PLANNED)
    assert found.decided_by is Decider.OWN
    assert found.own_order == ("linkedin", "newsletter")
    assert found.channels[1].minutes_per_result is None
    assert not found.differs  # they confirm the catalogue's order


def test_a_damaged_record_neither_counts_nor_breaks_the_sums() -> None:
    damaged: list[dict[str, Any]] = [
        {"week": "2026-W30", "channels": "x", "hours": "lots", "results": ["linkedin"]},
        {"week": "2026-W31", "channels": {"linkedin": "on_plan"}, "hours": -3, "results": 5},
    ]
    records = damaged + [week(n, ["linkedin"]) for n in range(1, MIN_WEEKS + 1)]
    found = own_results(records, KEPT, PLANNED)
    # The first counts as a week with results, but rated no channel and took no hours.
    assert found.weeks == MIN_WEEKS + 1
    assert found.channels[0].weeks == MIN_WEEKS
    assert found.channels[0].minutes == pytest.approx(MIN_WEEKS * 120.0)
