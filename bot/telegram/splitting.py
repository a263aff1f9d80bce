"""Split Telegram HTML into messages under the 4,096-character limit, tags kept balanced.

Splits fall between lines; only a single line longer than a message is broken between words (or,
for an endless word, between characters), never inside a tag or an ``&entity;``. A tag open across
a split is closed at the end of one part and opened again at the start of the next.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = [
    "MAX_CAPTION_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "split_html",
    "telegram_length",
    "visible_length",
]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
# Room for the closing and re-opening tags a part may get (the engine uses <b>, <i>, <code>).
_TAG_RESERVE = 96
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
_MARKUP = re.compile(r"<[^>]*>")
# A line in pieces that must not be cut: tags, entities, whitespace runs, words.
_ATOM = re.compile(r"<[^>]*>|&#?[a-zA-Z0-9]+;|\s+|[^<&\s]+|.", re.DOTALL)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); an upper bound for HTML sources."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(html_text: str) -> int:
    """Length of the text a user reads once the HTML is parsed."""
    return telegram_length(html.unescape(_MARKUP.sub("", html_text)))


@dataclass(frozen=True)
class _Piece:
    text: str
    joiner: str  # what separates it from the piece before, when both land in one part


def split_html(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters each (one part if it fits)."""
    if telegram_length(text) <= limit:
        return [text]
    budget = max(limit - _TAG_RESERVE, 1)
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, budget):
        joined = f"{current}{piece.joiner}{piece.text}" if current else piece.text
        if telegram_length(joined) <= budget:
            current = joined
            continue
        if current.strip():
            parts.append(current)
        current = piece.text
    if current.strip():
        parts.append(current)
    return _balance(parts)


def _pieces(text: str, budget: int) -> list[_Piece]:
    """Lines, with a line longer than ``budget`` broken into word-bounded pieces."""
    pieces: list[_Piece] = []
    for line in text.split("\n"):
        if telegram_length(line) <= budget:
            pieces.append(_Piece(line, "\n"))
            continue
        for index, chunk in enumerate(_break_line(line, budget)):
            pieces.append(_Piece(chunk.text, "\n" if index == 0 else chunk.joiner))
    return pieces


def _break_line(line: str, budget: int) -> list[_Piece]:
    broken: list[_Piece] = []
    current, joiner, pending_space = "", "\n", ""
    for atom in _atoms(line, budget):
        if atom.isspace():
            pending_space += atom
            continue
        candidate = f"{current}{pending_space}{atom}"
        if current and telegram_length(candidate) > budget:
            broken.append(_Piece(current, joiner))
            current, joiner = atom, pending_space or ""
        else:
            current = candidate
        pending_space = ""
    if current:
        broken.append(_Piece(current, joiner))
    return broken


def _atoms(line: str, budget: int) -> list[str]:
    """The line's atoms; a word longer than ``budget`` is chopped (it holds no tag or entity)."""
    atoms: list[str] = []
    for match in _ATOM.finditer(line):
        atom = match.group()
        if atom[0] in "<&" or atom.isspace() or telegram_length(atom) <= budget:
            atoms.append(atom)
            continue
        step = max(budget // 2, 1)  # UTF-16 surrogate pairs count twice
        atoms.extend(atom[i : i + step] for i in range(0, len(atom), step))
    return atoms


def _balance(parts: list[str]) -> list[str]:
    """Close tags still open at the end of a part and re-open them at the start of the next."""
    balanced: list[str] = []
    carried: list[tuple[str, str]] = []  # (name, opening tag) open before this part
    for part in parts:
        opening = "".join(tag for _, tag in carried)
        stack = list(carried)
        for match in _TAG.finditer(part):
            closing, name = match.group(1) == "/", match.group(2).lower()
            if not closing:
                stack.append((name, match.group()))
                continue
            for index in range(len(stack) - 1, -1, -1):
                if stack[index][0] == name:
                    del stack[index]
                    break
        closing_tags = "".join(f"</{name}>" for name, _ in reversed(stack))
        balanced.append(f"{opening}{part}{closing_tags}")
        carried = stack
    return balanced
