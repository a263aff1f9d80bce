"""Property-based fuzzing of the Telegram side: random updates, private chats, groups, channels.

First the inbound mapping alone (``bot.telegram.inbound``) on real PTB ``Update`` objects built
from random JSON; then the whole application (real handlers, renderer and engine on disk, an
offline request) fed random updates. Whatever arrives: no handler fails, every button press is
answered, only the "private chat please" note ever goes to a group and nothing to a channel,
every message sent is valid Telegram HTML in the user's language, button data fit 64 bytes, and
only people who wrote in a private chat get a stored document.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marked_prompts import MARKERS
from telegram import Bot, Update
from tg_html import html_problems
from tg_offline import BOT_USER, TOKEN, RecordingRequest

from bot.config import TelegramSettings
from bot.core.callbacks import MAX_CALLBACK_BYTES
from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.messages import ButtonPress, Command, SharedLocation, TextMessage
from bot.telegram.app import build_application
from bot.telegram.inbound import button_inbound, message_inbound
from storage import TinyDBUserRepository

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

BOT_NAME = str(BOT_USER["username"])
# What Telegram marks as a command: "/name", optionally "@bot", then the arguments.
COMMAND_SHAPE = re.compile(r"/([^\s@]+)(?:@(\S*))?(.*)", re.DOTALL)
USER_IDS = (1001, 1002, 1003)
GROUP = {"id": -4001, "type": "group", "title": "Gruppe"}
SUPERGROUP = {"id": -1004002, "type": "supergroup", "title": "Super"}
CHANNEL = {"id": -1004003, "type": "channel", "title": "Kanal"}
_ids = itertools.count(1)

_no_markers = st.characters(
    exclude_characters="".join(MARKERS.values()), exclude_categories=["Cs"]
)
COMMAND_TEXTS = [
    "/start",
    "/start@x",
    f"/start@{BOT_NAME}",
    f"/PLAN@{BOT_NAME.upper()}",
    "/start@other_bot",
    "/language xx",
    "/language en",
    "/delete yes",
    "/delete",
    "/checkin",
    "/settings",
    "/export",
    "/unknown {{ 7*7 }}",
    "/",
    "/@",
    "/ünïcödé",
    "/start\nzweite Zeile",
    "/" + "x" * 300,
]
texts = st.one_of(
    st.sampled_from(COMMAND_TEXTS),
    st.sampled_from(
        ["", " ", "{{ 7*7 }}", "{% raw %}", "<b>x</b>", "a < b", "\u202e", "👍🏽", "3"]
    ),
    st.text(_no_markers, max_size=50),
    st.builds(lambda s: "/" + s, st.text(_no_markers, max_size=20)),
)
languages = st.sampled_from([None, "de", "en", "en-GB", "fr", "", "zz-ZZ"])


def user_json(user_id: int, language: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"}
    if language is not None:
        data["language_code"] = language
    return data


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@st.composite
def entities(draw: st.DrawFn, text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram sets for a leading command, sometimes odd ones."""
    kind = draw(st.sampled_from(["telegram", "none", "random"]))
    if kind == "none" or not text:
        return []
    if kind == "telegram":
        if not text.startswith("/"):
            return []
        return [
            {"type": "bot_command", "offset": 0, "length": utf16_length(text.split(maxsplit=1)[0])}
        ]
    length = utf16_length(text)
    offset = draw(st.integers(0, length))
    return [
        {
            "type": draw(st.sampled_from(["bot_command", "bold", "url", "mention"])),
            "offset": offset,
            "length": draw(st.integers(0, length - offset)),
        }
    ]


@st.composite
def message_json(draw: st.DrawFn) -> dict[str, Any]:
    """A message as Telegram sends it, in a private chat, a group or a channel."""
    user_id = draw(st.sampled_from(USER_IDS))
    chat = draw(
        st.sampled_from(
            [{"id": user_id, "type": "private", "first_name": "U"}, GROUP, SUPERGROUP, CHANNEL]
        )
    )
    message: dict[str, Any] = {"message_id": next(_ids), "date": 1_780_000_000, "chat": chat}
    if chat["type"] == "channel":
        message["sender_chat"] = chat
    else:
        message["from"] = user_json(user_id, draw(languages))
    content = draw(st.sampled_from(["text", "text", "text", "sticker", "location", "empty"]))
    if content == "text":
        text = draw(texts)
        message["text"] = text
        if found := draw(entities(text)):
            message["entities"] = found
    elif content == "sticker":
        message["sticker"] = {
            "file_id": "CAAC",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    elif content == "location":
        message["location"] = {"latitude": 53.55, "longitude": 9.99}
    return message


@st.composite
def callback_json(draw: st.DrawFn, known: list[str]) -> dict[str, Any]:
    """A button press: on a private or group message, or on an inline message."""
    user_id = draw(st.sampled_from(USER_IDS))
    query: dict[str, Any] = {
        "id": str(next(_ids)),
        "from": user_json(user_id, draw(languages)),
        "chat_instance": "42",
    }
    data = draw(
        st.one_of(
            st.sampled_from(known) if known else st.just("1.c."),
            st.text(_no_markers, max_size=80),
            st.just(None),
        )
    )
    if data is not None:
        query["data"] = data
    where = draw(st.sampled_from(["private", "private", "group", "inline"]))
    if where == "inline":
        query["inline_message_id"] = "AAAA"
    else:
        chat = (
            {"id": user_id, "type": "private", "first_name": "U"} if where == "private" else GROUP
        )
        query["message"] = {
            "message_id": next(_ids),
            "date": 1_780_000_000,
            "chat": chat,
            "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
            "text": "?",
        }
    return query


@st.composite
def membership_json(draw: st.DrawFn) -> dict[str, Any]:
    user_id = draw(st.sampled_from(USER_IDS))
    bot_user = {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")}
    chat = draw(
        st.sampled_from([{"id": user_id, "type": "private", "first_name": "U"}, GROUP, SUPERGROUP])
    )

    def member(status: str) -> dict[str, Any]:
        return {
            "user": bot_user,
            "status": status,
            **({"until_date": 0} if status == "kicked" else {}),
        }

    statuses = st.sampled_from(["member", "kicked", "left"])
    return {
        "chat": chat,
        "from": user_json(user_id, draw(languages)),
        "date": 1_780_000_000,
        "old_chat_member": member(draw(statuses)),
        "new_chat_member": member(draw(statuses)),
    }


@st.composite
def update_json(draw: st.DrawFn, known: list[str]) -> dict[str, Any]:
    """Any kind of update the bot can receive."""
    kind = draw(
        st.sampled_from(
            ["message"] * 4
            + ["callback_query"] * 3
            + ["edited_message", "channel_post", "edited_channel_post", "my_chat_member"]
        )
    )
    if kind == "callback_query":
        payload = draw(callback_json(known))
    elif kind == "my_chat_member":
        payload = draw(membership_json())
    else:
        payload = draw(message_json())
        if kind == "edited_message":
            payload["edit_date"] = 1_780_000_100
    return {"update_id": next(_ids), kind: payload}


# ---- the inbound mapping alone --------------------------------------------------------------
BOT = Bot(TOKEN)


@settings(max_examples=300, deadline=None)
@given(raw=update_json([]))
def test_inbound_mapping_of_any_update(raw: dict[str, Any]) -> None:
    update = Update.de_json(raw, BOT)
    message = update.message or update.edited_message or update.channel_post
    if message is not None:
        inbound = message_inbound(message, bot_username=BOT_NAME)
        text = message.text
        leading = any(e.type == "bot_command" and e.offset == 0 for e in message.entities)
        match = COMMAND_SHAPE.match(text or "")
        if message.location is not None:
            location = message.location
            assert inbound == SharedLocation(location.latitude, location.longitude)
        elif text is None:
            assert inbound is None
        elif not (leading and match):
            assert inbound == TextMessage(text)
        elif match.group(2) and match.group(2).lower() != BOT_NAME:
            assert inbound is None  # only a command for another bot is dropped
        else:
            assert inbound == Command(match.group(1).lower(), match.group(3).strip())
            assert inbound.name and not any(ch.isspace() or ch == "@" for ch in inbound.name)
    if update.callback_query is not None:
        assert button_inbound(update) == ButtonPress(update.callback_query.data or "")
    else:
        assert button_inbound(update) is None


# ---- the whole application -------------------------------------------------------------------
class ErrorLog(logging.Handler):
    """Collects every record at ERROR or above while installed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


class AppRun:
    """One example: the application on a fresh data folder, and what it has sent so far."""

    def __init__(self, content: Content, folder: Path) -> None:
        self.repo = TinyDBUserRepository(folder)
        self.engine = DialogueEngine(content, self.repo)
        self.request = RecordingRequest()
        self.app = build_application(
            TelegramSettings(token=TOKEN), self.engine, request=self.request
        )
        self.group_notes = {content.texts.render(lang, "telegram/group_only") for lang in MARKERS}
        self.known: list[str] = []  # button data the bot has sent
        self.private_senders: set[str] = set()

    async def feed(self, data: st.DataObject) -> None:
        async with self.app:
            for _ in range(data.draw(st.integers(1, 20), label="updates")):
                raw = data.draw(update_json(list(self.known)), label="update")
                update = Update.de_json(raw, self.app.bot)
                self.request.clear()
                with error_log() as errors:
                    await self.app.process_update(update)
                assert errors.records == [], [r.getMessage() for r in errors.records]
                self.check_calls(update)

    def check_calls(self, update: Update) -> None:
        user, chat = update.effective_user, update.effective_chat
        private = chat is not None and chat.type == "private"
        wrote = update.message is not None or update.callback_query is not None
        if user is not None and private and wrote:
            self.private_senders.add(str(user.id))
        if update.callback_query is not None:
            assert len(self.request.of("answerCallbackQuery")) == 1
        for call in self.request.of("sendMessage", "editMessageText", "sendDocument"):
            chat_id = int(call.params["chat_id"])
            text = call.params.get("text") or call.params.get("caption") or ""
            assert html_problems(text) == [], (html_problems(text), text)
            assert chat_id != CHANNEL["id"], call
            if chat_id < 0:
                assert call.method == "sendMessage" and text in self.group_notes, call
            elif user is not None and self.repo.get(str(user.id)) is not None:
                # Answered questions are rewritten in the language they were asked in.
                lang = self.engine.language(str(user.id))
                others = [m for code, m in MARKERS.items() if code != lang]
                assert call.method == "editMessageText" or not any(m in text for m in others)
            markup = call.params.get("reply_markup")
            for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
                for button in row:
                    if (data := button.get("callback_data")) is not None:
                        assert len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES
                        self.known.append(data)
        assert set(self.repo.user_ids()) <= self.private_senders


def test_random_updates_through_the_application(marked_content: Content) -> None:
    loop = asyncio.new_event_loop()

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def feed(data: st.DataObject) -> None:
        with tempfile.TemporaryDirectory() as folder:
            run = AppRun(marked_content, Path(folder))
            try:
                loop.run_until_complete(run.feed(data))
            finally:
                run.repo.close()

    try:
        feed()
    finally:
        loop.close()
