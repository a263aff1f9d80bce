"""What the rate limiter hands back to PTB: the answer as it came, or cut to the message's id.

A caller that reads nothing but the id of the message it sends (the renderer, for check-ins)
asks for ``MESSAGE_ID_ONLY``; PTB then builds a ``Message`` of id, date and chat instead of the
whole echo of text, entities and keyboard. What Telegram receives and shows stays the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fakebotapi import FakeTelegram, FakeUser
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.ext import ExtBot

from bot.core.messages import Button, Reply, ReplyKind
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.ratelimit import MESSAGE_ID_ONLY, PriorityRateLimiter
from bot.telegram.render import ReplyRenderer

CHAT = 5252
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("▶️ Los", callback_data="15.k.start")]])


@pytest.fixture
def user(tg: FakeTelegram) -> FakeUser:
    user = tg.user(CHAT, "Anna", "de")
    user.had_started_the_bot()
    return user


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[ExtBot[dict[str, Any]]]:
    limiter = PriorityRateLimiter(overall_per_second=0, per_chat_interval=0)
    async with ExtBot(
        tg.token, base_url=tg.base_url, request=AiohttpRequest(4), rate_limiter=limiter
    ) as bot:
        yield bot


async def test_a_message_sent_for_its_id_only_comes_back_as_id_date_and_chat(
    user: FakeUser, bot: ExtBot[dict[str, Any]]
) -> None:
    sent = await bot.send_message(
        CHAT,
        "<b>Zeit</b> für deinen Check-in",
        parse_mode="HTML",
        reply_markup=KEYBOARD,
        rate_limit_args={"broadcast": True, MESSAGE_ID_ONLY: True},
    )

    shown = user.last_message()
    assert sent.message_id == shown.message_id
    assert sent.chat.id == CHAT
    assert sent.date.timestamp() > 0
    # Nothing else of the echo was built ...
    assert (sent.text, sent.entities, sent.reply_markup, sent.from_user) == (None, (), None, None)
    # ... while the user got all of it.
    assert shown.buttons == [[("▶️ Los", "15.k.start")]]
    assert shown.buttons == [[("▶️ Los", "15.k.start")]]


@pytest.mark.parametrize("rate_limit_args", [None, {"broadcast": True}])
async def test_without_the_key_the_answer_is_ptbs_whole_message(
    user: FakeUser, bot: ExtBot[dict[str, Any]], rate_limit_args: dict[str, Any] | None
) -> None:
    sent = await bot.send_message(
        CHAT, "Hallo", reply_markup=KEYBOARD, rate_limit_args=rate_limit_args
    )

    assert sent.text == "Hallo"
    assert sent.reply_markup == KEYBOARD
    assert sent.from_user is not None


async def _answer(result: Any) -> Any:
    return result


@pytest.mark.parametrize(
    "answer",
    [True, [{"message_id": 1, "date": 2, "chat": {"id": 3, "type": "private"}}], {"ok": 1}],
)
async def test_an_answer_that_is_no_message_comes_back_as_it_is(answer: Any) -> None:
    limiter = PriorityRateLimiter()

    result = await limiter.process_request(
        _answer, (answer,), {}, "editMessageReplyMarkup", {"chat_id": 1}, {MESSAGE_ID_ONLY: True}
    )

    assert result == answer


async def test_a_message_answer_keeps_what_ptbs_message_needs() -> None:
    answer = {
        "message_id": 7,
        "date": 1764900000,
        "chat": {"id": 3, "type": "private", "first_name": "Anna"},
        "from": {"id": 1, "is_bot": True, "first_name": "Coach"},
        "text": "Hallo",
    }

    result = await PriorityRateLimiter().process_request(
        _answer, (answer,), {}, "sendMessage", {"chat_id": 3}, {MESSAGE_ID_ONLY: True}
    )

    assert result == {"message_id": 7, "date": 1764900000, "chat": answer["chat"]}
    assert isinstance(result, dict)
    assert Message.de_json(result, None).message_id == 7


class _RecordingLimiter(PriorityRateLimiter):
    """The limits lifted; keeps the ``rate_limit_args`` of every call."""

    def __init__(self) -> None:
        super().__init__(overall_per_second=0, per_chat_interval=0)
        self.asked: list[tuple[str, dict[str, Any] | None]] = []

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> Any:
        self.asked.append((endpoint, rate_limit_args))
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


async def test_the_renderer_asks_for_the_id_only_of_a_checkin_and_keeps_it(
    tg: FakeTelegram, user: FakeUser
) -> None:
    limiter = _RecordingLimiter()
    question = Reply(
        text="Wie viele Stunden?", kind=ReplyKind.QUESTION, buttons=((Button("2", "9.q.2"),),)
    )
    checkin = Reply(
        text="<b>Zeit für deinen Check-in</b>",
        kind=ReplyKind.QUESTION,
        buttons=((Button("▶️ Los", "15.k.start"),),),
    )
    renderer = ReplyRenderer()
    async with ExtBot(
        tg.token, base_url=tg.base_url, request=AiohttpRequest(4), rate_limiter=limiter
    ) as bot:
        await renderer.show(bot, CHAT, [question])  # a reply, as to a person
        await renderer.show(bot, CHAT, [checkin], broadcast=True)

    assert [call for call in limiter.asked if call[0] != "getMe"] == [
        ("sendMessage", None),
        ("sendMessage", {"broadcast": True, MESSAGE_ID_ONLY: True}),
        # The old question's buttons go as before, an edit in reply: the id only, no permit.
        ("editMessageReplyMarkup", {MESSAGE_ID_ONLY: True}),
    ]
    (shown,) = [m for m in user.messages() if m.buttons]
    assert shown.buttons == [[("▶️ Los", "15.k.start")]]
    assert renderer.question_message(CHAT) == shown.message_id
