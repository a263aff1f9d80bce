"""Users talk to the real bot process through the fake Bot API: whole dialogues with buttons."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from e2e_bot import BotProcess, data_of, question, tap
from fakebotapi import BotMessage, FakeTelegram, FakeUser

from bot.core.commands import MENU_COMMANDS

pytestmark = pytest.mark.e2e


def tick(user: FakeUser, message: BotMessage, *keys: str) -> BotMessage:
    """Tick options one by one; each tick must redraw the same message with a check mark."""
    current = message
    for key in keys:
        data = data_of(current, key)
        user.press(current, callback_data=data)
        current = user.wait_for(
            lambda m, data=data: (
                m.message_id == message.message_id
                and any(
                    d == data and text.startswith("✅ ") for row in m.buttons for text, d in row
                )
            )
        )
    return current


def answer(
    user: FakeUser, message: BotMessage, key: str, echo: str, next_heading: str
) -> BotMessage:
    """Press ``key``; the question turns into its echo (no buttons), the next one follows."""
    tap(user, message, key)
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
    tap(anna, welcome, "continue")
    channels = question(anna, "Deine Kanäle heute")
    # The welcome keeps its text but loses its now outdated button.
    anna.wait_for(lambda m: m.message_id == welcome.message_id and not m.buttons, fresh=False)

    channels = tick(anna, channels, "linkedin", "xing", "tiktok")
    assert channels.edited_count == 3
    hours = answer(anna, channels, "done", "LinkedIn, Xing, TikTok", "Deine echte Zeit")

    anna.send_text("3")  # typed: the echo lands on the question message
    anna.wait_for(lambda m: m.message_id == hours.message_id and "➜ 3 Std." in m.text)
    audiences = question(anna, "Deine Zielgruppe")

    tap(anna, audiences, "back")  # Back, and forward again
    hours_again = question(anna, "Deine echte Zeit")
    tap(anna, hours_again, "3")
    audiences = question(anna, "Deine Zielgruppe")

    audiences = tick(anna, audiences, "b2b_dach")
    goals = answer(anna, audiences, "done", "B2B-Entscheider (DACH)", "Deine Ziele")
    goals = tick(anna, goals, "leads")
    team = answer(anna, goals, "done", "Leads/Neukunden", "Allein oder im Team?")
    pressure = answer(anna, team, "alone", "Allein", "Das gefühlte Muss")
    summary = answer(anna, pressure, "tiktok", "TikTok", "Deine Antworten")
    assert "Kanäle: LinkedIn, Xing, TikTok" in summary.text

    tap(anna, summary, "hours")  # change one answer from the summary
    question(anna, "Stunden ändern")
    anna.send_text("12")
    summary = question(anna, "Deine Antworten")
    assert "Stunden pro Woche: 12 Std." in summary.text

    tap(anna, summary, "show_plan")
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
    tap(ben, welcome, "continue")
    channels = tick(ben, question(ben, "Step 1 of 6"), "instagram", "tiktok", "facebook")
    hours = answer(ben, channels, "done", "Instagram, Facebook, TikTok", "Step 2 of 6")
    audiences = answer(ben, hours, "12", "12 h", "Step 3 of 6")
    audiences = tick(ben, audiences, "consumers_u30")
    goals = answer(ben, audiences, "done", "Consumers under 30 (Gen Z)", "Step 4 of 6")
    goals = tick(ben, goals, "awareness", "ecommerce")
    team = answer(ben, goals, "done", "Awareness/visibility, E-commerce", "Step 5 of 6")
    pressure = answer(ben, team, "team", "In a team", "Step 6 of 6")
    summary = answer(ben, pressure, "none", "None", "Your answers")

    tap(ben, summary, "show_plan")
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
    stale = data_of(welcome, "continue")
    tap(anna, welcome, "continue")
    channels = question(anna, "Deine Kanäle heute")

    anna.send_text("Instagram")
    anna.wait_for_text("mit den Knöpfen")
    assert anna.last_message().buttons == []  # the hint alone: the question is right above
    assert next(m for m in anna.messages() if m.message_id == channels.message_id).buttons

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
    tap(anna, question(anna, "Hallo, ich bin dein Fokus-Coach"), "continue")
    channels = question(anna, "Deine Kanäle heute")
    taps = ["linkedin", "xing", "linkedin", "tiktok", "instagram"]
    data = {key: data_of(channels, key) for key in set(taps)}

    queries = [anna.press(channels, callback_data=data[key]) for key in taps]  # no waiting

    answers = [anna.wait_for_callback_answer(q) for q in queries]
    final = anna.wait_for(
        lambda m: m.message_id == channels.message_id and m.edited_count == len(taps)
    )
    ticked = {text.removeprefix("✅ ") for text in final.button_texts if text.startswith("✅")}
    assert ticked == {"Xing", "TikTok", "Instagram"}
    assert [a.callback_data for a in answers] == [data[key] for key in taps]
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
    tap(anna, question(anna, "Hallo, ich bin dein Fokus-Coach"), "continue")
    channels = tick(anna, question(anna, "Deine Kanäle heute"), "linkedin", "xing")
    answer(anna, channels, "done", "LinkedIn, Xing", "Deine echte Zeit")

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
