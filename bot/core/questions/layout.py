"""Keyboards that fit a phone: how wide a label is, how many go to a row, how tall a keyboard.

A label's width counts what a phone shows: most characters count one, wide ones (emoji, East
Asian) two, joiners and variation selectors nothing. A row of ``n`` buttons gives each label
``ROW_LIMITS`` wide; a keyboard has at most ``MAX_ROWS`` rows. A button may carry a shorter
caption (``Button.short``, e.g. "X/Twitter"), used only where its full one does not fit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from bot.core.messages import Button

__all__ = [
    "MAX_ROWS",
    "columns",
    "fits_row",
    "in_rows",
    "keyboard_problems",
    "label_width",
    "row_limit",
]

MAX_ROWS = 8
# Label width by buttons in the row: alone, two, three, four or more.
_LIMITS = {1: 28, 2: 18, 3: 12}
_NARROW = 8
# A scale (energy 1-5) or any handful of tiny labels goes on one row.
_ONE_ROW_MAX = 5
_MAX_COLUMNS = 3
_JOINER = "\u200d"
_EMOJI_STYLE = "\ufe0f"
_ZERO_WIDTH = {0x200D, 0xFE0E, 0xFE0F}  # zero-width joiner, text and emoji presentation


def row_limit(buttons_in_row: int) -> int:
    """The widest label a row of ``buttons_in_row`` buttons holds."""
    return _LIMITS.get(buttons_in_row, _NARROW)


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    point = ord(char)
    if point in _ZERO_WIDTH or unicodedata.combining(char) or 0xE0020 <= point <= 0xE007F:
        return 0  # joiners, selectors, combining marks and emoji tag characters
    if unicodedata.category(char) == "Co":
        return 0  # private use: no text of ours shows one (tests mark texts with them)
    if unicodedata.east_asian_width(char) in ("W", "F") or point >= 0x1F000:
        return 2
    if 0x2600 <= point <= 0x27BF or 0x2B00 <= point <= 0x2BFF:
        return 2  # symbols phones draw as emoji (✅, ✔, ⏰ ...)
    return 1


# Button captions repeat across users and steps (channel names, ratings, "Weiter"): each is
# measured once per process, for every step that lays out a keyboard.
@lru_cache(maxsize=8192)
def label_width(label: str) -> int:
    """How wide ``label`` shows on a button: an emoji counts two, a joiner nothing."""
    width = 0
    for before, char, after in zip(f" {label}", label, f"{label[1:]} ", strict=False):
        if before == _JOINER:
            continue  # joined into the emoji before it: one glyph ("👩‍💻")
        # A symbol asked to show as an emoji (U+FE0F after it, "▶️") is drawn wide.
        width += 2 if after == _EMOJI_STYLE and _char_width(char) == 1 else _char_width(char)
    return width


def _fitted(buttons: Sequence[Button], per_row: int) -> list[Button] | None:
    """The buttons with the caption that fits ``per_row`` to a row, or None if one does not."""
    limit, fitted = row_limit(per_row), []
    for button in buttons:
        if label_width(button.label) <= limit:
            fitted.append(replace(button, short=""))
        elif button.short and label_width(button.short) <= limit:
            fitted.append(Button(button.short, button.data))
        else:
            return None
    return fitted


def columns(buttons: Sequence[Button]) -> int:
    """How many of ``buttons`` go to a row: all of a handful of tiny labels (a 1-5 scale),
    else three, two or one, the most whose width every label (or its short caption) meets."""
    counts = list(range(_MAX_COLUMNS, 1, -1))
    if 0 < len(buttons) <= _ONE_ROW_MAX:
        counts.insert(0, len(buttons))
    return next((n for n in counts if _fitted(buttons, n) is not None), 1)


def in_rows(
    buttons: Sequence[Button],
    *,
    per_row: int | None = None,
    widest: Sequence[Button] = (),
) -> list[tuple[Button, ...]]:
    """Lay buttons out ``per_row`` to a row; by default as many as ``columns`` allows.

    ``widest`` are the same buttons as they may come to look (ticked, marked as chosen): the
    columns are chosen for them too, so a keyboard keeps its shape while the user taps.
    """
    if per_row is None:
        per_row = min(columns(buttons), columns(widest) if widest else _ONE_ROW_MAX)
    fitted = _fitted(buttons, per_row) or [_shortest(b, per_row) for b in buttons]
    return [tuple(fitted[i : i + per_row]) for i in range(0, len(fitted), per_row)]


def _shortest(button: Button, per_row: int) -> Button:
    """The caption that fits ``per_row`` to a row, else the narrower one (the check reports it)."""
    fitted = _fitted([button], per_row)
    if fitted:
        return fitted[0]
    label = button.label
    if button.short and label_width(button.short) < label_width(label):
        label = button.short
    return Button(label, button.data)


def fits_row(buttons: Sequence[Button]) -> bool:
    """Whether ``buttons`` fit one row as they are."""
    return all(label_width(b.label) <= row_limit(len(buttons)) for b in buttons)


def keyboard_problems(rows: Sequence[Sequence[Button]]) -> list[str]:
    """What does not fit a phone: too many rows, a label too wide for its row."""
    problems = []
    if len(rows) > MAX_ROWS:
        problems.append(f"the keyboard has {len(rows)} rows; at most {MAX_ROWS} fit")
    for row in rows:
        limit = row_limit(len(row))
        problems.extend(
            f"the button '{button.label}' is {label_width(button.label)} wide; "
            f"{len(row)} to a row, at most {limit} fit"
            for button in row
            if label_width(button.label) > limit
        )
    return problems
