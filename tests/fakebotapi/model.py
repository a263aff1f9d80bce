"""Records the fake Bot API keeps, and their Telegram JSON shapes.

Internal records (mutable, guarded by the world lock) end in ``Record``; the frozen snapshots a
test reads (``BotMessage``, ``SentFile``, ``CallbackAnswer``, ``RecordedRequest``) are safe to
keep after the lock is released.
"""

from __future__ import annotations

import datetime as dtm
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

BOT_SENDER = 0
"""``sender_id`` of messages the bot sent (real user ids are positive)."""


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JSONDict:
        """Telegram's error body."""
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class RawAnswerError(ApiError):
    """An answer that is not the Bot API's JSON at all, like a proxy's HTML error page."""

    def __init__(self, status: int, body: str, content_type: str = "text/html") -> None:
        super().__init__(status, f"not a Bot API answer (HTTP {status}, {content_type})")
        self.body = body
        self.content_type = content_type


def bad_request(reason: str) -> ApiError:
    """A 400 error worded like Telegram's."""
    return ApiError(400, f"Bad Request: {reason}")


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class BotIdentity:
    """The bot user behind the token."""

    id: int
    first_name: str
    username: str

    def to_user(self) -> JSONDict:
        """The bot as the ``from`` of its messages."""
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def to_get_me(self) -> JSONDict:
        """The bot as ``getMe`` answers."""
        return {
            **self.to_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass
class UserRecord:
    """A human Telegram user the test plays."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_telegram(self) -> JSONDict:
        """Telegram ``User`` object."""
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class ChatRecord:
    """A private chat or a group; owns the chat's message id counter."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    next_message_id: int = 1
    blocked: bool = False
    started: bool = False
    action_mark: int = 0
    """World revision at the user's latest action; ``wait_for`` looks at changes after it."""
    reply_keyboard: list[list[JSONDict]] | None = None
    """The reply keyboard the user sees under the input field (None: the plain keyboard)."""

    def to_telegram(self) -> JSONDict:
        """Telegram ``Chat`` object."""
        data: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "last_name", "username"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data

    def to_full_info(self) -> JSONDict:
        """Telegram ``ChatFullInfo`` object (``getChat``)."""
        return {
            **self.to_telegram(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def take_message_id(self) -> int:
        """Next message id in this chat (user and bot messages share it, like Telegram)."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class FileRecord:
    """A file the bot uploaded."""

    file_id: str
    file_unique_id: str
    kind: str
    filename: str
    mime_type: str
    data: bytes

    def to_document(self) -> JSONDict:
        """Telegram ``Document`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }

    def to_photo(self) -> list[JSONDict]:
        """Telegram ``PhotoSize`` list; the fake does not decode images, so sizes are nominal."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": 320,
                "height": 320,
                "file_size": len(self.data),
            }
        ]


@dataclass
class MessageRecord:
    """A message in a chat, current state (edits applied)."""

    chat_id: int
    message_id: int
    sender_id: int
    date: int
    kind: str
    text: str = ""
    source: str = ""
    parse_mode: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    reply_markup: JSONDict | None = None
    file: FileRecord | None = None
    edit_date: int | None = None
    edited_count: int = 0
    revision: int = 0
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        """Whether the bot sent this message."""
        return self.sender_id == BOT_SENDER


@dataclass
class CallbackQueryRecord:
    """A button press and the bot's answer to it."""

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: CallbackAnswer | None = None


@dataclass
class InjectedError:
    """An error the test arranged for the next calls of a method."""

    method: str
    error: ApiError
    chat_id: int | str | None
    remaining: int


@dataclass
class WebhookRecord:
    """What ``setWebhook`` recorded."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int | None = None
    allowed_updates: list[str] | None = None


@dataclass(frozen=True)
class SentFile:
    """A document or photo the bot sent, as a test sees it."""

    message_id: int
    kind: str
    file_id: str
    filename: str
    mime_type: str
    data: bytes
    caption: str


@dataclass(frozen=True)
class BotMessage:
    """A bot message as the user sees it now (edits applied).

    ``text`` is what the user reads (HTML tags removed, entities decoded; the caption for a
    document or photo); ``html`` is the source the bot sent. ``buttons`` are the inline keyboard
    rows as ``(text, callback_data)`` (``callback_data`` is None for URL buttons).
    """

    chat_id: int
    message_id: int
    kind: str
    text: str
    html: str
    parse_mode: str | None
    buttons: list[list[tuple[str, str | None]]]
    reply_markup: JSONDict | None
    edited_count: int
    date: dtm.datetime
    file: SentFile | None

    @property
    def button_texts(self) -> list[str]:
        """All button labels, row by row."""
        return [text for row in self.buttons for text, _ in row]

    @property
    def callback_data(self) -> list[str | None]:
        """All buttons' callback_data, row by row."""
        return [data for row in self.buttons for _, data in row]


@dataclass(frozen=True)
class CallbackAnswer:
    """The bot's ``answerCallbackQuery`` for one button press."""

    query_id: str
    callback_data: str
    message_id: int
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass
class RecordedRequest:
    """One HTTP call to the fake; ``status`` stays None while a long poll is still waiting."""

    method: str
    params: JSONDict
    token: str
    at: dtm.datetime
    monotonic: float
    status: int | None = None
    error: str | None = None
