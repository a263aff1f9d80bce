"""Questions answered with a value: a number, a time of day, a time zone, or a line of text.

Each offers suggestions as buttons and also takes the value typed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bot.core.callbacks import Action, ButtonToken
from bot.core.flow_model import Step
from bot.core.messages import Button, LocationRequest, Reply, SharedLocation
from bot.core.questions.base import Asked, QuestionKind, Report, Turn, in_rows
from bot.core.rules import LANGUAGES
from bot.core.schedule import (
    COMMON_ZONES,
    is_zone,
    parse_time_of_day,
    parse_zone,
    suggested_zone,
    zone_label,
)
from bot.core.text_input import MAX_INBOUND_CHARS, parse_number
from bot.core.zone_finder import zone_at

__all__ = ["FreeText", "Number", "TimeOfDay", "TimeZone", "format_hour", "offered_zones"]

_SUGGESTIONS_PER_ROW = 3


def format_hour(value: float) -> str:
    """A suggested time of day given as hours (8.5) in 24-hour form: ``08:30``."""
    minutes = round(value * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def offered_zones(lang: str) -> list[str]:
    """Zones offered as buttons: the one suggested for the language first."""
    first = suggested_zone(lang)
    return [first, *(zone for zone in COMMON_ZONES if zone != first)]


class _Value(QuestionKind):
    saves_answer = True
    label_keys: ClassVar[tuple[str, ...]] = ("answer_skipped",)

    def show(self, asked: Asked, value: Any) -> str:
        """The value as given; a skipped one says so."""
        return asked.label("answer_skipped") if value is None else str(value)


class Number(_Value):
    """A number within ``min``..``max`` (hours, mostly); ``suggestions`` become buttons."""

    label_keys = ("hours_value", "answer_skipped")

    def check(self, step: Step, report: Report) -> None:
        """Bounds in the right order, suggestions inside them."""
        if step.min is None or step.max is None:
            report("a number step needs 'min' and 'max'")
        elif step.min >= step.max:
            report(f"'min' ({step.min:g}) must be below 'max' ({step.max:g})")
        else:
            for value in step.suggestions:
                if not step.min <= value <= step.max:
                    report(f"suggestion {value:g} lies outside {step.min:g}..{step.max:g}")

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """The suggestions, three to a row."""
        numbers = [
            asked.button(asked.label("hours_value", value=v), Action.NUMBER, f"{v:g}")
            for v in asked.step.suggestions
        ]
        return in_rows(numbers, per_row=_SUGGESTIONS_PER_ROW)

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """A suggestion (checked against the bounds, as typed numbers are)."""
        number = parse_number(token.value) if token.action is Action.NUMBER else None
        return None if number is None else self._take(asked, number, turn)

    def on_text(self, asked: Asked, text: str, turn: Turn) -> list[Reply]:
        """A typed number such as ``2,5`` or ``3 h``."""
        number = parse_number(text)
        if number is None:
            return turn.hint("common/not_a_number")
        return self._take(asked, number, turn)

    @staticmethod
    def _take(asked: Asked, number: float, turn: Turn) -> list[Reply]:
        low, high = asked.step.min or 0.0, asked.step.max or 0.0
        if not low <= number <= high:
            return turn.hint("common/number_out_of_range", low=low, high=high)
        return turn.answer(number)

    def show(self, asked: Asked, value: Any) -> str:
        """Hours the way people write them."""
        return asked.label("hours_value", value=value)

    def sample(self, asked: Asked) -> Any:
        """The lower bound."""
        return asked.step.min

    def accepts(self, asked: Asked, value: Any) -> bool:
        """A number within the bounds."""
        low, high = asked.step.min or 0.0, asked.step.max or 0.0
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        )


class TimeOfDay(_Value):
    """A local time such as ``08:30``; ``suggestions`` are hours of the day (8.5 = 08:30)."""

    def check(self, step: Step, report: Report) -> None:
        """Suggestions must be hours of a day."""
        for value in step.suggestions:
            if not 0 <= value < 24:
                report(f"suggestion {value:g} is not an hour of the day (0 to 23.99)")

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """The suggested times, three to a row."""
        times = [
            asked.button(format_hour(v), Action.NUMBER, f"{v:g}") for v in asked.step.suggestions
        ]
        return in_rows(times, per_row=_SUGGESTIONS_PER_ROW)

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """One of the suggested times."""
        number = parse_number(token.value) if token.action is Action.NUMBER else None
        if number is None or number not in asked.step.suggestions:
            return None
        return turn.answer(format_hour(number))

    def on_text(self, asked: Asked, text: str, turn: Turn) -> list[Reply]:
        """A typed time such as ``8:30``, ``20 Uhr`` or ``6pm``."""
        moment = parse_time_of_day(text)
        if moment is None:
            return turn.hint("common/not_a_time")
        return turn.answer(moment.strftime("%H:%M"))

    def sample(self, asked: Asked) -> Any:
        """A morning time."""
        return "08:30"

    def accepts(self, asked: Asked, value: Any) -> bool:
        """A time of day as ``HH:MM``."""
        return isinstance(value, str) and parse_time_of_day(value) is not None


class TimeZone(_Value):
    """An IANA time zone: common ones as buttons (the language's own first), a typed city, or a
    shared location (resolved offline; only the zone is kept)."""

    label_keys: ClassVar[tuple[str, ...]] = ("share_location",)
    LOCATION_PROMPT: ClassVar[str] = "common/share_location"

    def check(self, step: Step, report: Report) -> None:
        """Each button's city, typed back in its language ("Kalkutta"), finds the same zone.

        This runs when the content is loaded, so it also builds the city index of
        ``parse_zone`` (about 0.2 s) at start-up rather than when the first user types a city.
        """
        for lang in LANGUAGES:
            for zone in offered_zones(lang):
                if parse_zone(zone_label(zone, lang)) != zone:
                    report(f"the {lang} button '{zone_label(zone, lang)}' typed finds no {zone}")

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """The offered zones by their city name in the language (``Wien``, ``Zürich``)."""
        return in_rows(
            [
                asked.button(zone_label(zone, asked.lang), Action.CHOOSE, zone)
                for zone in offered_zones(asked.lang)
            ]
        )

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """One of the offered zones."""
        if token.action is Action.CHOOSE and token.value in offered_zones(asked.lang):
            return turn.answer(token.value)
        return None

    def on_text(self, asked: Asked, text: str, turn: Turn) -> list[Reply]:
        """A city or zone name such as ``Hamburg`` or ``Europe/Berlin``."""
        zone = parse_zone(text)
        if zone is None:
            return turn.hint("common/unknown_zone")
        return turn.answer(zone)

    def location(self, asked: Asked) -> LocationRequest | None:
        """Offer "share my location" next to the zone buttons."""
        return LocationRequest(
            prompt=asked.content.texts.render(asked.lang, self.LOCATION_PROMPT),
            label=asked.label("share_location"),
        )

    def on_location(self, asked: Asked, location: SharedLocation, turn: Turn) -> list[Reply]:
        """The zone at the shared point; the point itself goes no further than this call."""
        zone = zone_at(location.latitude, location.longitude)
        if zone is None:
            return turn.ask_again("common/unknown_location")
        return turn.answer(zone)

    def show(self, asked: Asked, value: Any) -> str:
        """The city in the language, then the zone: ``Wien (Europe/Vienna)``."""
        return f"{zone_label(str(value), asked.lang)} ({value})"

    def sample(self, asked: Asked) -> Any:
        """The German zone."""
        return "Europe/Berlin"

    def accepts(self, asked: Asked, value: Any) -> bool:
        """A zone this machine knows."""
        return isinstance(value, str) and is_zone(value)


class FreeText(_Value):
    """A line of text up to ``max_length``; an ``optional`` one can be skipped."""

    allows_optional = True
    label_keys: ClassVar[tuple[str, ...]] = ("skip", "answer_skipped")

    def check(self, step: Step, report: Report) -> None:
        """A length limit is required: texts end up in messages and files."""
        if step.max_length is None or step.max_length < 1:
            report("a text step needs 'max_length' (a positive whole number)")

    def buttons(self, asked: Asked) -> list[tuple[Button, ...]]:
        """A "skip" button when the step is optional."""
        if not asked.step.optional:
            return []
        return [(asked.button(asked.label("skip"), Action.CONTINUE),)]

    def on_button(self, asked: Asked, token: ButtonToken, turn: Turn) -> list[Reply] | None:
        """Skipping an optional text saves no text."""
        if token.action is Action.CONTINUE and asked.step.optional:
            return turn.answer(None)
        return None

    def accepts(self, asked: Asked, value: Any) -> bool:
        """A text (or nothing, when skipped)."""
        return value is None or isinstance(value, str)

    def on_text(self, asked: Asked, text: str, turn: Turn) -> list[Reply]:
        """The text, if it is not too long."""
        limit = asked.step.max_length or MAX_INBOUND_CHARS
        if len(text) > limit:
            return turn.hint("common/too_long", limit=limit)
        return turn.answer(text)
