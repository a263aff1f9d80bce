"""The week ledger and the streak contract over a simulated year (Europe/Berlin, Fridays 08:30).

2026 has both DST changes (29 March, 25 October): a week's check-in is due at 08:30 on the wall
clock, so the instant a week closes moves by an hour in UTC, and the ledger must follow it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.checkin_schedule import Reminder
from bot.core.streak_contract import Contract, Joker, JokerHow, Pause, Repair
from bot.core.week_ledger import (
    JOKERS_PER_QUARTER,
    Ledger,
    Outcome,
    build_ledger,
    jokers_left_at,
    monday_of,
    open_last_week,
    quarter_of,
    week_after,
)

BERLIN = ZoneInfo("Europe/Berlin")
BUDGET = 2.0
FIRST = "2026-W01"


def slot(week: str) -> datetime:
    """Friday 08:30 Berlin time of ``week``, in UTC."""
    friday = monday_of(week) + timedelta(days=4)
    return datetime(friday.year, friday.month, friday.day, 8, 30, tzinfo=BERLIN).astimezone(UTC)


def on_plan(week: str) -> dict[str, Any]:
    return {"week": week, "channels": {"linkedin": "on_plan"}, "hours": 2.0, "budget": BUDGET}


def partly(week: str) -> dict[str, Any]:
    return {"week": week, "channels": {"linkedin": "partly"}, "hours": 2.0, "budget": BUDGET}


def weeks(first: str, count: int) -> list[str]:
    return [week_after(first, n) for n in range(count)]


def ledger(
    records: list[dict[str, Any]],
    now: datetime,
    contract: Contract | None = None,
    **reminder: Any,
) -> Ledger:
    return build_ledger(
        records,
        contract or Contract(),
        reminder=Reminder(4, "08:30", "Europe/Berlin", **reminder),
        zone="Europe/Berlin",
        now=now,
        budget=BUDGET,
    )


def outcomes(book: Ledger) -> dict[str, Outcome]:
    return {week.week: week.outcome for week in book.weeks}


def test_weeks_on_plan_make_the_streak_and_the_score() -> None:
    records = [on_plan(w) for w in weeks(FIRST, 4)]
    book = ledger(records, slot("2026-W04") + timedelta(hours=2))
    assert book.streak == 4
    assert book.score == (4, 4)  # "4 of the last 4": fewer than 12 while the user is new
    records = [on_plan(w) for w in weeks(FIRST, 20)]
    book = ledger(records, slot("2026-W20") + timedelta(hours=2))
    assert (book.streak, book.score) == (20, (12, 12))


def test_a_partly_week_ends_the_streak_and_the_next_starts_a_new_one() -> None:
    records = [on_plan("2026-W01"), partly("2026-W02"), on_plan("2026-W03")]
    book = ledger(records, slot("2026-W03") + timedelta(hours=1))
    assert book.streak == 1
    assert book.score == (2, 3)


def test_a_week_not_yet_due_is_not_in_the_ledger_and_an_unanswered_one_is_open() -> None:
    records = [on_plan("2026-W01")]
    assert [w.week for w in ledger(records, slot("2026-W02") - timedelta(minutes=1)).weeks] == [
        "2026-W01"
    ]
    book = ledger(records, slot("2026-W02") + timedelta(minutes=1))
    assert outcomes(book)["2026-W02"] is Outcome.OPEN
    assert book.streak == 1  # open: passed over, not a break
    assert book.open_week is not None and book.open_week.closes == slot("2026-W03")


def test_late_logging_across_the_spring_dst_change_counts_for_its_week() -> None:
    """Week 13's check-in (27 March, CET) closes at week 14's slot (3 April 08:30 CEST)."""
    records = [on_plan(w) for w in weeks(FIRST, 12)]
    closes = slot("2026-W14")
    assert closes == datetime(2026, 4, 3, 6, 30, tzinfo=UTC)  # not 07:30: summer time
    still_open = ledger(records, closes - timedelta(minutes=1))
    assert outcomes(still_open)["2026-W13"] is Outcome.OPEN
    assert ledger(records, closes).week("2026-W13").outcome is Outcome.MISSED  # type: ignore[union-attr]
    # Logged late, a minute before it closed: it counts for week 13, not for week 14.
    late = ledger([*records, on_plan("2026-W13")], closes + timedelta(hours=1))
    assert outcomes(late)["2026-W13"] is Outcome.ON_PLAN
    assert late.streak == 13


def test_autumn_dst_change_moves_the_closing_instant_back_an_hour() -> None:
    records = [on_plan(w) for w in weeks(FIRST, 42)]
    closes = slot("2026-W44")  # 30 October, after the change on 25 October
    assert closes == datetime(2026, 10, 30, 7, 30, tzinfo=UTC)
    assert outcomes(ledger(records, closes - timedelta(minutes=1)))["2026-W43"] is Outcome.OPEN
    assert outcomes(ledger(records, closes))["2026-W43"] is Outcome.MISSED


def test_a_declared_joker_keeps_the_streak_without_adding_to_it() -> None:
    records = [on_plan(w) for w in ("2026-W01", "2026-W02", "2026-W04")]
    contract = Contract().with_joker("2026-W03", JokerHow.DECLARED)
    book = ledger(records, slot("2026-W04") + timedelta(hours=1), contract)
    assert outcomes(book)["2026-W03"] is Outcome.JOKER
    assert book.streak == 3
    assert book.jokers_left() == JOKERS_PER_QUARTER - 1


def test_a_declared_joker_week_that_goes_to_plan_gives_the_joker_back() -> None:
    contract = Contract().with_joker("2026-W02", JokerHow.DECLARED)
    records = [on_plan("2026-W01"), on_plan("2026-W02")]
    book = ledger(records, slot("2026-W02") + timedelta(hours=1), contract)
    assert outcomes(book)["2026-W02"] is Outcome.ON_PLAN
    assert book.streak == 2 and book.jokers_left() == JOKERS_PER_QUARTER
    # A week that went partly is covered by the joker declared for it.
    records = [on_plan("2026-W01"), partly("2026-W02")]
    book = ledger(records, slot("2026-W02") + timedelta(hours=1), contract)
    assert outcomes(book)["2026-W02"] is Outcome.JOKER
    assert book.streak == 1


def test_a_joker_used_on_a_missed_week_keeps_the_streak() -> None:
    records = [on_plan(w) for w in ("2026-W05", "2026-W06", "2026-W08")]
    now = slot("2026-W08") + timedelta(hours=1)
    book = ledger(records, now)
    assert outcomes(book)["2026-W07"] is Outcome.MISSED
    assert book.streak == 1
    assert book.uncovered is not None and book.uncovered.week == "2026-W07"
    assert book.can_use_joker("2026-W07")
    covered = ledger(records, now, Contract().with_joker("2026-W07", JokerHow.USED))
    assert outcomes(covered)["2026-W07"] is Outcome.JOKER
    assert covered.streak == 3
    assert covered.uncovered is None


def test_a_third_joker_in_a_quarter_is_refused_and_a_new_quarter_brings_two_more() -> None:
    contract = (
        Contract().with_joker("2026-W02", JokerHow.DECLARED).with_joker("2026-W05", JokerHow.USED)
    )
    records = [on_plan(w) for w in weeks(FIRST, 12) if w not in ("2026-W02", "2026-W05")]
    records = [r for r in records if r["week"] != "2026-W10"]
    book = ledger(records, slot("2026-W12") + timedelta(hours=1), contract)
    assert quarter_of("2026-W12") == "2026-Q1"
    assert book.jokers_left() == 0
    assert book.uncovered is not None and book.uncovered.week == "2026-W10"
    assert not book.can_use_joker("2026-W10")
    assert not book.can_declare("2026-W13")  # week 13 (Thursday 26 March) is still Q1
    assert book.streak == 2  # the missed week 10 ends it
    # Week 14 (Thursday 2 April) is in the second quarter: two jokers again.
    assert book.can_declare("2026-W14")
    assert book.jokers_left("2026-W14") == JOKERS_PER_QUARTER


def test_a_repair_holds_when_the_make_up_week_is_on_plan_and_its_action_done() -> None:
    records = [on_plan(w) for w in ("2026-W20", "2026-W21", "2026-W23", "2026-W24")]
    repair = Repair("2026-W22", by="2026-W24", action="Ein Extra-Beitrag auf LinkedIn")
    pending = ledger(
        records[:3], slot("2026-W23") + timedelta(hours=1), Contract().with_repair(repair)
    )
    assert outcomes(pending)["2026-W22"] is Outcome.REPAIRING
    assert pending.streak == 3  # while it is being made up, the streak stands
    done = Contract().with_repair(Repair(repair.week, repair.by, repair.action, done=True))
    book = ledger(records, slot("2026-W24") + timedelta(hours=1), done)
    assert outcomes(book)["2026-W22"] is Outcome.REPAIRED
    assert book.streak == 4
    assert book.score == (4, 5)  # the repaired week keeps the streak, it is not on plan


@pytest.mark.parametrize(
    ("make_up", "done", "streak"),
    [(partly("2026-W24"), True, 0), (on_plan("2026-W24"), False, 2), (None, None, 0)],
    ids=["make-up week partly", "extra action not done", "make-up week missed too"],
)
def test_a_repair_that_fails_leaves_the_week_missed(
    make_up: dict[str, Any] | None, done: bool | None, streak: int
) -> None:
    records = [on_plan(w) for w in ("2026-W20", "2026-W21", "2026-W23")]
    if make_up is not None:
        records.append(make_up)
    contract = Contract().with_repair(Repair("2026-W22", "2026-W24", "x", done=done))
    book = ledger(records, slot("2026-W25") + timedelta(hours=1), contract)
    assert outcomes(book)["2026-W22"] is Outcome.MISSED
    assert book.streak == streak  # only the weeks on plan after the missed one


def test_a_pause_is_neutral_for_the_streak_and_the_score() -> None:
    records = [on_plan(w) for w in ("2026-W30", "2026-W31", "2026-W35")]
    pause = Contract().with_pause(date(2026, 7, 31), date(2026, 8, 24))  # weeks 32-34
    book = ledger(records, slot("2026-W35") + timedelta(hours=1), pause)
    assert [outcomes(book)[w] for w in ("2026-W32", "2026-W33", "2026-W34")] == [
        Outcome.PAUSED
    ] * 3
    assert book.streak == 3
    assert book.score == (3, 3)
    # Without the recorded pause, the same weeks are missed.
    assert ledger(records, slot("2026-W35") + timedelta(hours=1)).streak == 1


def test_a_pause_running_now_is_neutral_even_before_the_contract_recorded_it() -> None:
    records = [on_plan("2026-W30")]
    book = ledger(records, slot("2026-W32") + timedelta(hours=1), paused_until=date(2026, 8, 10))
    assert outcomes(book)["2026-W31"] is Outcome.PAUSED


def test_a_skipped_week_without_a_joker_is_missed_at_once() -> None:
    records = [on_plan("2026-W01")]
    now = slot("2026-W02") + timedelta(hours=1)
    book = ledger(records, now, skipped_week="2026-W02")
    assert outcomes(book)["2026-W02"] is Outcome.MISSED


def test_a_simulated_year_of_one_user() -> None:
    """Runs, jokers, repairs, a pause and late logs over 2026, judged week by week."""
    contract = Contract()
    records: list[dict[str, Any]] = []
    missed = {"2026-W09", "2026-W17", "2026-W18", "2026-W40"}
    holiday = {"2026-W31", "2026-W32"}
    contract = contract.with_pause(date(2026, 7, 27), date(2026, 8, 10))
    contract = contract.with_joker("2026-W09", JokerHow.USED)
    contract = contract.with_joker("2026-W17", JokerHow.DECLARED)
    contract = contract.with_repair(Repair("2026-W18", "2026-W19", "x", done=True))
    streaks = []
    for week in weeks(FIRST, 52):
        if week not in missed | holiday:
            records.append(on_plan(week))
        streaks.append(ledger(records, slot(week) + timedelta(hours=1), contract).streak)
    book = ledger(records, slot("2026-W52") + timedelta(hours=1), contract)
    found = outcomes(book)
    assert found["2026-W09"] is Outcome.JOKER
    assert found["2026-W17"] is Outcome.JOKER
    assert found["2026-W18"] is Outcome.REPAIRED
    assert found["2026-W31"] is found["2026-W32"] is Outcome.PAUSED
    assert found["2026-W40"] is Outcome.MISSED  # nothing covered it
    assert book.streak == 12  # weeks 41-52
    assert streaks[38] == 39 - 2 - 1 - 2  # week 39: all on plan weeks so far, in a row
    assert book.score == (12, 12)
    assert book.jokers_left() == JOKERS_PER_QUARTER  # fourth quarter: none used
    assert ledger(records, slot("2026-W12"), contract).jokers_left() == 1  # Q1: week 9


def test_a_stored_contract_with_wrong_entries_reads_what_it_can() -> None:
    raw = {
        "jokers": [{"week": "2026-W02", "how": "declared"}, {"week": 3}, "x", {"how": "used"}],
        "repairs": [{"week": "2026-W05", "by": "2026-W06", "action": "x", "done": "yes"}],
        "pauses": [{"from": "2026-08-01", "until": "2026-08-15"}, {"from": "nope"}],
        "rules_shown": "true",
    }
    contract = Contract.from_document(raw)
    assert contract.jokers == (Joker("2026-W02", JokerHow.DECLARED),)
    assert contract.repairs == ()
    assert contract.pauses == (Pause(date(2026, 8, 1), date(2026, 8, 15)),)
    assert contract.rules_shown is False
    for wrong in (None, [], "x", 3):
        assert Contract.from_document(wrong) == Contract()
    assert Contract.from_document(contract.to_document()) == contract


def test_pauses_merge_and_end_early() -> None:
    contract = Contract().with_pause(date(2026, 8, 1), date(2026, 8, 15))
    contract = contract.with_pause(date(2026, 8, 10), date(2026, 8, 20))
    assert contract.pauses == (Pause(date(2026, 8, 1), date(2026, 8, 20)),)
    assert contract.ending_pauses(date(2026, 8, 5)).pauses == (
        Pause(date(2026, 8, 1), date(2026, 8, 5)),
    )


_WEEKS_2026 = weeks(FIRST, 52)
_records = st.lists(
    st.builds(
        lambda week, kind: {**(on_plan if kind else partly)(week)},
        st.sampled_from(_WEEKS_2026),
        st.booleans(),
    ),
    max_size=30,
)
_jokers = st.lists(
    st.builds(Joker, st.sampled_from(_WEEKS_2026), st.sampled_from(list(JokerHow))), max_size=6
)


@settings(max_examples=300, deadline=None, database=None)
@given(records=_records, jokers=_jokers, now_week=st.sampled_from(_WEEKS_2026))
def test_jokers_left_without_the_ledger_is_the_ledgers_count(
    records: list[dict[str, Any]], jokers: list[Joker], now_week: str
) -> None:
    # Every reminder reads the jokers left; they are counted without judging every week.
    contract = Contract(jokers=tuple(jokers))
    now = slot(now_week) + timedelta(hours=1)
    reminder = Reminder(4, "08:30", "Europe/Berlin")
    whole = ledger(records, now, contract).jokers_left()
    alone = jokers_left_at(
        records, contract, reminder=reminder, zone="Europe/Berlin", now=now, budget=BUDGET
    )
    assert alone == whole


_pauses = st.lists(
    st.builds(
        lambda start, days: Pause(start, start + timedelta(days=days)),
        st.dates(date(2026, 1, 1), date(2026, 12, 31)),
        st.integers(1, 28),
    ),
    max_size=2,
)


@settings(max_examples=400, deadline=None, database=None)
@given(
    records=_records,
    jokers=_jokers,
    pauses=_pauses,
    now_week=st.sampled_from(_WEEKS_2026),
    hours_after_slot=st.integers(-200, 200),
    skipped=st.none() | st.sampled_from(_WEEKS_2026),
    with_reminder=st.booleans(),
)
def test_last_weeks_open_check_is_the_ledgers_open_week(
    records: list[dict[str, Any]],
    jokers: list[Joker],
    pauses: list[Pause],
    now_week: str,
    hours_after_slot: int,
    skipped: str | None,
    with_reminder: bool,
) -> None:
    # /checkin asks on every start whether last week can still be logged late; that is
    # worked out from two weeks, and must be what the whole ledger says.
    contract = Contract(jokers=tuple(jokers), pauses=tuple(pauses))
    now = slot(now_week) + timedelta(hours=hours_after_slot)
    reminder = (
        Reminder(4, "08:30", "Europe/Berlin", skipped_week=skipped) if with_reminder else None
    )
    book = build_ledger(
        records, contract, reminder=reminder, zone="Europe/Berlin", now=now, budget=BUDGET
    )
    expected = (
        None
        if book.open_week is None or book.open_week.week == book.current
        else (book.open_week.week)
    )
    alone = open_last_week(
        records, contract, reminder=reminder, zone="Europe/Berlin", now=now, budget=BUDGET
    )
    assert alone == expected
