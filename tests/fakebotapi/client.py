"""The test's side of the fake: start the server in a background thread, act as Telegram users.

Tests are plain synchronous functions; the server runs on its own event loop in a thread, so a
bot (a subprocess, or an in-process Application on another loop) can talk to it while the test
thread waits. Waiting sleeps on the world's condition and wakes whenever the bot does something.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self, TypeVar

from .model import BotIdentity, BotMessage, CallbackAnswer, RecordedRequest, SentFile
from .server import FakeBotApiServer
from .state import TelegramWorld

DEFAULT_TOKEN = "7000000001:AAFakeTokenForFokusCoachTests-0123456789"
DEFAULT_TIMEOUT = 10.0
_T = TypeVar("_T")


class FakeTelegram:
    """A running fake Bot API server plus the users a test plays.

    Use as a context manager (``with FakeTelegram() as tg:``) or call ``start()``/``stop()``.
    Point the bot at ``tg.base_url`` with token ``tg.token``.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_first_name: str = "Fokus-Coach",
        bot_username: str = "fokus_coach_test_bot",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.host = host
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 7000000001
        self.world = TelegramWorld(BotIdentity(bot_id, bot_first_name, bot_username))
        self.server = FakeBotApiServer(self.world, {token})
        self._requested_port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._users: dict[int, FakeUser] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server thread; returns once it is listening."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(ready, failure), name="fake-telegram", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise RuntimeError("fake Telegram server did not start") from failure[0]
        return self

    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self.server.start(self.host, self._requested_port))
        except BaseException as error:
            failure.append(error)
            loop.close()
            ready.set()
            return
        self._loop = loop

        def wake_pollers() -> None:
            loop.call_soon_threadsafe(self.server.wake_pollers)

        self.world.on_update = wake_pollers
        ready.set()
        try:
            loop.run_forever()
        finally:
            with self.world.lock:
                self.world.on_update = None
            loop.run_until_complete(self.server.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def stop(self) -> None:
        """Stop the server (waiting long polls get an empty answer) and join the thread."""
        if self._thread is None:
            return
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=15)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None:
            self.assert_no_internal_errors()

    @classmethod
    def running(cls, **kwargs: Any) -> Iterator[FakeTelegram]:
        """Generator for a pytest fixture: ``yield from FakeTelegram.running()``."""
        with cls(**kwargs) as fake:
            yield fake

    # --- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self.server.port

    @property
    def base_url(self) -> str:
        """Bot API base URL without the token, e.g. ``http://127.0.0.1:PORT/bot``."""
        return f"http://{self.host}:{self.port}/bot"

    # --- people ------------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Anna",
        language_code: str | None = "de",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """The user with this id in a private chat with the bot (same object on repeat calls)."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        self.world.add_user(user_id, first_name, language_code, last_name, username)
        user = FakeUser(self, user_id, user_id)
        self._users[user_id] = user
        return user

    def group(self, chat_id: int, title: str = "Testgruppe") -> FakeChat:
        """A group chat (negative id) with the bot in it; users join via ``user.in_chat``."""
        self.world.add_group(chat_id, title)
        return FakeChat(self, chat_id)

    # --- server-wide assertions and controls -------------------------------------------------

    def inject_error(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> None:
        """See ``FakeBotApiServer.inject_error``."""
        self.server.inject_error(method, error_code, description, retry_after, chat_id, times)

    def inject_raw_answer(
        self, method: str, status: int, body: str, content_type: str = "text/html", times: int = 1
    ) -> None:
        """See ``FakeBotApiServer.inject_raw_answer``."""
        self.server.inject_raw_answer(method, status, body, content_type, times)

    @property
    def latency(self) -> float:
        """Artificial delay before each answer, in seconds."""
        return self.server.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.server.latency = seconds

    def requests(self, method: str | None = None) -> list[RecordedRequest]:
        """Every call so far (optionally of one method, case-insensitive), oldest first."""
        with self.world.lock:
            return [
                r
                for r in self.world.requests
                if method is None or r.method.lower() == method.lower()
            ]

    def wait_for_request(
        self,
        method: str,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> RecordedRequest:
        """Wait until the bot called ``method`` (e.g. "getUpdates": the bot is polling)."""

        def find() -> RecordedRequest | None:
            return next(
                (r for r in self.requests(method) if predicate is None or predicate(r)), None
            )

        found = self._wait(find, timeout)
        if found is None:
            made = sorted({r.method for r in self.requests()})
            raise AssertionError(f"no {method} request within {timeout} s; calls made: {made}")
        return found

    def commands(
        self, language_code: str = "", scope: dict[str, object] | None = None
    ) -> list[tuple[str, str]]:
        """The command menu set for this language and scope, as (command, description)."""
        import json

        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        with self.world.lock:
            return [(c["command"], c["description"]) for c in self.world.commands.get(key, [])]

    def profile(self, language_code: str = "") -> tuple[str, str]:
        """(description, short description) set for this language ("" for the default)."""
        with self.world.lock:
            return (
                self.world.profile.get(("description", language_code), ""),
                self.world.profile.get(("short_description", language_code), ""),
            )

    def pending_updates(self) -> int:
        """How many updates the bot has not confirmed yet."""
        with self.world.lock:
            return len(self.world.pending_updates)

    def assert_no_internal_errors(self) -> None:
        """Fail if the fake itself crashed while serving a request."""
        with self.world.lock:
            errors = list(self.world.internal_errors)
        if errors:
            raise AssertionError("fake Bot API crashed:\n" + "\n".join(errors))

    def _wait(self, probe: Callable[[], _T | None], timeout: float) -> _T | None:
        """Run ``probe`` under the lock until it returns something or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self.world.lock:
            while True:
                found = probe()
                remaining = deadline - time.monotonic()
                if found is not None or remaining <= 0:
                    return found
                self.world.lock.wait(remaining)


class FakeChat:
    """A chat as the test reads it: the bot's messages, files and callback answers."""

    def __init__(self, tg: FakeTelegram, chat_id: int) -> None:
        self.tg = tg
        self.chat_id = chat_id
        self._world = tg.world

    def messages(self) -> list[BotMessage]:
        """Current state of every live bot message in this chat (edits applied), oldest first."""
        with self._world.lock:
            return [self._world.snapshot(m) for m in self._world.bot_messages(self.chat_id)]

    def last_message(self) -> BotMessage:
        """The newest live bot message; AssertionError with the transcript if there is none."""
        messages = self.messages()
        if not messages:
            raise AssertionError(f"the bot has sent nothing here\n{self.transcript()}")
        return messages[-1]

    def documents(self) -> list[SentFile]:
        """Documents and photos the bot sent here, oldest first."""
        return [m.file for m in self.messages() if m.file is not None]

    def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's answers to button presses in this chat, in press order."""
        with self._world.lock:
            return [
                q.answer
                for q in self._world.callback_queries.values()
                if q.chat_id == self.chat_id and q.answer is not None
            ]

    def chat_actions(self) -> list[str]:
        """sendChatAction actions in this chat ("typing", ...)."""
        with self._world.lock:
            return [
                action for chat_id, action in self._world.chat_actions if chat_id == self.chat_id
            ]

    def reply_keyboard(self) -> list[list[dict[str, Any]]] | None:
        """The reply keyboard under the input field now (None: the plain keyboard)."""
        with self._world.lock:
            keyboard = self._world.chats[self.chat_id].reply_keyboard
            return None if keyboard is None else [list(row) for row in keyboard]

    def transcript(self) -> str:
        """The whole chat (user and bot, deleted messages marked) as text."""
        return self._world.transcript(self.chat_id)

    def wait_for(
        self,
        predicate: Callable[[BotMessage], bool],
        timeout: float = DEFAULT_TIMEOUT,
        *,
        fresh: bool = True,
    ) -> BotMessage:
        """Wait for a bot message matching ``predicate`` and return it.

        With ``fresh`` (default) only messages sent or edited after the user's latest action
        count, so an old message cannot answer for a new one. The first match in change order is
        returned. On timeout: AssertionError with the chat transcript.
        """

        def find() -> BotMessage | None:
            chat = self._world.chats[self.chat_id]
            since = chat.action_mark if fresh else -1
            changed = sorted(
                self._world.bot_messages(self.chat_id, since_revision=since),
                key=lambda m: m.revision,
            )
            for message in changed:
                snapshot = self._world.snapshot(message)
                if predicate(snapshot):
                    return snapshot
            return None

        found = self.tg._wait(find, timeout)
        if found is None:
            window = "after the last user action " if fresh else ""
            raise AssertionError(
                f"no matching bot message {window}within {timeout} s\n{self.transcript()}"
            )
        return found

    def wait_for_text(self, substring: str, timeout: float = DEFAULT_TIMEOUT) -> BotMessage:
        """Wait for a fresh bot message whose text (or caption) contains ``substring``."""
        return self.wait_for(lambda m: substring in m.text, timeout)

    def wait_for_callback_answer(
        self, query_id: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> CallbackAnswer:
        """Wait until the bot answered this press (default: the latest press in this chat)."""

        def find() -> CallbackAnswer | None:
            queries = [
                q for q in self._world.callback_queries.values() if q.chat_id == self.chat_id
            ]
            if query_id is not None:
                queries = [q for q in queries if q.query_id == query_id]
            return queries[-1].answer if queries else None

        found = self.tg._wait(find, timeout)
        if found is None:
            raise AssertionError(
                f"callback query {query_id or '(latest)'} not answered within {timeout} s\n"
                f"{self.transcript()}"
            )
        return found


class FakeUser(FakeChat):
    """A Telegram user writing to the bot in one chat (private by default)."""

    def __init__(self, tg: FakeTelegram, user_id: int, chat_id: int) -> None:
        super().__init__(tg, chat_id)
        self.user_id = user_id

    def in_chat(self, chat: FakeChat) -> FakeUser:
        """The same user acting in another chat (e.g. a group)."""
        return FakeUser(self.tg, self.user_id, chat.chat_id)

    def _check_can_write(self) -> None:
        with self._world.lock:
            if self._world.chats[self.chat_id].blocked:
                raise AssertionError("the user blocked the bot; call unblock_bot() first")

    def send_text(self, text: str) -> int:
        """The user sends a text message; returns its message id."""
        self._check_can_write()
        return self._world.user_message(self.user_id, self.chat_id, text)

    def send_command(self, command: str, args: str = "") -> int:
        """The user sends ``/command args`` with the bot_command entity Telegram adds."""
        self._check_can_write()
        command = command if command.startswith("/") else f"/{command}"
        text = f"{command} {args}" if args else command
        entity = {
            "type": "bot_command",
            "offset": 0,
            "length": len(command.encode("utf-16-le")) // 2,
        }
        return self._world.user_message(self.user_id, self.chat_id, text, [entity])

    def share_location(self, latitude: float, longitude: float) -> int:
        """The user shares a location; returns its message id."""
        self._check_can_write()
        return self._world.user_location(self.user_id, self.chat_id, latitude, longitude)

    def press(
        self,
        message: BotMessage | int,
        button_text: str | None = None,
        callback_data: str | None = None,
    ) -> str:
        """Press a button on the message's *current* inline keyboard; returns the query id.

        Give ``button_text`` (exact label, or a unique substring of one) or ``callback_data``.
        AssertionError if the message has no such button now.
        """
        if (button_text is None) == (callback_data is None):
            raise ValueError("pass exactly one of button_text or callback_data")
        message_id = message if isinstance(message, int) else message.message_id
        with self._world.lock:
            record = self._world.messages.get((self.chat_id, message_id))
            live = record is not None and record.from_bot and not record.deleted
            current = self._world.snapshot(record) if record is not None and live else None
        if current is None:
            raise AssertionError(f"no bot message #{message_id} here\n{self.transcript()}")
        data = _find_button(current, button_text, callback_data, self.transcript)
        return self._world.press_button(self.user_id, self.chat_id, message_id, data)

    def press_raw(self, callback_data: str, message_id: int) -> str:
        """Send a callback_query with any data (stale or forged); returns the query id."""
        return self._world.press_button(self.user_id, self.chat_id, message_id, callback_data)

    def block_bot(self) -> None:
        """Block the bot: my_chat_member "kicked" update; later sends to this user answer 403."""
        self._world.set_blocked(self.user_id, blocked=True)

    def unblock_bot(self) -> None:
        """Unblock the bot again (my_chat_member "member" update)."""
        self._world.set_blocked(self.user_id, blocked=False)

    def had_started_the_bot(self) -> None:
        """The user talked to the bot before this run (no update): the bot may write first."""
        with self._world.lock:
            self._world.find_chat(self.chat_id).started = True


def _find_button(
    message: BotMessage,
    button_text: str | None,
    callback_data: str | None,
    transcript: Callable[[], str],
) -> str:
    buttons = [button for row in message.buttons for button in row]
    if callback_data is not None:
        matches = [b for b in buttons if b[1] == callback_data]
    else:
        assert button_text is not None
        matches = [b for b in buttons if b[0] == button_text] or [
            b for b in buttons if button_text in b[0]
        ]
    wanted = button_text if callback_data is None else callback_data
    if len(matches) != 1:
        problem = "no button" if not matches else "several buttons"
        raise AssertionError(
            f"{problem} {wanted!r} on message #{message.message_id}; it has {buttons}\n"
            f"{transcript()}"
        )
    data = matches[0][1]
    if data is None:
        raise AssertionError(f"button {wanted!r} has no callback_data (URL button?)")
    return data
