"""Which wording of a message bank a user gets next: never the one they got last time.

Each bank's choice is kept in the user's document (``UserState.variety``): the occasion it was
made for (``key``, the check-in's week), the wording chosen and the wordings used in the current
round. A round uses every wording once, in an order drawn from a hash of user, bank and occasion,
so over time all are seen, none twice in a row (a new round never starts with the last one), and
the same occasion always gets the same wording: a reminder sent again after a crash, or asked
again later, reads exactly as before. No random generator is involved, so tests are reproducible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from bot.core.content import Content
from bot.core.state import UserState

__all__ = ["choose", "chosen_indices"]


def choose(user: UserState, content: Content, bank: str, key: str) -> int:
    """Choose (and remember) the wording of ``bank`` the user gets for occasion ``key``."""
    count = len(content.texts.banks.get(user.lang, {}).get(bank, ()))
    if count == 0:
        return 0  # no such bank: the checker reports it; nothing to remember
    entry = user.variety.get(bank)
    if entry is not None and entry["key"] == key and entry["index"] < count:
        return int(entry["index"])  # the same occasion: the same words
    last = None if entry is None else entry["index"]
    used = [] if entry is None else [i for i in entry["used"] if i < count]
    unused = [i for i in range(count) if i not in used]
    if not unused:  # every wording had its turn: a new round, not opening with the last one
        used = []
        unused = [i for i in range(count) if i != last] or [0]
    digest = hashlib.sha256(f"{user.user_id}\n{bank}\n{key}".encode()).digest()
    index = unused[int.from_bytes(digest[:8], "big") % len(unused)]
    user.variety[bank] = {"key": key, "index": index, "used": [*used, index]}
    return index


def chosen_indices(variety: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """What templates see (``variety``): each bank's current wording, by bank name."""
    return {bank: int(entry["index"]) for bank, entry in variety.items()}
