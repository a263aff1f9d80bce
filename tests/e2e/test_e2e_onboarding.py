"""Users talk to the real bot process through the fake Bot API: whole dialogues with buttons."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from e2e_bot import BotProcess, data_of, question
from fakebotapi import BotMessage, FakeTelegram, FakeUser

from bot.core.commands import MENU_COMMANDS

pytestmark = pytest.mark.e2e


def tick(user: FakeUser, message: BotMessage, *labels: str) -> BotMessage:
    """Tick options one by one; each tick must redraw the same message with a check mark."""
    current = message
    for label in labels:
        user.press(current, button_text=label)
        current = user.wait_for(
            lambda m, label=label: (
                m.message_id == message.message_id and f"✅ {label}" in m.button_texts
            )
        )
    return current


def answer(
    user: FakeUser, message: BotMessage, label: str, echo: str, next_heading: str
) -> BotMessage:
    """Press ``label``; the question turns into its echo (no buttons), the next one follows."""
    user.press(message, button_text=label)
    user.wait_for(
        lambda m: m.message_id == message.message_id and f"➜ {echo}" in m.text and not m.buttons
    )
    return question(user, next_heading)


def test_whole_onboarding_in_german_with_buttons(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    anna = tg.user(1001, "Anna", "de")

    anna.send_command("/start")
    welcome = question(anna, "Hallo, ich bin dein Fokus-Coach")
    anna.press(welcome, button_text="Weiter")
    channels = question(anna, "Deine Kanäle heute")
    # The welcome keeps its text but loses its now outdated button.
    anna.wait_for(lambda m: m.message_id == welcome.message_id and not m.buttons, fresh=False)

    channels = tick(anna, channels, "LinkedIn", "Xing", "TikTok")
    assert channels.edited_count == 3
    hours = answer(anna, channels, "Fertig (3)", "LinkedIn, Xing, TikTok", "Deine echte Zeit")

    anna.send_text("3")  # typed: the echo lands on the question message
    anna.wait_for(lambda m: m.message_id == hours.message_id and "➜ 3 Std." in m.text)
    audiences = question(anna, "Deine Zielgruppe")

    anna.press(audiences, button_text="Zurück")  # Back, and forward again
    hours_again = question(anna, "Deine echte Zeit")
    anna.press(hours_again, button_text="3 Std.")
    audiences = question(anna, "Deine Zielgruppe")

    audiences = tick(anna, audiences, "B2B-Entscheider (DACH)")
    goals = answer(anna, audiences, "Fertig (1)", "B2B-Entscheider (DACH)", "Deine Ziele")
    goals = tick(anna, goals, "Leads/Neukunden")
    team = answer(anna, goals, "Fertig (1)", "Leads/Neukunden", "Allein oder im Team?")
    pressure = answer(anna, team, "Allein", "Allein", "Das gefühlte Muss")
    summary = answer(anna, pressure, "TikTok", "TikTok", "Deine Antworten")
    assert "Kanäle: LinkedIn, Xing, TikTok" in summary.text

    anna.press(summary, button_text="✏️ Stunden")  # change one answer from the summary
    question(anna, "Stunden ändern")
    anna.send_text("12")
    summary = question(anna, "Deine Antworten")
    assert "Stunden: 12 Std." in summary.text

    anna.press(summary, button_text="Zeig mir meinen Plan")
    plan = anna.wait_for_text("Dein Fokus-Plan")
    assert "✅ LinkedIn" in plan.text and plan.parse_mode == "HTML"
    question(anna, "Das ist dein Plan")

    assert len(tg.requests("answerCallbackQuery")) == len(anna.callback_answers()) == 15
    assert [name for name, _ in tg.commands("de")] == list(MENU_COMMANDS)
    assert tg.commands("de")[0] == ("start", "Weitermachen oder neu beginnen")
    assert tg.commands("") == tg.commands("de")  # the default menu speaks the coach's default


def test_whole_onboarding_in_english_with_buttons(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    ben = tg.user(2002, "Ben", "en")

    ben.send_command("/start")
    welcome = question(ben, "Nobody can do every social network")
    ben.press(welcome, button_text="Continue")
    channels = tick(ben, question(ben, "Step 1 of 6"), "Instagram", "TikTok", "Facebook")
    hours = answer(ben, channels, "Done (3)", "Instagram, Facebook, TikTok", "Step 2 of 6")
    audiences = answer(ben, hours, "12 h", "12 h", "Step 3 of 6")
    audiences = tick(ben, audiences, "Consumers under 30 (Gen Z)")
    goals = answer(ben, audiences, "Done (1)", "Consumers under 30 (Gen Z)", "Step 4 of 6")
    goals = tick(ben, goals, "Awareness/visibility", "E-commerce/direct sales")
    team = answer(ben, goals, "Done (2)", "Awareness/visibility, E-commerce", "Step 5 of 6")
    pressure = answer(ben, team, "In a team", "In a team", "Step 6 of 6")
    summary = answer(ben, pressure, "None – no pressure", "None – no pressure", "Your answers")

    ben.press(summary, button_text="Show me my plan")
    assert "Keep" in ben.wait_for_text("Your focus plan").text
    assert [name for name, _ in tg.commands("en")] == list(MENU_COMMANDS)
    assert tg.commands("en")[0] == ("start", "Carry on or begin again")


def test_stray_text_and_a_stale_button_get_the_current_question(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    welcome = question(anna, "Hallo, ich bin dein Fokus-Coach")
    stale = data_of(welcome, "Weiter")
    anna.press(welcome, button_text="Weiter")
    channels = question(anna, "Deine Kanäle heute")

    anna.send_text("Instagram")
    anna.wait_for_text("mit den Knöpfen")
    again = question(anna, "Deine Kanäle heute")
    assert again.message_id > channels.message_id

    query = anna.press_raw(stale, welcome.message_id)  # e.g. from a second device
    anna.wait_for_text("nicht mehr aktuell")
    question(anna, "Deine Kanäle heute")
    assert anna.wait_for_callback_answer(query).callback_data == stale


def test_fast_taps_are_each_applied_once_in_order(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    anna.press(question(anna, "Hallo, ich bin dein Fokus-Coach"), button_text="Weiter")
    channels = question(anna, "Deine Kanäle heute")
    taps = ["LinkedIn", "Xing", "LinkedIn", "TikTok", "Instagram"]
    data = {label: data_of(channels, label) for label in set(taps)}

    queries = [anna.press(channels, callback_data=data[label]) for label in taps]  # no waiting

    answers = [anna.wait_for_callback_answer(q) for q in queries]
    final = anna.wait_for(
        lambda m: m.message_id == channels.message_id and m.edited_count == len(taps)
    )
    ticked = {text.removeprefix("✅ ") for text in final.button_texts if text.startswith("✅")}
    assert ticked == {"Xing", "TikTok", "Instagram"}
    assert [a.callback_data for a in answers] == [data[label] for label in taps]
    # Each edit shows the ticks after one more tap, in tap order.
    edits = [
        r.params["reply_markup"]
        for r in tg.requests("editMessageText")
        if r.params.get("message_id") == channels.message_id
    ]
    shown = [
        {
            b["text"].removeprefix("✅ ")
            for row in e["inline_keyboard"]
            for b in row
            if "✅" in b["text"]
        }
        for e in edits
    ]
    assert shown == [
        {"LinkedIn"},
        {"LinkedIn", "Xing"},
        {"Xing"},
        {"Xing", "TikTok"},
        {"Xing", "TikTok", "Instagram"},
    ]


def test_export_sends_a_json_document_with_the_answers(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    anna.press(question(anna, "Hallo, ich bin dein Fokus-Coach"), button_text="Weiter")
    channels = tick(anna, question(anna, "Deine Kanäle heute"), "LinkedIn", "Xing")
    answer(anna, channels, "Fertig (2)", "LinkedIn, Xing", "Deine echte Zeit")

    anna.send_command("/export")
    document = anna.wait_for(lambda m: m.file is not None).file
    assert document is not None
    exported = json.loads(document.data)
    assert exported["dialogue"]["answers"] == {"channels": ["linkedin", "xing"]}
    assert exported["user_id"] == "1001"
    assert document.filename.endswith(".json")
    assert "Deine Daten bei Fokus-Coach" in document.caption
    question(anna, "Deine echte Zeit")


def test_group_chat_gets_the_private_chat_note(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    group = tg.group(-100777, "Marketing-Runde")
    anna_de = tg.user(1001, "Anna", "de").in_chat(group)
    ben_en = tg.user(2002, "Ben", "en").in_chat(group)

    anna_de.send_command("/start")
    note = group.wait_for_text("privaten Chat")
    ben_en.send_command("/plan")
    english = group.wait_for_text("private chat")

    assert note.reply_markup == {
        "inline_keyboard": [
            [{"text": "Privat mit mir schreiben 💬", "url": "https://t.me/fokus_coach_test_bot"}]
        ]
    }
    assert english.buttons == [[("Write to me privately 💬", None)]]
