"""Neutral message types between a transport (Telegram, terminal, tests) and the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "Button",
    "ButtonPress",
    "Command",
    "Document",
    "Inbound",
    "Reply",
    "ReplyKind",
    "TextMessage",
]


@dataclass(frozen=True)
class TextMessage:
    """Free text the user typed."""

    text: str


@dataclass(frozen=True)
class ButtonPress:
    """A tap on a button; ``data`` is the opaque token the engine put on the button."""

    data: str


@dataclass(frozen=True)
class Command:
    """A slash command such as ``/plan``; ``name`` is lower-case without the slash."""

    name: str
    args: str = ""


Inbound = TextMessage | ButtonPress | Command


class ReplyKind(StrEnum):
    """What a reply is for, so a transport can present it well."""

    QUESTION = "question"  # carries the current question and its buttons
    ANSWERED = "answered"  # the previous question, rewritten to show what was chosen
    INFO = "info"  # a statement (plan, summary, help, hint)
    DOCUMENT = "document"  # a file to send (export)


@dataclass(frozen=True)
class Button:
    """One button: its label and the opaque data the engine gets back when it is pressed."""

    label: str
    data: str


@dataclass(frozen=True)
class Document:
    """A file for the user, e.g. their data export."""

    filename: str
    content: bytes
    mime_type: str = "application/json"


@dataclass(frozen=True)
class Reply:
    """One outgoing message.

    ``text`` is Telegram-style HTML (``<b>``, ``<i>``, ``<code>``); user input inside it is already
    escaped. ``edits_question`` asks the transport to replace the message that carried the last
    question instead of sending a new one (multi-choice toggles, "you chose ..." echoes).
    """

    text: str
    kind: ReplyKind = ReplyKind.INFO
    buttons: tuple[tuple[Button, ...], ...] = ()
    edits_question: bool = False
    document: Document | None = field(default=None)
