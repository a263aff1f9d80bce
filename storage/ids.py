"""User ids: the only part of a storage path that comes from outside, so it is checked strictly."""

from __future__ import annotations

import re

__all__ = ["MAX_USER_ID_LENGTH", "check_user_id", "is_user_id"]

MAX_USER_ID_LENGTH = 64
# No dot and no slash: an id can never name "..", a hidden file or another folder.
_USER_ID = re.compile(rf"[A-Za-z0-9_:-]{{1,{MAX_USER_ID_LENGTH}}}")


def is_user_id(value: object) -> bool:
    """Tell whether ``value`` is a valid user id (e.g. ``"123456789"``, ``"console:alice"``)."""
    return isinstance(value, str) and _USER_ID.fullmatch(value) is not None


def check_user_id(value: object) -> str:
    """Return ``value`` if it is a valid user id, else raise ValueError."""
    if not is_user_id(value):
        raise ValueError(
            f"invalid user id {value!r}: expected 1 to {MAX_USER_ID_LENGTH} characters "
            "of A-Z, a-z, 0-9, '_', ':' or '-'"
        )
    return str(value)
