"""Telegram's HTML parse mode: source text to plain text plus MessageEntity dicts.

Close enough to Telegram to catch the bugs that matter in a bot: unescaped ``<`` or ``&`` from user
input, tags Telegram does not support, unbalanced tags, and texts over the length limit after the
tags are gone. Markdown parse modes are passed through unparsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

JSONDict = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_NAMED_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHARACTER_REFERENCE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_TAG_NAME = re.compile(r"[^\s>/]*")
_ATTRIBUTE = re.compile(
    r"\s*([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?"
)
_MAX_CODE_POINT = 0x10FFFF


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML (Telegram: "can't parse entities")."""


@dataclass(frozen=True)
class ParsedText:
    """Text as Telegram stores it: plain text plus entities (offsets in UTF-16 units)."""

    text: str
    entities: list[JSONDict]


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    start: int
    language: str | None = None


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_text(source: str, parse_mode: str | None, entities: Any = None) -> ParsedText:
    """Parse ``source`` the way Telegram does for ``parse_mode`` (only HTML is parsed)."""
    if (parse_mode or "").lower() == "html":
        return parse_html(source)
    given = [dict(entity) for entity in entities] if isinstance(entities, list) else []
    return ParsedText(source, given)


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML into plain text and entities; raise EntityParseError like Telegram."""
    pieces: list[str] = []
    length = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    position = 0
    while position < len(source):
        char = source[position]
        if char == "<":
            position = _consume_tag(source, position, length, stack, entities)
        elif char == "&":
            decoded, position = _consume_character_reference(source, position)
            pieces.append(decoded)
            length += utf16_length(decoded)
        else:
            next_special = _next_special(source, position)
            chunk = source[position:next_special]
            pieces.append(chunk)
            length += utf16_length(chunk)
            position = next_special
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return ParsedText("".join(pieces), entities)


def _next_special(source: str, position: int) -> int:
    found = [i for i in (source.find("<", position), source.find("&", position)) if i != -1]
    return min(found) if found else len(source)


def _byte_offset(source: str, position: int) -> int:
    return len(source[:position].encode("utf-8"))


def _consume_character_reference(source: str, position: int) -> tuple[str, int]:
    match = _CHARACTER_REFERENCE.match(source, position)
    if match is None:
        return "&", position + 1
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name.lower() in _NAMED_CHARACTERS:
            return _NAMED_CHARACTERS[name.lower()], match.end()
        # Telegram keeps unknown named entities as they are.
        return "&", position + 1
    code_point = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code_point > _MAX_CODE_POINT:
        return "&", position + 1
    return chr(code_point), match.end()


def _consume_tag(
    source: str, position: int, length: int, stack: list[_OpenTag], entities: list[JSONDict]
) -> int:
    # Same order of checks as Telegram's parser (tdlib parse_html): the tag name is judged
    # before the closing ">" is looked for, so "I <3 you" is an unsupported tag "3".
    offset = _byte_offset(source, position)
    if source.startswith("</", position):
        return _consume_end_tag(source, position, offset, length, stack, entities)
    name_match = _TAG_NAME.match(source, position + 1)
    name = name_match.group(0).lower() if name_match else ""
    name_end = name_match.end() if name_match else position + 1
    if name_end >= len(source):
        raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
    if name not in _ENTITY_TYPES:
        raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
    end = source.find(">", name_end)
    if end == -1:
        raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
    attributes = _parse_attributes(source[name_end:end])
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    stack.append(_OpenTag(name, attributes, length))
    return end + 1


def _consume_end_tag(
    source: str,
    position: int,
    offset: int,
    length: int,
    stack: list[_OpenTag],
    entities: list[JSONDict],
) -> int:
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
    end = source.find(">", position)
    if end == -1:
        raise EntityParseError(f"Unclosed end tag at byte offset {offset}")
    name = source[position + 2 : end].strip().lower()
    tag = stack.pop()
    if name != tag.name:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {offset}, expected "</{tag.name}>", '
            f'found "</{name}>"'
        )
    _close_tag(tag, length, stack, entities)
    return end + 1


def _parse_attributes(text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    position = 0
    while position < len(text) and text[position:].strip():
        match = _ATTRIBUTE.match(text, position)
        if match is None or match.end() == position:
            break
        name, double_quoted, single_quoted, bare = match.groups()
        value = next((v for v in (double_quoted, single_quoted, bare) if v is not None), "")
        attributes[name.lower()] = parse_html(value).text if "&" in value else value
        position = match.end()
    return attributes


def _close_tag(
    tag: _OpenTag, length: int, stack: list[_OpenTag], entities: list[JSONDict]
) -> None:
    entity_length = length - tag.start
    code_class = tag.attributes.get("class", "")
    if tag.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-x"> is one pre entity with a language.
        if code_class.startswith("language-"):
            stack[-1].language = code_class.removeprefix("language-")
        return
    if entity_length <= 0:
        return
    entity: JSONDict = {
        "type": _ENTITY_TYPES[tag.name],
        "offset": tag.start,
        "length": entity_length,
    }
    if tag.name == "a":
        href = tag.attributes.get("href")
        if not href:
            return
        entity["url"] = href
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attributes.get("emoji-id", "")
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attributes:
        entity["type"] = "expandable_blockquote"
    entities.append(entity)
