"""The real processes of the restart test: ``focus-coach chat`` on a pipe, ``focus-coach run``
against the fake Bot API, each started on a data folder and killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

from fakebotapi import BotMessage, FakeTelegram, FakeUser

from bench.process import REPO_ROOT, bot_env
from bot.core.messages import ButtonPress, Command, Inbound, Reply

__all__ = ["CHAT_USER", "ChatProcess", "TelegramChat", "TelegramProcess", "form"]

# The terminal chat's user id comes from the login name: this one gives "console:restart-test".
CHAT_USER = "restart-test"
_READ_SIZE = 65536
# Bot messages looked at, newest first: the bot edits only its latest question and the message
# a button was pressed on, so older ones never change; scanning all would grow with the run.
_RECENT_MESSAGES = 60
_IN_THE_SOCKET = 0.02  # seconds for a request written just before a kill to reach the fake
_SETTLE_TIMEOUT = 5.0


def _spawn(
    args: list[str], env: dict[str, str], log: Path, **pipes: int
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            env=env,
            cwd=REPO_ROOT,
            stdout=pipes.get("stdout", out),
            stderr=out,
            stdin=pipes.get("stdin", subprocess.DEVNULL),
        )


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGKILL)
    if process is not None:
        process.wait()


class ChatProcess:
    """``python -m bot chat`` with its stdin and stdout on pipes; ``output`` is all it printed."""

    def __init__(self, data_dir: Path, lang: str, log: Path) -> None:
        """Chat in ``lang`` on ``data_dir``; stderr goes to ``log``."""
        self.data_dir = data_dir
        self.lang = lang
        self.log = log
        self.output = bytearray()
        self.ended = False  # its output reached its end: it is gone
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        """Start the chat (it greets with its own /start at once)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOCUS_COACH_")}
        env.update(USER=CHAT_USER, LOGNAME=CHAT_USER, PYTHONIOENCODING="utf-8", NO_COLOR="1")
        args = ["chat", "--data-dir", str(self.data_dir), "--lang", self.lang]
        self.output = bytearray()
        self.ended = False
        self.process = _spawn(args, env, self.log, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(self, line: str) -> None:
        """Type one line."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(line.encode("utf-8") + b"\n")
        self.process.stdin.flush()

    def read(self, start: int, expected: bytes, deadline: float) -> None:
        """Read until the output from ``start`` is ``expected``, departs from it, or time is up."""
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while True:
            got = bytes(self.output[start:])
            if len(got) >= len(expected) or not expected.startswith(got):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, _READ_SIZE)
                if not chunk:  # it exited: nothing more will come
                    self.ended = True
                    return
                self.output += chunk

    def kill(self) -> None:
        """SIGKILL; what it printed before dying is read to the end (the user saw it)."""
        process, self.process = self.process, None
        _kill(process)
        if process is not None and process.stdout is not None:
            while chunk := os.read(process.stdout.fileno(), _READ_SIZE):
                self.output += chunk
            process.stdout.close()
        if process is not None and process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):  # a line it never read
                process.stdin.close()


class TelegramProcess:
    """``python -m bot run --base-url <fake>``; stdout and stderr go to ``log``."""

    def __init__(self, tg: FakeTelegram, data_dir: Path, log: Path) -> None:
        """Run against ``tg`` on ``data_dir``."""
        self.tg = tg
        self.data_dir = data_dir
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self._requests_before = 0  # requests the fake had received before this process

    def spawn(self) -> None:
        """Start the bot (ready once it polls)."""
        args = ["run", "--base-url", self.tg.base_url, "--data-dir", str(self.data_dir)]
        with self.tg.world.lock:
            self._requests_before = len(self.tg.world.requests)
        self.process = _spawn(args, bot_env(self.tg.token), self.log)

    def ready(self) -> bool:
        """Whether it has asked for updates (flows loaded, folder locked, menu published)."""
        with self.tg.world.lock:
            since = self.tg.world.requests[self._requests_before :]
        return any(request.method == "getUpdates" for request in since)

    def kill(self) -> None:
        """SIGKILL."""
        process, self.process = self.process, None
        _kill(process)

    def exited(self) -> bool:
        """Whether it ended by itself."""
        return self.process is not None and self.process.poll() is not None


def form(item: Reply | BotMessage) -> tuple[str, tuple[tuple[str, str | None], ...]]:
    """A reply or a Telegram message as compared: HTML text, button captions and data."""
    if isinstance(item, Reply):
        buttons = tuple((b.label, b.data) for row in item.buttons for b in row)
        return item.text, buttons
    return item.html, tuple((label, data) for row in item.buttons for label, data in row)


class TelegramChat:
    """The scripted user's private chat, as the fake Bot API holds it."""

    def __init__(self, tg: FakeTelegram, user: FakeUser) -> None:
        """Watch ``user``'s chat on ``tg``."""
        self.tg = tg
        self.user = user

    def revision(self) -> int:
        """The fake's change counter: later bot messages and edits have a higher one."""
        with self.tg.world.lock:
            return self.tg.world.revision

    def recent(self, *, since: int = -1) -> list[tuple[int, BotMessage]]:
        """The bot's latest messages changed after revision ``since``, newest first."""
        world = self.tg.world
        with world.lock:
            records = [
                record
                for record in islice(reversed(world.messages.values()), 2 * _RECENT_MESSAGES)
                if record.chat_id == self.user.chat_id and record.from_bot and not record.deleted
            ][:_RECENT_MESSAGES]
            return [(r.revision, world.snapshot(r)) for r in records if r.revision > since]

    def changed_since(self, mark: int) -> list[BotMessage]:
        """The bot's messages sent or edited after ``mark``, in the order of those changes."""
        return [message for _, message in sorted(self.recent(since=mark), key=lambda i: i[0])]

    def send(self, inbound: Inbound) -> int | None:
        """Send a command or text, or press the button on the newest message that shows it.

        Returns the update's id (what the bot remembers as handled); None if no message shows
        the button.
        """
        if isinstance(inbound, Command):
            self.user.send_command(f"/{inbound.name}", inbound.args)
        elif isinstance(inbound, ButtonPress):
            carrying = [m for _, m in self.recent() if _has_button(m, inbound.data)]
            if not carrying:
                return None
            self.user.press(carrying[0], callback_data=inbound.data)
        else:
            self.user.send_text(inbound.text)
        with self.tg.world.lock:  # the bench's only user: the newest update is this one
            return self.tg.world.last_update_id

    def shows_button(self, data: str) -> bool:
        """Whether a recent message still shows a button with ``data``."""
        return any(_has_button(m, data) for _, m in self.recent())

    def wait(self, seen: int, deadline: float) -> None:
        """Sleep until the bot changes a message after revision ``seen``, or ``deadline``."""
        world = self.tg.world
        with world.lock:
            remaining = deadline - time.monotonic()
            if world.revision <= seen and remaining > 0:
                world.lock.wait(remaining)

    def settle(self, latency: float) -> None:
        """After a kill: let the fake finish the requests the dead bot had sent.

        A request already in the socket (or waiting out the fake's delay) still changes the
        chat after the bot is gone; it must not land in the next life unseen. The dead bot's
        long poll is left alone: it ends when the next bot polls.
        """
        time.sleep(_IN_THE_SOCKET + latency)
        world, deadline = self.tg.world, time.monotonic() + _SETTLE_TIMEOUT
        with world.lock:
            while any(r.status is None and r.method != "getUpdates" for r in world.requests[-50:]):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                world.lock.wait(remaining)

    def pending_updates(self) -> int:
        """Updates Telegram still holds for the bot (delivered again after a restart)."""
        return self.tg.pending_updates()


def _has_button(message: BotMessage, data: str) -> bool:
    return any(button[1] == data for row in message.buttons for button in row)
