"""``/start <payload>`` from a deep link (``t.me/<bot>?start=<payload>``).

A language code (``de``, ``en``) switches the language; anything else is accepted silently and
kept once as the user's "came from" tag, cut to what Telegram allows in a deep link (at most 64
characters of ``A-Z a-z 0-9 _ -``), so a typed ``/start <whatever>`` cannot store more.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Final

from bot.core.state import UserState

__all__ = ["MAX_PAYLOAD_CHARS", "apply_start_payload", "came_from_tag"]

MAX_PAYLOAD_CHARS: Final = 64
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]+")


def came_from_tag(payload: str) -> str | None:
    """The payload as a tag: only the characters a deep link may carry, at most 64; or None."""
    tag = _NOT_ALLOWED.sub("", payload)[:MAX_PAYLOAD_CHARS]
    return tag or None


def apply_start_payload(user: UserState, payload: str, languages: Collection[str]) -> None:
    """Switch the language, or note where the user came from (the first tag is kept)."""
    code = payload.strip().lower()
    if code in languages:
        user.lang = code
        return
    tag = came_from_tag(payload)
    if tag is not None and user.came_from is None:
        user.came_from = tag
