"""Logging for the bot process: readable lines on stderr, and the token never in any of them.

httpx logs every request URL at INFO, and the Bot API puts the token into the URL; PTB's
``InvalidToken`` message quotes the token too. So httpx/httpcore are lowered to WARNING and every
root handler gets a filter that replaces the token in the message, the traceback and the stack.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote

__all__ = ["REDACTED", "TokenRedactor", "configure_logging"]

REDACTED = "[token]"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_NOISY_LOGGERS = ("httpx", "httpcore")
# Shorter pieces are not secret enough to hunt for (and would redact ordinary words).
_MIN_SECRET_LENGTH = 8


def _variants(token: str) -> list[str]:
    """The token as it may appear: whole, URL-quoted, and its secret part after the bot id."""
    secret = token.partition(":")[2]
    found = {token, quote(token, safe=""), secret}
    # Longest first, so the whole token is replaced before its secret part.
    return sorted((v for v in found if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


class TokenRedactor(logging.Filter):
    """Replace secrets with ``[token]`` in every record that passes through a handler."""

    def __init__(self, secrets: Iterable[str]) -> None:
        """Remember the secrets (and their variants) to hide."""
        super().__init__()
        self._secrets = [variant for secret in secrets for variant in _variants(secret)]
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

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


def configure_logging(secrets: Iterable[str], *, level: int = logging.INFO) -> TokenRedactor:
    """Log to stderr at ``level`` with every secret redacted; warnings go through logging too."""
    logging.basicConfig(level=level, format=_FORMAT)
    logging.captureWarnings(True)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    redactor = TokenRedactor(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor
