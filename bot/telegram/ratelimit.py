"""Outbound rate limiting: replies to people chatting go ahead of the weekly check-in fan-out.

Telegram allows about 30 messages per second overall and about one per second in one chat, and
answers 429 with ``retry_after`` when a bot sends faster. PTB's ``AIORateLimiter`` does not retry
by default, has no per-private-chat limit and pauses *every* request on a 429, so a weekly
fan-out would make the coach unresponsive to someone in the middle of a dialogue (design.md 4).

``PriorityRateLimiter`` keeps two queues, INTERACTIVE (the default) and BROADCAST (chosen per call
with ``rate_limit_args={"broadcast": True}``), in front of one shared budget:

* Global budget: ``overall_per_second`` permits per second, counted from the instant each
  request is *sent*: a sliding window of send instants, no more than ``overall_per_second`` in
  any one window. How long Telegram takes to answer does not matter, so the bot sends as many
  a second at a 300 ms round trip as at a 50 ms one. (Until issue 16 a permit was held until
  one second after the answer, which made the rate 30 / (1 + round trip).) Jitter on the way
  can bunch sends a second apart a little closer on arrival; Telegram's limit is "30 messages
  per second or so", PTB's own ``AIORateLimiter`` counts at the send too, and a 429 is waited
  out and retried. (A 20 ms margin on the window was tried: it cost 2 % of the rate and did not
  keep the fake Bot API's own arrival stamps, jittery themselves, at 30 in every second.)
  Broadcasts are also spaced one window / ``overall_per_second`` apart, so they never burst
  and a reply waits at most one spacing.
* Whenever both classes wait, a free permit goes to INTERACTIVE first.
* Per chat: a broadcast waits until ``per_chat_interval`` has passed since the last *answer*
  to that chat (of either class); interactive replies are never held per chat. The per-chat
  gap stays counted from the answer on purpose: broadcasts to one chat go one at a time, so the
  next one leaves only after Telegram answered the last, and one second after that answer it
  arrives more than a second after the last one arrived, whatever the jitter. A weekly fan-out
  writes to each chat once, so this costs the fan-out nothing.
* A 429 is waited out and retried up to ``max_retries`` times. A 429 on a broadcast pauses only
  broadcasts; one on a reply pauses everything (then the bot itself is over its limits).
  Every attempt, a rejected one too, stays in the global window at its send instant, and the
  retries after a pause take permits like any request (a retry goes to the front of its
  queue): a burst of 429s is retried at no more than the global rate, shared with everyone.
* At most ``max_broadcasts_in_flight`` broadcasts are on the wire at once: 32 keep Telegram's 30
  a second up to a round trip of about a second, and let a fan-out without limits (a benchmark,
  a self-hosted Bot API) reach 600 a second at 50 ms. The cap was 16 while the transport was
  httpx, whose pool polls every pooled connection per request; aiohttp's does not.
* Only the methods in ``MESSAGE_METHODS`` (a message sent, copied, forwarded or edited) take a
  permit. Everything else (getUpdates, answerCallbackQuery, getMe, setMyCommands,
  sendChatAction, ...) passes straight through, so button presses are answered at once.
* An *edit in reply* to someone chatting (``EDIT_METHODS`` without ``broadcast``) takes no
  permit of the global window either: it only waits out a 429 pause. The 30 a second of the
  Bots FAQ are its rule for bulk notifications, of messages; Telegram's developers say there is
  "no global limit on the number of sent messages for bots" beyond it and that edits share the
  *per-chat* limits with sends, which a bot editing "with user interaction" can hardly exceed
  (tdlib/td#3034, tdlib/td#2592). Every edit in reply answers a tap of that user (the question
  shows the answer, a tick is drawn), so none is bulk. New messages in reply still take from
  the window, shared with the fan-out (the safe reading of "30 messages per second"), and an
  edit sent as a broadcast does too. Counting the edits made a 200-user burst wait for them:
  they were 54 % of its messages (bench/README.md, "Which Bot API methods count").

All bookkeeping runs synchronously on the event loop (no locks, no polling); a single timer
wakes the queues when a permit frees up, a pause ends or the next broadcast is due.

A caller that needs nothing of the answer but the message's id says so with
``rate_limit_args={..., "message_id_only": True}`` (``MESSAGE_ID_ONLY``): the answer handed back
to PTB is cut to ``message_id``, ``date`` and ``chat``, the fields PTB's ``Message`` requires.
Telegram echoes the whole message (its text, entities and keyboard), and PTB's ``Message.de_json``
of that echo was about a third of the CPU of sending a check-in; ``ReplyRenderer`` reads only
the id of what it sends (bench/README.md, "The send path's CPU"). Without the key the answer
is PTB's as it came. The rate limiter is the one public place between PTB's HTTP answer and its
``Message`` (``BaseRateLimiter.process_request`` returns the answer's ``result``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import enum
import logging
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.core.keyed_locks import AsyncKeyedLocks
from bot.core.operations import Event, OperationsRecorder

__all__ = [
    "EDIT_METHODS",
    "MESSAGE_ID_ONLY",
    "MESSAGE_METHODS",
    "PriorityRateLimiter",
    "RateLimitStats",
    "RequestClass",
    "is_sending_method",
    "retry_after_seconds",
]

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
ApiResult = bool | JSONDict | list[JSONDict]
ApiCallback = Callable[..., Coroutine[Any, Any, ApiResult]]

MESSAGE_METHODS = frozenset(
    {
        # Messages sent, copied or forwarded into a chat (Bots FAQ: "30 messages per second",
        # "one message per second" in a chat).
        "sendMessage",
        "sendPhoto",
        "sendAudio",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendLivePhoto",
        "sendPaidMedia",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendChecklist",
        "sendDice",
        "sendSticker",
        "sendInvoice",
        "sendGame",
        "sendGift",
        "sendMessageDraft",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        # Edits of a message: Telegram's developers say editing shares the per-chat sending
        # limits (tdlib/td#2592, tdlib/td#3034); the Bots FAQ itself does not mention edits.
        # In reply to a person they take no global permit (EDIT_METHODS below).
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "editMessageLiveLocation",
        "editMessageChecklist",
        "stopMessageLiveLocation",
        "stopPoll",
    }
)
"""Bot API methods that put a message into a chat or change one: each takes a permit of the
global window (an edit in reply excepted, see ``EDIT_METHODS``) and, as a broadcast, waits its
chat's gap. Every other method passes straight through; ``answerCallbackQuery`` is no message
(tdlib/telegram-bot-api#648: it may be called "without any limits"). The table and its
sources: bench/README.md, "Which Bot API methods count"."""

EDIT_METHODS = frozenset(
    method for method in MESSAGE_METHODS if method.startswith(("edit", "stop"))
)
"""Methods that change a message already in the chat. In reply to a person they take no permit
of the global window (see the module docstring); as a broadcast they count like a send."""

MESSAGE_ID_ONLY = "message_id_only"
"""The ``rate_limit_args`` key of a caller that reads only the id of the message it sends."""
# What a message's answer keeps for such a caller: the fields PTB's Message cannot do without.
_MESSAGE_IDENTITY = ("message_id", "date", "chat")

# Per-chat "next broadcast not before" times are pruned lazily once this many exist.
_READY_PRUNE_THRESHOLD = 1024


class RequestClass(enum.Enum):
    """Who is waiting for a request: a person in a dialogue, or nobody in particular."""

    INTERACTIVE = "interactive"
    BROADCAST = "broadcast"


@dataclass
class RateLimitStats:
    """Counters for benchmarks and logs (a snapshot; the limiter keeps counting)."""

    sent: int = 0
    """Sending requests that Telegram accepted."""
    retried: int = 0
    """429 answers that were waited out and retried."""
    waited_seconds: float = 0.0
    """Time sending requests spent held back (queue, per-chat gap, 429 pause), summed."""
    passed_through: int = 0
    """Requests that are not sending messages and skipped the limiter."""


class _Call(NamedTuple):
    """One sending call as PTB hands it over, and whether it edits a message."""

    callback: ApiCallback
    args: Any
    kwargs: dict[str, Any]
    editing: bool


def is_sending_method(endpoint: str) -> bool:
    """Whether a Bot API method sends or edits a message and so counts against the limits."""
    return endpoint in MESSAGE_METHODS


def retry_after_seconds(error: RetryAfter) -> float:
    """Seconds Telegram asked to wait, whether PTB gives an int or a timedelta (PTB_TIMEDELTA)."""
    # Without PTB_TIMEDELTA, PTB 22 returns an int and warns that it will become a timedelta;
    # both shapes are handled here, so the warning carries no news for this caller.
    with warnings.catch_warnings(action="ignore", category=PTBDeprecationWarning):
        value = error.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def _identity_only(result: ApiResult) -> ApiResult:
    """A message's answer cut to ``_MESSAGE_IDENTITY``; any other answer (True, a list) as is."""
    if isinstance(result, dict) and "message_id" in result:
        return {key: result[key] for key in _MESSAGE_IDENTITY if key in result}
    return result


def _answering_id_only(callback: ApiCallback) -> ApiCallback:
    """``callback`` whose answer is cut by ``_identity_only`` (every retry's too)."""

    async def call(*args: Any, **kwargs: Any) -> ApiResult:
        return _identity_only(await callback(*args, **kwargs))

    return call


def _chat_key(data: JSONDict) -> int | str | None:
    """The chat a request goes to, with numeric strings read as ids (``"42"`` is chat 42)."""
    chat_id = data.get("chat_id")
    if chat_id is None or isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text  # an @username of a channel


class PriorityRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Rate limiter for ``ExtBot``: interactive replies first, broadcasts throttled per chat.

    Args:
        overall_per_second: Sending requests per second for the whole bot, both classes
            together; 0 switches the global budget off.
        per_chat_interval: Seconds between broadcasts to one chat; 0 switches it off.
        max_retries: How often a request answered with 429 is retried before the
            ``RetryAfter`` is raised to the caller.
        max_broadcasts_in_flight: Broadcast requests on the wire at once (32 carry 30 a
            second up to a round trip of 1.07 s, and 640 a second at 50 ms).
        recorder: Hears of each sending call's outcome for the operator's figures: sent,
            every 429, each retry, and each call given up (a 403 from a user who blocked the
            bot is neither sent nor a failure: the user counts as blocked).
    """

    def __init__(
        self,
        overall_per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        max_retries: int = 3,
        max_broadcasts_in_flight: int = 32,
        recorder: OperationsRecorder | None = None,
    ) -> None:
        if min(overall_per_second, per_chat_interval, max_retries) < 0:
            raise ValueError("rate limits and max_retries must not be negative")
        if max_broadcasts_in_flight < 1:
            raise ValueError("max_broadcasts_in_flight must be at least 1")
        self._max_broadcasts_in_flight = max_broadcasts_in_flight
        # Below one request per second the window stretches so that one permit still exists.
        self._permits = max(1, int(overall_per_second)) if overall_per_second else 0
        self._window = self._permits / overall_per_second if self._permits else 0.0
        self._spacing = self._window / self._permits if self._permits else 0.0
        self._per_chat_interval = per_chat_interval
        self._max_retries = max_retries
        self._stats = RateLimitStats()
        self._recorder = recorder
        self._reset()

    def _reset(self) -> None:
        # A waiter's result is the instant its permit was handed out (its send instant).
        self._queues: dict[RequestClass, deque[asyncio.Future[float]]] = {
            cls: deque() for cls in RequestClass
        }
        self._paused_until = dict.fromkeys(RequestClass, 0.0)
        self._sent_at: deque[float] = deque()  # send instants inside the window, oldest first
        self._next_broadcast_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        # Broadcasts to one chat go one at a time, each per_chat_interval after the last answer.
        self._chat_locks = AsyncKeyedLocks()
        self._chat_ready_at: dict[int | str, float] = {}
        self._prune_ready_at = _READY_PRUNE_THRESHOLD
        self._broadcast_slots = asyncio.Semaphore(self._max_broadcasts_in_flight)
        self._closed = False

    @property
    def stats(self) -> RateLimitStats:
        """A snapshot of the counters."""
        return replace(self._stats)

    @property
    def waiting(self) -> int:
        """Sending calls waiting for a permit of the global budget right now (both classes)."""
        return sum(1 for queue in self._queues.values() for waiter in queue if not waiter.done())

    async def initialize(self) -> None:
        """Start afresh after a shutdown (called by ``ExtBot.initialize``)."""
        if self._closed:
            self._reset()

    async def shutdown(self) -> None:
        """Stop the timer and fail requests still queued: the bot is going away."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for queue in self._queues.values():
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_exception(RuntimeError("the rate limiter was shut down"))

    async def process_request(  # noqa: PLR0917 (the signature is PTB's)
        self,
        callback: ApiCallback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> ApiResult:
        """Send ``callback(*args, **kwargs)`` when the limits allow; retry after a 429.

        Args:
            callback: PTB's coroutine function that makes the HTTP request.
            args: Its positional arguments.
            kwargs: Its keyword arguments.
            endpoint: The Bot API method, e.g. ``"sendMessage"``.
            data: The method's parameters (``chat_id`` selects the per-chat gap).
            rate_limit_args: ``{"broadcast": True}`` for a broadcast; anything else is a reply.
                With ``MESSAGE_ID_ONLY`` true, a message's answer comes back cut to its id
                (module docstring).
        """
        if rate_limit_args and rate_limit_args.get(MESSAGE_ID_ONLY):
            callback = _answering_id_only(callback)
        if not is_sending_method(endpoint):
            self._stats.passed_through += 1
            return await callback(*args, **kwargs)
        broadcast = bool(rate_limit_args and rate_limit_args.get("broadcast"))
        request_class = RequestClass.BROADCAST if broadcast else RequestClass.INTERACTIVE
        chat = _chat_key(data)
        call = _Call(callback, args, kwargs, editing=endpoint in EDIT_METHODS)
        if not broadcast:
            return await self._send(request_class, chat, call, counted=not call.editing)
        if chat is not None and self._per_chat_interval > 0:
            async with self._chat_turn(chat), self._broadcast_slots:
                return await self._send(request_class, chat, call)
        async with self._broadcast_slots:
            return await self._send(request_class, chat, call)

    # --- one request, with retries -----------------------------------------------------------

    async def _send(
        self,
        request_class: RequestClass,
        chat: int | str | None,
        call: _Call,
        *,
        counted: bool = True,
    ) -> ApiResult:
        """Send ``call``; ``counted`` is False for an edit in reply (no permit, pauses only)."""
        callback, args, kwargs, editing = call
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            queued_at = loop.time()
            if counted:
                # A retry is older than anything queued behind it, so it goes to the front.
                await self._acquire(request_class, front=attempt > 0)
            else:
                await self._wait_out_pause(request_class)
            self._stats.waited_seconds += loop.time() - queued_at
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as error:
                delay = retry_after_seconds(error)
                self._pause(request_class, delay)
                self._record(Event.RATE_LIMITED)
                if attempt >= self._max_retries:
                    log.warning(
                        "429 on a %s request after %d retries; giving up",
                        request_class.value,
                        attempt,
                    )
                    self._record(Event.FAILED)
                    raise
                log.info("429 on a %s request; retrying in %.1f s", request_class.value, delay)
                self._stats.retried += 1
                self._record(Event.RETRIED)
                attempt += 1
                continue
            except Forbidden:
                raise  # the user blocked the bot: counted as a blocked user, not a failure
            except BadRequest:
                # An edit refused (not modified, too old) is answered by a new message.
                if not editing:
                    self._record(Event.FAILED)
                raise
            except TelegramError:
                self._record(Event.FAILED)
                raise
            finally:
                self._release(chat)
            self._stats.sent += 1
            self._record(Event.SENT)
            return result

    def _record(self, event: Event) -> None:
        if self._recorder is not None:
            self._recorder.record(event)

    def _pause(self, request_class: RequestClass, seconds: float) -> None:
        """Hold back broadcasts (a 429 on a reply: everything) for ``seconds``."""
        until = asyncio.get_running_loop().time() + seconds
        paused = (
            (RequestClass.BROADCAST,)
            if request_class is RequestClass.BROADCAST
            else (RequestClass.INTERACTIVE, RequestClass.BROADCAST)
        )
        for cls in paused:
            self._paused_until[cls] = max(self._paused_until[cls], until)
        self._pump()

    async def _wait_out_pause(self, request_class: RequestClass) -> None:
        """Wait while a 429 holds ``request_class`` back (for requests that take no permit)."""
        loop = asyncio.get_running_loop()
        while True:
            if self._closed:
                raise RuntimeError("the rate limiter was shut down")
            delay = self._paused_until[request_class] - loop.time()
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    # --- the global budget -------------------------------------------------------------------

    async def _acquire(self, request_class: RequestClass, *, front: bool) -> None:
        """Wait for a permit of the global budget, in priority order."""
        if self._closed:
            raise RuntimeError("the rate limiter was shut down")
        if self._grant_at_once(request_class):
            return
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        queue = self._queues[request_class]
        if front:
            queue.appendleft(waiter)
        else:
            queue.append(waiter)
        self._pump()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Granted, but the caller went away before sending: the permit is unused.
                # (Equal instants are interchangeable; one already out of the window is gone.)
                with contextlib.suppress(ValueError):
                    self._sent_at.remove(waiter.result())
                self._pump()
            raise

    def _grant_at_once(self, request_class: RequestClass) -> bool:
        """Hand out a permit without queueing, if ``_pump`` would hand it to this call now.

        That is when nobody waits in either queue (then nothing can go before this call), its
        class is not paused, a permit is free and, for a broadcast, its spacing has passed:
        ``_pump`` would pick this call's waiter at once, note the same send instant and find
        no waiter left to arm the timer for. Done here, a call spares the future, the queue and
        the pump (most calls when the bot is below its limits; every call with them lifted).
        """
        queues = self._queues
        if queues[RequestClass.INTERACTIVE] or queues[RequestClass.BROADCAST]:
            return False
        now = asyncio.get_running_loop().time()
        if now < self._paused_until[request_class]:
            return False
        broadcast = request_class is RequestClass.BROADCAST
        if broadcast and now < self._next_broadcast_at:
            return False
        if self._permits:
            self._forget_old_sends(now)
            if len(self._sent_at) >= self._permits:
                return False
            self._sent_at.append(now)
        if broadcast:
            self._next_broadcast_at = self._next_broadcast_slot(now)
        if self._timer is not None:  # _pump's _arm_timer: no waiter left to wake up
            self._timer.cancel()
            self._timer = None
        return True

    def _release(self, chat: int | str | None) -> None:
        """An answer arrived: start the chat's gap (the global window counts send instants)."""
        if chat is not None and self._per_chat_interval > 0:
            self._start_chat_gap(chat, asyncio.get_running_loop().time())

    def _has_free_permit(self) -> bool:
        return not self._permits or len(self._sent_at) < self._permits

    def _forget_old_sends(self, now: float) -> None:
        """Drop send instants a whole window old: they no longer count."""
        while self._sent_at and self._sent_at[0] + self._window <= now:
            self._sent_at.popleft()

    def _next_eligible(self, now: float) -> tuple[RequestClass, asyncio.Future[float]] | None:
        """The waiter a free permit goes to now: replies first, then a due broadcast."""
        for cls in RequestClass:  # INTERACTIVE is declared first
            queue = self._queues[cls]
            while queue and queue[0].done():  # cancelled while waiting
                queue.popleft()
            if not queue or now < self._paused_until[cls]:
                continue
            if cls is RequestClass.BROADCAST and now < self._next_broadcast_at:
                continue
            return cls, queue.popleft()
        return None

    def _pump(self) -> None:
        """Hand out every permit that may go now, then arm the timer for the next change."""
        if self._closed:
            return
        now = asyncio.get_running_loop().time()
        self._forget_old_sends(now)
        while self._has_free_permit():
            chosen = self._next_eligible(now)
            if chosen is None:
                break
            cls, waiter = chosen
            if self._permits:
                self._sent_at.append(now)
            if cls is RequestClass.BROADCAST:
                self._next_broadcast_at = self._next_broadcast_slot(now)
            waiter.set_result(now)
        self._arm_timer(now)

    def _next_broadcast_slot(self, now: float) -> float:
        """When the broadcast after one sent ``now`` may go.

        Spaced from the slot this one was due at, if the timer woke a little late (by less than
        one spacing), so that the event loop's lateness does not add up to fewer than
        ``overall_per_second`` a second; the window still caps any one second.
        """
        due = self._next_broadcast_at
        start = due if 0 <= now - due < self._spacing else now
        return start + self._spacing

    def _arm_timer(self, now: float) -> None:
        """Wake up when the first blocked waiter could go (a new waiter pumps by itself)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        interactive = self._queues[RequestClass.INTERACTIVE]
        broadcast = self._queues[RequestClass.BROADCAST]
        if not interactive and not broadcast:
            return
        candidates: list[float] = []
        if not self._has_free_permit():
            if self._sent_at:
                candidates.append(self._sent_at[0] + self._window)
        else:
            if interactive:
                candidates.append(self._paused_until[RequestClass.INTERACTIVE])
            if broadcast:
                candidates.append(
                    max(self._paused_until[RequestClass.BROADCAST], self._next_broadcast_at)
                )
        wake_at = min((at for at in candidates if at > now), default=None)
        if wake_at is not None:
            self._timer = asyncio.get_running_loop().call_at(wake_at, self._pump)

    # --- the per-chat gap for broadcasts -----------------------------------------------------

    def _start_chat_gap(self, chat: int | str, now: float) -> None:
        """No broadcast to ``chat`` before ``per_chat_interval`` from ``now``."""
        if len(self._chat_ready_at) >= self._prune_ready_at:
            self._forget_passed_gaps(now)
        self._chat_ready_at[chat] = now + self._per_chat_interval

    @contextlib.asynccontextmanager
    async def _chat_turn(self, chat: int | str) -> AsyncIterator[None]:
        """One broadcast to ``chat`` at a time, ``per_chat_interval`` after the last answer."""
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        async with self._chat_locks.hold(chat):
            delay = self._chat_ready_at.get(chat, 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._stats.waited_seconds += loop.time() - arrived
            yield

    def _forget_passed_gaps(self, now: float) -> None:
        """Drop gaps that have passed, so memory follows recently written chats only."""
        passed = [chat for chat, ready_at in self._chat_ready_at.items() if ready_at <= now]
        for chat in passed:
            del self._chat_ready_at[chat]
        self._prune_ready_at = max(_READY_PRUNE_THRESHOLD, 2 * len(self._chat_ready_at))
