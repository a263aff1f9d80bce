"""Issue 13, items 4 and 5 through the real bot process and the fake Bot API.

The bot profile is set per language at start-up; a deep link's payload sets the language or is
kept as where the user came from; a shared location in Vienna answers the time-zone question
with Europe/Vienna, the location keyboard goes away, and nothing of the coordinates is on disk
or in the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_bot import BotProcess, question, tap
from fakebotapi import FakeTelegram
from test_e2e_checkins import onboard

pytestmark = pytest.mark.e2e

VIENNA = (48.2082, 16.3738)
COORDINATE_TRACES = ("48.20", "16.37", "48,20", "16,37")


def test_the_bot_profile_is_set_per_language_at_start_up(
    tg: FakeTelegram, launch: Callable[..., BotProcess]
) -> None:
    launch()
    tg.wait_for_request("getUpdates")  # polling starts after the profile is set

    german, english = tg.profile("de"), tg.profile("en")
    assert tg.profile("") == german  # the default speaks the coach's default language
    assert "etwa 3 Minuten: 6 kurze Fragen" in german[0]
    assert "about 3 minutes: 6 short questions" in english[0]
    assert german[1].startswith("Weniger Kanäle, mehr Fokus")
    assert english[1].startswith("Fewer channels, more focus")
    assert all(len(d) <= 512 and len(s) <= 120 for d, s in (german, english))


def test_a_deep_link_sets_the_language_or_is_kept_as_came_from(
    tg: FakeTelegram, launch: Callable[..., BotProcess]
) -> None:
    launch()
    ben = tg.user(4101, "Ben", "de")
    ben.send_command("/start", "en")
    question(ben, "Hi, I am your focus coach")

    cara = tg.user(4102, "Cara", "de")
    cara.send_command("/start", "podcast_42")
    question(cara, "Hallo, ich bin dein Fokus-Coach")
    cara.send_command("/export")
    exported = cara.wait_for(lambda m: m.file is not None and m.file.kind == "document")
    assert exported.file is not None
    assert json.loads(exported.file.data)["came_from"] == "podcast_42"


def test_a_shared_location_in_vienna_sets_europe_vienna_and_leaves_no_trace(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path
) -> None:
    bot = launch()
    anna = tg.user(4201, "Anna", "de")
    onboard(anna)
    tap(anna, question(anna, "Das ist dein Plan"), "setup_checkin")
    tap(anna, question(anna, "An welchem Tag"), "fri")
    question(anna, "Um wie viel Uhr")
    anna.send_text("8:30")
    zone_question = question(anna, "In welcher Zeitzone")
    assert "Wien" in zone_question.button_texts  # the suggestions stay inline
    offer = anna.wait_for_text("Standort teilen")
    assert offer.message_id > zone_question.message_id
    assert anna.reply_keyboard() == [[{"text": "📍 Standort teilen", "request_location": True}]]

    anna.share_location(*VIENNA)

    anna.wait_for_text("Check-in eingerichtet: jeden Freitag um 08:30 (Wien)")
    anna.wait_for(lambda m: "Wien (Europe/Vienna)" in m.text)
    assert anna.reply_keyboard() is None  # taken away with the next message
    assert bot.stop() == 0

    contents = {
        path: path.read_bytes().decode("utf-8", errors="replace")
        for path in data_dir.rglob("*")
        if path.is_file()
    }
    assert any("Europe/Vienna" in text for text in contents.values())  # the answer is kept
    for path, text in contents.items():
        assert not [trace for trace in COORDINATE_TRACES if trace in text], path
    output = bot.output()
    assert not [trace for trace in COORDINATE_TRACES if trace in output]
