"""PriorityRateLimiter's accounting at the instant a request is sent, on a virtual clock.

The limiter keeps its time with the event loop (``loop.time()``, ``loop.call_at``). These tests
run it on an event loop whose clock jumps to the next timer instead of sleeping, and behind a
fake Bot API call that answers after a chosen round trip. Every instant asserted is the virtual
clock's, exact and the same on every machine: no timed assertion, and a 300-message fan-out at a
1.5 s round trip takes milliseconds.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import itertools
import re
import selectors
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
import telegram
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.error import RetryAfter

from bot.telegram.ratelimit import MESSAGE_METHODS, PriorityRateLimiter, is_sending_method

T = TypeVar("T")
BROADCAST = {"broadcast": True}


# --- a virtual clock for asyncio --------------------------------------------------------------


class _JumpingSelector(selectors.BaseSelector):
    """A real selector that never blocks: where the loop would sleep, the clock jumps instead."""

    def __init__(self, loop: VirtualClockLoop) -> None:
        self._loop = loop
        self._real = selectors.DefaultSelector()

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if not ready:
            if timeout is None:
                raise RuntimeError("every task waits and no timer is set: a deadlock")
            self._loop.now += timeout
        return ready

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` only moves when every task waits for a timer."""

    def __init__(self) -> None:
        self.now = 1000.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.now


def run_virtual(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


# --- a Bot API that answers after a round trip ------------------------------------------------


@dataclass(frozen=True)
class Sent:
    at: float
    method: str
    chat: int | None
    status: int


@dataclass
class FakeApi:
    """Records each request at the instant it is sent; answers ``round_trip`` seconds later."""

    limiter: PriorityRateLimiter
    round_trip: float
    sent: list[Sent] = field(default_factory=list)
    retry_after: dict[int, int] = field(default_factory=dict)
    """Chats whose next requests are answered 429 ("retry after 1 s"), and how many of them."""

    async def _request(self, method: str, chat: int | None) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        rejected = chat is not None and self.retry_after.get(chat, 0) > 0
        self.sent.append(Sent(loop.time(), method, chat, 429 if rejected else 200))
        await asyncio.sleep(self.round_trip)
        if rejected:
            assert chat is not None
            self.retry_after[chat] -= 1
            raise RetryAfter(dtm.timedelta(seconds=1))
        return {"message_id": len(self.sent)}

    async def call(self, method: str, chat: int | None = None, *, broadcast: bool = False) -> Any:
        return await self.limiter.process_request(
            self._request,
            (method, chat),
            {},
            method,
            {} if chat is None else {"chat_id": chat},
            BROADCAST if broadcast else None,
        )

    def send_times(self, method: str = "sendMessage") -> list[float]:
        return [s.at for s in self.sent if s.method == method]


def most_in_one_window(times: list[float], window: float = 1.0) -> int:
    """The largest number of instants inside any half-open interval [t, t + window).

    Instants a nanosecond short of a window apart count as a window apart: the virtual clock
    sums float seconds, and 1000 + 1.0 is not always 1000 + 30 * (1 / 30).
    """
    times = sorted(times)
    most = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= window - 1e-9:
            start += 1
        most = max(most, end - start + 1)
    return most


# --- the global window counts send instants ----------------------------------------------------


@pytest.mark.parametrize("round_trip", [0.05, 0.15, 0.3, 0.5])
def test_a_fan_out_sends_30_a_second_whatever_the_round_trip(round_trip: float) -> None:
    async def fan_out() -> FakeApi:
        api = FakeApi(PriorityRateLimiter(), round_trip)
        await asyncio.gather(*(api.call("sendMessage", c, broadcast=True) for c in range(300)))
        return api

    api = run_virtual(fan_out)

    times = api.send_times()
    assert len(times) == 300
    assert most_in_one_window(times) == 30
    # 300 messages at 30 a second: the last leaves 299 spacings after the first. Holding each
    # permit until a second after its answer would have taken 300 * (1 + round_trip) / 30 s.
    assert times[-1] - times[0] == pytest.approx(299 / 30)


@pytest.mark.parametrize("round_trip", [0.05, 0.3, 1.5])
def test_replies_get_30_a_second_whatever_the_round_trip(round_trip: float) -> None:
    async def burst() -> FakeApi:
        api = FakeApi(PriorityRateLimiter(), round_trip)
        await asyncio.gather(*(api.call("sendMessage", c) for c in range(90)))
        return api

    api = run_virtual(burst)

    times = api.send_times()
    assert most_in_one_window(times) == 30
    # Thirty at once, thirty a second later, thirty after that: the answers do not matter.
    start = times[0]
    assert sorted({round(at - start, 9) for at in times}) == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("method", ["editMessageText", "editMessageReplyMarkup"])
def test_an_edit_in_reply_takes_no_permit_of_the_global_window(method: str) -> None:
    async def edits_while_the_window_is_full() -> tuple[FakeApi, float, int]:
        loop = asyncio.get_running_loop()
        api = FakeApi(PriorityRateLimiter(), 0.3)
        fan_out = asyncio.gather(*(api.call("sendMessage", c, broadcast=True) for c in range(60)))
        replies = asyncio.gather(*(api.call("sendMessage", c) for c in range(100, 140)))
        await asyncio.sleep(0.5)  # the window is full, broadcasts and replies wait
        issued = loop.time()
        await asyncio.gather(*(api.call(method, c) for c in range(200, 290)))
        waiting = api.limiter.waiting
        await asyncio.gather(fan_out, replies)
        return api, issued, waiting

    api, issued, waiting = run_virtual(edits_while_the_window_is_full)

    # Ninety edits of the questions people just answered go at once, past everyone waiting ...
    edits = api.send_times(method)
    assert edits == [issued] * 90
    assert waiting > 0
    # ... and new messages still keep to 30 in any second, replies and broadcasts together.
    assert most_in_one_window(api.send_times()) == 30
    assert api.limiter.stats.sent == 60 + 40 + 90


def test_an_edit_as_a_broadcast_takes_a_permit_like_a_send() -> None:
    async def broadcast_edits() -> FakeApi:
        api = FakeApi(PriorityRateLimiter(), 0.1)
        await asyncio.gather(
            *(api.call("editMessageReplyMarkup", c, broadcast=True) for c in range(60))
        )
        return api

    times = run_virtual(broadcast_edits).send_times("editMessageReplyMarkup")

    assert most_in_one_window(times) == 30
    assert times[-1] - times[0] == pytest.approx(59 / 30)


def test_an_edit_in_reply_issued_during_a_pause_waits_for_its_end() -> None:
    async def edit_during_a_pause() -> tuple[FakeApi, float]:
        api = FakeApi(PriorityRateLimiter(), 0.1)
        api.retry_after[5] = 1
        first = asyncio.ensure_future(api.call("sendMessage", 5))
        await asyncio.sleep(0.5)  # the 429 came at 0.1 s and paused replies until 1.1 s
        paused_until = api.sent[0].at + 0.1 + 1.0
        await api.call("editMessageText", 6)
        await first
        return api, paused_until

    api, paused_until = run_virtual(edit_during_a_pause)

    (edit,) = (s for s in api.sent if s.method == "editMessageText")
    assert edit.at == pytest.approx(paused_until)


def test_broadcasts_to_one_chat_wait_a_second_after_the_answer() -> None:
    round_trip = 0.3

    async def three_to_one_chat() -> FakeApi:
        api = FakeApi(PriorityRateLimiter(), round_trip)
        await asyncio.gather(*(api.call("sendMessage", 7, broadcast=True) for _ in range(3)))
        return api

    times = run_virtual(three_to_one_chat).send_times()

    # Counted from the answer on purpose (see the module docstring of ratelimit.py): each
    # arrives at least a second after the one before, whatever the jitter.
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == [pytest.approx(1.0 + round_trip)] * 2


def test_a_reply_takes_the_next_free_permit_before_queued_broadcasts() -> None:
    async def reply_during_fan_out() -> tuple[FakeApi, float]:
        loop = asyncio.get_running_loop()
        api = FakeApi(PriorityRateLimiter(), 0.3)
        fan_out = asyncio.gather(*(api.call("sendMessage", c, broadcast=True) for c in range(100)))
        await asyncio.sleep(1.51)  # the window is full of broadcasts, 50 more queued
        issued = loop.time()
        await api.call("sendMessage", 9001)
        await fan_out
        return api, issued

    api, issued = run_virtual(reply_during_fan_out)

    after = [s for s in api.sent if s.at >= issued]
    assert after[0].chat == 9001
    assert after[0].at - issued < 1 / 30  # it waited for a permit, not for the queue
    assert most_in_one_window(api.send_times()) == 30


# --- 429s ---------------------------------------------------------------------------------------


def test_a_burst_of_429s_is_retried_inside_the_global_window_and_after_the_pause() -> None:
    async def fan_out_with_429s() -> FakeApi:
        api = FakeApi(PriorityRateLimiter(), 0.1)
        api.retry_after.update(dict.fromkeys(range(0, 60, 2), 1))  # every other chat, once
        await asyncio.gather(*(api.call("sendMessage", c, broadcast=True) for c in range(60)))
        return api

    api = run_virtual(fan_out_with_429s)

    assert api.limiter.stats.retried == 30
    assert api.limiter.stats.sent == 60
    assert sorted(s.chat for s in api.sent if s.status == 200) == list(range(60))
    # Rejected attempts count in the window like the others.
    assert most_in_one_window(api.send_times()) <= 30
    # No broadcast leaves while one of the pauses runs (each 429 is answered a round trip
    # after it was sent and asks for one second).
    pauses = [(s.at + 0.1, s.at + 1.1) for s in api.sent if s.status == 429]
    during = [s for s in api.sent for begin, end in pauses if begin < s.at < end]
    assert during == []


# --- which methods take a permit ---------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    ["answerCallbackQuery", "getUpdates", "getMe", "setMyCommands", "sendChatAction"],
)
def test_a_method_that_sends_no_message_takes_no_permit(method: str) -> None:
    async def while_the_window_is_full() -> tuple[FakeApi, float, int]:
        loop = asyncio.get_running_loop()
        api = FakeApi(PriorityRateLimiter(), 0.3)
        replies = asyncio.gather(*(api.call("sendMessage", c) for c in range(35)))
        await asyncio.sleep(0)  # the first 30 are on their way, 5 wait for a permit
        waiting = api.limiter.waiting
        issued = loop.time()
        await api.call(method, 1)
        await replies
        return api, issued, waiting

    api, issued, waiting = run_virtual(while_the_window_is_full)

    assert waiting == 5
    (call,) = (s for s in api.sent if s.method == method)
    assert call.at == issued
    assert api.limiter.stats.passed_through == 1
    assert api.limiter.stats.sent == 35


# Bot API methods named like a message method that put no message into a chat.
_NO_MESSAGE = {"sendChatAction": "the 'typing ...' status, shown for 5 s, no message"}


def test_every_message_method_of_the_bot_api_takes_a_permit() -> None:
    # PTB names each Bot API method in camelCase too; a new one that sends, copies, forwards
    # or edits a message must join MESSAGE_METHODS (or be explained above) when PTB is updated.
    api_methods = {name for name in dir(telegram.Bot) if re.fullmatch(r"[a-z]+[A-Z]\w*", name)}
    message_like = {
        name
        for name in api_methods
        if re.match(r"(send|copyMessage|forwardMessage|editMessage|stop)", name)
    }
    assert message_like - set(_NO_MESSAGE) == MESSAGE_METHODS
    assert not any(is_sending_method(name) for name in _NO_MESSAGE)


# --- a permit handed out at once is the permit the queue would have handed out ------------------

_METHODS = ("sendMessage", "editMessageText", "answerCallbackQuery")


@dataclass(frozen=True)
class _Call:
    after: float  # seconds after the call before it was issued
    method: str
    chat: int
    broadcast: bool


_calls = st.lists(
    st.builds(
        _Call,
        st.sampled_from([0.0, 0.0, 0.01, 0.05, 0.3, 1.2]),
        st.sampled_from(_METHODS),
        st.integers(1, 6),
        st.booleans(),
    ),
    min_size=1,
    max_size=80,
)


def _schedule(
    calls: list[_Call], rejected: dict[int, int], overall: float, per_chat: float
) -> tuple[tuple[list[Sent], list[str]], int]:
    """What the fake API saw for ``calls`` (instants, methods, chats, statuses) and what each
    call ended with, on the virtual clock; and the permits ``_grant_at_once`` handed out."""
    granted = 0
    grant_at_once = PriorityRateLimiter._grant_at_once

    def counting(self: PriorityRateLimiter, request_class: Any) -> bool:
        nonlocal granted
        at_once = grant_at_once(self, request_class)
        granted += at_once
        return at_once

    async def scenario() -> tuple[list[Sent], list[str]]:
        api = FakeApi(PriorityRateLimiter(overall, per_chat, max_retries=5), 0.1)
        api.retry_after.update(rejected)
        tasks = []
        for call in calls:
            await asyncio.sleep(call.after)
            tasks.append(
                asyncio.ensure_future(api.call(call.method, call.chat, broadcast=call.broadcast))
            )
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        return api.sent, [repr(outcome) for outcome in outcomes]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PriorityRateLimiter, "_grant_at_once", counting)
        return run_virtual(scenario), granted


@settings(max_examples=150, deadline=None)
@given(
    _calls,
    st.dictionaries(st.integers(1, 6), st.integers(1, 2), max_size=2),
    st.sampled_from([(30.0, 1.0), (2.0, 1.0), (0.5, 0.0), (0.0, 1.0), (0.0, 0.0)]),
)
def test_granting_a_free_permit_at_once_sends_on_the_queues_schedule(
    calls: list[_Call], rejected: dict[int, int], limits: tuple[float, float]
) -> None:
    fast, _ = _schedule(calls, rejected, *limits)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PriorityRateLimiter, "_grant_at_once", lambda self, request_class: False)
        queued, none = _schedule(calls, rejected, *limits)

    # The same calls at the same instants, each ending alike (a message, or the last 429).
    assert fast == queued
    assert none == 0


def test_a_permit_free_for_a_lone_call_is_granted_at_once() -> None:
    # The property above would hold trivially if nothing were ever granted at once.
    (sent, _), granted = _schedule([_Call(0.0, "sendMessage", 1, broadcast=True)], {}, 30.0, 1.0)

    assert [s.at for s in sent] == [1000.0]
    assert granted == 1
