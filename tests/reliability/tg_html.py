"""A strict checker for the Telegram HTML the coach sends (parse_mode=HTML).

Telegram rejects a message whose ``<``, ``>`` or ``&`` is not part of a supported tag or entity,
so user input that reaches a reply unescaped shows up here as a problem. Only the tags the coach
may use are accepted: b, i, u, s, code, pre and a (with href), properly nested.
"""

from __future__ import annotations

import re

__all__ = ["ALLOWED_TAGS", "html_problems"]

ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "code", "pre", "a"})

_TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-z]+="[^"<>]*")*)\s*>')
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_TEXT = re.compile(r"[^<>&]+")


def html_problems(text: str) -> list[str]:
    """What makes ``text`` invalid Telegram HTML for the coach; empty when it is fine."""
    problems: list[str] = []
    open_tags: list[str] = []
    position = 0
    while position < len(text):
        if match := _TEXT.match(text, position):
            position = match.end()
            continue
        if match := _ENTITY.match(text, position):
            position = match.end()
            continue
        match = _TAG.match(text, position)
        if match is None:
            problems.append(f"raw {text[position]!r} at {position}: {text[position:][:40]!r}")
            position += 1
            continue
        closing, name, attributes = match.group(1), match.group(2), match.group(3)
        position = match.end()
        if name not in ALLOWED_TAGS:
            problems.append(f"tag <{name}> is not allowed")
            continue
        if closing:
            if not open_tags or open_tags[-1] != name:
                problems.append(f"</{name}> does not close {open_tags[-1:] or 'anything'}")
            else:
                open_tags.pop()
            continue
        if attributes.strip() and not (name == "a" and attributes.strip().startswith("href=")):
            problems.append(f"<{name}> has attributes {attributes.strip()!r}")
        open_tags.append(name)
    if open_tags:
        problems.append(f"unclosed tags {open_tags}")
    return problems
