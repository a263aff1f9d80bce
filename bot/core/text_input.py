"""Cleaning and parsing what users type."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_INBOUND_CHARS", "clean_text", "parse_number"]

# Telegram messages are at most 4,096 characters; a terminal paste can be anything.
MAX_INBOUND_CHARS = 4096

_NUMBER = re.compile(
    r"^\s*(?:ca\.?|about|approx\.?|~)?\s*(\d{1,4}(?:[.,]\d{1,2})?)\s*"
    r"(?:h|hrs?|hours?|std\.?|stunden?|stunde)?\s*(?:/\s*(?:w|wk|week|woche))?\s*$",
    re.IGNORECASE,
)


def clean_text(raw: str) -> str:
    """Drop control characters (keeping line breaks and tabs) and surrounding white space.

    Format characters such as right-to-left marks stay: they are part of real writing.
    """
    kept = (ch for ch in raw if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co"))
    return "".join(kept).strip()


def parse_number(text: str) -> float | None:
    """Read a number such as ``5``, ``2,5``, ``3.5 h`` or ``4 Stunden``; None if it is not one."""
    match = _NUMBER.match(text)
    if match is None:
        return None
    return float(match.group(1).replace(",", "."))
