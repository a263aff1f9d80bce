"""Starting, stopping and restarting the real bot process; deleting a user for good."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_bot import BotProcess, assert_token_hidden, bot_env, question, run_once, tap
from fakebotapi import FakeTelegram
from test_e2e_checkins import onboard

pytestmark = pytest.mark.e2e


def test_restart_in_the_middle_resumes_at_the_same_question(
    tg: FakeTelegram, launch: Callable[[], BotProcess], data_dir: Path, tmp_path: Path
) -> None:
    first = launch()
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    tap(anna, question(anna, "Hallo, ich bin dein Fokus-Coach"), "continue")
    channels = question(anna, "Deine Kanäle heute")
    tap(anna, channels, "linkedin")
    anna.wait_for(lambda m: "✅ LinkedIn" in m.button_texts)
    tap(anna, channels, "done")
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


def test_export_holds_everything_stored_and_delete_leaves_no_trace_on_disk(
    tg: FakeTelegram, launch: Callable[[], BotProcess], data_dir: Path
) -> None:
    bot = launch()
    user_id = 987654321
    anna = tg.user(user_id, "Anna", "de")
    onboard(anna)
    tap(anna, question(anna, "Das ist dein Plan"), "setup_checkin")
    tap(anna, question(anna, "An welchem Tag"), "mon")
    question(anna, "Um wie viel Uhr")
    anna.send_text("08:00")
    tap(anna, question(anna, "In welcher Zeitzone"), "Europe/Berlin")
    anna.wait_for_text("Check-in eingerichtet")
    (user_file,) = data_dir.glob(f"users/*/{user_id}.json")
    # A copy kept from an earlier damage of the file (the repository moves such files aside).
    damaged = user_file.with_name(f"{user_file.name}.damaged-20260101T000000.000000Z")
    damaged.write_bytes(b'{"user": {"1": {"user_id": "987654321", "lang": "de"')
    before = mentioning(data_dir, user_id)
    assert user_file in before and damaged in before
    assert len([p for p in before if p.parent == data_dir / "schedule"]) == 1  # the index entry

    anna.send_command("/export")

    exported = anna.wait_for(lambda m: m.file is not None).file
    assert exported is not None
    on_disk = json.loads(user_file.read_bytes())
    assert set(on_disk) == {"user"}  # one table, one record: nothing stored beside it
    stored = dict(on_disk["user"]["1"])
    assert stored.pop("schema") == 1
    document = json.loads(exported.data)
    # The export is built before the /export turn itself is saved, which stamps a new time
    # and remembers the /export update as handled.
    assert document.pop("updated_at") <= stored.pop("updated_at")
    handled, exported_handled = stored.pop("handled"), document.pop("handled")
    assert handled[-1] not in exported_handled and set(handled[:-1]) <= set(exported_handled)
    # Everything stored, plus the plan versions listed readably.
    versions = document.pop("plan_versions")
    assert document == stored
    assert [(v["version"], v["current"]) for v in versions] == [(1, True)]
    assert stored["reminder"]["weekday"] == 0 and stored["plan"]  # a full user, not a stub

    anna.send_command("/delete")
    tap(anna, question(anna, "Wirklich alles löschen?"), "delete_yes")
    anna.wait_for_text("ist gelöscht")
    assert bot.stop() == 0

    assert mentioning(data_dir, user_id) == []
    assert not user_file.parent.exists()  # the shard folder held only this user


def mentioning(data_dir: Path, user_id: int) -> list[Path]:
    """Every path under ``data_dir`` whose name or bytes contain the user's id."""
    needle = str(user_id)
    return sorted(
        path
        for path in data_dir.rglob("*")
        if needle in path.name or (path.is_file() and needle.encode() in path.read_bytes())
    )


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
