"""PriorityRateLimiter against the fake Bot API over real HTTP, with a real ``ExtBot``.

Every assertion about timing is about the schedule the fake *recorded* (its monotonic arrival
timestamps and arrival order), never about how long the test took.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import itertools
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fakebotapi import FakeTelegram, RecordedRequest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, RetryAfter
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.ratelimit import PriorityRateLimiter, is_sending_method, retry_after_seconds

BROADCAST = {"broadcast": True}
LimitedBot = ExtBot[dict[str, Any]]


def started_chats(tg: FakeTelegram, count: int, first_id: int = 5001) -> list[int]:
    """Users who wrote to the bot once (the fake answers 403 to chats that never wrote)."""
    ids = list(range(first_id, first_id + count))
    for user_id in ids:
        tg.user(user_id, f"User{user_id}").send_text("Hallo")
    return ids


@contextlib.asynccontextmanager
async def limited_bot(tg: FakeTelegram, limiter: PriorityRateLimiter) -> AsyncIterator[LimitedBot]:
    # PTB's Bot defaults to one pooled connection; a fan-out needs a few at once.
    request = HTTPXRequest(connection_pool_size=64)
    async with ExtBot(
        tg.token, base_url=tg.base_url, request=request, rate_limiter=limiter
    ) as bot:
        yield bot


def broadcast(bot: LimitedBot, chat_ids: list[int], text: str = "Check-in") -> asyncio.Future[Any]:
    """Queue one broadcast per chat; the future gathers the sent messages."""
    return asyncio.gather(
        *(
            bot.send_message(chat_id, f"{text} {chat_id}", rate_limit_args=BROADCAST)
            for chat_id in chat_ids
        )
    )


def sends(tg: FakeTelegram, chat_id: int | None = None) -> list[RecordedRequest]:
    """sendMessage calls as the fake recorded them, in arrival order."""
    return [
        r for r in tg.requests("sendMessage") if chat_id is None or r.params["chat_id"] == chat_id
    ]


def most_in_one_window(times: list[float], window: float = 1.0) -> int:
    """The largest number of timestamps inside any half-open interval [t, t + window)."""
    times = sorted(times)
    most = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the bot's tasks run until the fake's record satisfies ``condition``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the fake never recorded what the test waits for"
        await asyncio.sleep(0.005)


# --- global budget ----------------------------------------------------------------------------


async def test_a_fan_out_to_90_chats_never_exceeds_30_per_second(tg: FakeTelegram) -> None:
    chats = started_chats(tg, 90)
    limiter = PriorityRateLimiter()
    async with limited_bot(tg, limiter) as bot:
        messages = await broadcast(bot, chats)

    recorded = sends(tg)
    assert sorted(r.params["chat_id"] for r in recorded) == chats
    assert [m.chat_id for m in messages] == chats
    # The limiter counts 30 a second at the instant each request is sent
    # (test_ratelimit_send_time.py checks that exactly, on a virtual clock); here the arrivals
    # at the fake add this process's jitter, so no 0.9 s of them may hold more than 30.
    assert most_in_one_window([r.monotonic for r in recorded], window=0.9) <= 30
    # 90 messages at 30/s cannot arrive within two seconds.
    assert recorded[-1].monotonic - recorded[0].monotonic >= 2.0
    assert limiter.stats.sent == 90


async def test_without_a_budget_the_same_fan_out_bursts(tg: FakeTelegram) -> None:
    # The control for the test above: the fake is fast enough to see a violation.
    chats = started_chats(tg, 90)
    async with limited_bot(tg, PriorityRateLimiter(0, per_chat_interval=0)) as bot:
        await broadcast(bot, chats)

    assert most_in_one_window([r.monotonic for r in sends(tg)]) > 30


# --- per chat ---------------------------------------------------------------------------------


async def test_broadcasts_to_one_chat_are_a_second_apart_and_in_order(tg: FakeTelegram) -> None:
    (chat,) = started_chats(tg, 1)
    async with limited_bot(tg, PriorityRateLimiter()) as bot:
        await asyncio.gather(
            *(bot.send_message(chat, f"Teil {n}", rate_limit_args=BROADCAST) for n in (1, 2, 3))
        )

    recorded = sends(tg, chat)
    assert [r.params["text"] for r in recorded] == ["Teil 1", "Teil 2", "Teil 3"]
    gaps = [b.monotonic - a.monotonic for a, b in itertools.pairwise(recorded)]
    assert min(gaps) >= 1.0, gaps


async def test_a_reply_is_not_held_by_the_per_chat_gap(tg: FakeTelegram) -> None:
    (chat,) = started_chats(tg, 1)
    async with limited_bot(tg, PriorityRateLimiter()) as bot:
        fan_out = broadcast(bot, [chat, chat])
        await until(lambda: len(sends(tg, chat)) == 1)
        await bot.send_message(chat, "Antwort")  # interactive: the default
        await fan_out

    texts = [r.params["text"] for r in sends(tg, chat)]
    assert texts == [f"Check-in {chat}", "Antwort", f"Check-in {chat}"]


# --- priority ---------------------------------------------------------------------------------


async def test_a_reply_overtakes_200_queued_broadcasts(tg: FakeTelegram) -> None:
    chats = started_chats(tg, 200)
    (talker,) = started_chats(tg, 1, first_id=9001)
    loop = asyncio.get_running_loop()
    async with limited_bot(tg, PriorityRateLimiter()) as bot:
        fan_out = broadcast(bot, chats)
        # Past the first second: the whole budget is in use and 150+ broadcasts still wait.
        await until(lambda: len(sends(tg)) >= 40)
        sent_before = len(sends(tg))
        issued = loop.time()
        await bot.send_message(talker, "Antwort")
        latency = loop.time() - issued
        # The rest of the fan-out is called off; its waiters must not keep permits.
        fan_out.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await fan_out
        await asyncio.wait_for(bot.send_message(talker, "Noch da"), timeout=5)

    recorded = sends(tg)
    position = next(i for i, r in enumerate(recorded) if r.params["chat_id"] == talker)
    broadcasts_ahead = position - sent_before
    print(f"reply latency during the fan-out: {latency * 1000:.0f} ms")
    assert broadcasts_ahead <= 3, f"{broadcasts_ahead} broadcasts went first ({latency=:.3f} s)"
    assert len(chats) - position >= 150  # still queued behind it when it went out
    assert [r.params["text"] for r in recorded[-1:]] == ["Noch da"]


# --- 429 and 403 ------------------------------------------------------------------------------


async def test_a_429_on_a_broadcast_is_waited_out_and_retried_once(tg: FakeTelegram) -> None:
    chat, other = started_chats(tg, 2)
    tg.inject_error("sendMessage", 429, retry_after=1, chat_id=chat)
    limiter = PriorityRateLimiter()
    async with limited_bot(tg, limiter) as bot:
        await broadcast(bot, [chat, other])

    attempts = sends(tg, chat)
    assert [r.status for r in attempts] == [429, 200]
    assert attempts[1].monotonic - attempts[0].monotonic >= 1.0
    assert [m.text for m in tg.user(chat).messages()] == [f"Check-in {chat}"]
    assert limiter.stats.retried == 1
    assert limiter.stats.sent == 2


async def test_during_a_broadcast_429_replies_and_button_answers_keep_flowing(
    tg: FakeTelegram,
) -> None:
    paused, talker = started_chats(tg, 2)
    # Long enough that a reply held back by the pause would hit the generous timeouts below.
    tg.inject_error("sendMessage", 429, retry_after=30, chat_id=paused)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="yes")]])
    limiter = PriorityRateLimiter()
    async with limited_bot(tg, limiter) as bot:
        question = await bot.send_message(talker, "Frage?", reply_markup=keyboard)
        query_id = tg.user(talker).press(question.message_id, callback_data="yes")
        fan_out = broadcast(bot, [paused])
        await until(lambda: limiter.stats.retried == 1)  # the limiter has seen the 429
        await asyncio.wait_for(bot.answer_callback_query(query_id), timeout=5)
        await asyncio.wait_for(bot.send_message(talker, "Antwort"), timeout=5)
        fan_out.cancel()  # not worth waiting half a minute for
        with contextlib.suppress(asyncio.CancelledError):
            await fan_out

    order = [
        (r.method, r.params.get("chat_id"), r.status)
        for r in tg.requests()
        if r.method in {"sendMessage", "answerCallbackQuery"}
    ]
    assert order == [
        ("sendMessage", talker, 200),
        ("sendMessage", paused, 429),
        ("answerCallbackQuery", None, 200),
        ("sendMessage", talker, 200),
    ]


async def test_a_429_on_a_reply_pauses_broadcasts_too(tg: FakeTelegram) -> None:
    talker, other = started_chats(tg, 2)
    tg.inject_error("sendMessage", 429, retry_after=1, chat_id=talker)
    limiter = PriorityRateLimiter()
    async with limited_bot(tg, limiter) as bot:
        reply = asyncio.ensure_future(bot.send_message(talker, "Antwort"))
        await until(lambda: limiter.stats.retried == 1)  # the limiter has seen the 429
        await broadcast(bot, [other])
        await reply

    order = [(r.params["chat_id"], r.status) for r in sends(tg)]
    assert order == [(talker, 429), (talker, 200), (other, 200)]
    rejected = sends(tg, talker)[0]
    assert sends(tg, other)[0].monotonic - rejected.monotonic >= 1.0


async def test_retries_stop_after_max_retries(tg: FakeTelegram) -> None:
    (chat,) = started_chats(tg, 1)
    tg.inject_error("sendMessage", 429, retry_after=1, chat_id=chat, times=5)
    limiter = PriorityRateLimiter(max_retries=1)
    async with limited_bot(tg, limiter) as bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(chat, "Check-in", rate_limit_args=BROADCAST)

    assert [r.status for r in sends(tg, chat)] == [429, 429]
    assert limiter.stats.retried == 1


async def test_a_blocked_user_raises_forbidden_without_retry(tg: FakeTelegram) -> None:
    (chat,) = started_chats(tg, 1)
    tg.user(chat).block_bot()
    limiter = PriorityRateLimiter()
    async with limited_bot(tg, limiter) as bot:
        with pytest.raises(Forbidden):
            await bot.send_message(chat, "Check-in", rate_limit_args=BROADCAST)

    assert [r.status for r in sends(tg, chat)] == [403]
    assert (limiter.stats.sent, limiter.stats.retried) == (0, 0)


# --- pieces -----------------------------------------------------------------------------------


@pytest.mark.parametrize("opt_in", [True, False], ids=["PTB_TIMEDELTA", "int-era"])
@pytest.mark.parametrize(
    ("retry_after", "seconds"), [(3, 3.0), (dtm.timedelta(milliseconds=1500), 1.5)]
)
def test_retry_after_is_read_in_seconds_without_a_warning(
    monkeypatch: pytest.MonkeyPatch, opt_in: bool, retry_after: int | dtm.timedelta, seconds: float
) -> None:
    if not opt_in:
        monkeypatch.delenv("PTB_TIMEDELTA")
    # Without the opt-in PTB already warns while building the error; that is PTB's business.
    with warnings.catch_warnings(action="ignore", category=PTBDeprecationWarning):
        error = RetryAfter(retry_after)
    # Reading it must not warn: filterwarnings=error would turn that into a failure here.
    assert retry_after_seconds(error) == seconds


@pytest.mark.parametrize(
    ("endpoint", "limited"),
    [
        ("sendMessage", True),
        ("sendDocument", True),
        ("sendPhoto", True),
        ("editMessageText", True),
        ("copyMessage", True),
        ("sendChatAction", False),
        ("answerCallbackQuery", False),
        ("getUpdates", False),
        ("getMe", False),
        ("setMyCommands", False),
        ("deleteMessage", False),
    ],
)
def test_which_methods_count_against_the_budget(endpoint: str, limited: bool) -> None:
    assert is_sending_method(endpoint) == limited


@pytest.mark.parametrize(
    "limits", [{"per_chat_interval": -1}, {"overall_per_second": -1}, {"max_retries": -1}]
)
def test_negative_limits_are_refused(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="negative"):
        PriorityRateLimiter(**limits)
