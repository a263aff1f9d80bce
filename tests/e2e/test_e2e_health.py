"""Health end to end: the real bot process writes its heartbeat, ``focus-coach health`` and the
webhook's ``GET /healthz`` judge it; the log options shape what the process writes.

A polling bot on a fresh data folder, with JSON log lines at INFO: health says ok while it
ticks, stopped after SIGTERM, and names a corrupt file. A webhook bot answers /healthz 200, then
503 once its heartbeat is old; bad requests get their status and nothing breaks; an update
received just before SIGTERM is still answered.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e_bot import BotProcess, bot_env, question, run_once
from fakebotapi import FakeTelegram
from test_e2e_secrets import assert_hidden
from test_e2e_webhook import HOOK_PATH, SECRET, SECRET_HEADER, WebhookBot, queued_update

from bot import __version__
from bot.heartbeat import HEARTBEAT_FILE

pytestmark = pytest.mark.e2e

FAST_TICKS = {"FOCUS_COACH_TICK_SECONDS": "0.5"}
# Ticks on a grid this coarse do not come again during a test: only the catch-up tick at start.
NO_MORE_TICKS = {"FOCUS_COACH_TICK_SECONDS": "1000000"}


def health(data_dir: Path, tmp_path: Path) -> tuple[int, str]:
    """``python -m bot health --data-dir DATA_DIR``: the exit code and what it printed."""
    done = run_once(["health", "--data-dir", str(data_dir)], env=bot_env(None), cwd=tmp_path)
    assert done.stderr == ""
    return done.returncode, done.stdout


def read_heartbeat(data_dir: Path) -> dict[str, object]:
    return json.loads((data_dir / HEARTBEAT_FILE).read_text(encoding="utf-8"))


def wait_for_ticks(data_dir: Path, after: datetime, timeout: float = 15) -> dict[str, object]:
    """The heartbeat once it records a tick that finished after ``after``."""
    deadline = time.monotonic() + timeout
    while True:
        beat = read_heartbeat(data_dir) if (data_dir / HEARTBEAT_FILE).exists() else {}
        last = beat.get("last_tick_at")
        if isinstance(last, str) and datetime.fromisoformat(last) > after:
            return beat
        assert time.monotonic() < deadline, f"no tick after {after}: {beat}"
        time.sleep(0.1)


def test_health_follows_a_polling_bot_from_start_to_stop(
    tg: FakeTelegram, data_dir: Path, tmp_path: Path, launch: Callable[..., BotProcess]
) -> None:
    assert health(data_dir, tmp_path) == (
        1,
        f"no heartbeat in {data_dir}: the bot has not started there\n",
    )
    started = datetime.now(UTC)
    bot = launch({**FAST_TICKS, "FOCUS_COACH_LOG_FORMAT": "json"})
    first = wait_for_ticks(data_dir, started)
    beat = wait_for_ticks(data_dir, datetime.fromisoformat(str(first["last_tick_at"])))

    assert set(beat) == {
        "version",
        "pid",
        "mode",
        "tick_seconds",
        "started_at",
        "last_tick_at",
        "stopped_at",
        "tick_started_at",
        "tick_settled",
        "progress_at",
        "status",  # the cheap operator figures, for `health --details`
    }
    assert bot.process is not None
    assert beat["pid"] == bot.process.pid
    assert (beat["version"], beat["mode"], beat["tick_seconds"]) == (__version__, "polling", 0.5)
    assert beat["stopped_at"] is None
    code, line = health(data_dir, tmp_path)
    assert code == 0, line
    assert line.startswith("ok: last tick ")
    assert line.endswith(f" s ago (pid {beat['pid']}, focus-coach {__version__})\n")

    assert bot.stop() == 0
    code, line = health(data_dir, tmp_path)
    assert code == 1
    assert line.startswith("stopped: the bot stopped ")
    # JSON lines only, at INFO: no scheduler tick lines, no warning about the fresh folder.
    records = [json.loads(text) for text in bot.stderr_path.read_text().splitlines()]
    assert records, "the bot logged nothing"
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in records)
    assert all(datetime.fromisoformat(r["time"]).utcoffset() == timedelta(0) for r in records)
    messages = [r["message"] for r in records]
    assert any(m.startswith("Fokus-Coach is running as @") for m in messages), messages
    assert not [m for m in messages if "Running job" in m or "executed successfully" in m]
    assert [r for r in records if r["level"] in {"WARNING", "ERROR", "CRITICAL"}] == []

    (data_dir / HEARTBEAT_FILE).write_text('{"version": "0.1.0", "pid": ', encoding="utf-8")
    assert health(data_dir, tmp_path) == (
        1,
        f"unreadable heartbeat: {data_dir / HEARTBEAT_FILE}: not JSON\n",
    )


def get(port: int, path: str) -> tuple[int, str]:
    """GET ``path`` on the bot's webhook port: the status and the body."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def raw_post(port: int, body: bytes, headers: dict[str, str], *, send_body: bool = True) -> int:
    """POST to the webhook path with exactly these headers; the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", HOOK_PATH)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body if send_body else None)
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_webhook_server_answers_healthz_and_refuses_bad_requests(
    tg: FakeTelegram, data_dir: Path, tmp_path: Path
) -> None:
    started = datetime.now(UTC)
    bot = WebhookBot(tg, data_dir, tmp_path, {**NO_MORE_TICKS, "FOCUS_COACH_LOG_LEVEL": "debug"})
    try:
        bot.start()
        beat = wait_for_ticks(data_dir, started)
        assert beat["mode"] == "webhook"
        assert get(bot.port, "/healthz") == (200, "ok\n")

        with_secret = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        assert get(bot.port, HOOK_PATH)[0] == 405
        assert raw_post(bot.port, b"{not json", {**with_secret, "Content-Length": "9"}) == 400
        assert raw_post(bot.port, b"[1, 2]", {**with_secret, "Content-Length": "6"}) == 400
        assert raw_post(bot.port, b'{"a": 1}', {**with_secret, "Content-Length": "8"}) == 400
        assert raw_post(bot.port, b"{}", {"Content-Length": "2"}) == 403
        huge = {**with_secret, "Content-Length": str(50 * 1024 * 1024)}
        assert raw_post(bot.port, b"", huge, send_body=False) == 413
        too_big = b'{"update_id": 1, "x": "' + b"x" * (2 * 1024 * 1024) + b'"}'
        chunked = {**with_secret, "Transfer-Encoding": "chunked"}
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(too_big), too_big)
        assert raw_post(bot.port, body, chunked) == 413  # no size announced: counted as read
        assert get(bot.port, "/elsewhere")[0] == 404

        # Still serving after all that: a real update is answered.
        anna = tg.user(3001, "Anna", "de")
        anna.send_command("/start")
        assert bot.post(queued_update(tg), secret=SECRET) == 200
        question(anna, "Hallo, ich bin dein Fokus-Coach")

        # An old heartbeat of a bot ticking every minute (no tick renews it in this test; the
        # bot's own ticks are too rare to judge by): /healthz says why it is unhealthy.
        old = datetime.now(UTC) - timedelta(minutes=9)
        stale = {**read_heartbeat(data_dir), "last_tick_at": old.isoformat(), "tick_seconds": 60}
        (data_dir / HEARTBEAT_FILE).write_text(json.dumps(stale), encoding="utf-8")
        status, body = get(bot.port, "/healthz")
        assert status == 503
        assert body.startswith("stale: last tick 9 min ago, more than 3 min (pid ")
        assert health(data_dir, tmp_path)[0] == 1
    finally:
        assert bot.stop() == 0, bot.output()
    output = bot.output()
    assert_hidden(output, tg.token, SECRET)
    # FOCUS_COACH_LOG_LEVEL=debug shows the bot's own DEBUG lines, refusals without their path.
    assert "DEBUG bot.telegram.webhook_server: webhook server: 403 for a POST request" in output
    assert "DEBUG bot.telegram.webhook_server: webhook server: 413 for a POST request" in output
    assert HOOK_PATH not in output
    assert "tornado" not in output  # no second answer to the body announced too big
    assert "Traceback" not in output


def test_an_update_received_before_sigterm_is_still_answered(
    tg: FakeTelegram, data_dir: Path, tmp_path: Path
) -> None:
    bot = WebhookBot(tg, data_dir, tmp_path, NO_MORE_TICKS)
    bot.start()
    anna = tg.user(3002, "Anna", "de")
    anna.send_command("/start")
    try:
        assert bot.post(queued_update(tg), secret=SECRET) == 200
        assert bot.process is not None
        os.kill(bot.process.pid, 15)  # SIGTERM right after the update is queued
    finally:
        assert bot.stop() == 0, bot.output()

    question(anna, "Hallo, ich bin dein Fokus-Coach")
    assert "stopped: the bot stopped " in health(data_dir, tmp_path)[1]
    assert_hidden(bot.output(), tg.token, SECRET)
