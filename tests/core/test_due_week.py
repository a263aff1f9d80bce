"""Which week's check-in a chat without a scheduler offers when it opens (``due_week``).

All instants are UTC; the slots are wall-clock times in Europe/Berlin unless a test says so.
Week keys are ISO weeks of the local calendar.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.checkin_schedule import Reminder, due_week
from bot.core.schedule import local_week_key, next_occurrence

BERLIN = "Europe/Berlin"
FRI, SUN, MON = 4, 6, 0
# Friday 2026-11-27 08:30 Berlin (CET, UTC+1) is 07:30 UTC, in ISO week 2026-W48.
FRIDAY_SLOT = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
WEEK = timedelta(days=7)


def friday_0830(**fields: object) -> Reminder:
    """A Friday 08:30 Berlin check-in set up a week before ``FRIDAY_SLOT``."""
    reminder = Reminder(FRI, "08:30", BERLIN, next_due=FRIDAY_SLOT - WEEK)
    for name, value in fields.items():
        setattr(reminder, name, value)
    return reminder


def test_this_weeks_check_in_is_due_from_its_slot_on_until_the_week_ends() -> None:
    reminder = friday_0830()

    assert due_week(reminder, (), FRIDAY_SLOT - MINUTE) is None
    assert due_week(reminder, (), FRIDAY_SLOT) == "2026-W48"
    # Sunday 23:59 Berlin is still W48; Monday 00:00 Berlin belongs to W49, whose slot is ahead.
    assert due_week(reminder, (), datetime(2026, 11, 29, 22, 59, tzinfo=UTC)) == "2026-W48"
    assert due_week(reminder, (), datetime(2026, 11, 29, 23, 0, tzinfo=UTC)) is None


def test_an_answered_or_skipped_week_is_not_offered_again() -> None:
    now = FRIDAY_SLOT + timedelta(hours=3)

    assert due_week(friday_0830(), {"2026-W47", "2026-W48"}, now) is None
    assert due_week(friday_0830(skipped_week="2026-W48"), (), now) is None
    # Last week's answer or skip says nothing about this week.
    assert due_week(friday_0830(), {"2026-W47"}, now) == "2026-W48"
    assert due_week(friday_0830(skipped_week="2026-W47"), (), now) == "2026-W48"


def test_a_snoozed_week_comes_back_only_when_the_snooze_has_run_out() -> None:
    evening = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 19:00 Berlin
    reminder = friday_0830(snoozed_until=evening, snoozed_week="2026-W48")

    assert due_week(reminder, (), evening - MINUTE) is None
    assert due_week(reminder, (), evening) == "2026-W48"
    assert due_week(reminder, {"2026-W48"}, evening + MINUTE) is None


def test_a_snooze_into_the_next_week_brings_back_the_week_it_snoozed() -> None:
    # Sunday 20:00 Berlin check-in of W48, snoozed "tomorrow": Monday 20:00 Berlin, in W49.
    monday = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    reminder = Reminder(
        SUN,
        "20:00",
        BERLIN,
        next_due=datetime(2026, 11, 22, 19, 0, tzinfo=UTC),
        snoozed_until=monday,
        snoozed_week="2026-W48",
    )

    assert due_week(reminder, (), monday - MINUTE) is None
    assert due_week(reminder, (), monday) == "2026-W48"
    assert due_week(reminder, {"2026-W48"}, monday) is None
    assert due_week(replace(reminder, skipped_week="2026-W48"), (), monday) is None
    # Once W49's own slot has passed, W49 is the week to ask about.
    assert due_week(reminder, (), datetime(2026, 12, 6, 19, 0, tzinfo=UTC)) == "2026-W49"
    # A snooze that ran out in an earlier week is not brought back.
    assert due_week(reminder, (), datetime(2026, 12, 7, 19, 0, tzinfo=UTC)) is None


def test_a_slot_inside_a_pause_is_not_due_and_the_first_one_after_it_is() -> None:
    now = FRIDAY_SLOT + timedelta(hours=1)

    assert due_week(friday_0830(paused_until=date(2026, 12, 4)), (), now) is None
    # The pause ends at local midnight starting its last day: that Friday's slot is due.
    assert due_week(friday_0830(paused_until=date(2026, 11, 27)), (), now) == "2026-W48"
    assert due_week(friday_0830(paused_until=date(2026, 11, 28)), (), now) is None


def test_a_slot_before_the_check_in_was_set_up_is_not_due() -> None:
    # Set up on Friday at 10:00 for Fridays 08:30: the first check-in is next Friday's.
    reminder = Reminder(FRI, "08:30", BERLIN, next_due=FRIDAY_SLOT + WEEK)

    assert due_week(reminder, (), FRIDAY_SLOT + timedelta(hours=2)) is None
    assert due_week(reminder, (), FRIDAY_SLOT + WEEK) == "2026-W49"


def test_the_week_is_the_local_one_not_utcs() -> None:
    # Monday 00:30 Berlin is Sunday 23:30 UTC: already the local W49, while UTC is still in W48.
    reminder = Reminder(MON, "00:30", BERLIN, next_due=datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    now = datetime(2026, 11, 29, 23, 45, tzinfo=UTC)

    assert now.isocalendar().week == 48
    assert due_week(reminder, (), now) == "2026-W49"


def test_spring_forward_a_skipped_wall_clock_time_is_due_an_hour_later() -> None:
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST, so a Sunday 02:30 check-in fires at 03:30 CEST.
    reminder = Reminder(SUN, "02:30", BERLIN, next_due=datetime(2026, 3, 22, 1, 30, tzinfo=UTC))
    fires = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST

    assert due_week(reminder, (), fires - MINUTE) is None
    assert due_week(reminder, (), fires) == "2026-W13"
    # Only the W12 check-in had been answered; W13 stays due until it is.
    assert due_week(reminder, {"2026-W12"}, fires + timedelta(hours=20)) == "2026-W13"


def test_fall_back_a_repeated_wall_clock_time_is_due_from_its_first_pass() -> None:
    # 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice; the first counts.
    reminder = Reminder(SUN, "02:30", BERLIN, next_due=datetime(2026, 10, 18, 0, 30, tzinfo=UTC))
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET

    assert due_week(reminder, (), first - MINUTE) is None
    assert due_week(reminder, (), first) == "2026-W43"
    assert due_week(reminder, (), second) == "2026-W43"
    assert due_week(reminder, {"2026-W43"}, second) is None


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Pacific/Auckland"])
@given(
    weekday=st.integers(0, 6),
    minutes=st.integers(0, 24 * 60 - 1),
    offset=st.integers(0, 2 * 366 * 24 * 60),
)
def test_a_due_week_is_always_the_current_local_week(
    zone: str, weekday: int, minutes: int, offset: int
) -> None:
    """With nothing answered, this week is due exactly when it has had a firing instant."""
    reminder = Reminder(weekday, f"{minutes // 60:02d}:{minutes % 60:02d}", zone)
    now = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=offset)
    local_day = now.astimezone(ZoneInfo(zone)).date()
    monday = local_day - timedelta(days=local_day.weekday())
    week_start = datetime.combine(monday, time(0), tzinfo=ZoneInfo(zone))

    fired = next_occurrence(reminder.slot, week_start - timedelta(microseconds=1)) <= now

    assert due_week(reminder, (), now) == (local_week_key(now, zone) if fired else None)
