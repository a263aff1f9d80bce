"""The token never reaches a log line: message, arguments, traceback or stack."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from bot.telegram.logs import REDACTED, TokenRedactor, configure_logging

TOKEN = "7000000001:AASecretPartOfTheToken-0123456789abc"
SECRET = TOKEN.partition(":")[2]


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


def test_configure_logging_quietens_httpx_and_filters_every_root_handler() -> None:
    root = logging.getLogger()
    added = logging.StreamHandler(io.StringIO())
    root.addHandler(added)
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    try:
        redactor = configure_logging([TOKEN])

        assert {name: logging.getLogger(name).level for name in levels} == {
            "httpx": logging.WARNING,
            "httpcore": logging.WARNING,
        }
        assert all(redactor in handler.filters for handler in root.handlers)
    finally:
        for handler in root.handlers:
            handler.removeFilter(redactor)
        root.removeHandler(added)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        logging.captureWarnings(False)
