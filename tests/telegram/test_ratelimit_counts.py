"""What PriorityRateLimiter tells the operator's counters, against the fake Bot API over HTTP.

Each sending call is counted once: sent, or given up; every 429 and each retry besides. A 403
(blocked) and a refused edit (answered by a new message) are no failures of the bot.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from fakebotapi import FakeTelegram
from telegram.error import BadRequest, Forbidden, RetryAfter
from test_ratelimit import BROADCAST, limited_bot, started_chats, until

from bot.core.operations import Event, OperationsRecorder
from bot.telegram.ratelimit import PriorityRateLimiter


def counted(recorder: OperationsRecorder) -> dict[str, int]:
    return {event.value: n for event, n in recorder.snapshot().last_24h.items() if n}


async def test_a_429_then_success_is_one_send_one_429_one_retry(tg: FakeTelegram) -> None:
    chat, other = started_chats(tg, 2)
    tg.inject_error("sendMessage", 429, retry_after=1, chat_id=chat)
    recorder = OperationsRecorder(lambda: datetime.now(UTC))
    async with limited_bot(tg, PriorityRateLimiter(recorder=recorder)) as bot:
        await bot.send_message(chat, "Check-in", rate_limit_args=BROADCAST)
        await bot.send_message(other, "Antwort")
        await bot.get_me()  # not a sending call: not counted

    assert counted(recorder) == {"sent": 2, "rate_limited": 1, "retried": 1}
    assert recorder.snapshot().totals[Event.SENT] == 2


async def test_429s_beyond_the_retries_are_one_failure(tg: FakeTelegram) -> None:
    (chat,) = started_chats(tg, 1)
    tg.inject_error("sendMessage", 429, retry_after=1, chat_id=chat, times=5)
    recorder = OperationsRecorder(lambda: datetime.now(UTC))
    async with limited_bot(tg, PriorityRateLimiter(max_retries=1, recorder=recorder)) as bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(chat, "Check-in", rate_limit_args=BROADCAST)

    assert counted(recorder) == {"rate_limited": 2, "retried": 1, "failed": 1}


async def test_a_blocked_user_and_a_refused_edit_are_no_failures(tg: FakeTelegram) -> None:
    blocked, talker = started_chats(tg, 2)
    tg.user(blocked).block_bot()
    recorder = OperationsRecorder(lambda: datetime.now(UTC))
    async with limited_bot(tg, PriorityRateLimiter(recorder=recorder)) as bot:
        with pytest.raises(Forbidden):
            await bot.send_message(blocked, "Check-in", rate_limit_args=BROADCAST)
        sent = await bot.send_message(talker, "Frage")
        with pytest.raises(BadRequest):  # the same text again: "message is not modified"
            await bot.edit_message_text("Frage", chat_id=talker, message_id=sent.message_id)
        tg.inject_error("sendMessage", 400, "Bad Request: chat not found", chat_id=talker)
        with pytest.raises(BadRequest):
            await bot.send_message(talker, "Noch eine")

    assert counted(recorder) == {"sent": 1, "failed": 1}


async def test_waiting_counts_the_calls_queued_for_a_permit(tg: FakeTelegram) -> None:
    chats = started_chats(tg, 12)
    limiter = PriorityRateLimiter(overall_per_second=2)
    assert limiter.waiting == 0
    async with limited_bot(tg, limiter) as bot:
        fan_out = asyncio.gather(
            *(bot.send_message(c, "Check-in", rate_limit_args=BROADCAST) for c in chats)
        )
        await until(lambda: limiter.stats.sent >= 2)
        # Two permits a second: most of the twelve still wait for one.
        assert 5 <= limiter.waiting <= 10
        await fan_out
        assert limiter.waiting == 0
