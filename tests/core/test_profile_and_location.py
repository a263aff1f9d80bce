"""Issue 13, items 4 and 5 in the core: the bot profile, deep-link payloads, a shared location."""

from __future__ import annotations

import json

import pytest
from dialogue_driver import Chat
from test_engine import onboard_de

from bot.core.content import Content
from bot.core.deep_links import came_from_tag
from bot.core.document_schema import check_user_document
from bot.core.engine import DialogueEngine
from bot.core.export_files import export_json
from bot.core.messages import Reply, SharedLocation
from bot.core.profile import PROFILE_TEXTS, profile, profile_problems
from bot.core.schedule import parse_zone
from bot.core.state import UserState
from bot.core.zone_finder import zone_at
from storage import InMemoryUserRepository

VIENNA = (48.2082, 16.3738)


# ---- the profile ------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_profile_fits_telegrams_limits_and_says_how_long_it_takes(
    content: Content, lang: str
) -> None:
    texts = profile(content.texts, lang)
    assert 0 < len(texts.description) <= PROFILE_TEXTS["telegram/description"]
    assert 0 < len(texts.short_description) <= PROFILE_TEXTS["telegram/short_description"]
    assert "3" in texts.description
    assert "6" in texts.description  # the six questions of the onboarding
    assert "<" not in texts.description  # plain text: Telegram shows no markup there
    assert profile_problems(content.texts, lang) == []


def test_a_too_long_profile_text_is_a_problem(
    content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PROFILE_TEXTS, "telegram/short_description", 10)
    assert profile_problems(content.texts, "de") == [
        f"de/telegram/short_description: {len(profile(content.texts, 'de').short_description)}"
        " characters, Telegram takes 1 to 10"
    ]


# ---- /start payloads --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "tag"),
    [
        ("newsletter_2026-12", "newsletter_2026-12"),
        ("a b/c?d=é", "abcd"),
        ("x" * 100, "x" * 64),
        ("äöü !?", None),
        ("", None),
    ],
)
def test_a_payload_becomes_a_tag_as_telegram_allows_it(payload: str, tag: str | None) -> None:
    assert came_from_tag(payload) == tag


def test_start_en_sets_english_even_as_the_first_message(engine: DialogueEngine) -> None:
    chat = Chat(engine, "u1", language_hint="de")
    chat.send("/start en")
    assert "Hi, I am your focus coach" in chat.text
    stored = engine.repository.get("u1")
    assert stored is not None
    assert (stored["lang"], stored["came_from"]) == ("en", None)


def test_start_de_switches_back_to_german_later(engine: DialogueEngine) -> None:
    chat = Chat(engine, "u2", language_hint="en")
    chat.send("/start")
    chat.send("/start de")
    assert engine.language("u2") == "de"


def test_any_other_payload_is_kept_silently_as_came_from_and_exported(
    engine: DialogueEngine,
) -> None:
    chat = Chat(engine, "u3", language_hint="de")
    chat.send("/start podcast-42")
    assert "Hallo, ich bin dein Fokus-Coach" in chat.text
    assert "podcast" not in chat.text  # accepted silently
    chat.send("/start later_link")  # the first tag is where they came from
    stored = engine.repository.get("u3")
    assert stored is not None
    assert stored["came_from"] == "podcast-42"
    check_user_document(stored)
    exported = json.loads(export_json(UserState.from_document(stored)).content)
    assert exported["came_from"] == "podcast-42"


def test_a_document_without_came_from_stays_valid_and_a_bad_tag_does_not() -> None:
    document = UserState(user_id="1", lang="de").to_document()
    del document["came_from"]
    check_user_document(document)
    assert UserState.from_document(document).came_from is None
    with pytest.raises(ValueError, match="came_from"):
        check_user_document({**document, "came_from": "a b"})


# ---- the time zone ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("point", "zone"),
    [
        (VIENNA, "Europe/Vienna"),
        ((51.9607, 7.6261), "Europe/Berlin"),  # Münster
        ((45.764, 4.8357), "Europe/Paris"),  # Lyon
        ((32.7767, -96.797), "America/Chicago"),  # Dallas
        ((22.5726, 88.3639), "Asia/Kolkata"),  # Kolkata, never the old link Asia/Calcutta
        ((0.0, -30.0), None),  # the open Atlantic: Etc/GMT+2 is no place to pick
        ((91.0, 0.0), None),
        ((float("nan"), 0.0), None),
    ],
)
def test_a_point_resolves_offline_to_its_zone(
    point: tuple[float, float], zone: str | None
) -> None:
    assert zone_at(*point) == zone


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Wien", "Europe/Vienna"),
        ("Vienna", "Europe/Vienna"),
        ("München", "Europe/Berlin"),
        ("Kalkutta", "Asia/Kolkata"),
        ("Münster", "Europe/Berlin"),
        ("Muenster", "Europe/Berlin"),
        ("Heidelberg", "Europe/Berlin"),
        ("Aachen", "Europe/Berlin"),
        ("Lyon", "Europe/Paris"),
        ("Dallas", "America/Chicago"),
    ],
)
def test_typed_cities_of_the_issue_resolve(typed: str, zone: str) -> None:
    assert parse_zone(typed) == zone


@pytest.fixture
def anna(engine: DialogueEngine) -> Chat:
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan")
    chat.press("setup_checkin")
    chat.press("fri")
    chat.send("8:30")
    return chat


def test_the_zone_question_offers_a_location_and_keeps_its_suggestions(anna: Chat) -> None:
    assert anna.question is not None
    offer = anna.question.location
    assert offer is not None
    assert offer.label == "📍 Standort teilen"
    assert "speichere den Standort nicht" in offer.prompt
    assert anna.button("Europe/Vienna").label == "Wien"  # the suggestions stay


def test_a_shared_location_answers_the_zone_and_is_not_stored(
    anna: Chat, engine: DialogueEngine
) -> None:
    replies: list[Reply] = engine.handle("anna", SharedLocation(*VIENNA))
    anna.replies = replies
    assert "Wien (Europe/Vienna)" in anna.text
    assert "jeden Freitag um 08:30 (Wien)" in anna.text
    stored = json.dumps(engine.repository.get("anna"))
    assert "48.2" not in stored
    assert "16.3" not in stored
    assert all(reply.location is None for reply in replies)  # the offer is over


def test_a_location_at_sea_asks_again(anna: Chat, engine: DialogueEngine) -> None:
    anna.replies = engine.handle("anna", SharedLocation(0.0, -30.0))
    assert "Zu diesem Standort kenne ich keine Zeitzone" in anna.text


def test_a_location_elsewhere_is_not_an_answer(engine: DialogueEngine) -> None:
    chat = Chat(engine, "carl", language_hint="en")
    chat.send("/start")
    chat.replies = engine.handle("carl", SharedLocation(*VIENNA))
    assert "I only need a location when I ask for your time zone" in chat.text
    assert "48.2" not in json.dumps(engine.repository.get("carl"))


def test_the_coordinates_stay_out_of_repr() -> None:
    assert "48" not in repr(SharedLocation(*VIENNA))


@pytest.fixture
def engine(content: Content) -> DialogueEngine:
    return DialogueEngine(content, InMemoryUserRepository())
