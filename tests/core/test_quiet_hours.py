"""Quiet hours on the wall clock, with real zoneinfo: windows across midnight and DST nights."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.quiet_hours import DEFAULT_QUIET, QuietHours, parse_quiet_option

BERLIN = "Europe/Berlin"


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)


@pytest.mark.parametrize(
    ("instant", "released"),
    [
        (berlin(2026, 11, 23, 20, 59), berlin(2026, 11, 23, 20, 59)),  # before: as it is
        (berlin(2026, 11, 23, 21), berlin(2026, 11, 24, 8)),  # start: quiet
        (berlin(2026, 11, 24, 3), berlin(2026, 11, 24, 8)),  # after midnight
        (berlin(2026, 11, 24, 8), berlin(2026, 11, 24, 8)),  # end: not quiet
        # The night the clocks go back (CEST -> CET): 08:00 CET is 07:00 UTC.
        (berlin(2026, 10, 24, 23), datetime(2026, 10, 25, 7, tzinfo=UTC)),
        # The night they go forward (CET -> CEST): 08:00 CEST is 06:00 UTC.
        (berlin(2026, 3, 28, 23), datetime(2026, 3, 29, 6, tzinfo=UTC)),
    ],
)
def test_release_moves_a_quiet_instant_to_the_end_of_its_window(
    instant: datetime, released: datetime
) -> None:
    assert DEFAULT_QUIET.release(instant, BERLIN) == released


def test_a_window_within_one_day_and_off() -> None:
    afternoon = QuietHours(time(13), time(15))
    assert afternoon.release(berlin(2026, 11, 23, 14), BERLIN) == berlin(2026, 11, 23, 15)
    assert afternoon.release(berlin(2026, 11, 23, 23), BERLIN) == berlin(2026, 11, 23, 23)
    off = QuietHours(time(21), time(8), on=False)
    assert off.release(berlin(2026, 11, 23, 23), BERLIN) == berlin(2026, 11, 23, 23)


def test_quiet_time_between_two_instants() -> None:
    quiet = DEFAULT_QUIET.quiet_between(berlin(2026, 11, 23, 19), berlin(2026, 11, 24, 9), BERLIN)
    assert quiet == timedelta(hours=11)
    # The long night of the clocks going back has 12 quiet hours.
    long_night = DEFAULT_QUIET.quiet_between(
        berlin(2026, 10, 24, 12), berlin(2026, 10, 25, 12), BERLIN
    )
    assert long_night == timedelta(hours=12)


def test_first_moment_of_a_day_outside_quiet_hours() -> None:
    assert DEFAULT_QUIET.first_outside(date(2026, 11, 24), BERLIN) == berlin(2026, 11, 24, 8)


def test_settings_options_and_the_stored_form() -> None:
    assert parse_quiet_option("q22_07") == QuietHours(time(22), time(7))
    assert parse_quiet_option("off") == QuietHours(time(21), time(8), on=False)
    for bad in ("q22_22", "q24_07", "22_07", "night"):
        assert parse_quiet_option(bad) is None
    stored = {"quiet_hours": {"start": "22:30", "end": "06:00", "on": True}}
    assert QuietHours.from_document(stored) == QuietHours(time(22, 30), time(6))
    assert QuietHours.from_document({}) == DEFAULT_QUIET  # an older document
    assert QuietHours.from_document(stored).to_dict() == stored["quiet_hours"]
    with pytest.raises(ValueError, match="must not start when they end"):
        QuietHours(time(8), time(8))
