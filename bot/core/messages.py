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
    "LocationRequest",
    "Photo",
    "Reply",
    "ReplyKind",
    "SharedLocation",
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


@dataclass(frozen=True)
class SharedLocation:
    """A point the user shared (Telegram's "share my location").

    The coordinates are only ever turned into a time zone; they are kept out of ``repr`` so
    that no log line or traceback can carry them.
    """

    latitude: float = field(repr=False)
    longitude: float = field(repr=False)


Inbound = TextMessage | ButtonPress | Command | SharedLocation


class ReplyKind(StrEnum):
    """What a reply is for, so a transport can present it well."""

    QUESTION = "question"  # carries the current question and its buttons
    ANSWERED = "answered"  # the previous question, rewritten to show what was chosen
    INFO = "info"  # a statement (plan, summary, help, hint)
    DOCUMENT = "document"  # a file to send (export)
    PHOTO = "photo"  # a picture to show, its words in ``text`` (the progress chart)


@dataclass(frozen=True)
class Button:
    """One button: its label and the opaque data the engine gets back when it is pressed.

    ``short`` is a shorter caption the layout uses where ``label`` does not fit its row (the
    laid-out keyboard carries none).
    """

    label: str
    data: str
    short: str = field(default="", compare=False)


@dataclass(frozen=True)
class Document:
    """A file for the user, e.g. their data export."""

    filename: str
    content: bytes
    mime_type: str = "application/json"


@dataclass(frozen=True)
class Photo:
    """A picture for the user, e.g. their progress chart; the reply's text says it in words.

    ``text_line`` is the picture as one line of text (a sparkline) for a transport that
    cannot show pictures inline (the terminal chat).
    """

    filename: str
    content: bytes
    text_line: str = ""
    mime_type: str = "image/png"


@dataclass(frozen=True)
class LocationRequest:
    """An offer to share a location in one tap, for a transport that can ask for one.

    ``prompt`` is a short line to carry the offer, ``label`` its button. A transport without
    such a button (the terminal chat) ignores it: the question's own buttons still work.
    """

    prompt: str
    label: str


@dataclass(frozen=True)
class Reply:
    """One outgoing message.

    ``text`` is Telegram-style HTML (``<b>``, ``<i>``, ``<code>``); user input inside it is already
    escaped. ``edits_question`` asks the transport to replace the message that carried the last
    question instead of sending a new one (multi-choice toggles, "you chose ..." echoes).
    With a ``document`` or a ``photo``, ``text`` goes with it (as its caption where it fits).
    ``location`` offers a "share my location" button next to the question's own ones.
    ``repeat`` marks a question asked again unchanged (same buttons, still valid) after a hint:
    a transport that still shows it close by may leave it out and point at it instead.
    """

    text: str
    kind: ReplyKind = ReplyKind.INFO
    buttons: tuple[tuple[Button, ...], ...] = ()
    edits_question: bool = False
    document: Document | None = field(default=None)
    photo: Photo | None = field(default=None)
    location: LocationRequest | None = field(default=None)
    repeat: bool = False
