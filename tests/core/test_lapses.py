"""Weeks missed in a row and the fresh start of a comeback (``bot.core.lapses``): pure, real zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.checkin_schedule import Reminder
from bot.core.lapses import (
    Lapse,
    closes_at,
    comeback_offered_for,
    fresh_start,
    lapse,
    missed_in_a_row,
)
from bot.core.schedule import WeeklySlot

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def local(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def monday_nine(**changes: object) -> Reminder:
    """A Monday 09:00 Berlin check-in with the bookkeeping in ``changes``."""
    reminder = Reminder(0, "09:00", BERLIN)
    for key, value in changes.items():
        setattr(reminder, key, value)
    return reminder


def test_a_week_can_be_logged_late_until_the_next_slot_then_it_is_missed() -> None:
    reminder = monday_nine(sent_weeks=["2026-W48"])
    next_slot = local(BERLIN, 2026, 11, 30, 9)  # Monday of W49, 09:00

    assert closes_at(reminder.slot, "2026-W48") == next_slot
    assert missed_in_a_row(reminder, set(), next_slot - timedelta(minutes=1)) == 0
    assert missed_in_a_row(reminder, set(), next_slot) == 1


def test_answered_and_skipped_weeks_end_a_run_and_are_not_missed() -> None:
    sent = ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    late = local(BERLIN, 2026, 12, 14, 12)

    assert lapse(monday_nine(sent_weeks=sent), set(), late).weeks == tuple(sent)
    assert lapse(monday_nine(sent_weeks=sent), {"2026-W46"}, late).weeks == (
        "2026-W47",
        "2026-W48",
    )
    skipped = monday_nine(sent_weeks=sent, skipped_week="2026-W48")
    assert lapse(skipped, set(), late) == Lapse()
    assert lapse(monday_nine(sent_weeks=sent), {"2026-W48"}, late).missed == 0


def test_weeks_without_a_check_in_neither_count_nor_break_a_run() -> None:
    # W49 was paused (never sent), W48's check-in was lost while the bot was down.
    reminder = monday_nine(sent_weeks=["2026-W47", "2026-W50"], missed_weeks=["2026-W48"])
    found = lapse(reminder, {"2026-W46"}, local(BERLIN, 2026, 12, 21, 10))

    assert found.weeks == ("2026-W47", "2026-W50")
    assert (found.missed, found.began) == (2, "2026-W47")


def test_the_lapse_a_check_in_sees_ends_before_its_own_week() -> None:
    reminder = monday_nine(sent_weeks=["2026-W48", "2026-W49"])
    now = local(BERLIN, 2026, 12, 8, 10)  # Tuesday of W50: both weeks closed

    assert lapse(reminder, set(), now).missed == 2
    assert lapse(reminder, set(), now, before="2026-W49").weeks == ("2026-W48",)


def test_without_now_every_week_sent_counts_as_closed() -> None:
    reminder = monday_nine(sent_weeks=["2026-W48", "2026-W49"])

    assert lapse(reminder, set(), local(BERLIN, 2026, 12, 1, 9)).missed == 1
    assert lapse(reminder, set(), None).missed == 2


def test_a_comeback_is_offered_once_per_lapse() -> None:
    reminder = monday_nine(sent_weeks=["2026-W48", "2026-W49"])
    found = lapse(reminder, set(), None)
    assert not comeback_offered_for(reminder, found)

    reminder.comeback_offered = "2026-W50"
    assert comeback_offered_for(reminder, found)
    # The user came back (W51 answered) and lapsed again: a new lapse, a new offer.
    reminder.sent_weeks += ["2026-W51", "2026-W52", "2026-W53"]
    again = lapse(reminder, {"2026-W51"}, None)
    assert again.weeks == ("2026-W52", "2026-W53")
    assert not comeback_offered_for(reminder, again)


@pytest.mark.parametrize(
    ("zone", "weekday", "after", "expected"),
    [
        # A Monday check-in: the slot itself is the fresh start.
        (BERLIN, 0, (2026, 12, 7, 9), (2026, 12, 7, 9)),
        # A Thursday check-in mid-month: the next Monday at 09:00.
        (BERLIN, 3, (2026, 12, 17, 9), (2026, 12, 21, 9)),
        # A Thursday check-in on 1 October: the first check-in of a new month comes first.
        (BERLIN, 3, (2026, 9, 30, 12), (2026, 10, 1, 9)),
        # Across the end of summer time in Berlin (25 Oct 2026): still 09:00 on the wall clock.
        (BERLIN, 4, (2026, 10, 23, 9), (2026, 10, 26, 9)),
        # New York changes a week later (1 Nov 2026); Friday 30 Oct is no month's first.
        (NEW_YORK, 4, (2026, 10, 30, 9), (2026, 11, 2, 9)),
        # A Friday check-in on 6 November: still the first of the month, before Monday.
        (NEW_YORK, 4, (2026, 11, 5, 12), (2026, 11, 6, 9)),
    ],
)
def test_the_fresh_start_is_the_next_monday_or_a_months_first_check_in(
    zone: str,
    weekday: int,
    after: tuple[int, int, int, int],
    expected: tuple[int, int, int, int],
) -> None:
    slot = WeeklySlot(weekday, datetime.strptime("09:00", "%H:%M").time(), zone)

    assert fresh_start(slot, local(zone, *after)) == local(zone, *expected)
