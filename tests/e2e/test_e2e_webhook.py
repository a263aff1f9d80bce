"""Webhook mode end to end: the real process serves its own webhook; the secret is enforced.

The fake Bot API records setWebhook and, like Telegram, keeps the users' updates queued while a
webhook is set (getUpdates answers 409 then). The test plays Telegram's delivery: it takes a
queued update and POSTs it to the bot's webhook port, with or without the secret header.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import pytest
from e2e_bot import START_TIMEOUT, BotProcess, bot_env, question, run_once, tap
from fakebotapi import FakeTelegram
from test_e2e_checkins import FAST_TICKS, seed_due_users
from test_e2e_secrets import assert_hidden

from bot.telegram.logs import REDACTED

pytestmark = pytest.mark.e2e

SECRET = "Webhook_Secret-0123456789abcdefXYZ"
HOOK_PATH = "/telegram/hook-5f1c0a7e"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WebhookBot(BotProcess):
    """`focus-coach run --webhook-url ... --webhook-secret ...` as an operator starts it."""

    def __init__(self, tg: FakeTelegram, data_dir: Path, logs_dir: Path, env: dict[str, str]):
        super().__init__(tg, data_dir, logs_dir, "webhook-bot", env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def start(self) -> Self:
        """Start the bot; return once it set its webhook and its server accepts connections."""
        started = time.monotonic()
        args = [
            *("run", "--base-url", self.tg.base_url, "--data-dir", str(self.data_dir)),
            *("--webhook-url", self.url, "--webhook-secret", SECRET),
            *("--listen", "127.0.0.1", "--port", str(self.port)),
        ]
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                env={**bot_env(self.tg.token), **self.env},
                cwd=self.cwd,
                stdout=out,
                stderr=err,
            )
        deadline = started + START_TIMEOUT
        while not self._accepts_connections():
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited at start-up:\n{self.output()}")
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"the webhook server did not start:\n{self.output()}")
            # Sleeps on the fake's condition until the bot calls setWebhook (then the server
            # binds its port right away).
            with contextlib.suppress(AssertionError):
                self.tg.wait_for_request(
                    "setWebhook", lambda r: r.monotonic >= started, timeout=0.1
                )
        return self

    def _accepts_connections(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def post(self, update: dict[str, Any], secret: str | None, path: str = HOOK_PATH) -> int:
        """POST ``update`` to the webhook as Telegram would; return the HTTP status."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=json.dumps(update).encode("utf-8"),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return refused.code


def queued_update(tg: FakeTelegram) -> dict[str, Any]:
    """The oldest update Telegram holds for the bot, taken off the queue to deliver it."""
    with tg.world.lock:
        assert tg.world.pending_updates, "no update queued"
        return tg.world.pending_updates.pop(0)


@pytest.fixture
def webhook_bot(
    tg: FakeTelegram, data_dir: Path, tmp_path: Path
) -> Iterator[Callable[..., WebhookBot]]:
    """Start webhook bots; each stops cleanly at the end, no secret ever printed."""
    started: list[WebhookBot] = []

    def start(env: dict[str, str] | None = None) -> WebhookBot:
        bot = WebhookBot(tg, data_dir, tmp_path, env or {})
        started.append(bot.start())
        return bot

    yield start
    codes = [bot.stop() for bot in started]
    for bot in started:
        assert_hidden(bot.output(), tg.token, SECRET)
    assert codes == [0] * len(started), "\n".join(bot.output() for bot in started)


def test_only_updates_with_the_secret_are_served(
    tg: FakeTelegram,
    webhook_bot: Callable[..., WebhookBot],
    launch: Callable[..., BotProcess],
) -> None:
    bot = webhook_bot()
    with tg.world.lock:
        webhook = tg.world.webhook
        assert (webhook.url, webhook.secret_token) == (bot.url, SECRET)
        assert webhook.allowed_updates == ["message", "callback_query", "my_chat_member"]
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    start = queued_update(tg)

    assert bot.post(start, secret=None) == 403
    assert bot.post(start, secret="Wrong_Secret-0123456789abcdefXYZ") == 403
    assert bot.post(start, secret=SECRET[:-1]) == 403
    assert bot.post(start, secret=SECRET, path="/") == 404  # the path is part of the address
    assert bot.post(start, secret=SECRET) == 200

    greeting = question(anna, "Hallo, ich bin dein Fokus-Coach")
    tap(anna, greeting, "continue")
    assert bot.post(queued_update(tg), secret=SECRET) == 200
    question(anna, "Deine Kanäle heute")
    # One user's updates are handled in arrival order, so a refused /start that had been
    # handled after all would have greeted Anna before this answer came.
    greetings = [m for m in anna.messages() if "Hallo, ich bin dein Fokus-Coach" in m.text]
    assert len(greetings) == 1
    assert tg.requests("getUpdates") == []  # no polling in webhook mode
    assert bot.stop() == 0

    # Back to long polling on the same data: the webhook is deleted, queued updates arrive.
    anna.send_command("/start")
    launch()
    anna.wait_for_text("Willkommen zurück")
    with tg.world.lock:
        assert tg.world.webhook.url == ""


def test_reminders_go_out_in_webhook_mode(
    tg: FakeTelegram, webhook_bot: Callable[..., WebhookBot], data_dir: Path
) -> None:
    seed_due_users(data_dir, [2001], datetime.now(UTC).replace(second=0, microsecond=0))
    anna = tg.user(2001, "Anna", "de")
    anna.had_started_the_bot()

    webhook_bot(FAST_TICKS)  # the reminder job starts in post_init, as with polling

    anna.wait_for(lambda m: "Zeit für deinen Fokus-Check-in" in m.text, timeout=30)


def test_a_refused_webhook_and_a_taken_port_are_reported(tg: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    args = [
        *("run", "--base-url", tg.base_url, "--data-dir", str(tmp_path / "data")),
        *("--webhook-url", f"https://bot.example.org{HOOK_PATH}", "--port", str(port)),
    ]
    env = {**bot_env(tg.token), "TELEGRAM_WEBHOOK_SECRET": SECRET}
    echoed = f"Bad Request: bad webhook: POST /bot{tg.token}/setWebhook?secret_token={SECRET}"
    tg.inject_error("setWebhook", 400, echoed)

    refused = run_once(args, env=env, cwd=tmp_path)

    assert refused.returncode == 2
    # PTB drops the "Bad Request: " prefix and lowercases the rest.
    assert (
        "focus-coach: the Bot API refused to set the webhook: Bad webhook: "
        f"post /bot{REDACTED}/setwebhook?secret_token={REDACTED}\n"
    ) in refused.stderr
    assert_hidden(refused.stdout + refused.stderr, tg.token, SECRET)

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        busy = run_once(args, env=env, cwd=tmp_path)

    assert busy.returncode == 2
    assert f"focus-coach: cannot listen on 127.0.0.1:{port}" in busy.stderr
    assert "Traceback" not in busy.stderr
    assert_hidden(busy.stdout + busy.stderr, tg.token, SECRET)
