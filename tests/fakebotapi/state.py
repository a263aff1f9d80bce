"""The fake Telegram world: users, chats, messages, the update queue and what the bot did.

Shared by the server thread (Bot API methods) and the test thread (user actions, assertions).
Every read and write happens under ``world.lock`` (a Condition: the test thread sleeps on it until
the bot changes something).
"""

from __future__ import annotations

import datetime as dtm
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from .model import (
    BOT_SENDER,
    ApiError,
    BotIdentity,
    BotMessage,
    CallbackQueryRecord,
    ChatRecord,
    FileRecord,
    InjectedError,
    JSONDict,
    MessageRecord,
    RecordedRequest,
    SentFile,
    UserRecord,
    WebhookRecord,
    bad_request,
)

# Telegram sends these only when asked for explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def now_timestamp() -> int:
    """Unix time as Telegram's ``date`` fields carry it."""
    return int(time.time())


class TelegramWorld:
    """Everything the fake Bot API knows; guarded by ``lock``."""

    def __init__(self, bot: BotIdentity) -> None:
        self.lock = threading.Condition(threading.RLock())
        self.bot = bot
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.messages: dict[tuple[int, int], MessageRecord] = {}
        self.files: dict[str, FileRecord] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.pending_updates: list[JSONDict] = []
        self.allowed_updates: list[str] | None = None
        self.webhook = WebhookRecord()
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.profile: dict[tuple[str, str], str] = {}
        """(``description`` or ``short_description``, language code or "") -> the text."""
        self.chat_actions: list[tuple[int, str]] = []
        self.requests: list[RecordedRequest] = []
        self.injected_errors: list[InjectedError] = []
        self.internal_errors: list[str] = []
        self.revision = 0
        self.on_update: Callable[[], None] | None = None
        """Called (under the lock) after an update is queued; wakes long polls."""
        self._update_ids = itertools.count(100_001)
        self.last_update_id: int | None = None
        """The id of the newest update queued (a test with one user: the update it just sent)."""
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)

    # --- users and chats ---------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None,
        last_name: str | None,
        username: str | None,
    ) -> UserRecord:
        """Create (or update) a user and their private chat."""
        with self.lock:
            user = UserRecord(user_id, first_name, last_name, username, language_code)
            self.users[user_id] = user
            chat = self.chats.get(user_id)
            if chat is None:
                self.chats[user_id] = ChatRecord(
                    user_id, "private", None, first_name, last_name, username
                )
            return user

    def add_group(self, chat_id: int, title: str) -> ChatRecord:
        """Create a group chat with the bot in it."""
        with self.lock:
            chat = self.chats.get(chat_id)
            if chat is None:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                chat = ChatRecord(chat_id, kind, title=title, started=True)
                self.chats[chat_id] = chat
            return chat

    def find_chat(self, chat_id: Any) -> ChatRecord:
        """Chat by ``chat_id`` parameter (id or @username); 400 "chat not found" otherwise."""
        chat: ChatRecord | None = None
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            chat = self.chats.get(chat_id)
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            chat = next((c for c in self.chats.values() if c.username == chat_id[1:]), None)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def writable_chat(self, chat_id: Any) -> ChatRecord:
        """Chat the bot may write to now; 403 if the user blocked it or never started it."""
        chat = self.find_chat(chat_id)
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    # --- updates -----------------------------------------------------------------------------

    def enqueue_update(self, kind: str, payload: JSONDict) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        with self.lock:
            update_id = next(self._update_ids)
            self.last_update_id = update_id
            self.pending_updates.append({"update_id": update_id, kind: payload})
            if self.on_update is not None:
                self.on_update()
            self.lock.notify_all()
            return update_id

    def take_updates(
        self, offset: int | None, limit: int, allowed_updates: list[str] | None
    ) -> list[JSONDict]:
        """getUpdates semantics: confirm updates below ``offset``, then return up to ``limit``."""
        with self.lock:
            if offset is not None and offset < 0:
                self.pending_updates = self.pending_updates[offset:]
            elif offset is not None:
                self.pending_updates = [
                    u for u in self.pending_updates if u["update_id"] >= offset
                ]
            if allowed_updates is not None:
                # Telegram remembers the last non-empty setting; [] means "the default set".
                self.allowed_updates = list(allowed_updates) or None
            self.pending_updates = [u for u in self.pending_updates if self._is_allowed(u)]
            return [dict(u) for u in self.pending_updates[:limit]]

    def _is_allowed(self, update: JSONDict) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self.allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self.allowed_updates

    def drop_pending_updates(self) -> None:
        """Forget every queued update (``drop_pending_updates=True``)."""
        with self.lock:
            self.pending_updates.clear()

    # --- messages ----------------------------------------------------------------------------

    def bump_revision(self, message: MessageRecord) -> None:
        """Mark a bot message as changed now (for ``wait_for``)."""
        self.revision += 1
        message.revision = self.revision

    def add_message(self, chat: ChatRecord, sender_id: int, kind: str) -> MessageRecord:
        """Store a new message with the chat's next message id."""
        message = MessageRecord(chat.id, chat.take_message_id(), sender_id, now_timestamp(), kind)
        self.messages[(chat.id, message.message_id)] = message
        if sender_id == BOT_SENDER:
            self.bump_revision(message)
        return message

    def add_file(self, kind: str, filename: str, mime_type: str, data: bytes) -> FileRecord:
        """Store an uploaded file under a fresh file_id."""
        number = next(self._file_ids)
        prefix = "BQACAgIAAxkBAAI" if kind == "document" else "AgACAgIAAxkBAAI"
        record = FileRecord(
            f"{prefix}{number:08d}", f"AgAD{number:08d}", kind, filename, mime_type, data
        )
        self.files[record.file_id] = record
        return record

    def message_json(self, message: MessageRecord) -> JSONDict:
        """Telegram ``Message`` object for a stored message."""
        chat = self.chats[message.chat_id]
        sender = (
            self.bot.to_user() if message.from_bot else self.users[message.sender_id].to_telegram()
        )
        data: JSONDict = {
            "message_id": message.message_id,
            "from": sender,
            "chat": chat.to_telegram(),
            "date": message.date,
        }
        text_key, entities_key = "text", "entities"
        if message.file is not None:
            text_key, entities_key = "caption", "caption_entities"
            if message.kind == "photo":
                data["photo"] = message.file.to_photo()
            else:
                data["document"] = message.file.to_document()
        if message.text or message.file is None:
            data[text_key] = message.text
        if message.entities:
            data[entities_key] = message.entities
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        return data

    def snapshot(self, message: MessageRecord) -> BotMessage:
        """Frozen view of a bot message for the test thread."""
        inline = (message.reply_markup or {}).get("inline_keyboard") or []
        buttons = [
            [(str(button.get("text", "")), button.get("callback_data")) for button in row]
            for row in inline
        ]
        sent_file = None
        if message.file is not None:
            sent_file = SentFile(
                message.message_id,
                message.kind,
                message.file.file_id,
                message.file.filename,
                message.file.mime_type,
                message.file.data,
                message.text,
            )
        return BotMessage(
            chat_id=message.chat_id,
            message_id=message.message_id,
            kind=message.kind,
            text=message.text,
            html=message.source,
            parse_mode=message.parse_mode,
            buttons=buttons,
            reply_markup=message.reply_markup,
            edited_count=message.edited_count,
            date=dtm.datetime.fromtimestamp(message.date, tz=dtm.UTC),
            file=sent_file,
        )

    def bot_messages(self, chat_id: int, *, since_revision: int = -1) -> list[MessageRecord]:
        """The chat's live bot messages in message id order (optionally changed after a mark)."""
        with self.lock:
            return sorted(
                (
                    m
                    for m in self.messages.values()
                    if m.chat_id == chat_id
                    and m.from_bot
                    and not m.deleted
                    and m.revision > since_revision
                ),
                key=lambda m: m.message_id,
            )

    # --- user actions ------------------------------------------------------------------------

    def user_message(
        self, user_id: int, chat_id: int, text: str, entities: list[JSONDict] | None = None
    ) -> int:
        """The user writes ``text`` into the chat; queues the message update."""
        with self.lock:
            chat = self.chats[chat_id]
            self.mark_action(chat)
            message = self.add_message(chat, user_id, "text")
            message.text = message.source = text
            message.entities = list(entities or [])
            self.enqueue_update("message", self.message_json(message))
            return message.message_id

    def user_location(self, user_id: int, chat_id: int, latitude: float, longitude: float) -> int:
        """The user shares a location (the keyboard button or the attachment menu)."""
        with self.lock:
            chat = self.chats[chat_id]
            self.mark_action(chat)
            message = self.add_message(chat, user_id, "location")
            data = self.message_json(message)
            data.pop("text", None)
            data["location"] = {"latitude": latitude, "longitude": longitude}
            self.enqueue_update("message", data)
            return message.message_id

    def mark_action(self, chat: ChatRecord) -> None:
        """Record that the user acted now: later bot changes count as the answer."""
        chat.action_mark = self.revision
        chat.started = True

    def press_button(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """The user presses a button with ``data`` on a message; queues the callback_query."""
        with self.lock:
            chat = self.chats[chat_id]
            self.mark_action(chat)
            query_id = str(4_200_000_000_000_000_000 + next(self._query_ids))
            message = self.messages.get((chat_id, message_id))
            if message is not None and not message.deleted:
                message_data = self.message_json(message)
            else:
                # Telegram's InaccessibleMessage: a message the bot can no longer see.
                message_data = {"chat": chat.to_telegram(), "message_id": message_id, "date": 0}
            payload: JSONDict = {
                "id": query_id,
                "from": self.users[user_id].to_telegram(),
                "message": message_data,
                "chat_instance": str(abs(chat_id) * 7919 + 13),
                "data": data,
            }
            self.callback_queries[query_id] = CallbackQueryRecord(
                query_id, user_id, chat_id, message_id, data
            )
            self.enqueue_update("callback_query", payload)
            return query_id

    def set_blocked(self, user_id: int, *, blocked: bool) -> None:
        """The user blocks (or unblocks) the bot; queues the my_chat_member update."""
        with self.lock:
            chat = self.chats[user_id]
            self.mark_action(chat)
            chat.blocked = blocked
            bot_user = self.bot.to_user()
            member = {"user": bot_user, "status": "member"}
            kicked = {"user": bot_user, "status": "kicked", "until_date": 0}
            old, new = (member, kicked) if blocked else (kicked, member)
            payload = {
                "chat": chat.to_telegram(),
                "from": self.users[user_id].to_telegram(),
                "date": now_timestamp(),
                "old_chat_member": old,
                "new_chat_member": new,
            }
            self.enqueue_update("my_chat_member", payload)

    # --- error injection and request log -----------------------------------------------------

    def add_injected_error(self, injected: InjectedError) -> None:
        """Arrange an error for the next calls of a method."""
        with self.lock:
            self.injected_errors.append(injected)

    def take_injected_error(self, method: str, params: JSONDict) -> ApiError | None:
        """The arranged error for this call, if any (consumes one use)."""
        with self.lock:
            for injected in self.injected_errors:
                if injected.method != method:
                    continue
                if injected.chat_id is not None and str(params.get("chat_id")) != str(
                    injected.chat_id
                ):
                    continue
                injected.remaining -= 1
                if injected.remaining <= 0:
                    self.injected_errors.remove(injected)
                return injected.error
            return None

    def record_request(self, method: str, params: JSONDict, token: str) -> RecordedRequest:
        """Log an incoming call (status filled in when it is answered)."""
        request = RecordedRequest(
            method, params, token, dtm.datetime.now(tz=dtm.UTC), time.monotonic()
        )
        with self.lock:
            self.requests.append(request)
            self.lock.notify_all()
        return request

    def finish_request(self, request: RecordedRequest, status: int, error: str | None) -> None:
        """Fill in how a logged call was answered and wake waiting tests."""
        with self.lock:
            request.status = status
            request.error = error
            self.lock.notify_all()

    # --- transcript --------------------------------------------------------------------------

    def transcript(self, chat_id: int) -> str:
        """The chat as readable lines, for assertion messages."""
        with self.lock:
            lines = [f"--- chat {chat_id} (bot messages with edits applied) ---"]
            messages = sorted(
                (m for m in self.messages.values() if m.chat_id == chat_id),
                key=lambda m: m.message_id,
            )
            for message in messages:
                who = "bot " if message.from_bot else "user"
                flags = []
                if message.deleted:
                    flags.append("deleted")
                if message.edited_count:
                    flags.append(f"edited {message.edited_count}x")
                if message.file is not None:
                    flags.append(f"{message.kind} {message.file.filename!r}")
                suffix = f"  ({', '.join(flags)})" if flags else ""
                lines.append(f"#{message.message_id} {who}: {message.text!r}{suffix}")
                for row in (message.reply_markup or {}).get("inline_keyboard") or []:
                    labels = " ".join(
                        f"[{b.get('text')} | {b.get('callback_data') or b.get('url')}]"
                        for b in row
                    )
                    lines.append(f"      {labels}")
            answers = [q for q in self.callback_queries.values() if q.chat_id == chat_id]
            for query in answers:
                answer = query.answer
                shown = "(unanswered)" if answer is None else f"answered {answer.text!r}"
                lines.append(f"press {query.data!r} on #{query.message_id} -> {shown}")
            failed = [r for r in self.requests[-200:] if r.status not in (None, 200)]
            for request in failed[-10:]:
                lines.append(f"request {request.method} -> {request.status} {request.error}")
            if self.internal_errors:
                lines.append(f"FAKE SERVER ERRORS: {self.internal_errors}")
            return "\n".join(lines)
