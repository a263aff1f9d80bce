"""The real `focus-coach run` process against the fake Bot API, as the e2e tests start it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Self

from button_keys import find_button_data, flat
from fakebotapi import BotMessage, FakeTelegram, FakeUser

from bot.core.sent_records import as_recorded

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
_OWN_ENV = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN_FILE", "TELEGRAM_BASE_URL")


def stored_document(data_dir: Path, user_id: int | str) -> dict[str, Any]:
    """The user's document as the running bot sees it: the file, and the sent check-ins
    journalled since (read without the folder's lock, which the bot holds)."""
    path = next(data_dir.rglob(f"{user_id}.json"))
    document = as_recorded(data_dir, str(user_id), json.loads(path.read_text())["user"]["1"])
    assert document is not None
    return document


def assert_token_hidden(output: str, token: str) -> None:
    """Neither the token nor its secret part appears in ``output``."""
    secret = token.partition(":")[2]
    assert token not in output
    assert secret not in output


def bot_env(token: str | None) -> dict[str, str]:
    """This environment without any bot settings, plus ``token`` if given."""
    env = {k: v for k, v in os.environ.items() if k not in _OWN_ENV and "FOCUS_COACH" not in k}
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    return env


def run_once(
    args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` to the end (for start-up failures)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class BotProcess:
    """One `focus-coach run` process; stdout and stderr go to files (no pipe can fill up)."""

    def __init__(
        self,
        tg: FakeTelegram,
        data_dir: Path,
        logs_dir: Path,
        name: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.tg = tg
        self.env = env or {}
        self.data_dir = data_dir
        self.stdout_path = logs_dir / f"{name}.out"
        self.stderr_path = logs_dir / f"{name}.err"
        self.cwd = logs_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        """Start the bot and return once it long-polls (its command menu is set by then)."""
        started = time.monotonic()
        args = ["run", "--base-url", self.tg.base_url, "--data-dir", str(self.data_dir)]
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                env={**bot_env(self.tg.token), **self.env},
                cwd=self.cwd,
                stdout=out,
                stderr=err,
            )
        deadline = started + START_TIMEOUT
        while True:
            if any(r.monotonic >= started for r in self.tg.requests("getUpdates")):
                return self
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited at start-up:\n{self.output()}")
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"the bot did not start polling:\n{self.output()}")
            # Sleeps on the fake's condition; wakes at the bot's next request.
            with contextlib.suppress(AssertionError):
                self.tg.wait_for_request(
                    "getUpdates", lambda r: r.monotonic >= started, timeout=0.25
                )

    def stop(self) -> int:
        """SIGTERM, as a service manager would; return the exit code."""
        if self.process is None:
            raise RuntimeError("not started")
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the bot did not stop on SIGTERM:\n{self.output()}") from None

    def output(self) -> str:
        """Everything the process printed so far."""
        parts = [p.read_text(errors="replace") for p in (self.stdout_path, self.stderr_path)]
        return "\n".join(parts)


def question(user: FakeUser, heading: str) -> BotMessage:
    """Wait for a fresh bot message with ``heading`` that carries buttons."""
    return user.wait_for(lambda m: heading in m.text and bool(m.buttons))


def data_of(message: BotMessage, key: str) -> str:
    """The callback_data of the button ``key`` (option id or label key, see button_keys)."""
    return find_button_data(flat(message.buttons), key)


def tap(user: FakeUser, message: BotMessage, key: str) -> str:
    """Press the button ``key`` on the message's current keyboard; returns the query id."""
    current = next((m for m in user.messages() if m.message_id == message.message_id), message)
    return user.press(message, callback_data=data_of(current, key))
