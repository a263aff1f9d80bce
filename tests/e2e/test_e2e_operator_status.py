"""The operator's view end to end: the real bot process, the fake Bot API, a seeded data folder.

An admin's /status shows the figures after a fan-out with a 429 and a blocked user; anyone
else's /status is answered like any unknown command; --metrics-port serves the same figures.
"""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from e2e_bot import BotProcess, bot_env, run_once, stored_document
from fakebotapi import FakeTelegram, FakeUser
from test_e2e_checkins import FAST_TICKS, seed_due_users

from bot.core.schedule import local_week_key
from storage import TinyDBUserRepository

pytestmark = pytest.mark.e2e

REMINDER = "Zeit für deinen Fokus-Check-in"
ADMIN_DE, ADMIN_EN, STRANGER = 9001, 9003, 9002
OK, LIMITED, BLOCKED, PAUSED, GONE, SOON = 3101, 3102, 3103, 3104, 3105, 3106


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def seed(data_dir: Path, now: datetime) -> None:
    """Three users due now, one paused, one who blocked the bot before, one due in 30 minutes."""
    seed_due_users(data_dir, [OK, LIMITED, BLOCKED], now)
    seed_due_users(data_dir, [PAUSED, GONE], now + timedelta(days=3))
    seed_due_users(data_dir, [SOON], now + timedelta(minutes=30))
    repo = TinyDBUserRepository(data_dir)
    try:
        paused = repo.get(str(PAUSED))
        gone = repo.get(str(GONE))
        assert paused is not None and gone is not None
        paused["reminder"]["paused_until"] = (date.today() + timedelta(days=14)).isoformat()
        repo.put(str(PAUSED), paused)
        gone["active"] = False
        repo.put(str(GONE), gone)
    finally:
        repo.close()


def stored(data_dir: Path, uid: int) -> dict[str, object]:
    return stored_document(data_dir, uid)


def status(user: FakeUser, heading: str) -> str:
    """/status until the users are counted (the count runs right after the start)."""
    deadline = time.monotonic() + 15
    while True:
        user.send_command("/status")
        text = user.wait_for_text(heading).text  # only answers after this /status count
        if ("gezählt" not in text and "counted" not in text) or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_status_for_admins_unknown_for_others_and_the_metrics_endpoint(
    tg: FakeTelegram, launch: Callable[..., BotProcess], data_dir: Path, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    seed(data_dir, now)
    users = {uid: tg.user(uid, f"U{uid}", "de") for uid in (OK, LIMITED, BLOCKED, SOON)}
    for user in users.values():
        user.had_started_the_bot()
    tg.inject_error("sendMessage", 429, retry_after=1, chat_id=LIMITED, times=1)
    tg.inject_error(
        "sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=BLOCKED, times=10
    )
    port = free_port()
    launch(
        {
            **FAST_TICKS,
            "FOCUS_COACH_ADMIN_IDS": f"{ADMIN_DE}, {ADMIN_EN}",
            "FOCUS_COACH_METRICS_PORT": str(port),
        }
    )
    for uid in (OK, LIMITED):
        users[uid].wait_for(lambda m: REMINDER in m.text, timeout=30)
    week = local_week_key(now, "Europe/Berlin")

    def settled() -> bool:
        # Each reminder's confirm is written right after its send returns.
        sent = [stored(data_dir, uid)["reminder"]["sent_weeks"] for uid in (OK, LIMITED)]  # type: ignore[index]
        return stored(data_dir, BLOCKED).get("active") is False and all(week in s for s in sent)

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not settled():
        time.sleep(0.1)
    assert settled()

    admin = tg.user(ADMIN_DE, "Olga", "de")
    text = status(admin, "Betriebsstatus")
    print(text)
    assert re.search(r"Fokus-Coach \d\S*: Betriebsstatus", text)
    assert re.search(r"Läuft seit (\d+ Min\. )?\d+ Sek\.", text)
    # OK, LIMITED and SOON active; PAUSED paused; BLOCKED (403 just now) and GONE blocked.
    assert "3 aktiv, 1 pausiert, 2 haben den Bot blockiert (6 gespeichert)" in text
    assert "In der nächsten Stunde fällig: 1\n" in text  # SOON
    assert re.search(r"Letzter Durchlauf: vor \d+ Sek\.", text)
    # Two reminders went out; the 429 was retried; the 403 is no failure of the bot.
    sends = int(re.search(r"gesendet oder bearbeitet: (\d+)", text)[1])  # type: ignore[index]
    assert sends >= 2
    assert "davon Check-ins: 2\n" in text
    assert "429 von Telegram („zu schnell“): 1, danach wiederholt: 1" in text
    assert "Aufgegeben: 0 Nachrichten, 0 Check-ins" in text
    assert "Warten gerade auf den Rate-Limiter: 0" in text

    english = status(tg.user(ADMIN_EN, "Eve", "en"), "operator status")
    print(english)
    assert "3 active, 1 paused, 2 blocked the bot (6 stored)" in english
    assert "Due in the next hour: 1\n" in english

    # Anyone else: exactly what an unknown command gets, and no trace of /status anywhere.
    stranger = tg.user(STRANGER, "Sam", "de")
    stranger.send_command("/start")
    stranger.wait_for_text("Hallo, ich bin dein Fokus-Coach")
    stranger.send_command("/status")
    answer = stranger.wait_for_text("kenne ich nicht").text
    stranger.send_command("/statux")
    other = stranger.wait_for(lambda m: "/statux" in m.text).text
    assert answer == other.replace("/statux", "/status")
    assert "Betriebsstatus" not in " ".join(m.text for m in stranger.messages())
    stranger.send_command("/help")
    assert "/status" not in stranger.wait_for_text("/help").text
    for request in tg.requests("setMyCommands"):
        assert "status" not in json.dumps(request.params)

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    for line in (
        "focus_coach_checkins_sent_total 2.0",
        "focus_coach_rate_limited_total 1.0",
        "focus_coach_retries_total 1.0",
        "focus_coach_send_failures_total 0.0",
        'focus_coach_users{state="active"} 4.0',  # the stranger is stored now too
        'focus_coach_users{state="paused"} 1.0',
        'focus_coach_users{state="blocked"} 2.0',
        "focus_coach_checkins_due_next_hour 1.0",
        "focus_coach_rate_limiter_queue 0.0",
    ):
        assert line in metrics.splitlines(), metrics
    assert re.search(r"^focus_coach_messages_sent_total \d+\.0$", metrics, re.MULTILINE)
    assert re.search(r"^focus_coach_last_tick_timestamp_seconds \S+$", metrics, re.MULTILINE)
    assert re.search(r'^focus_coach_build_info\{version="[^"]+"\} 1\.0$', metrics, re.MULTILINE)

    # Offline, next to the running bot (which holds the folder's lock): the heartbeat's figures.
    done = run_once(
        ["health", "--details", "--data-dir", str(data_dir)], env=bot_env(None), cwd=tmp_path
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ok: ")
    assert "  check-ins due in the next hour: 1" in lines
    assert re.search(
        r"^  last 24 h: \d+ messages sent or edited, 1 429s \(1 retried\), 0 given up$",
        done.stdout,
        re.MULTILINE,
    )
    assert "  last 24 h: 2 check-ins delivered, 0 given back to try again" in lines
    assert "  waiting for the rate limiter: 0" in lines
