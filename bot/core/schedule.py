"""Weekly check-in schedule: when a user's next check-in is due, in UTC, across DST changes.

The dispatcher (design.md section 4) stores one UTC instant per user and, once it has passed,
asks ``next_occurrence`` for the following one. A naive cron in the user's zone fires twice when
the clocks go back and not at all when they spring forward; the rules here avoid both:

- Skipped local time (spring forward, e.g. 02:30 Europe/Berlin on 2026-03-29 does not exist): the
  check-in fires at the same distance after the gap's end as the slot is after the gap's start,
  i.e. it is shifted forward by the length of the gap (02:30 -> 03:30 CEST).
- Repeated local time (fall back, 02:30 Europe/Berlin on 2026-10-25 happens twice): the check-in
  fires once, at the first occurrence (``fold=0``, still on summer time); the second pass of that
  wall-clock time is never a firing time.

So there is exactly one check-in per local ISO week; ``local_week_key`` names that week, so the
sender can record "sent for this week" once and survive restarts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel.core import get_global

from bot.core.locale_format import locale_of, zone_city
from bot.core.well_known_cities import WELL_KNOWN_CITIES

__all__ = [
    "COMMON_ZONES",
    "DEFAULT_ZONE",
    "WeeklySlot",
    "current_zone",
    "is_zone",
    "local_week_key",
    "next_occurrence",
    "parse_time_of_day",
    "parse_zone",
    "suggested_zone",
    "zone_label",
]

DEFAULT_ZONE = "Europe/Berlin"  # a German-first product

# Offered as buttons when the user picks a time zone.
COMMON_ZONES: tuple[str, ...] = (
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
)

# Keys that available_timezones() lists but that are no real place: "localtime" follows the host's
# setting, "Factory" is a placeholder zone.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})

# Areas whose keys name cities; only these are searched by city name ("Pacific" must not find
# "US/Pacific", but "US/Pacific" typed in full is still accepted).
_CITY_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)

# What CLDR cannot know, in normalized form (see ``_normalize``: lower case, no spaces,
# underscores, hyphens, dots or diacritics, ß -> ss). CLDR names one exemplar city per zone
# (Wien, Zürich, Kalkutta, Lissabon; ``_cldr_cities``) and the countries with a single zone
# (Österreich, Schweiz; ``_cldr_countries``). Everything else a user may type for the zones we
# offer is here: cities that are no zone's exemplar, and Germany, which CLDR gives a second zone
# (Büsingen).
_CITY_ALIASES: dict[str, str] = {
    # Germany
    "deutschland": "Europe/Berlin",
    "germany": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "munchen": "Europe/Berlin",
    "munich": "Europe/Berlin",
    "koln": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "frankfurtammain": "Europe/Berlin",
    "stuttgart": "Europe/Berlin",
    "dusseldorf": "Europe/Berlin",
    "dortmund": "Europe/Berlin",
    "essen": "Europe/Berlin",
    "leipzig": "Europe/Berlin",
    "dresden": "Europe/Berlin",
    "hannover": "Europe/Berlin",
    "hanover": "Europe/Berlin",
    "nurnberg": "Europe/Berlin",
    "nuremberg": "Europe/Berlin",
    "bremen": "Europe/Berlin",
    "bonn": "Europe/Berlin",
    "mannheim": "Europe/Berlin",
    "karlsruhe": "Europe/Berlin",
    "freiburg": "Europe/Berlin",
    "augsburg": "Europe/Berlin",
    "kiel": "Europe/Berlin",
    "rostock": "Europe/Berlin",
    "potsdam": "Europe/Berlin",
    # Austria
    "graz": "Europe/Vienna",
    "linz": "Europe/Vienna",
    "salzburg": "Europe/Vienna",
    "innsbruck": "Europe/Vienna",
    "klagenfurt": "Europe/Vienna",
    # Switzerland
    "genf": "Europe/Zurich",
    "geneva": "Europe/Zurich",
    "geneve": "Europe/Zurich",
    "bern": "Europe/Zurich",
    "berne": "Europe/Zurich",
    "basel": "Europe/Zurich",
    "lausanne": "Europe/Zurich",
    "luzern": "Europe/Zurich",
    "lucerne": "Europe/Zurich",
    "lugano": "Europe/Zurich",
    "winterthur": "Europe/Zurich",
    "stgallen": "Europe/Zurich",
    "sanktgallen": "Europe/Zurich",
    # India, the USA and China: big cities that are not the zone's exemplar city
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "newdelhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "hyderabad": "Asia/Kolkata",
    "sanfrancisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "miami": "America/New_York",
    "beijing": "Asia/Shanghai",
    "peking": "Asia/Shanghai",
    "mailand": "Europe/Rome",
    "milan": "Europe/Rome",
}

# The CLDR languages whose city and country names a user may type: the coach's own languages.
_NAME_LANGUAGES = ("de", "en")
# Country names that are also something else a user may mean: Georgia is a US state too, and a
# guess of Tbilisi would be wrong for everyone in Atlanta.
_AMBIGUOUS_COUNTRIES = frozenset({"georgia"})

_MAX_ZONE_INPUT = 64  # longer input is no city name; do not normalize arbitrary text
_GERMAN_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"))

_TIME_RE = re.compile(
    r"(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2}))?\s*(?P<suffix>uhr|h|am|pm|a\.m\.|p\.m\.)?",
    re.IGNORECASE,
)
_HOURS_PER_HALF_DAY = 12
# Firing instants and week keys kept per process, of UTC instants (two local times can be
# equal and still be different instants, one either side of a fall-back change): the users
# due in one minute share their slots, and a claim asks for the same weeks several times.
_REMEMBERED = 4096


@dataclass(frozen=True)
class WeeklySlot:
    """A weekly wall-clock time in an IANA zone: ``weekday`` 0 = Monday, ``time`` to the minute."""

    weekday: int
    time: time
    zone: str

    def __post_init__(self) -> None:
        """Reject slots that ``next_occurrence`` could not honour."""
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {self.weekday}")
        if self.time.tzinfo is not None:
            raise ValueError("time must be a naive wall-clock time; the zone is a separate field")
        if self.time.second or self.time.microsecond:
            raise ValueError(f"time must be whole minutes, got {self.time.isoformat()}")
        if self.zone not in _zone_keys():
            raise ValueError(f"unknown IANA time zone {self.zone!r}")

    def tzinfo(self) -> ZoneInfo:
        """The slot's zone as a ``ZoneInfo``."""
        return ZoneInfo(self.zone)


def next_occurrence(slot: WeeklySlot, after: datetime) -> datetime:
    """The first firing instant strictly after ``after`` (aware, any zone), in UTC.

    A firing instant is when the wall clock in ``slot.zone`` shows ``slot.weekday`` and
    ``slot.time``. If that wall-clock time is skipped (spring forward), it fires as far after the
    gap as the slot lies after the gap's start (02:30 in a 02:00-03:00 gap fires at 03:30). If it
    is repeated (fall back), it fires once, at the first occurrence; the second pass is not a
    firing time, so ``after`` between the two passes yields next week's check-in.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be a timezone-aware datetime")
    if type(after) is not datetime or after.tzinfo is not UTC:
        return _next_occurrence(slot, after)
    return _remembered_occurrence(slot, after)


def _next_occurrence(slot: WeeklySlot, after: datetime) -> datetime:
    """``next_occurrence`` of an aware ``after``, worked out."""
    zone = slot.tzinfo()
    local_day = after.astimezone(zone).date()
    # Start two days early: a gap across midnight can move a day's firing onto the next date.
    day = local_day - timedelta(days=2)
    day += timedelta(days=(slot.weekday - day.weekday()) % 7)
    while True:
        instant = _firing_instant(day, slot.time, zone)
        if instant > after:
            return instant
        day += timedelta(days=7)  # firing instants grow with the date, so this ends within 2 steps


_remembered_occurrence = lru_cache(maxsize=_REMEMBERED)(_next_occurrence)


def _firing_instant(day: date, wall_time: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of ``wall_time`` on ``day`` in ``zone`` under the module's DST rules."""
    # PEP 495 fold=0 is exactly the documented rule: for a repeated time it picks the first
    # occurrence (the pre-transition offset); for a skipped time it also applies the
    # pre-transition offset, which lands the gap's length later on the post-transition wall clock.
    # combine() copies the time's own fold, so set it explicitly: a slot typed as time(2, 30,
    # fold=1) must not fire on the second pass.
    return datetime.combine(day, wall_time, tzinfo=zone).replace(fold=0).astimezone(UTC)


def local_week_key(instant: datetime, zone: str) -> str:
    """The ISO week of ``instant`` on the wall clock of ``zone``, e.g. ``"2026-W44"``."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be a timezone-aware datetime")
    if type(instant) is not datetime or instant.tzinfo is not UTC or type(zone) is not str:
        return _local_week_key(instant, zone)
    return _remembered_week_key(instant, zone)


def _local_week_key(instant: datetime, zone: str) -> str:
    if zone not in _zone_keys():
        raise ValueError(f"unknown IANA time zone {zone!r}")
    iso = instant.astimezone(ZoneInfo(zone)).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


_remembered_week_key = lru_cache(maxsize=_REMEMBERED)(_local_week_key)


def parse_zone(text: str) -> str | None:
    """The IANA key for a zone or city name typed by a user ("münchen", "New York"), or None."""
    stripped = text.strip()
    if not stripped or len(stripped) > _MAX_ZONE_INPUT:
        return None
    by_key = _keys_by_lower_name()
    exact = by_key.get(stripped.lower().replace(" ", "_"))
    if exact is not None:
        return exact
    if "/" in stripped:
        full = _normalize(stripped)
        return next((key for key in sorted(by_key.values()) if _normalize(key) == full), None)
    # Cities before countries: a city is the more specific answer where a name is both. A zone
    # key found by its city ("Calcutta", "Saigon") may be an old link: it comes back as the
    # current key that CLDR gives the same city (Asia/Kolkata, Asia/Ho_Chi_Minh).
    tables = (
        _cldr_cities(),
        _CITY_ALIASES,
        WELL_KNOWN_CITIES,
        _keys_by_city(),
        _cldr_countries(),
    )
    for name in _spellings(stripped):
        for table in tables:
            found = table.get(name)
            if found is not None:
                return _current_key(found)
    return None


def parse_time_of_day(text: str) -> time | None:
    """A time typed by a user ("8", "08:30", "8.30", "20 Uhr", "8pm", "8:30 am"), or None."""
    match = _TIME_RE.fullmatch(text.strip())
    if match is None:
        return None
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    suffix = (match["suffix"] or "").lower().replace(".", "")
    if suffix in {"am", "pm"}:
        if not 1 <= hour <= _HOURS_PER_HALF_DAY:
            return None
        hour %= _HOURS_PER_HALF_DAY  # 12 am is midnight, 12 pm is noon
        if suffix == "pm":
            hour += _HOURS_PER_HALF_DAY
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone key this machine knows."""
    return name in _zone_keys()


def current_zone(key: str) -> str:
    """The current IANA key for ``key`` (an old link such as Asia/Calcutta -> Asia/Kolkata)."""
    return _current_key(key)


def zone_label(zone: str, lang: str) -> str:
    """A zone as people name it in ``lang``: its CLDR city (``Europe/Vienna`` -> ``Wien``)."""
    return zone_city(zone, lang)


def suggested_zone(language_code: str | None) -> str:
    """The zone to suggest for a Telegram ``language_code`` such as "de", "de-AT" or "en-US"."""
    language, _, region = (language_code or "").strip().lower().replace("_", "-").partition("-")
    region = region.partition("-")[0]
    # The region decides where it names a country we know, whatever the language ("fr-CH").
    by_region = {
        "at": "Europe/Vienna",
        "ch": "Europe/Zurich",
        "us": "America/New_York",
        "gb": "Europe/London",
        "uk": "Europe/London",
        "in": "Asia/Kolkata",
        "au": "Australia/Sydney",
    }
    if region in by_region:
        return by_region[region]
    if language == "en":
        return "Europe/London"
    return DEFAULT_ZONE


@cache
def _zone_keys() -> frozenset[str]:
    """All usable IANA keys; scanning the zoneinfo directories is slow, so it happens once."""
    return frozenset(available_timezones() - _NOT_ZONES)


@cache
def _keys_by_lower_name() -> dict[str, str]:
    """Zone keys by their lower-case spelling, for case-insensitive exact matches."""
    return {key.lower(): key for key in _zone_keys()}


@cache
def _keys_by_city() -> dict[str, str]:
    """Zone keys in the city areas by their normalized last component."""
    found: dict[str, str] = {}
    # A few cities appear twice (America/Argentina/Cordoba and the old link America/Cordoba):
    # take the longer, newer key, then the first alphabetically, so the answer is stable.
    for key in sorted(_zone_keys(), key=lambda k: (-k.count("/"), k)):
        parts = key.split("/")
        if parts[0] in _CITY_AREAS and len(parts) > 1:
            found.setdefault(_normalize(parts[-1]), key)
    return found


def _is_city_key(key: str) -> bool:
    parts = key.split("/")
    return len(parts) > 1 and parts[0] in _CITY_AREAS


@cache
def _cldr_cities() -> dict[str, str]:
    """Zone keys by the normalized CLDR exemplar city in each of ``_NAME_LANGUAGES``.

    Old links share their zone's city (Asia/Calcutta and Asia/Kolkata are both "Kalkutta"), so
    each name goes to the current key (``_current_key``).
    """
    found: dict[str, str] = {}
    for key in sorted(_zone_keys()):
        if _is_city_key(key):
            for lang in _NAME_LANGUAGES:
                found.setdefault(_normalize(zone_city(key, lang)), _current_key(key))
    return found


@cache
def _cldr_countries() -> dict[str, str]:
    """Zone keys by the normalized CLDR name of each country that has exactly one zone."""
    found: dict[str, str] = {}
    for territory, zones in get_global("territory_zones").items():
        if len(zones) != 1 or not is_zone(zones[0]):
            continue
        for lang in _NAME_LANGUAGES:
            name = _normalize(locale_of(lang).territories.get(territory, ""))
            if name and name not in _AMBIGUOUS_COUNTRIES:
                found.setdefault(name, zones[0])
    return found


def _current_key(key: str) -> str:
    """The current IANA key for an old link (Asia/Calcutta -> Asia/Kolkata), from CLDR's table."""
    current = get_global("zone_aliases").get(key, key)
    return current if is_zone(current) else key


def _normalize(text: str) -> str:
    """Lower case, no spaces, underscores, hyphens, dots or diacritics ("Zürich" -> "zurich")."""
    text = text.lower().replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\s_.\-']+", "", bare)


def _spellings(text: str) -> list[str]:
    """Normalized spellings to try: umlauts as plain vowels, as digraphs, and digraphs undone."""
    lowered = text.lower()
    german = lowered.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    plain = _normalize(lowered)
    undone = plain
    for digraph, vowel in _GERMAN_DIGRAPHS:  # "Zuerich", "Muenchen", "Koeln" typed without umlauts
        undone = undone.replace(digraph, vowel)
    return list(dict.fromkeys((plain, _normalize(german), undone)))
