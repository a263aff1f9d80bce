"""The bot token never reaches the output of the real process, whatever goes wrong.

Each test drives the real `focus-coach run` process down one failure path and then searches
everything it printed (stdout and stderr: every log line and traceback) for the token, its
secret part after the ':' and their URL-quoted forms. Where an error message *carries* the
token (a Bot API server that echoes the request path), the output must show the redaction
marker instead, so these tests fail if the failure path was never taken.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from e2e_bot import BotProcess, bot_env, question, run_once
from fakebotapi import FakeTelegram

from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.telegram.logs import REDACTED

pytestmark = pytest.mark.e2e

LOG_TIMEOUT = 20.0


def secret_forms(secret: str) -> list[str]:
    """``secret`` as it could leak: whole, after the bot id, and URL-quoted."""
    after_id = secret.partition(":")[2]
    forms = {secret, quote(secret, safe=""), quote(secret)}
    if after_id:
        forms |= {after_id, quote(after_id, safe="")}
    return sorted(forms)


def assert_hidden(output: str, *secrets: str) -> None:
    """No form of any of ``secrets`` appears in ``output``, in any letter case.

    PTB capitalises some error descriptions (all but the first letter lowercased), and a
    lowercased token is still most of the token.
    """
    folded = output.lower()
    leaked = [
        form for secret in secrets for form in secret_forms(secret) if form.lower() in folded
    ]
    assert leaked == [], output


def echoing(token: str, what: str) -> str:
    """An error description that quotes the request path, as some proxies and servers do."""
    return f"{what}: upstream failed on POST /bot{token}/x ({quote(token, safe='')})"


def wait_for_output(bot: BotProcess, *needles: str) -> str:
    """The process output once it contains every needle (the log line is written by then)."""
    deadline = time.monotonic() + LOG_TIMEOUT
    while True:
        output = bot.output()
        if all(needle in output for needle in needles):
            return output
        if time.monotonic() > deadline:
            raise AssertionError(f"the bot never logged {needles}:\n{output}")
        time.sleep(0.05)  # the process writes its log lines to a file; nothing to wait on


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_errors_that_quote_the_token_are_logged_redacted(
    tg: FakeTelegram, launch: Callable[..., BotProcess], log_format: str
) -> None:
    bot = launch({"FOCUS_COACH_LOG_FORMAT": log_format})
    anna = tg.user(1001, "Anna", "de")
    tg.inject_error("sendMessage", 500, echoing(tg.token, "Internal Server Error"))

    anna.send_command("/start")  # the greeting fails: the handler's error is logged

    output = wait_for_output(bot, "update", "failed", "Internal Server Error", REDACTED)
    assert "Traceback" in output
    assert_hidden(output, tg.token)

    # The poll after the one in flight is answered with an error that quotes the token.
    tg.inject_error("getUpdates", 502, echoing(tg.token, "Bad Gateway"))
    anna.send_command("/start")
    question(anna, "Hallo, ich bin dein Fokus-Coach")
    output = wait_for_output(bot, "Bad Gateway")
    assert_hidden(output, tg.token)
    anna.send_command("/start")
    question(anna, "Hallo, ich bin dein Fokus-Coach")  # polling goes on after the error
    if log_format == "json":
        # One object per line; the traceback (redacted) is a field of its record.
        records = [json.loads(line) for line in bot.stderr_path.read_text().splitlines()]
        failed = [r for r in records if "Traceback" in r.get("exc_info", "")]
        assert failed, records
        assert all(REDACTED in r["exc_info"] or "/bot" not in r["exc_info"] for r in failed)


def test_a_handler_that_raises_logs_the_traceback_without_the_token(
    tg: FakeTelegram, launch: Callable[..., BotProcess], tmp_path: Path
) -> None:
    # Coaching content that passes `focus-coach check` but fails at run time for one command.
    prompts = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, prompts)
    template = prompts / "templates" / "en" / "common" / "unknown_command.j2"
    with template.open("a", encoding="utf-8") as text:
        text.write('{% if command == "boom" %}{{ 1 // 0 }}{% endif %}\n')
    bot = launch({"FOCUS_COACH_PROMPTS_DIR": str(prompts)})
    carla = tg.user(1002, "Carla", "en")
    carla.send_command("/start")
    question(carla, "Nobody can do every social network")

    carla.send_command("/boom")

    carla.wait_for_text("something went wrong on my side")
    output = wait_for_output(bot, "Traceback", "ZeroDivisionError")
    assert_hidden(output, tg.token)


def test_the_bot_api_going_away_mid_run_is_logged_without_the_token(
    tg: FakeTelegram, launch: Callable[..., BotProcess]
) -> None:
    bot = launch()
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    question(anna, "Hallo, ich bin dein Fokus-Coach")

    tg.stop()  # the server is gone: long polling fails from now on

    output = wait_for_output(bot, "NetworkError")
    assert_hidden(output, tg.token)
    assert bot.stop() == 0  # stops on SIGTERM although the Bot API is unreachable
    assert_hidden(bot.output(), tg.token)


def test_a_start_up_error_that_quotes_the_token_is_printed_redacted(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.inject_error("getMe", 502, echoing(tg.token, "Bad Gateway"))

    result = run_once(
        ["run", "--base-url", tg.base_url, "--data-dir", str(tmp_path / "data")],
        env=bot_env(tg.token),
        cwd=tmp_path,
    )

    assert result.returncode == 3
    assert f"cannot reach the Bot API at {tg.base_url}: Bad Gateway" in result.stderr
    assert f"/bot{REDACTED}/x" in result.stderr
    assert "Traceback" not in result.stderr
    assert_hidden(result.stdout + result.stderr, tg.token)


def test_the_export_holds_no_token(tg: FakeTelegram, launch: Callable[..., BotProcess]) -> None:
    launch()
    anna = tg.user(1001, "Anna", "de")
    anna.send_command("/start")
    question(anna, "Hallo, ich bin dein Fokus-Coach")

    anna.send_command("/export")

    exported = anna.wait_for(lambda m: m.file is not None).file
    assert exported is not None
    assert json.loads(exported.data)["user_id"] == "1001"
    assert_hidden(exported.data.decode("utf-8") + anna.transcript(), tg.token)
