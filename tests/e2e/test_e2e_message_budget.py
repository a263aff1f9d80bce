"""How many messages the bot sends per dialogue step, measured against the fake Bot API."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
from e2e_bot import BotProcess, data_of, question, tap
from fakebotapi import BotMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.e2e

HELP = "How the focus coach works"
OUTGOING = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto")


def settled(tg: FakeTelegram, user: FakeUser) -> Counter[str]:
    """What the bot has shown in the chat so far, by method, once it has finished.

    A /help round trip marks the end: one user's updates are handled one after the other,
    so every call made for the earlier updates comes before the /help text is sent.
    """
    user.send_command("/help")
    user.wait_for(lambda m: HELP in m.text)
    counts: Counter[str] = Counter()
    for request in tg.requests():
        if request.method not in OUTGOING or request.params.get("chat_id") != user.chat_id:
            continue
        if HELP in str(request.params.get("text", "")):
            return counts
        counts[request.method] += 1
    raise AssertionError("the /help text was not sent")


def tick_done(user: FakeUser, message: BotMessage, *keys: str) -> None:
    for key in keys:
        tap(user, message, key)
        user.wait_for(
            lambda m, key=key: (
                m.message_id == message.message_id
                and any(text.startswith("✅ ") for text in m.button_texts)
            )
        )
    tap(user, message, "done")


def onboard(user: FakeUser) -> None:
    """The English onboarding with buttons, up to the plan and its menu."""
    user.send_command("/start")
    tap(user, question(user, "Nobody can do every social network"), "continue")
    tick_done(user, question(user, "Step 1 of 6"), "instagram")
    tap(user, question(user, "Step 2 of 6"), "12")
    tick_done(user, question(user, "Step 3 of 6"), "consumers_u30")
    tick_done(user, question(user, "Step 4 of 6"), "awareness")
    tap(user, question(user, "Step 5 of 6"), "team")
    tap(user, question(user, "Step 6 of 6"), "none")
    tap(user, question(user, "Your answers"), "show_plan")
    user.wait_for_text("Your focus plan")


# Measured on the code before issue 13 (the same dialogue, the same /help round trip).
BEFORE_ONBOARDING = Counter(sendMessage=10, editMessageText=9, editMessageReplyMarkup=2)


def live_keyboards(user: FakeUser) -> list[BotMessage]:
    """The bot's messages in the chat that still carry buttons."""
    return [m for m in user.messages() if m.buttons]


def test_onboarding_to_the_plan_sends_no_more_than_before(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    ben = tg.user(2002, "Ben", "en")
    onboard(ben)

    counts = settled(tg, ben)
    print(f"onboarding to the plan: {dict(counts)}")

    assert counts["sendMessage"] <= BEFORE_ONBOARDING["sendMessage"]
    assert counts.total() <= BEFORE_ONBOARDING.total()


def quiet(tg: FakeTelegram, chat_id: int, seconds: float = 1.0) -> Counter[str]:
    """What the bot has shown in the chat, once it has made no call for ``seconds``."""
    shown = -1
    while True:
        calls = [r for r in tg.requests() if r.method in OUTGOING]
        calls = [r for r in calls if r.params.get("chat_id") == chat_id]
        if len(calls) == shown:
            return Counter(r.method for r in calls)
        shown = len(calls)
        time.sleep(seconds)


def test_stray_text_gets_one_short_message_until_the_question_scrolls_away(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    ben = tg.user(2002, "Ben", "en")
    ben.send_command("/start")
    tap(ben, question(ben, "Nobody can do every social network"), "continue")
    channels = question(ben, "Step 1 of 6")
    before = quiet(tg, ben.chat_id)

    typed = ben.send_text("Instagram please")
    hint = ben.wait_for(lambda m: m.message_id > typed)

    assert quiet(tg, ben.chat_id) - before == Counter(sendMessage=1)  # the hint, nothing else
    assert not hint.buttons and len(hint.text) < 120
    request = next(r for r in tg.requests("sendMessage") if r.params["text"] == hint.html)
    assert request.params["reply_parameters"]["message_id"] == channels.message_id
    assert [m.message_id for m in live_keyboards(ben)] == [channels.message_id]

    # Two more: the question has scrolled up, so it comes again and the old one loses its keys.
    ben.send_text("Instagram please")
    last = ben.send_text("Instagram please")
    again = ben.wait_for(lambda m: m.message_id > last and "Step 1 of 6" in m.text)
    quiet(tg, ben.chat_id)
    assert [m.message_id for m in live_keyboards(ben)] == [again.message_id]


def test_a_restart_mid_question_leaves_one_live_keyboard(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    first = launch()
    ben = tg.user(2002, "Ben", "en")
    ben.send_command("/start")
    tap(ben, question(ben, "Nobody can do every social network"), "continue")
    channels = question(ben, "Step 1 of 6")
    settled(tg, ben)
    assert first.stop() == 0

    launch()
    ben.send_command("/start")
    ben.wait_for(lambda m: m.message_id > channels.message_id + 2 and bool(m.buttons))
    settled(tg, ben)

    assert len(live_keyboards(ben)) == 1
    assert not next(m for m in ben.messages() if m.message_id == channels.message_id).buttons


def test_the_plan_menu_is_introduced_once_later_screens_end_compact(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    ben = tg.user(2002, "Ben", "en")
    onboard(ben)
    tap(ben, question(ben, "This is your plan"), "setup_checkin")
    tap(ben, question(ben, "On which day"), "mon")
    tap(ben, question(ben, "At what time"), "7")
    tap(ben, question(ben, "Which time zone"), "Europe/London")
    question(ben, "Your plan – what next?")
    ben.send_command("/history")
    ben.send_command("/plan")
    settled(tg, ben)

    sent = [r.params.get("text", "") for r in tg.requests() if r.method in OUTGOING]
    assert sum("This is your plan" in text for text in sent) == 1
    assert sum("</b> – what next?" in text for text in sent) >= 3  # scheduled, history, plan


def test_a_tap_that_changes_nothing_costs_one_message_or_none(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    ben = tg.user(2002, "Ben", "en")
    ben.send_command("/start")
    welcome = question(ben, "Nobody can do every social network")
    stale = data_of(welcome, "continue")
    tap(ben, welcome, "continue")
    tick_done(ben, question(ben, "Step 1 of 6"), "instagram")
    tap(ben, question(ben, "Step 2 of 6"), "12")
    audiences = question(ben, "Step 3 of 6")
    before = quiet(tg, ben.chat_id)

    # "Done" with nothing ticked: the note alone, quoting the question, which keeps its buttons.
    tap(ben, audiences, "done")
    note = ben.wait_for_text("Please pick at least 1")

    assert quiet(tg, ben.chat_id) - before == Counter(sendMessage=1)
    request = next(r for r in tg.requests("sendMessage") if r.params["text"] == note.html)
    assert request.params["reply_parameters"]["message_id"] == audiences.message_id
    assert [m.message_id for m in live_keyboards(ben)] == [audiences.message_id]

    # A second tap on the welcome, long answered: the note and the question again, and no call
    # to strip the welcome, which has had no buttons since the first tap.
    ben.press_raw(stale, welcome.message_id)
    again = question(ben, "Step 3 of 6")
    quiet(tg, ben.chat_id)
    assert "out of date" in ben.messages()[-2].text
    assert [m.message_id for m in live_keyboards(ben)] == [again.message_id]
    assert not [r for r in tg.requests() if "not modified" in (r.error or "")]
    tick_done(ben, again, "consumers_u30")
    question(ben, "Step 4 of 6")
