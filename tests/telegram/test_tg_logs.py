"""No secret reaches a log line: message, arguments, traceback, stack or uncaught error."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from telegram.error import TelegramError
from telegram.request import BaseRequest
from tg_harness import Harness
from tg_offline import TOKEN as OFFLINE

from bot.telegram.logs import (
    OWN_LOGGERS,
    REDACTED,
    JsonLineFormatter,
    TokenRedactor,
    configure_logging,
    not_json_reported_by_caller,
)

TOKEN = "7000000001:AASecretPartOfTheToken-0123456789abc"
SECRET = TOKEN.partition(":")[2]
WEBHOOK_SECRET = "Webhook_Secret-0123456789abcdefXYZ"
PTB_REQUESTS = "telegram.request.BaseRequest"
TICK_LOGGER = "apscheduler.executors.default"
OWN = OWN_LOGGERS


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(TokenRedactor([TOKEN]))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_token_in_a_url_argument_is_replaced(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured

    logger.info(
        'HTTP Request: POST %s "HTTP/1.1 200 OK"', f"https://api.telegram.org/bot{TOKEN}/getMe"
    )

    assert stream.getvalue() == (
        f'INFO HTTP Request: POST https://api.telegram.org/bot{REDACTED}/getMe "HTTP/1.1 200 OK"\n'
    )


def test_quoted_token_and_bare_secret_are_replaced(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured

    logger.warning("quoted %s, secret %s", quote(TOKEN, safe=""), SECRET)

    assert stream.getvalue() == f"WARNING quoted {REDACTED}, secret {REDACTED}\n"


def test_token_in_a_traceback_is_replaced(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured

    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        logger.exception("start-up failed")

    output = stream.getvalue()
    assert "Traceback" in output and f"The token `{REDACTED}` was rejected" in output
    assert SECRET not in output


def test_token_in_stack_info_is_replaced() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "where", None, None)
    record.stack_info = f'Stack (most recent call last):\n  get("/bot{TOKEN}/getMe")'

    TokenRedactor([TOKEN]).filter(record)

    assert record.stack_info == f'Stack (most recent call last):\n  get("/bot{REDACTED}/getMe")'


def test_a_lowercased_token_and_the_webhook_secret_are_replaced() -> None:
    # PTB capitalises error descriptions: "Bad Request: X" becomes "X" in lower case.
    message = f"Bad webhook: post /bot{TOKEN.lower()}/setwebhook?secret_token={WEBHOOK_SECRET}"

    redacted = TokenRedactor([TOKEN, WEBHOOK_SECRET]).redact(message)

    assert redacted == f"Bad webhook: post /bot{REDACTED}/setwebhook?secret_token={REDACTED}"


def test_short_or_empty_secrets_are_not_hunted_for() -> None:
    redactor = TokenRedactor(["", "abc"])

    assert redactor.redact("abc abcdef") == "abc abcdef"


@pytest.fixture
def configured(request: pytest.FixtureRequest) -> Iterator[tuple[TokenRedactor, io.StringIO]]:
    """``configure_logging`` on the root logger, with an extra handler to read; all undone."""
    root = logging.getLogger()
    stream = io.StringIO()
    added = logging.StreamHandler(stream)
    added.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(added)
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "", *OWN)}
    hooks = (sys.excepthook, threading.excepthook)
    ptb_requests = logging.getLogger(PTB_REQUESTS)
    ptb_filters = list(ptb_requests.filters)
    tick_logger = logging.getLogger(TICK_LOGGER)
    tick_filters = list(tick_logger.filters)
    redactor = configure_logging(
        [TOKEN, WEBHOOK_SECRET, OFFLINE],
        level=getattr(request, "param", logging.INFO),
    )
    try:
        yield redactor, stream
    finally:
        tick_logger.filters[:] = tick_filters
        ptb_requests.filters[:] = ptb_filters
        sys.excepthook, threading.excepthook = hooks
        for handler in root.handlers:
            handler.removeFilter(redactor)
        root.removeHandler(added)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        logging.captureWarnings(False)


def test_configure_logging_quietens_httpx_and_filters_every_root_handler(
    configured: tuple[TokenRedactor, io.StringIO],
) -> None:
    redactor, _ = configured
    root = logging.getLogger()

    assert {name: logging.getLogger(name).level for name in ("httpx", "httpcore")} == {
        "httpx": logging.WARNING,
        "httpcore": logging.WARNING,
    }
    assert all(redactor in handler.filters for handler in root.handlers)


def test_an_answer_that_is_not_json_is_one_short_line_or_none_at_start_up(
    configured: tuple[TokenRedactor, io.StringIO],
) -> None:
    _, stream = configured
    page = (
        "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>"
        + f"upstream /bot{TOKEN}/getMe failed " * 20
        + "</body></html>"
    ).encode()

    with pytest.raises(TelegramError, match="Invalid server response"):
        BaseRequest.parse_json_payload(page)  # what PTB does with every answer
    with not_json_reported_by_caller(), pytest.raises(TelegramError):
        BaseRequest.parse_json_payload(page)

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines  # the quiet one left no line at all
    assert lines[0].startswith(
        f"WARNING {PTB_REQUESTS}: the Bot API answered with something that is not JSON: "
        f"'<!DOCTYPE html> <html><head><title>502 Bad Gateway</title></head> <body>upstream /bot{REDACTED}"
    )
    assert lines[0].endswith("...'")
    assert len(lines[0]) < 250
    assert SECRET not in lines[0]


def test_uncaught_exceptions_go_through_the_redacting_handlers(
    configured: tuple[TokenRedactor, io.StringIO],
) -> None:
    _, stream = configured
    try:
        raise RuntimeError(f"GET /bot{TOKEN}/getMe with {WEBHOOK_SECRET}")
    except RuntimeError as error:
        sys.excepthook(type(error), error, error.__traceback__)
        thread = threading.Thread(name="worker")
        threading.excepthook(
            threading.ExceptHookArgs((type(error), error, error.__traceback__, thread))
        )

    output = stream.getvalue()
    assert output.count(f"RuntimeError: GET /bot{REDACTED}/getMe with {REDACTED}") == 2
    assert "CRITICAL bot: uncaught exception in thread worker" in output
    assert SECRET not in output and WEBHOOK_SECRET not in output


async def test_a_failing_handler_logs_its_error_without_the_token(
    harness: Harness, configured: tuple[TokenRedactor, io.StringIO]
) -> None:
    _, stream = configured
    # A proxy in front of the Bot API that echoes the request path in its error.
    harness.request.fail_next("sendMessage", 500, f"Internal Server Error: /bot{OFFLINE}/x")

    await harness.send("/start")

    output = stream.getvalue()
    assert "ERROR bot.telegram.handlers: update" in output and "Traceback" in output
    assert f"Internal Server Error: /bot{REDACTED}/x" in output
    assert OFFLINE.partition(":")[2] not in output


def test_json_lines_carry_the_redacted_message_and_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    handler.addFilter(TokenRedactor([TOKEN]))
    logger = logging.getLogger("test.json_lines")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("GET %s failed\non two lines", f"/bot{TOKEN}/getMe")
        try:
            raise RuntimeError(f"answer for /bot{TOKEN}/getMe")
        except RuntimeError:
            logger.exception("the call failed")
    finally:
        logger.removeHandler(handler)

    lines = stream.getvalue().splitlines()
    first, second = (json.loads(line) for line in lines)  # exactly two lines
    assert first == {
        "time": first["time"],
        "level": "WARNING",
        "logger": "test.json_lines",
        "message": f"GET /bot{REDACTED}/getMe failed\non two lines",
    }
    assert datetime.fromisoformat(first["time"]).utcoffset() == timedelta(0)
    assert (second["level"], second["message"]) == ("ERROR", "the call failed")
    assert second["exc_info"].startswith("Traceback (most recent call last):")
    assert second["exc_info"].endswith(f"RuntimeError: answer for /bot{REDACTED}/getMe")
    assert SECRET not in stream.getvalue()


@pytest.mark.parametrize(
    ("configured", "own", "root"),
    [
        (logging.DEBUG, logging.DEBUG, logging.INFO),
        (logging.INFO, logging.INFO, logging.INFO),
        (logging.ERROR, logging.ERROR, logging.ERROR),
    ],
    indirect=["configured"],
)
def test_the_level_applies_to_the_bots_own_loggers(
    configured: tuple[TokenRedactor, io.StringIO], own: int, root: int
) -> None:
    assert [logging.getLogger(name).level for name in OWN] == [own, own]
    # Other libraries stay at INFO or above: DEBUG shows the bot's work, not PTB's requests.
    assert logging.getLogger().level == root
    assert logging.getLogger("httpx").level == logging.WARNING


def run_a_scheduler_job(times: int) -> None:
    """A real AsyncIOScheduler running a job ``times`` times (it logs as it does in the bot)."""

    async def main() -> None:
        done = asyncio.Event()
        runs: list[int] = []

        async def job() -> None:
            runs.append(1)
            if len(runs) >= times:
                done.set()

        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(job, IntervalTrigger(seconds=0.05, timezone=UTC), id="tick")
        scheduler.start()
        try:
            await asyncio.wait_for(done.wait(), 10)
        finally:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)

    asyncio.run(main())


@pytest.mark.parametrize("configured", [logging.INFO], indirect=True)
def test_tick_lines_are_left_out_at_info_and_warnings_stay(
    configured: tuple[TokenRedactor, io.StringIO],
) -> None:
    _, stream = configured
    run_a_scheduler_job(times=3)
    logging.getLogger(TICK_LOGGER).warning('Run time of job "%s" was missed by %s', "tick", "0:01")

    output = stream.getvalue()
    assert "Running job" not in output
    assert "executed successfully" not in output
    assert 'WARNING apscheduler.executors.default: Run time of job "tick" was missed by 0:01' in (
        output
    )


@pytest.mark.parametrize("configured", [logging.DEBUG], indirect=True)
def test_tick_lines_show_as_debug_at_debug(
    configured: tuple[TokenRedactor, io.StringIO],
) -> None:
    _, stream = configured
    run_a_scheduler_job(times=2)

    lines = stream.getvalue().splitlines()
    ticks = [line for line in lines if line.startswith("DEBUG apscheduler.executors.default: ")]
    assert any("Running job" in line for line in ticks)
    assert any("executed successfully" in line for line in ticks)
    assert not [line for line in lines if line.startswith("INFO apscheduler.executors")]
