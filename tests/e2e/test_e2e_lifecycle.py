"""Starting, stopping and restarting the real bot process; deleting a user for good."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_bot import BotProcess, assert_token_hidden, bot_env, question, run_once
from fakebotapi import FakeTelegram

pytestmark = pytest.mark.e2e


def test_restart_in_the_middle_resumes_at_the_same_question(
    tg: FakeTelegram, launch: Callable[[], BotProcess], data_dir: Path, tmp_path: Path
) -> None:
    first = launch()
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    anna.press(question(anna, "Hallo, ich bin dein Fokus-Coach"), button_text="Weiter")
    channels = question(anna, "Deine Kanäle heute")
    anna.press(channels, button_text="LinkedIn")
    anna.wait_for(lambda m: "✅ LinkedIn" in m.button_texts)
    anna.press(channels, button_text="Fertig (1)")
    question(anna, "Deine echte Zeit")

    # A second process on the same folder is refused while the first one runs.
    second = run_once(
        ["run", "--base-url", tg.base_url, "--data-dir", str(data_dir)],
        env=bot_env(tg.token),
        cwd=tmp_path,
    )
    assert second.returncode == 2
    assert "in use by another focus-coach process" in second.stderr
    assert_token_hidden(second.stdout + second.stderr, tg.token)

    assert first.stop() == 0
    launch()
    anna.send_command("/start")

    anna.wait_for_text("Willkommen zurück")
    resumed = question(anna, "Deine echte Zeit")
    assert "3 Std." in resumed.button_texts
    assert tg.pending_updates() == 0


def test_delete_removes_the_user_from_disk(
    tg: FakeTelegram, launch: Callable[[], BotProcess], data_dir: Path
) -> None:
    bot = launch()
    user_id = 987654321
    carla = tg.user(user_id, "Carla", "en")
    carla.send_command("/start")
    carla.press(question(carla, "Nobody can do every social network"), button_text="Continue")
    question(carla, "Step 1 of 6")
    stored = [p for p in data_dir.rglob("*") if str(user_id) in p.name]
    assert stored  # the answers are on disk now

    carla.send_command("/delete")
    confirm = question(carla, "Really delete everything?")
    carla.press(confirm, button_text="Yes, delete everything")
    carla.wait_for_text("everything I had stored about you is deleted")
    assert bot.stop() == 0

    mentions = [
        path
        for path in data_dir.rglob("*")
        if str(user_id) in path.name
        or (path.is_file() and str(user_id) in path.read_text(errors="replace"))
    ]
    assert mentions == []


def test_rate_limit_answer_is_waited_out(
    tg: FakeTelegram, launch: Callable[[], BotProcess]
) -> None:
    launch()
    anna = tg.user(1001, "Anna", "de")
    tg.inject_error("sendMessage", 429, retry_after=1)

    anna.send_command("/start")

    question(anna, "Hallo, ich bin dein Fokus-Coach")
    assert [r.status for r in tg.requests("sendMessage")] == [429, 200]


def test_without_a_token_the_bot_stops_at_once_and_says_how_to_get_one(
    tmp_path: Path,
) -> None:
    result = run_once(
        ["run", "--data-dir", str(tmp_path / "data")], env=bot_env(None), cwd=tmp_path
    )

    assert result.returncode == 2
    assert "@BotFather" in result.stderr and "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_token_is_reported_without_a_traceback(tg: FakeTelegram, tmp_path: Path) -> None:
    wrong = "7000000002:AAWrongTokenForFokusCoachTests-987654"

    result = run_once(
        ["run", "--base-url", tg.base_url, "--data-dir", str(tmp_path / "data")],
        env=bot_env(wrong),
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert "Telegram rejected the bot token" in result.stderr
    assert "Traceback" not in result.stderr
    assert_token_hidden(result.stdout + result.stderr, wrong)


def test_an_unreachable_bot_api_is_named(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "7000000001:AAFakeTokenForFokusCoachTests-0123456789"

    result = run_once(
        ["run", "--base-url", f"http://127.0.0.1:{port}/bot", "--data-dir", str(tmp_path / "d")],
        env=bot_env(token),
        cwd=tmp_path,
    )

    assert result.returncode == 3
    assert f"cannot reach the Bot API at http://127.0.0.1:{port}/bot" in result.stderr
    assert "Traceback" not in result.stderr
    assert_token_hidden(result.stdout + result.stderr, token)
