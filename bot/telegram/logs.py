"""Logging for the bot process: readable lines on stderr, and no secret in any of them.

httpx logs every request URL at INFO, and the Bot API puts the token into the URL; PTB's
``InvalidToken`` message quotes the token too. So httpx/httpcore are lowered to WARNING and every
root handler gets a filter that replaces each secret (the token, the webhook secret) in the
message, the traceback and the stack. An exception nobody catches would be printed by Python
itself, past the handlers, so the process's exception hooks log it through them instead.

PTB logs an answer that is not JSON (a proxy's or captive portal's HTML page) in full and with a
traceback, and then raises anyway; that becomes one short line here, and none at all while the
caller reports it itself (start-up, see ``not_json_reported_by_caller``).

The level applies to the bot's own loggers (``bot``, ``storage``); other libraries stay at INFO
or above, so DEBUG shows what the bot does, not every request PTB makes. APScheduler's two lines
per tick ("Running job", "executed successfully") count as DEBUG; its warnings (a missed run)
and errors stay as they are. ``json_lines`` writes one JSON object per line for log shippers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import quote

__all__ = [
    "OWN_LOGGERS",
    "REDACTED",
    "JsonLineFormatter",
    "TokenRedactor",
    "configure_logging",
    "not_json_preview",
    "not_json_reported_by_caller",
]

REDACTED = "[redacted]"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_NOISY_LOGGERS = ("httpx", "httpcore")
OWN_LOGGERS = ("bot", "storage")  # the packages whose loggers follow the configured level
_TICK_LOGGER = "apscheduler.executors.default"  # "Running job ..." and "... executed successfully"
_TICK_LINES = frozenset({'Running job "%s" (scheduled at %s)', 'Job "%s" executed successfully'})
# Shorter pieces are not secret enough to hunt for (and would redact ordinary words).
_MIN_SECRET_LENGTH = 8
_PTB_REQUESTS = "telegram.request.BaseRequest"  # where PTB logs an answer it cannot parse
_PREVIEW_LENGTH = 100

log = logging.getLogger("bot")


def _variants(secret: str) -> list[str]:
    """A secret as it may appear: whole, URL-quoted, and a token's part after the bot id."""
    after_id = secret.partition(":")[2]
    found = {secret, quote(secret, safe=""), quote(secret), after_id, quote(after_id, safe="")}
    return [v for v in found if len(v) >= _MIN_SECRET_LENGTH]


class TokenRedactor(logging.Filter):
    """Replace secrets with ``[redacted]`` in every record that passes through a handler."""

    def __init__(self, secrets: Iterable[str]) -> None:
        """Remember the secrets (and their variants) to hide."""
        super().__init__()
        variants = {variant for secret in secrets for variant in _variants(secret)}
        # Longest first, so the whole token is replaced before its secret part. Ignoring case:
        # PTB capitalises error descriptions ("Bad Request: X" -> "X" lowercased but the first
        # letter), and a lowercased token is still most of the token.
        ordered = sorted(variants, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE) if ordered else None
        )
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret replaced, in any letter case."""
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)  # a broken format string; still hide what it carries
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set, so the traceback is formatted once, redacted.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def not_json_preview(error: ValueError, redact: Callable[[str], str]) -> str:
    """The start of the answer that failed to parse, on one line and quoted.

    Redacted before it is cut short: a token cut in half would no longer be found.
    """
    text = " ".join(error.doc.split()) if isinstance(error, json.JSONDecodeError) else ""
    text = redact(text)
    if len(text) > _PREVIEW_LENGTH:
        text = text[:_PREVIEW_LENGTH] + "..."
    return repr(text)


class _NotJsonAnswers(logging.Filter):
    """PTB's record of an answer that is not JSON: one WARNING line, or none while quiet."""

    def __init__(self) -> None:
        super().__init__()
        self.quiet = 0
        self.redact: Callable[[str], str] = str  # until configure_logging knows the secrets

    def filter(self, record: logging.LogRecord) -> bool:
        """Shorten the record (no traceback, the start of the answer), or drop it if quiet."""
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, ValueError):
            return True
        if self.quiet:
            return False
        record.msg = "the Bot API answered with something that is not JSON: %s"
        record.args = (not_json_preview(error, self.redact),)
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_NOT_JSON = _NotJsonAnswers()


@contextmanager
def not_json_reported_by_caller() -> Iterator[None]:
    """Leave out PTB's line about an answer that is not JSON: the caller reports it itself."""
    _NOT_JSON.quiet += 1
    try:
        yield
    finally:
        _NOT_JSON.quiet -= 1


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    """``sys.excepthook``: the traceback goes through the (redacting) handlers."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    log.critical("uncaught exception, stopping", exc_info=(kind, error, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    """``threading.excepthook``: like ``_log_uncaught``, naming the thread."""
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "?"
    log.critical(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record and line: time (ISO 8601, UTC), level, logger, message.

    ``exc_info`` (the traceback as text) and ``stack_info`` are added when present. The text
    comes from the record as the redacting filter left it, so no secret reaches the line.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record on one line (line breaks inside are escaped by JSON)."""
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class _TickLinesAtDebug(logging.Filter):
    """APScheduler's two INFO lines per tick become DEBUG lines, shown only at DEBUG.

    Everything else from the executor (a missed run, a job that raised) passes unchanged.
    """

    def __init__(self, *, shown: bool) -> None:
        super().__init__()
        self.shown = shown

    def filter(self, record: logging.LogRecord) -> bool:
        """Lower a tick line to DEBUG (or drop it below DEBUG); let anything else pass."""
        if record.levelno != logging.INFO or record.msg not in _TICK_LINES:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return self.shown


_TICK_LINES_AT_DEBUG = _TickLinesAtDebug(shown=False)


def configure_logging(
    secrets: Iterable[str], *, level: int = logging.INFO, json_lines: bool = False
) -> TokenRedactor:
    """Log to stderr with every secret redacted, uncaught exceptions included.

    ``level`` is the bot's own (``OWN_LOGGERS``); other libraries log at INFO or above.
    ``json_lines`` writes one JSON object per line instead of plain text.
    """
    stderr = logging.StreamHandler()
    stderr.setFormatter(JsonLineFormatter() if json_lines else logging.Formatter(_FORMAT))
    # Does nothing if the root logger has a handler already (a test's); those get the filter.
    logging.basicConfig(level=max(level, logging.INFO), handlers=[stderr])
    logging.getLogger().setLevel(max(level, logging.INFO))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(True)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    _TICK_LINES_AT_DEBUG.shown = level <= logging.DEBUG
    tick_logger = logging.getLogger(_TICK_LOGGER)
    if _TICK_LINES_AT_DEBUG not in tick_logger.filters:
        tick_logger.addFilter(_TICK_LINES_AT_DEBUG)
    redactor = TokenRedactor(secrets)
    _NOT_JSON.redact = redactor.redact
    logging.getLogger(_PTB_REQUESTS).addFilter(_NOT_JSON)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    return redactor
