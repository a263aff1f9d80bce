"""Tests of the fake Telegram Bot API, driven by a real python-telegram-bot 22 client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fakebotapi import FakeTelegram, FakeUser
from fakebotapi.entities import parse_html
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

CHOICES = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Ja", callback_data="yes"),
            InlineKeyboardButton("Nein", callback_data="no"),
        ]
    ]
)


@pytest.fixture
def anna(tg: FakeTelegram) -> FakeUser:
    return tg.user(1001, "Anna", "de")


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url) as client:
        yield client


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    text = html.escape(message.text or "")
    await message.reply_text(f"Echo: <b>{text}</b>", parse_mode="HTML", reply_markup=CHOICES)


async def _chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"ok {query.data}")
    await query.edit_message_text(f"Gewählt: {query.data}")


@pytest.fixture
async def echo_app(tg: FakeTelegram) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    app = Application.builder().token(tg.token).base_url(tg.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_handler(CallbackQueryHandler(_chosen))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)
        yield app
        await app.updater.stop()
        await app.stop()


async def test_get_me_returns_the_bot_user(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (7000000001, "fokus_coach_test_bot", True)


async def test_bad_token_is_invalid_token(tg: FakeTelegram) -> None:
    stranger = Bot("123:not-the-token", base_url=tg.base_url)
    try:
        with pytest.raises(InvalidToken):
            await stranger.initialize()
    finally:
        await stranger.shutdown()


async def test_user_text_reaches_handler_and_reply_is_recorded(
    echo_app: Application,  # type: ignore[type-arg]
    anna: FakeUser,
) -> None:
    sent_id = anna.send_text("Hallo <3")

    reply = await asyncio.to_thread(anna.wait_for_text, "Echo: Hallo <3")

    assert reply.html == "Echo: <b>Hallo &lt;3</b>"
    assert [(m.message_id, m.text) for m in anna.messages()] == [(sent_id + 1, "Echo: Hallo <3")]
    assert reply.buttons == [[("Ja", "yes"), ("Nein", "no")]]


async def test_button_press_round_trip_applies_the_edit(
    echo_app: Application,  # type: ignore[type-arg]
    anna: FakeUser,
) -> None:
    anna.send_text("Frage")
    question = await asyncio.to_thread(anna.wait_for_text, "Echo: Frage")

    query_id = anna.press(question, button_text="Nein")
    edited = await asyncio.to_thread(anna.wait_for, lambda m: m.text == "Gewählt: no")
    answer = await asyncio.to_thread(anna.wait_for_callback_answer, query_id)

    assert (edited.message_id, edited.edited_count, edited.buttons) == (
        question.message_id,
        1,
        [],
    )
    assert (answer.text, answer.callback_data) == ("ok no", "no")
    assert anna.callback_answers() == [answer]


async def test_pressing_a_button_that_is_not_on_the_message_fails(
    bot: Bot, anna: FakeUser
) -> None:
    anna.send_command("/start")
    message = await bot.send_message(anna.chat_id, "Frage", reply_markup=CHOICES)

    with pytest.raises(AssertionError, match="no button 'Vielleicht'"):
        anna.press(message.message_id, button_text="Vielleicht")


async def test_long_poll_returns_nothing_after_its_timeout(bot: Bot) -> None:
    started = time.monotonic()

    updates = await bot.get_updates(timeout=1)

    assert updates == ()
    assert time.monotonic() - started >= 0.9


async def test_long_poll_wakes_up_when_the_user_writes(
    tg: FakeTelegram, bot: Bot, anna: FakeUser
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.to_thread(tg.wait_for_request, "getUpdates")

    anna.send_text("hallo")
    updates = await asyncio.wait_for(poll, timeout=10)

    assert [u.message.text for u in updates if u.message] == ["hallo"]


async def test_offset_confirms_earlier_updates(tg: FakeTelegram, bot: Bot, anna: FakeUser) -> None:
    for text in ("eins", "zwei", "drei"):
        anna.send_text(text)

    everything = await bot.get_updates(timeout=0)
    after_second = await bot.get_updates(offset=everything[1].update_id + 1, timeout=0)
    after_last = await bot.get_updates(offset=everything[2].update_id + 1, timeout=0)

    ids = [u.update_id for u in everything]
    assert ids == sorted(ids)
    assert [u.message.text for u in after_second if u.message] == ["drei"]
    assert (after_last, tg.pending_updates()) == ((), 0)


async def test_injected_429_is_retry_after(tg: FakeTelegram, bot: Bot, anna: FakeUser) -> None:
    anna.send_command("/start")
    tg.inject_error("sendMessage", 429, retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(anna.chat_id, "Hallo")
    retry_message = await bot.send_message(anna.chat_id, "nochmal")

    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert [m.text for m in anna.messages()] == [retry_message.text]


async def test_injected_403_for_one_chat_is_forbidden(
    tg: FakeTelegram, bot: Bot, anna: FakeUser
) -> None:
    ben = tg.user(1002, "Ben", "en")
    anna.send_command("/start")
    ben.send_command("/start")
    tg.inject_error("sendmessage", 403, chat_id=anna.chat_id)

    await bot.send_message(ben.chat_id, "hi Ben")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(anna.chat_id, "hi Anna")


async def test_blocking_the_bot_queues_kicked_and_forbids_sending(
    bot: Bot, anna: FakeUser
) -> None:
    anna.send_command("/start")
    anna.block_bot()

    updates = await bot.get_updates(timeout=0)
    with pytest.raises(Forbidden):
        await bot.send_message(anna.chat_id, "noch da?")

    member = updates[-1].my_chat_member
    assert member is not None
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")


async def test_identical_edit_is_message_not_modified(
    tg: FakeTelegram, bot: Bot, anna: FakeUser
) -> None:
    anna.send_command("/start")
    sent = await bot.send_message(
        anna.chat_id, "<b>Frage</b>", parse_mode="HTML", reply_markup=CHOICES
    )

    with pytest.raises(BadRequest, match="Message is not modified"):
        await sent.edit_text("<b>Frage</b>", parse_mode="HTML", reply_markup=CHOICES)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=anna.chat_id, message_id=999)

    assert [r.error for r in tg.requests("editMessageText")] == [
        "Bad Request: message is not modified: specified new message content and reply markup"
        " are exactly the same as a current content and reply markup of the message",
        "Bad Request: message to edit not found",
    ]


async def test_callback_data_over_64_bytes_is_rejected(
    tg: FakeTelegram, bot: Bot, anna: FakeUser
) -> None:
    anna.send_command("/start")
    fits = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="x" * 64)]])
    # 33 umlauts are 33 characters but 66 bytes: the limit is in bytes.
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("ü", callback_data="ü" * 33)]])

    await bot.send_message(anna.chat_id, "passt", reply_markup=fits)
    with pytest.raises(BadRequest):
        await bot.send_message(anna.chat_id, "zu lang", reply_markup=too_long)

    assert [r.error for r in tg.requests("sendMessage")] == [
        None,
        "Bad Request: BUTTON_DATA_INVALID",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>offen", 'Can\'t find end tag corresponding to start tag "b"'),
        ("Ich <3 dich", 'Unsupported start tag "3" at byte offset 4'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
    ],
)
async def test_invalid_html_cannot_parse_entities(
    tg: FakeTelegram, bot: Bot, anna: FakeUser, text: str, problem: str
) -> None:
    anna.send_command("/start")

    with pytest.raises(BadRequest):
        await bot.send_message(anna.chat_id, text, parse_mode="HTML")

    [request] = tg.requests("sendMessage")
    assert (request.status, request.error) == (
        400,
        f"Bad Request: can't parse entities: {problem}",
    )


async def test_text_length_counts_after_html_parsing(bot: Bot, anna: FakeUser) -> None:
    anna.send_command("/start")

    await bot.send_message(anna.chat_id, f"<b>{'a' * 4095}&amp;</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(anna.chat_id, "a" * 4097)

    assert len(anna.last_message().text) == 4096


async def test_unknown_callback_query_answer_is_bad_request(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("12345")


async def test_stale_press_carries_the_current_message(bot: Bot, anna: FakeUser) -> None:
    anna.send_command("/start")
    sent = await bot.send_message(anna.chat_id, "Frage", reply_markup=CHOICES)

    anna.press_raw("flow:old", sent.message_id)
    updates = await bot.get_updates(timeout=0)

    query = updates[-1].callback_query
    assert query is not None and query.message is not None
    assert (query.data, query.message.message_id) == ("flow:old", sent.message_id)


async def test_document_upload_is_stored_with_name_bytes_and_caption(
    bot: Bot, anna: FakeUser
) -> None:
    anna.send_command("/start")

    sent = await bot.send_document(
        anna.chat_id, b"woche;stunden\n1;3\n", filename="plan.csv", caption="Dein Export"
    )

    [document] = anna.documents()
    assert (document.filename, document.data, document.caption) == (
        "plan.csv",
        b"woche;stunden\n1;3\n",
        "Dein Export",
    )
    assert sent.document is not None and sent.document.file_name == "plan.csv"


async def test_commands_are_kept_per_language(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Loslegen")], language_code="de")
    await bot.set_my_commands([("start", "Get started")], language_code="en")

    english = await bot.get_my_commands(language_code="en")

    assert [(c.command, c.description) for c in english] == [("start", "Get started")]
    assert tg.commands("de") == [("start", "Loslegen")]


async def test_descriptions_are_kept_per_language_within_telegrams_limits(
    tg: FakeTelegram, bot: Bot
) -> None:
    await bot.set_my_description("Beschreibung", language_code="de")
    await bot.set_my_short_description("Kurz")

    assert (await bot.get_my_description(language_code="de")).description == "Beschreibung"
    assert tg.profile("de") == ("Beschreibung", "")
    assert tg.profile("") == ("", "Kurz")
    with pytest.raises(BadRequest, match="description_invalid"):
        await bot.set_my_description("x" * 513)
    with pytest.raises(BadRequest, match="short_description_invalid"):
        await bot.set_my_short_description("x" * 121)


async def test_a_reply_keyboard_comes_with_a_message_and_goes_with_another(
    tg: FakeTelegram, bot: Bot, anna: FakeUser
) -> None:
    anna.had_started_the_bot()
    share = KeyboardButton("📍", request_location=True)
    sent = await bot.send_message(anna.chat_id, "Wo?", reply_markup=ReplyKeyboardMarkup([[share]]))
    assert anna.reply_keyboard() == [[{"text": "📍", "request_location": True}]]
    with pytest.raises(BadRequest, match=r"(?i)inline keyboard expected"):
        await bot.edit_message_text(
            "Wo?!",
            chat_id=anna.chat_id,
            message_id=sent.message_id,
            reply_markup=ReplyKeyboardMarkup([[share]]),  # type: ignore[arg-type]
        )
    await bot.send_message(anna.chat_id, "Danke", reply_markup=ReplyKeyboardRemove())
    assert anna.reply_keyboard() is None


def test_http_format_method_case_and_unknown_method(tg: FakeTelegram) -> None:
    base = f"{tg.base_url}{tg.token}"

    upper = httpx.post(f"{base}/GETME", json={})
    unknown = httpx.post(f"{base}/sendTelepathy", data={"chat_id": "1"})
    wrong_token = httpx.get(f"{tg.base_url}1:nope/getMe")

    assert (upper.status_code, upper.json()["result"]["is_bot"]) == (200, True)
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert (wrong_token.status_code, wrong_token.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


def test_messages_share_one_id_counter_per_chat(tg: FakeTelegram, anna: FakeUser) -> None:
    first = anna.send_text("eins")
    command = anna.send_command("/start", args="abc")

    update = tg.world.pending_updates[-1]["message"]
    assert (first, command) == (1, 2)
    assert (update["text"], update["entities"]) == (
        "/start abc",
        [{"type": "bot_command", "offset": 0, "length": 6}],
    )


def test_wait_for_timeout_shows_the_transcript(anna: FakeUser) -> None:
    anna.send_text("hallo?")

    with pytest.raises(AssertionError, match="#1 user: 'hallo\\?'"):
        anna.wait_for_text("niemals", timeout=0.2)


def test_group_messages_come_from_the_user_in_the_group(tg: FakeTelegram, anna: FakeUser) -> None:
    group = tg.group(-1001234, "Kreativteam")

    anna.in_chat(group).send_command("/plan")

    update = tg.world.pending_updates[-1]["message"]
    assert (update["chat"], update["from"]["id"], update["message_id"]) == (
        {"id": -1001234, "type": "supergroup", "title": "Kreativteam"},
        anna.user_id,
        1,
    )


def test_html_entities_use_utf16_offsets_and_decode_character_references() -> None:
    parsed = parse_html('😀 <b>fett</b> &lt;3 <a href="https://x.example/?a=1&amp;b=2">Link</a>')

    assert parsed.text == "😀 fett <3 Link"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 11, "length": 4, "url": "https://x.example/?a=1&b=2"},
    ]
