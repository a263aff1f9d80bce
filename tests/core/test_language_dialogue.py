"""What German and English users read: zone cities, dates, plurals, in whole conversations."""

from __future__ import annotations

import pytest
from dialogue_driver import Chat
from test_checkin_dialogue import Clock, do_checkin
from test_engine import onboard_de

from bot.core.content import Content
from bot.core.engine import DialogueEngine
from storage import InMemoryUserRepository


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Friday 2026-11-27 09:00 UTC


@pytest.fixture
def engine(content: Content, clock: Clock) -> DialogueEngine:
    return DialogueEngine(content, InMemoryUserRepository(), clock=clock)


@pytest.fixture
def anna(engine: DialogueEngine) -> Chat:
    """A German user with a plan: LinkedIn kept (2 of her 3 hours)."""
    chat = Chat(engine, "anna", language_hint="de")
    onboard_de(chat)
    chat.press("show_plan")
    return chat


@pytest.fixture
def ben(engine: DialogueEngine) -> Chat:
    """An English user with a plan: Instagram kept."""
    chat = Chat(engine, "ben", language_hint="en")
    chat.send("/start")
    chat.press("continue")
    chat.press("instagram", "done")
    chat.send("4")
    chat.press("consumers_u30", "done")
    chat.press("awareness", "done")
    chat.press("alone")
    chat.press("none")
    chat.press("show_plan")
    return chat


def zone_captions(chat: Chat) -> list[str]:
    return [b.label for b in chat.buttons() if "/" not in b.label and b.label[0] != "⬅"]


def test_a_german_user_sees_german_city_names(anna: Chat) -> None:
    anna.press("setup_checkin")
    anna.press("fri")
    anna.send("8:30")
    assert zone_captions(anna)[:3] == ["Berlin", "Wien", "Zürich"]
    assert "Kalkutta" in zone_captions(anna)
    assert anna.button("Europe/Vienna").label == "Wien"
    anna.press("Europe/Vienna")
    assert "Wien (Europe/Vienna)" in anna.text  # the answer as shown
    assert "Check-in eingerichtet: jeden Freitag um 08:30 (Wien)" in anna.text
    assert "Der nächste kommt am 4. Dezember 2026 um 08:30." in anna.text
    anna.send("/settings")
    assert "jeden Freitag um 08:30 (Wien)" in anna.question_text


def test_an_english_user_sees_english_city_names(ben: Chat) -> None:
    ben.press("setup_checkin")
    ben.press("fri")
    ben.send("8:30")
    assert zone_captions(ben)[:3] == ["London", "Berlin", "Vienna"]
    assert {"Zurich", "Kolkata"} <= set(zone_captions(ben))
    ben.press("Europe/Vienna")
    assert "Check-in set: every Friday at 08:30 (Vienna)" in ben.text
    assert "The next one comes on 4 December 2026 at 08:30." in ben.text


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("Kalkutta", "Kalkutta"), ("Lissabon", "Lissabon"), ("Schweiz", "Zürich")],
)
def test_a_city_typed_in_german_is_shown_in_german(anna: Chat, typed: str, shown: str) -> None:
    anna.press("setup_checkin")
    anna.press("mon")
    anna.send("7:00")
    anna.send(typed)
    assert f"jeden Montag um 07:00 ({shown})" in anna.text


def test_the_feedback_after_the_first_checkin_counts_one_checkin(anna: Chat) -> None:
    anna.send("/checkin")
    do_checkin(anna, hours="1,5")
    assert "Bisher 1 Check-in, 100\u00a0% nach Plan." in anna.text
    assert "1 Check-ins" not in anna.text
    assert "⏱ 1,5 Std. gebraucht, 2,1 geplant." in anna.text
    anna.send("/history")
    assert "Serie: 1 Woche nach Plan · bisher 1 Check-in, 100\u00a0% nach Plan" in anna.text
    assert "KW 48/2026: 1,5 Std. (geplant 2,1), Energie 4/5" in anna.text


def test_the_feedback_in_english_counts_one_checkin(ben: Chat) -> None:
    ben.send("/checkin")
    ben.press("instagram", "done")
    ben.send("1.5")
    ben.press("e3")
    ben.press("skip")
    assert "1 check-in so far, 100% on plan." in ben.text
    assert "1 check-ins" not in ben.text
    ben.send("/history")
    assert "Streak: 1 week on plan · 1 check-in so far, 100% on plan" in ben.text
    assert "Week 48/2026: 1.5 h (planned 3), energy 3/5" in ben.text


def test_the_hours_question_names_the_budget_in_words(anna: Chat, ben: Chat) -> None:
    anna.send("/checkin")
    anna.press("linkedin", "done")
    assert "Dein Plan sieht 2,1 Stunden vor." in anna.question_text
    ben.send("/checkin")
    ben.press("instagram", "done")
    assert "Your plan allows 3 hours." in ben.question_text


def schedule(chat: Chat, zone: str) -> None:
    chat.press("setup_checkin")
    chat.press("fri")
    chat.send("8:30")
    chat.press(zone)


def test_the_pause_ends_on_a_date_in_each_languages_format(anna: Chat, ben: Chat) -> None:
    schedule(anna, "Europe/Vienna")
    anna.send("/settings")
    anna.press("pause")
    anna.press("w1")
    assert "🏖 1 Woche Pause: Ab dem 4. Dezember 2026 geht es" in anna.text
    anna.send("/settings")
    assert "pausiert, wieder ab dem 4. Dezember 2026" in anna.question_text

    schedule(ben, "Europe/London")
    ben.send("/settings")
    ben.press("pause")
    ben.press("w2")
    assert "🏖 Paused for 2 weeks: from 11 December 2026 your usual check-ins" in ben.text
    ben.send("/settings")
    assert "paused, back from 11 December 2026" in ben.question_text


def test_missed_checkins_are_counted_in_words(
    anna: Chat, ben: Chat, engine: DialogueEngine
) -> None:
    schedule(anna, "Europe/Vienna")
    schedule(ben, "Europe/London")
    one = engine.checkin_reminder("anna", week="2026-W48", missed_weeks=["2026-W47"])[0]
    assert "Ein Check-in ist ausgefallen, während ich offline war (KW 47)." in one.text
    two = engine.checkin_reminder("anna", week="2026-W48", missed_weeks=["2026-W46", "2026-W47"])
    assert "2 Check-ins sind ausgefallen, während ich offline war (KW 46 und 47)." in two[0].text
    three = engine.checkin_reminder(
        "ben", week="2026-W48", missed_weeks=["2026-W45", "2026-W46", "2026-W47"]
    )
    assert "3 check-ins were missed while I was offline (weeks 45, 46 and 47)." in three[0].text


def test_a_snoozed_reminder_names_the_time(anna: Chat, engine: DialogueEngine) -> None:
    schedule(anna, "Europe/Vienna")
    anna.question = engine.checkin_reminder("anna", week="2026-W48")[0]
    anna.press("checkin_snooze_tomorrow")
    assert "ich erinnere dich morgen um 08:30 noch einmal" in anna.text


def test_the_english_summary_says_what_the_pressure_question_asked(ben: Chat) -> None:
    ben.send("/plan")
    ben.press("change_answers")
    assert "Pressure to be on: None" in ben.question_text
    ben.press("pressure")
    assert "Change the channel you feel you must be on" in ben.question_text
    assert "felt must" not in ben.question_text.lower()
