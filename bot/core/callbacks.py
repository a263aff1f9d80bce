"""Button data: ``<turn>.<action>.<value>``, short enough for Telegram's 64-byte limit.

``turn`` counts the questions a user has been asked. A button whose turn is not the current one
belongs to an older message and is answered with "this button is out of date"; data that does not
parse is treated the same way, so a forged button can never act on anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["MAX_CALLBACK_BYTES", "Action", "ButtonToken", "decode", "encode"]

MAX_CALLBACK_BYTES = 64


class Action(StrEnum):
    """What a button does."""

    CHOOSE = "o"  # pick an option of a single choice
    TOGGLE = "t"  # tick or untick an option of a multi choice
    DONE = "d"  # finish a multi choice
    NUMBER = "n"  # pick a suggested number
    CONTINUE = "c"  # go on from a statement or the summary
    BACK = "b"  # one step back
    EDIT = "e"  # change one answer from the summary
    PLAN = "p"  # plan menu: show again / change / restart
    CONFIRM = "r"  # answer a yes/no confirmation
    LANGUAGE = "l"  # switch language
    FLOW = "f"  # start a side flow (check-in, settings)
    CHECKIN = "k"  # answer a check-in reminder: start, snooze or skip
    MORE = "m"  # show all the options of a narrowed choice
    UNDO = "u"  # take back a plan change waiting out its cool-off (its id; any turn)


@dataclass(frozen=True)
class ButtonToken:
    """Decoded button data."""

    turn: int
    action: Action
    value: str = ""


def encode(turn: int, action: Action, value: str = "") -> str:
    """Encode a button; raises ValueError if the result would not fit Telegram's limit."""
    data = f"{turn}.{action.value}.{value}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"button data too long for Telegram: {data!r}")
    return data


def decode(data: str) -> ButtonToken | None:
    """Decode button data; None for anything that is not well-formed."""
    if len(data.encode("utf-8", errors="replace")) > MAX_CALLBACK_BYTES:
        return None
    parts = data.split(".", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[0].isascii():
        return None
    try:
        action = Action(parts[1])
    except ValueError:
        return None
    return ButtonToken(turn=int(parts[0]), action=action, value=parts[2])
