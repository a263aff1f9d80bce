"""Weekly check-in schedule: next_occurrence across DST in both hemispheres, and the parsers.

Expected instants come from an oracle that does not use PEP 495 ``fold``: it only converts UTC
instants to local time (which is unambiguous) and finds a skipped time's gap by bisection.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.schedule import (
    COMMON_ZONES,
    WeeklySlot,
    local_week_key,
    next_occurrence,
    parse_time_of_day,
    parse_zone,
    suggested_zone,
)

MON, WED, SUN = 0, 2, 6
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"
SYDNEY = "Australia/Sydney"

# Each zone with a normal morning slot and the slots its 2026 DST changes skip or repeat.
YEAR_SLOTS = [
    WeeklySlot(SUN, time(2, 30), BERLIN),  # skipped 2026-03-29, repeated 2026-10-25
    WeeklySlot(WED, time(8, 0), BERLIN),
    WeeklySlot(SUN, time(2, 0), NEW_YORK),  # skipped 2026-03-08 (02:00 is the gap's start)
    WeeklySlot(SUN, time(1, 30), NEW_YORK),  # repeated 2026-11-01
    WeeklySlot(MON, time(8, 0), NEW_YORK),
    WeeklySlot(SUN, time(2, 30), KOLKATA),  # no DST: a control
    WeeklySlot(MON, time(8, 0), KOLKATA),
    WeeklySlot(SUN, time(2, 30), SYDNEY),  # repeated 2026-04-05, skipped 2026-10-04
    WeeklySlot(SUN, time(8, 0), SYDNEY),
]

# Zones for the property test: the buttons plus odd ones (30-minute DST on Lord Howe, DST at
# midnight in Havana and Santiago, Dublin's negative DST, Casablanca's Ramadan change).
PROPERTY_ZONES = [
    *COMMON_ZONES,
    "Australia/Lord_Howe",
    "America/Havana",
    "America/Santiago",
    "Europe/Dublin",
    "Africa/Casablanca",
    "America/St_Johns",
    "Pacific/Chatham",
    "Asia/Tehran",
]

WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)
MICRO = timedelta(microseconds=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- oracle, independent of fold -------------------------------------------------------------


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def oracle_firing(day: date, slot_time: time, zone: ZoneInfo) -> datetime:
    """The documented firing instant for ``slot_time`` on ``day``, from UTC->local only."""
    naive = datetime.combine(day, slot_time)
    as_utc = naive.replace(tzinfo=UTC)
    probes = [as_utc + timedelta(hours=h) for h in range(-48, 49)]
    offsets = {p.astimezone(zone).utcoffset() for p in probes}
    offs = sorted(o for o in offsets if o is not None)
    hits = [as_utc - off for off in offs if wall(as_utc - off, zone) == naive]
    if hits:
        return min(hits)  # repeated time: the first occurrence
    # Skipped: bisect for the transition T, the first second whose wall clock is past `naive`.
    lo, hi = as_utc - offs[-1] - HOUR, as_utc - offs[0] + HOUR
    assert wall(lo, zone) < naive < wall(hi, zone)
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)  # whole seconds
        if wall(mid, zone) < naive:
            lo = mid
        else:
            hi = mid
    gap_start = wall(lo, zone) + timedelta(seconds=1)  # the first skipped wall-clock second
    return hi + (naive - gap_start)  # as far after the gap's end as the slot is after its start


def oracle_firings(slot: WeeklySlot, first: date, last: date) -> list[datetime]:
    zone = ZoneInfo(slot.zone)
    day = first + timedelta(days=(slot.weekday - first.weekday()) % 7)
    result = []
    while day <= last:
        result.append(oracle_firing(day, slot.time, zone))
        day += WEEK
    return result


def assert_lands_on_slot(slot: WeeklySlot, instant: datetime) -> None:
    """The slot's weekday and time on the local wall clock, first pass; or gap-shifted."""
    zone = ZoneInfo(slot.zone)
    local = instant.astimezone(zone)
    if (local.weekday(), local.time()) == (slot.weekday, slot.time):
        assert local.fold == 0  # astimezone sets fold=1 on the second pass of a repeated time
        return
    # Gap-shifted: read the instant with the offset from before the gap.
    before = (instant - timedelta(days=1)).astimezone(zone).utcoffset()
    assert before is not None
    intended = (instant + before).replace(tzinfo=None)
    assert (intended.weekday(), intended.time()) == (slot.weekday, slot.time)
    shift = local.replace(tzinfo=None) - intended
    assert timedelta(0) < shift <= HOUR
    for candidate_offset in {before, local.utcoffset()}:  # nothing shows `intended`: skipped
        assert candidate_offset is not None
        assert wall(intended.replace(tzinfo=UTC) - candidate_offset, zone) != intended


def transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """UTC hours after which the zone's offset changed during ``year``."""
    found = []
    instant = utc(year, 1, 1)
    previous = instant.astimezone(zone).utcoffset()
    while instant.year == year:
        instant += HOUR
        offset = instant.astimezone(zone).utcoffset()
        if offset != previous:
            found.append(instant)
            previous = offset
    return found


# --- next_occurrence over 2026 ----------------------------------------------------------------


def year_afters(slot: WeeklySlot, firings: list[datetime]) -> list[datetime]:
    """Every day of 2026 at a varying time, every 15 min around DST edges, each firing +-1 µs."""
    zone = ZoneInfo(slot.zone)
    afters = [
        utc(2026, 1, 1) + timedelta(days=i, hours=i * 5 % 24, minutes=i * 7 % 60)
        for i in range(365)
    ]
    for edge in transitions(zone, 2026):
        afters += [edge + timedelta(minutes=15 * q) for q in range(-4 * 36, 4 * 36)]
    for firing in firings:
        if firing.year == 2026:
            afters += [firing - MICRO, firing, firing + MICRO]
    return afters


@pytest.mark.parametrize("slot", YEAR_SLOTS, ids=lambda s: f"{s.zone}-{s.weekday}-{s.time}")
def test_next_occurrence_over_2026_matches_the_oracle(slot: WeeklySlot) -> None:
    firings = oracle_firings(slot, date(2025, 12, 20), date(2027, 1, 20))
    assert firings == sorted(firings)
    for after in year_afters(slot, firings):
        got = next_occurrence(slot, after)
        assert got == firings[bisect.bisect_right(firings, after)], after
        assert got.tzinfo is UTC
        assert after < got <= after + WEEK + HOUR
    for firing in firings[:-1]:
        assert_lands_on_slot(slot, firing)


@pytest.mark.parametrize("slot", YEAR_SLOTS, ids=lambda s: f"{s.zone}-{s.weekday}-{s.time}")
def test_one_occurrence_per_local_iso_week_through_2026_and_2027(slot: WeeklySlot) -> None:
    zone = ZoneInfo(slot.zone)
    # 2026-W01 starts on Monday 2025-12-29 (2026-01-01 is a Thursday); 2028-W01 on 2028-01-03.
    instant = datetime(2025, 12, 29, tzinfo=zone) - MICRO
    end = datetime(2028, 1, 3, tzinfo=zone)
    keys = []
    for _ in range(53 + 52 + 1):
        following = next_occurrence(slot, instant)
        assert following > instant  # also keeps a broken implementation from looping forever
        if following >= end:
            break
        assert_lands_on_slot(slot, following)
        keys.append(local_week_key(following, slot.zone))
        instant = following
    # 2026 has 53 ISO weeks (it starts on a Thursday), 2027 has 52.
    expected = [f"2026-W{w:02d}" for w in range(1, 54)] + [f"2027-W{w:02d}" for w in range(1, 53)]
    assert keys == expected


# --- known answers ----------------------------------------------------------------------------

BERLIN_0230 = WeeklySlot(SUN, time(2, 30), BERLIN)
NY_0200 = WeeklySlot(SUN, time(2, 0), NEW_YORK)
NY_0130 = WeeklySlot(SUN, time(1, 30), NEW_YORK)
SYDNEY_0230 = WeeklySlot(SUN, time(2, 30), SYDNEY)


@pytest.mark.parametrize(
    ("slot", "after", "expected"),
    [
        # Berlin springs forward on Sun 2026-03-29 at 02:00 CET -> 03:00 CEST; 02:30 is skipped
        # and shifted to 03:30 CEST (UTC+2) = 01:30Z.
        (BERLIN_0230, utc(2026, 3, 28, 12), utc(2026, 3, 29, 1, 30)),
        # The week before is ordinary: Sun 2026-03-22 02:30 CET (UTC+1) = 01:30Z.
        (BERLIN_0230, utc(2026, 3, 21, 12), utc(2026, 3, 22, 1, 30)),
        # Berlin falls back on Sun 2026-10-25 at 03:00 CEST -> 02:00 CET; 02:30 happens at 00:30Z
        # (CEST, UTC+2) and at 01:30Z (CET, UTC+1): fire at the first, 00:30Z.
        (BERLIN_0230, utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30)),
        # From that firing (and from between the two passes) the next is a week later, not an
        # hour later: Sun 2026-11-01 02:30 CET (UTC+1) = 01:30Z.
        (BERLIN_0230, utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)),
        (BERLIN_0230, utc(2026, 10, 25, 1, 0), utc(2026, 11, 1, 1, 30)),
        (BERLIN_0230, utc(2026, 10, 25, 1, 30), utc(2026, 11, 1, 1, 30)),
        # A slot time carrying fold=1 (equal to the fold=0 time) still fires on the first pass.
        (
            WeeklySlot(SUN, time(2, 30, fold=1), BERLIN),
            utc(2026, 10, 24, 12),
            utc(2026, 10, 25, 0, 30),
        ),
        # New York springs forward on Sun 2026-03-08 at 02:00 EST -> 03:00 EDT; 02:00 itself is
        # skipped and fires at 03:00 EDT (UTC-4) = 07:00Z.
        (NY_0200, utc(2026, 3, 7, 12), utc(2026, 3, 8, 7)),
        # New York falls back on Sun 2026-11-01 at 02:00 EDT -> 01:00 EST; 01:30 first happens in
        # EDT (UTC-4) = 05:30Z, then again at 06:30Z (EST) - skipped; next is 2026-11-08 01:30
        # EST (UTC-5) = 06:30Z.
        (NY_0130, utc(2026, 10, 31, 12), utc(2026, 11, 1, 5, 30)),
        (NY_0130, utc(2026, 11, 1, 5, 30), utc(2026, 11, 8, 6, 30)),
        # Sydney falls back on Sun 2026-04-05 at 03:00 AEDT -> 02:00 AEST; 02:30 first happens in
        # AEDT (UTC+11) = Sat 2026-04-04 15:30Z.
        (SYDNEY_0230, utc(2026, 4, 3, 12), utc(2026, 4, 4, 15, 30)),
        (SYDNEY_0230, utc(2026, 4, 4, 15, 30), utc(2026, 4, 11, 16, 30)),  # 02:30 AEST (UTC+10)
        # Sydney springs forward on Sun 2026-10-04 at 02:00 AEST -> 03:00 AEDT; 02:30 fires at
        # 03:30 AEDT (UTC+11) = Sat 2026-10-03 16:30Z.
        (SYDNEY_0230, utc(2026, 10, 2, 12), utc(2026, 10, 3, 16, 30)),
        # Kolkata (UTC+5:30, no DST): Thu 2026-01-01 -> Mon 2026-01-05 08:00 IST = 02:30Z.
        (WeeklySlot(MON, time(8), KOLKATA), utc(2026, 1, 1), utc(2026, 1, 5, 2, 30)),
        # Exactly at an occurrence: the next week's. Mon 2026-01-05 08:00 IST -> 2026-01-12.
        (WeeklySlot(MON, time(8), KOLKATA), utc(2026, 1, 5, 2, 30), utc(2026, 1, 12, 2, 30)),
        # One microsecond before an occurrence: that occurrence.
        (
            WeeklySlot(MON, time(8), KOLKATA),
            utc(2026, 1, 5, 2, 30) - MICRO,
            utc(2026, 1, 5, 2, 30),
        ),
        # `after` in another zone: Sat 2026-03-28 13:00 EDT = 17:00Z -> the Berlin gap case above.
        (
            BERLIN_0230,
            datetime(2026, 3, 28, 13, tzinfo=ZoneInfo(NEW_YORK)),
            utc(2026, 3, 29, 1, 30),
        ),
        # `after` in Tokyo: Sun 2026-03-29 10:00 JST = 01:00Z, before the 01:30Z firing.
        (
            BERLIN_0230,
            datetime(2026, 3, 29, 10, tzinfo=ZoneInfo("Asia/Tokyo")),
            utc(2026, 3, 29, 1, 30),
        ),
        # Sun 2026-03-29 10:31 JST = 01:31Z, just past it: next Sunday 02:30 CEST = 00:30Z.
        (
            BERLIN_0230,
            datetime(2026, 3, 29, 10, 31, tzinfo=ZoneInfo("Asia/Tokyo")),
            utc(2026, 4, 5, 0, 30),
        ),
        # Local Sunday in Berlin while UTC is still Saturday: Sat 2026-06-06 23:30Z is Sun 01:30
        # CEST, before 02:30 CEST = 00:30Z on Sun 2026-06-07.
        (BERLIN_0230, utc(2026, 6, 6, 23, 30), utc(2026, 6, 7, 0, 30)),
    ],
)
def test_next_occurrence_known_answers(
    slot: WeeklySlot, after: datetime, expected: datetime
) -> None:
    assert next_occurrence(slot, after) == expected


def test_next_occurrence_rejects_naive_after() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_occurrence(BERLIN_0230, datetime(2026, 3, 28, 12))


# --- property test ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(PROPERTY_ZONES),
    weekday=st.integers(0, 6),
    slot_time=st.times().map(lambda t: t.replace(second=0, microsecond=0)),  # fold 0 and 1
    after=st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2035, 12, 31),
        timezones=st.sampled_from(PROPERTY_ZONES).map(ZoneInfo),
    ),
)
def test_next_occurrence_property(
    zone: str, weekday: int, slot_time: time, after: datetime
) -> None:
    slot = WeeklySlot(weekday, slot_time, zone)
    got = next_occurrence(slot, after)
    local_day = after.astimezone(ZoneInfo(zone)).date()
    firings = oracle_firings(slot, local_day - timedelta(days=2), local_day + timedelta(days=9))
    assert got == next(f for f in firings if f > after)
    assert after < got <= after + WEEK + HOUR
    assert_lands_on_slot(slot, got)
    following = next_occurrence(slot, got)
    assert WEEK - 2 * HOUR <= following - got <= WEEK + 2 * HOUR
    assert local_week_key(following, zone) != local_week_key(got, zone)


# --- WeeklySlot -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "slot_time", "zone", "message"),
    [
        (7, time(8), BERLIN, "weekday"),
        (-1, time(8), BERLIN, "weekday"),
        (0, time(8, 0, 30), BERLIN, "whole minutes"),
        (0, time(8, tzinfo=UTC), BERLIN, "naive"),
        (0, time(8), "Europe/Atlantis", "unknown"),
        (0, time(8), "europe/berlin", "unknown"),  # canonical keys only; parse_zone fixes case
        (0, time(8), "localtime", "unknown"),
    ],
)
def test_weekly_slot_rejects_invalid_fields(
    weekday: int, slot_time: time, zone: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        WeeklySlot(weekday, slot_time, zone)


def test_weekly_slot_tzinfo() -> None:
    assert WeeklySlot(0, time(8), SYDNEY).tzinfo() == ZoneInfo(SYDNEY)


# --- local_week_key ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (utc(2026, 10, 28, 12), BERLIN, "2026-W44"),
        # isocalendar: 2026-12-31 is a Thursday, so it is in 2026-W53 ...
        (datetime(2026, 12, 31, 12, tzinfo=ZoneInfo(BERLIN)), BERLIN, "2026-W53"),
        # ... and so are Fri 2027-01-01 and Sun 2027-01-03; Mon 2027-01-04 starts 2027-W01.
        (datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo(BERLIN)), BERLIN, "2026-W53"),
        (datetime(2027, 1, 3, 23, 59, tzinfo=ZoneInfo(BERLIN)), BERLIN, "2026-W53"),
        (datetime(2027, 1, 4, tzinfo=ZoneInfo(BERLIN)), BERLIN, "2027-W01"),
        # The zone decides: Sun 2027-01-03 23:30Z is Mon 00:30 in Berlin, Sun 18:30 in New York.
        (utc(2027, 1, 3, 23, 30), BERLIN, "2027-W01"),
        (utc(2027, 1, 3, 23, 30), NEW_YORK, "2026-W53"),
        # Mon 2025-12-29 already belongs to 2026-W01; Sun 2025-12-28 to 2025-W52.
        (datetime(2025, 12, 29, tzinfo=ZoneInfo(KOLKATA)), KOLKATA, "2026-W01"),
        (datetime(2025, 12, 28, 23, 59, tzinfo=ZoneInfo(KOLKATA)), KOLKATA, "2025-W52"),
        # Sun 2021-01-03 is in 2020-W53; Mon 2024-12-30 is in 2025-W01.
        (datetime(2021, 1, 3, 12, tzinfo=ZoneInfo(SYDNEY)), SYDNEY, "2020-W53"),
        (datetime(2024, 12, 30, 12, tzinfo=ZoneInfo(SYDNEY)), SYDNEY, "2025-W01"),
        # Both passes of Berlin's repeated 02:30 on 2026-10-25 are in the same week.
        (utc(2026, 10, 25, 0, 30), BERLIN, "2026-W43"),
        (utc(2026, 10, 25, 1, 30), BERLIN, "2026-W43"),
    ],
)
def test_local_week_key(instant: datetime, zone: str, expected: str) -> None:
    assert local_week_key(instant, zone) == expected


def test_local_week_key_rejects_naive_instant_and_unknown_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_week_key(datetime(2026, 1, 1), BERLIN)
    with pytest.raises(ValueError, match="unknown"):
        local_week_key(utc(2026, 1, 1), "Mars/Olympus_Mons")


# --- parse_zone -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Berlin", BERLIN),
        ("europe/berlin", BERLIN),
        ("  EUROPE/BERLIN ", BERLIN),
        ("america/new york", NEW_YORK),
        ("US/Eastern", "US/Eastern"),
        ("utc", "UTC"),
        ("Berlin", BERLIN),
        ("berlin", BERLIN),
        ("München", BERLIN),
        ("münchen", BERLIN),
        ("Muenchen", BERLIN),
        ("Munich", BERLIN),
        ("Köln", BERLIN),
        ("Koeln", BERLIN),
        ("Cologne", BERLIN),
        ("Düsseldorf", BERLIN),
        ("Frankfurt am Main", BERLIN),
        ("New York", NEW_YORK),
        ("new_york", NEW_YORK),
        ("NEWYORK", NEW_YORK),
        ("Wien", "Europe/Vienna"),
        ("Vienna", "Europe/Vienna"),
        ("Graz", "Europe/Vienna"),
        ("Zürich", "Europe/Zurich"),
        ("Zurich", "Europe/Zurich"),
        ("Zuerich", "Europe/Zurich"),
        ("Genf", "Europe/Zurich"),
        ("Genève", "Europe/Zurich"),
        ("Geneva", "Europe/Zurich"),
        ("St. Gallen", "Europe/Zurich"),
        ("Mumbai", KOLKATA),
        ("Kolkata", KOLKATA),
        ("Delhi", KOLKATA),
        ("New Delhi", KOLKATA),
        ("Calcutta", KOLKATA),
        ("Los Angeles", "America/Los_Angeles"),
        ("San Francisco", "America/Los_Angeles"),
        ("London", "Europe/London"),
        ("Sydney", SYDNEY),
        ("São Paulo", "America/Sao_Paulo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("Port-au-Prince", "America/Port-au-Prince"),
        ("Port au Prince", "America/Port-au-Prince"),
        ("Buenos Aires", "America/Argentina/Buenos_Aires"),  # not the old link America/...
        ("Istanbul", "Europe/Istanbul"),
        # CLDR exemplar cities in German and English
        ("Kalkutta", KOLKATA),
        ("kalkutta", KOLKATA),
        ("Lissabon", "Europe/Lisbon"),
        ("Kopenhagen", "Europe/Copenhagen"),
        ("Rom", "Europe/Rome"),
        ("Prag", "Europe/Prague"),
        ("Warschau", "Europe/Warsaw"),
        ("Brüssel", "Europe/Brussels"),
        ("Bruessel", "Europe/Brussels"),
        ("Moskau", "Europe/Moscow"),
        ("Athen", "Europe/Athens"),
        ("Mexiko-Stadt", "America/Mexico_City"),
        ("Ho-Chi-Minh-Stadt", "Asia/Ho_Chi_Minh"),
        ("Chicago", "America/Chicago"),
        ("Honolulu", "Pacific/Honolulu"),
        ("Indianapolis", "America/Indiana/Indianapolis"),
        # old links come back as the current key
        ("Kiev", "Europe/Kyiv"),
        ("Kiew", "Europe/Kyiv"),
        ("Saigon", "Asia/Ho_Chi_Minh"),
        # countries with a single zone, by their CLDR name
        ("Österreich", "Europe/Vienna"),
        ("Oesterreich", "Europe/Vienna"),
        ("Austria", "Europe/Vienna"),
        ("Schweiz", "Europe/Zurich"),
        ("Switzerland", "Europe/Zurich"),
        ("Indien", KOLKATA),
        ("Frankreich", "Europe/Paris"),
        # Germany has two zones in CLDR (Büsingen): the small table knows it
        ("Deutschland", BERLIN),
        ("Germany", BERLIN),
    ],
)
def test_parse_zone_known(text: str, expected: str) -> None:
    assert parse_zone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Atlantis",
        "Berlin, Germany",
        "Europe/Atlantis",
        "Pacific",  # an area, and US/Pacific is not a city
        "Eastern",
        "localtime",  # the host's zone, not a place
        "Factory",
        "../etc/passwd",
        "Berlin" * 20,
        "8:30",
        "Georgia",  # a country, and a US state: no guess
        "Spanien",  # a country with more than one zone (the Canaries)
    ],
)
def test_parse_zone_unknown(text: str) -> None:
    assert parse_zone(text) is None


# --- parse_time_of_day ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8", time(8)),
        ("08", time(8)),
        ("0", time(0)),
        ("08:30", time(8, 30)),
        ("8:30", time(8, 30)),
        ("8.30", time(8, 30)),
        ("8:30 Uhr", time(8, 30)),
        ("8:30Uhr", time(8, 30)),
        ("20 Uhr", time(20)),
        ("20 uhr", time(20)),
        ("20h", time(20)),
        ("23:59", time(23, 59)),
        ("8pm", time(20)),
        ("8 PM", time(20)),
        ("8 p.m.", time(20)),
        ("8:30 am", time(8, 30)),
        ("12am", time(0)),
        ("12:15 am", time(0, 15)),
        ("12pm", time(12)),
        (" 7:05 ", time(7, 5)),
    ],
)
def test_parse_time_of_day_valid(text: str, expected: time) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "24",
        "24:00",
        "8:60",
        "8:5",
        "8:300",
        "123",
        "0am",
        "13pm",
        "-1",
        "8:30:15",
        "8 30",
        "٨",  # Arabic-Indic digit eight
        "acht Uhr",
        "8 Uhr 30",
    ],
)
def test_parse_time_of_day_invalid(text: str) -> None:
    assert parse_time_of_day(text) is None


# --- suggested_zone and COMMON_ZONES ----------------------------------------------------------


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [
        ("de", BERLIN),
        ("de-DE", BERLIN),
        ("de-AT", "Europe/Vienna"),
        ("de-at", "Europe/Vienna"),
        ("de_AT", "Europe/Vienna"),
        ("de-CH", "Europe/Zurich"),
        ("fr-CH", "Europe/Zurich"),
        ("en-US", NEW_YORK),
        ("en-GB", "Europe/London"),
        ("en", "Europe/London"),
        ("en-IN", KOLKATA),
        ("en-AU", SYDNEY),
        ("en-CA", "Europe/London"),
        ("fr", BERLIN),
        ("tr", BERLIN),
        ("", BERLIN),
        (None, BERLIN),
    ],
)
def test_suggested_zone(language_code: str | None, expected: str) -> None:
    assert suggested_zone(language_code) == expected


def test_common_zones_are_valid_and_include_every_suggestion() -> None:
    assert COMMON_ZONES == (
        BERLIN,
        "Europe/Vienna",
        "Europe/Zurich",
        "Europe/London",
        NEW_YORK,
        "America/Los_Angeles",
        KOLKATA,
        SYDNEY,
    )
    for zone in COMMON_ZONES:
        assert parse_zone(zone) == zone
    suggestions = {suggested_zone(code) for code in ("de", "de-AT", "de-CH", "en", "en-US")}
    assert suggestions <= set(COMMON_ZONES)
