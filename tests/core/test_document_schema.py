"""The schema's own checks of single values, against the Python that reads them later.

The week key and the usual spelling of an instant are checked by pydantic's patterns (no Python
call per value, bench/README.md "Session 23"); whatever they let through must be what the code
that reads the document accepts, and nothing it accepts may be refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.document_schema import check_user_document


def document_with(**record: Any) -> dict[str, Any]:
    """A minimal document holding one check-in record."""
    return {"user_id": "anna", "checkins": [{"week": "2026-W48", **record}]}


def accepted(document: dict[str, Any]) -> bool:
    try:
        check_user_document(document)
    except ValueError:
        return False
    return True


def reads_as_instant(value: str) -> bool:
    """What the code does with a stored instant: ``fromisoformat``, and it needs an offset."""
    try:
        return datetime.fromisoformat(value).utcoffset() is not None
    except ValueError:
        return False


def reads_as_week(value: str) -> bool:
    """An ISO week ``YYYY-Www`` with the week between 01 and 53."""
    year, dash_w, week = value[:4], value[4:6], value[6:]
    return (
        len(value) == 8
        and year.isascii()
        and year.isdigit()
        and dash_w == "-W"
        and week.isascii()
        and week.isdigit()
        and 1 <= int(week) <= 53
    )


# Near the usual spelling: every part drawn wide enough to cross its limits (day 29 to 31 in
# every month, hour 24, year 0, seconds 60, fractions of any length, offsets of 24 hours).
NEAR_INSTANTS = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{}".format,
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["", ".5", ".123", ".123456", ".1234567"]),
    st.sampled_from(["", "Z", "+00:00", "-00:00", "+05:30", "-23:59", "+24:00", "+01:00:30"]),
)
INSTANTS = (
    NEAR_INSTANTS
    | st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
    | st.datetimes().map(datetime.isoformat)
    | st.text(max_size=32)
)


@settings(max_examples=1500, deadline=None)
@given(value=INSTANTS)
def test_an_instant_passes_exactly_when_the_code_can_read_it(value: str) -> None:
    assert accepted(document_with(answered_at=value)) is reads_as_instant(value)


@settings(max_examples=800, deadline=None)
@given(
    value=st.builds("{}-W{:02d}".format, st.integers(0, 12000), st.integers(0, 60))
    | st.text(max_size=10)
)
def test_a_week_key_passes_exactly_when_it_is_an_iso_week(value: str) -> None:
    assert accepted(document_with(week=value)) is reads_as_week(value)


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        ("2026-02-28T10:00:00+01:00", True),  # the usual spelling, checked by the pattern
        ("2024-02-29T10:00:00+01:00", True),  # a leap day: left to Python, and valid
        ("2026-02-29T10:00:00+01:00", False),  # no such day
        ("2026-04-31T10:00:00+01:00", False),
        ("2026-11-27T09:00:00", False),  # no offset
        ("2026-11-27T09:00:00Z", True),
        ("0000-01-01T00:00:00+00:00", False),  # year 0 does not exist
        ("٢٠٢٦-11-27T09:00:00+00:00", False),  # digits that are not ASCII
    ],
)
def test_instants_on_the_edges(value: str, fits: bool) -> None:
    assert accepted(document_with(answered_at=value)) is fits


def test_a_refused_value_is_named_with_its_place() -> None:
    with pytest.raises(ValueError, match=r"checkins\.0\.answered_at: not an instant"):
        check_user_document(document_with(answered_at="yesterday"))
    with pytest.raises(ValueError, match=r"checkins\.0\.week: not an ISO week"):
        check_user_document({"user_id": "anna", "checkins": [{"week": "2026-48"}]})


def test_a_choice_and_a_rule_across_fields_still_refuse() -> None:
    assert not accepted(document_with(intention_kept="maybe"))
    assert accepted(document_with(intention_kept="partly"))
    quiet = {"user_id": "anna", "quiet_hours": {"start": "22:00", "end": "22:00"}}
    assert not accepted(quiet)
    assert accepted({**quiet, "quiet_hours": {"start": "22:00", "end": "07:00"}})
