"""Numbers, dates, times, plural forms and zone cities the way each language writes them.

Babel (CLDR data) decides all of it, so "1,5" or "1.5", "4. Dezember 2026" or "4 December 2026",
"Wien" or "Vienna" and "1 Woche" or "2 Wochen" are settled in one place for every template (through
the filters in ``templating``) and for the time-zone buttons (``schedule.zone_label``).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.dates import get_timezone_location
from babel.numbers import format_decimal as babel_decimal
from babel.numbers import format_percent as babel_percent

__all__ = [
    "DATE_STYLES",
    "PLURAL_CATEGORIES",
    "format_date",
    "format_number",
    "format_percent",
    "format_time",
    "locale_of",
    "plural_categories",
    "plural_category",
    "zone_city",
]

# The CLDR locale behind each of our languages. English is British English on purpose: the coach
# is European, a day-first date ("4 December 2026") cannot be misread, and times stay 24-hour
# ("08:30") as in German; US English would say "December 4, 2026" and "8:30 AM".
_LOCALES = {"de": "de_DE", "en": "en_GB"}

# Babel's named date formats; a template picks one by name, never a pattern of its own.
DATE_STYLES = ("short", "medium", "long", "full")

# Every plural category CLDR knows; German and English use only "one" and "other".
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


@cache
def locale_of(lang: str) -> Locale:
    """The Babel locale for one of our language codes ("de", "en"), or any CLDR locale name."""
    return Locale.parse(_LOCALES.get(lang, lang))


def _shown(value: float | Decimal, digits: int) -> Decimal | int:
    """``value`` rounded to what is shown (half up, as people round): ``2.25`` -> ``2.3``.

    A whole number comes back as an ``int``, so the plural form matches what the user reads:
    "1 Stunde" for 1.0 (shown as "1"), but "1,5 Stunden".
    """
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        return int(rounded)
    return rounded.normalize()


def format_number(value: float | Decimal, lang: str, *, digits: int = 1) -> str:
    """A number with at most ``digits`` decimals: ``1,5`` / ``1.5``, ``1.250`` / ``1,250``."""
    return _formatted(_shown(value, digits), lang, digits)


# Messages show the same few numbers again and again (hours, weeks), and Babel parses its
# pattern on every call: remembering the text makes a number about as cheap as an f-string.
@lru_cache(maxsize=4096)
def _formatted(shown: Decimal | int, lang: str, digits: int) -> str:
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return babel_decimal(shown, format=pattern, locale=locale_of(lang))


def format_percent(value: float, lang: str) -> str:
    """A percentage given on the 0-100 scale (87 -> ``87 %`` in German, ``87%`` in English)."""
    return babel_percent(Decimal(_shown(value, 0)) / 100, locale=locale_of(lang))


def plural_category(count: float | Decimal, lang: str, *, digits: int = 1) -> str:
    """The CLDR plural category ("one", "other", ...) of ``count`` as it is shown."""
    return str(locale_of(lang).plural_form(_shown(count, digits)))


def plural_categories(lang: str) -> frozenset[str]:
    """The plural categories ``lang`` distinguishes, ``other`` included."""
    return frozenset(locale_of(lang).plural_form.tags) | {"other"}


def _as_date(value: date | str) -> date:
    if isinstance(value, str):
        # ISO text from a stored document: "2026-12-11" or "2026-11-26T10:00:00+00:00".
        return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.date()  # the day on the instant's own wall clock, not in UTC
    return value


def format_date(value: date | str, lang: str, *, style: str = "long") -> str:
    """A calendar day: ``4. Dezember 2026`` / ``4 December 2026`` (``style="long"``).

    ``value`` is a date, a datetime (its own local day) or ISO text. ``style`` is one of
    ``DATE_STYLES``; ``full`` adds the weekday ("Freitag, 4. Dezember 2026").
    """
    if style not in DATE_STYLES:
        raise ValueError(f"date style {style!r} is not one of {', '.join(DATE_STYLES)}")
    return babel_date(_as_date(value), format=style, locale=locale_of(lang))


def format_time(value: time | datetime | str, lang: str) -> str:
    """A wall-clock time: ``08:30`` in both languages; ``value`` may be ``"HH:MM"`` text."""
    if isinstance(value, str):
        value = datetime.strptime(value, "%H:%M").time()  # noqa: DTZ007 - a wall-clock time
    elif isinstance(value, datetime):
        # The datetime's own wall clock: Babel would otherwise convert an aware one to UTC.
        value = value.time()
    return babel_time(value.replace(tzinfo=None), format="short", locale=locale_of(lang))


@cache
def zone_city(zone: str, lang: str) -> str:
    """The CLDR exemplar city of an IANA zone: ``Europe/Vienna`` -> ``Wien`` / ``Vienna``.

    Zones CLDR has no city for (``Etc/GMT+5``, ``UTC``) come back as their last key component.
    """
    return str(get_timezone_location(zone, locale=locale_of(lang), return_city=True))
