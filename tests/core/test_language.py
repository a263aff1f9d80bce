"""The language helpers: numbers, dates, times, plural forms and zone cities in German and English.

The filters are tested through the same sandboxed environment the templates use; the last tests
render every template the way ``focus-coach check`` does and read the results for slips.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import TemplateRuntimeError
from markupsafe import Markup

from bot.core import templating
from bot.core.checker import check_prompts
from bot.core.content import DEFAULT_PROMPTS_DIR, Content
from bot.core.locale_format import (
    format_date,
    format_number,
    format_percent,
    format_time,
    plural_category,
)
from bot.core.rules import LANGUAGES
from bot.core.schedule import COMMON_ZONES, parse_zone, zone_label
from bot.core.templating import TextRenderer, load_labels

NBSP = "\u00a0"


def render(content: Content, source: str, lang: str, **context: Any) -> str:
    """Render a template snippet in the shipped environment, as a template file would be."""
    return content.texts.env.from_string(source).render(lang=lang, **context)


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "de", "en"),
    [
        (2, "2", "2"),
        (2.0, "2", "2"),
        (1.5, "1,5", "1.5"),
        (2.25, "2,3", "2.3"),  # half up, as people round
        (0.04, "0", "0"),
        (1250, "1.250", "1,250"),
        (4096, "4.096", "4,096"),
    ],
)
def test_numbers_in_each_languages_notation(
    content: Content, value: float, de: str, en: str
) -> None:
    assert (format_number(value, "de"), format_number(value, "en")) == (de, en)
    assert render(content, "{{ x|number }}", "de", x=value) == de
    assert render(content, "{{ x|number }}", "en", x=value) == en
    assert render(content, "{{ x|hours }}", "de", x=value) == de  # hours go through number


def test_a_language_passed_to_a_filter_wins_over_the_templates(content: Content) -> None:
    assert render(content, "{{ 1.5|hours('en') }} {{ 1.5|number }}", "de") == "1.5 1,5"


def test_percent_in_each_language(content: Content) -> None:
    assert format_percent(87, "de") == f"87{NBSP}%"
    assert format_percent(87, "en") == "87%"
    assert render(content, "{{ 100|percent }}", "de") == f"100{NBSP}%"


def test_a_filter_without_a_language_is_an_error(content: Content) -> None:
    with pytest.raises(TemplateRuntimeError, match="no language"):
        content.texts.env.from_string("{{ 1.5|number }}").render()


# --- plural forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "de", "en"),
    [
        (0, "0 Wochen", "0 weeks"),
        (1, "1 Woche", "1 week"),
        (2, "2 Wochen", "2 weeks"),
        (1.0, "1 Woche", "1 week"),
        (1.5, "1,5 Wochen", "1.5 weeks"),
        (1.04, "1 Woche", "1 week"),  # the form follows the number as shown
    ],
)
def test_plural_forms_follow_cldr_in_both_languages(
    content: Content, count: float, de: str, en: str
) -> None:
    source = "{{ n|plural('n_weeks') }}"
    assert render(content, source, "de", n=count) == de
    assert render(content, source, "en", n=count) == en


@pytest.mark.parametrize(
    ("key", "count", "de", "en"),
    [
        ("n_checkins", 1, "1 Check-in", "1 check-in"),
        ("n_checkins", 2, "2 Check-ins", "2 check-ins"),
        ("n_hours", 1, "1 Stunde", "1 hour"),
        ("n_hours", 2.5, "2,5 Stunden", "2.5 hours"),
        ("n_channels", 1, "1 Kanal", "1 channel"),
        ("n_channels", 3, "3 Kanäle", "3 channels"),
        ("n_characters", 4096, "4.096 Zeichen", "4,096 characters"),
        ("missed_checkins", 1, "Ein Check-in ist ausgefallen", "One check-in was missed"),
        ("missed_checkins", 2, "2 Check-ins sind ausgefallen", "2 check-ins were missed"),
        ("calendar_week", 1, "KW", "week"),
        ("calendar_week", 2, "KW", "weeks"),
    ],
)
def test_every_plural_label(content: Content, key: str, count: float, de: str, en: str) -> None:
    assert content.texts.label("de", key, count=count) == de
    assert content.texts.label("en", key, count=count) == en


def test_plural_categories_of_german_and_english() -> None:
    for lang in LANGUAGES:
        assert [plural_category(n, lang) for n in (0, 1, 2, 1.5)] == [
            "other",
            "one",
            "other",
            "other",
        ]


def test_a_plural_label_needs_a_count(content: Content) -> None:
    with pytest.raises(TemplateRuntimeError, match="plural forms"):
        content.texts.label("de", "n_weeks")
    with pytest.raises(TemplateRuntimeError, match="plural forms"):
        render(
            content, "{{ label('n_weeks') }}", "de", label=lambda k: content.texts.label("de", k)
        )


def test_plural_needs_a_label_with_forms(content: Content) -> None:
    with pytest.raises(TemplateRuntimeError, match="no plural forms"):
        render(content, "{{ 2|plural('back') }}", "de")
    assert content.texts.plural("en", "n_hours", 1) == "1 hour"


def test_plural_output_is_escaped_once(tmp_path: Path) -> None:
    for lang in LANGUAGES:
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "labels.yaml").write_text(
            'thing:\n  one: "{{ count }} Q&A"\n  other: "{{ count }} Q&As"\n', encoding="utf-8"
        )
        (tmp_path / lang / "t.j2").write_text("{{ 2|plural('thing') }}", encoding="utf-8")
    texts = TextRenderer(tmp_path, LANGUAGES)
    assert texts.render("en", "t") == "2 Q&amp;As"


def test_plural_forms_are_checked_against_the_languages_rules(tmp_path: Path) -> None:
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "labels.yaml").write_text(
        'only_other:\n  other: "x"\nwith_few:\n  one: "x"\n  few: "y"\n  other: "z"\n',
        encoding="utf-8",
    )
    texts = TextRenderer(tmp_path, ("de",))
    assert texts.plural_problems("de", "only_other") == [
        "label 'only_other': the form 'one' is missing"
    ]
    assert texts.plural_problems("de", "with_few") == [
        "label 'with_few': the form 'few' is never used in 'de'"
    ]


@pytest.mark.parametrize(
    "text",
    [
        'bad:\n  one: "x"\n',  # no "other"
        'bad:\n  single: "x"\n  other: "y"\n',  # not a CLDR category
        "bad: [1, 2]\n",
        "- just a list\n",
    ],
)
def test_malformed_labels_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "labels.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels\.yaml"):
        load_labels(path)


def test_the_checker_reports_a_missing_plural_form(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    _copy_tree(DEFAULT_PROMPTS_DIR, prompts)
    labels = prompts / "templates" / "en" / "labels.yaml"
    text = labels.read_text(encoding="utf-8")
    labels.write_text(text.replace('  one: "{{ count }} week"\n', ""), encoding="utf-8")
    _, problems = check_prompts(prompts)
    assert any("label 'n_weeks': the form 'one' is missing" in p for p in problems), problems


def _copy_tree(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        if path.is_file():
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(path.read_bytes())


# --- dates and times ------------------------------------------------------------------------

NEXT = datetime(2026, 12, 4, 7, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(
    ("value", "de", "en"),
    [
        (date(2026, 12, 4), "4. Dezember 2026", "4 December 2026"),
        (NEXT, "4. Dezember 2026", "4 December 2026"),
        ("2026-12-11", "11. Dezember 2026", "11 December 2026"),
        ("2026-11-26T10:00:00+00:00", "26. November 2026", "26 November 2026"),
        (date(2027, 3, 1), "1. März 2027", "1 March 2027"),
    ],
)
def test_dates_in_each_language(content: Content, value: Any, de: str, en: str) -> None:
    assert (format_date(value, "de"), format_date(value, "en")) == (de, en)
    assert render(content, "{{ d|date }}", "de", d=value) == de
    assert render(content, "{{ d|date }}", "en", d=value) == en


def test_a_local_instant_keeps_its_own_day() -> None:
    # 23:30 UTC on the 3rd is already the 4th in Berlin: the day the user lives.
    late = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    assert format_date(late.astimezone(ZoneInfo("Europe/Berlin")), "de") == "4. Dezember 2026"
    assert format_time(late.astimezone(ZoneInfo("Europe/Berlin")), "de") == "00:30"


def test_full_dates_name_the_weekday(content: Content) -> None:
    assert render(content, "{{ d|date('full') }}", "de", d=NEXT) == "Freitag, 4. Dezember 2026"
    assert render(content, "{{ d|date('full') }}", "en", d=NEXT) == "Friday, 4 December 2026"


def test_only_named_date_styles(content: Content) -> None:
    with pytest.raises(ValueError, match="date style"):
        render(content, "{{ d|date('dd.MM.yyyy') }}", "de", d=NEXT)


@pytest.mark.parametrize("value", [NEXT, time(8, 30), "08:30", "8:30"])
def test_times_are_24_hour_in_both_languages(content: Content, value: Any) -> None:
    for lang in LANGUAGES:
        assert render(content, "{{ t|time }}", lang, t=value) == "08:30"


# --- time zones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "de", "en"),
    [
        ("Europe/Berlin", "Berlin", "Berlin"),
        ("Europe/Vienna", "Wien", "Vienna"),
        ("Europe/Zurich", "Zürich", "Zurich"),
        ("Asia/Kolkata", "Kalkutta", "Kolkata"),
        ("Europe/Lisbon", "Lissabon", "Lisbon"),
        ("America/New_York", "New York", "New York"),
        ("Europe/Kyiv", "Kiew", "Kyiv"),
        ("Etc/GMT+5", "GMT+5", "GMT+5"),  # no city: the key's last part
    ],
)
def test_zone_labels_are_cldr_cities(content: Content, zone: str, de: str, en: str) -> None:
    assert (zone_label(zone, "de"), zone_label(zone, "en")) == (de, en)
    assert render(content, "{{ z|zone }}", "de", z=zone) == de


def test_every_offered_zone_has_a_city_name_that_can_be_typed_back() -> None:
    for zone in COMMON_ZONES:
        for lang in LANGUAGES:
            name = zone_label(zone, lang)
            assert name and "/" not in name and "_" not in name
            assert parse_zone(name) == zone


# --- every template, read for slips ---------------------------------------------------------

# Doubled or misplaced punctuation: "Std..", "!.", ",,", " ." (an ellipsis "..." is allowed).
_SLIPS = re.compile(r"(?<!\.)\.\.(?!\.)|[!?,;:]\.|,,|\s[.,;:!?](?=\s|$)")
_TAG = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def rendered(monkeypatch_module: pytest.MonkeyPatch) -> dict[tuple[str, str], set[str]]:
    """Every text ``focus-coach check`` renders, by language and template."""
    seen: dict[tuple[str, str], set[str]] = {}
    original = TextRenderer.render

    def recording(self: TextRenderer, lang: str, name: str, **context: Any) -> str:
        text = original(self, lang, name, **context)
        seen.setdefault((lang, name), set()).add(html.unescape(_TAG.sub("", text)))
        return text

    monkeypatch_module.setattr(templating.TextRenderer, "render", recording)
    content, problems = check_prompts(DEFAULT_PROMPTS_DIR)
    assert content is not None, problems
    return seen


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_no_template_doubles_its_punctuation(rendered: dict[tuple[str, str], set[str]]) -> None:
    slips = [
        f"{lang}/{name}: {match.group()!r} in {text!r}"
        for (lang, name), texts in sorted(rendered.items())
        for text in texts
        for match in _SLIPS.finditer(text)
    ]
    assert slips == []
    assert len(rendered) > 100  # the check really rendered the templates


def test_no_english_text_says_felt_must(
    content: Content, rendered: dict[tuple[str, str], set[str]]
) -> None:
    english = [text for (lang, name), texts in rendered.items() if lang == "en" for text in texts]
    english += [content.texts.label("en", key) for key in ("field_pressure", "pressure_none")]
    assert [text for text in english if "felt must" in text.lower()] == []


@pytest.mark.parametrize(
    ("last", "de", "en"),
    [
        ("a", "Hier gibt es nur den Knopf a.", "The only button here is a."),
        ("b", "Wähle a oder b.", "Pick a or b."),
        ("f", "Wähle einen Buchstaben von a bis f.", "Pick a letter from a to f."),
    ],
)
def test_the_console_hint_fits_the_number_of_buttons(
    content: Content, last: str, de: str, en: str
) -> None:
    assert content.texts.render("de", "console/no_such_button", letter="z", last=last).endswith(de)
    assert content.texts.render("en", "console/no_such_button", letter="z", last=last).endswith(en)


def test_a_label_rendered_again_with_the_same_context_reads_the_same(tmp_path: Path) -> None:
    # Rendered labels are kept by context; values equal in Python but shown differently must
    # not share one: safe HTML and text, True and 1, -0.0 and 0.0.
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "labels.yaml").write_text(
        'said: "{{ text }}!"\nsign: "({{ value }})"\n', encoding="utf-8"
    )
    texts = TextRenderer(tmp_path, ("en",))
    contexts: list[tuple[str, dict[str, Any]]] = [
        ("said", {"text": "Q&A"}),
        ("said", {"text": Markup("<b>Q</b>")}),
        ("said", {"text": "Q&A"}),
        ("said", {"text": "<b>Q</b>"}),
        ("sign", {"value": True}),
        ("sign", {"value": 1}),
        ("sign", {"value": 1.0}),
        ("sign", {"value": 0.0}),
        ("sign", {"value": -0.0}),
        ("sign", {"value": 0.0}),
    ]
    shown = [texts.label("en", key, **context) for key, context in contexts]
    fresh = [TextRenderer(tmp_path, ("en",)).label("en", k, **c) for k, c in contexts]
    assert shown == fresh
    assert shown[:4] == ["Q&amp;A!", "<b>Q</b>!", "Q&amp;A!", "&lt;b&gt;Q&lt;/b&gt;!"]
    assert shown[4:] == ["(True)", "(1)", "(1.0)", "(0.0)", "(-0.0)", "(0.0)"]
