"""The real `focus-coach run` process at start-up when a file or the Bot API is not as expected.

A schedule index shard that cannot be read (a folder or a FIFO in its place) must not stop the
bot or a check-in, nor outlive a user who deletes their data; a server that answers getMe with
something that is not the Bot API is one clear line; a token file other users can read is
used, with a warning like ssh gives for a private key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from e2e_bot import BotProcess, bot_env, question, run_once, tap
from fakebotapi import FakeTelegram
from test_e2e_checkins import FAST_TICKS, seed_due_users
from test_e2e_lifecycle import mentioning
from test_e2e_secrets import assert_hidden
from unreadable import fifo_in_place, folder_in_place

from storage import ScheduleIndex
from storage.tinydb_repo import shard_of

pytestmark = pytest.mark.e2e

REMINDER = "Zeit für deinen Fokus-Check-in"


@pytest.mark.parametrize(
    "make_unreadable", [folder_in_place, fifo_in_place], ids=["folder", "fifo"]
)
def test_an_unreadable_index_shard_neither_stops_the_bot_nor_outlives_a_deleted_user(
    tg: FakeTelegram,
    launch: Callable[..., BotProcess],
    data_dir: Path,
    make_unreadable: Callable[[Path, str], None],
) -> None:
    user_id = 3101
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    seed_due_users(data_dir, [user_id], now)
    ScheduleIndex(data_dir).rebuild({str(user_id): now})  # as the last run left it
    shard = data_dir / "schedule" / f"{shard_of(str(user_id))}.json"
    make_unreadable(shard, str(user_id))
    anna = tg.user(user_id, "Anna", "de")
    anna.had_started_the_bot()

    bot = launch(FAST_TICKS)

    reminder = anna.wait_for(lambda m: REMINDER in m.text and bool(m.buttons), timeout=30)
    output = bot.output()
    assert f"Damaged document {shard}" in output
    assert "Traceback" not in output
    assert shard.is_file()  # rebuilt from the user files
    assert list(shard.parent.glob("*.damaged-*")) == []  # and the copy deleted with it

    # Damaged again while the bot runs: this copy is kept until the next start, unless ...
    shard.write_bytes(f'{{"due": {{"{user_id}": "2026-'.encode())
    tap(anna, reminder, "checkin_start")
    question(anna, "Fokus-Check-in")
    # ... the user deletes their data: then nothing with their id stays on disk.
    anna.send_command("/delete")
    tap(anna, question(anna, "Wirklich alles löschen?"), "delete_yes")
    anna.wait_for_text("ist gelöscht")
    assert bot.stop() == 0

    assert mentioning(data_dir, user_id) == []


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (
            200,
            "<!DOCTYPE html>\n<html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>",
            "text/html",
            "its answer to getMe is not JSON; it starts with '<!DOCTYPE html> <html><body>"
            "<h1>Welcome to the hotel Wi-Fi</h1></body></html>'",
        ),
        (
            502,
            "<html><head><title>502 Bad Gateway</title></head><body>{echo}</body></html>",
            "text/html",
            "its answer to getMe is not JSON; it starts with '<html><head><title>502 Bad "
            "Gateway</title></head><body>upstream failed on /bot[redacted]/getMe</body...'",
        ),
        (
            200,
            '{"ok": true}',
            "application/json",
            "its answer to getMe is JSON but no bot (KeyError: 'result')",
        ),
    ],
    ids=["html-200", "html-502-echoing-the-token", "json-without-result"],
)
def test_a_server_that_does_not_answer_like_the_bot_api_is_one_line(
    tg: FakeTelegram, tmp_path: Path, status: int, body: str, content_type: str, expected: str
) -> None:
    echo = f"upstream failed on /bot{tg.token}/getMe"
    tg.inject_raw_answer("getMe", status, body.replace("{echo}", echo), content_type)

    result = run_once(
        ["run", "--base-url", tg.base_url, "--data-dir", str(tmp_path / "data")],
        env=bot_env(tg.token),
        cwd=tmp_path,
    )

    assert result.returncode == 3
    assert result.stderr == (
        f"focus-coach: the server at {tg.base_url} does not answer like the Bot API: "
        f"{expected}. Check --base-url (or TELEGRAM_BASE_URL) and any proxy in between.\n"
    )
    assert_hidden(result.stdout + result.stderr, tg.token)


@pytest.mark.parametrize("mode", [0o644, 0o600], ids=oct)
def test_a_token_file_other_users_can_read_is_used_with_a_warning(
    tg: FakeTelegram, launch: Callable[..., BotProcess], tmp_path: Path, mode: int
) -> None:
    token_file = tmp_path / "bot-token"
    token_file.write_text(tg.token + "\n", encoding="utf-8")
    token_file.chmod(mode)
    env = {"TELEGRAM_BOT_TOKEN": "", "TELEGRAM_BOT_TOKEN_FILE": str(token_file)}

    bot = launch(env)  # it starts either way: the token is read from the file
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    question(anna, "Hallo, ich bin dein Fokus-Coach")

    warning = (
        f"focus-coach: warning: the token file {token_file} (TELEGRAM_BOT_TOKEN_FILE) is "
        f"readable by other users (mode 0644); make it private with: chmod 600 {token_file}\n"
    )
    assert (warning in bot.output()) is (mode == 0o644)
    assert_hidden(bot.output(), tg.token)
    assert os.stat(token_file).st_mode & 0o777 == mode  # only said, never changed
