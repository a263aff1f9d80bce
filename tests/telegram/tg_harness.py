"""A driver for the real Application on an offline request, with a twin engine for expectations."""

from __future__ import annotations

from typing import Any

from button_keys import find_button_data, flat
from telegram import Update
from tg_offline import Call, RecordingRequest, callback_update, message_update

from bot.core.content import Content
from bot.core.engine import DialogueEngine
from bot.core.messages import Button, Command, Inbound, Reply, ReplyKind, TextMessage
from bot.telegram.app import CoachApplication
from storage import InMemoryUserRepository


class Harness:
    """Drives the application with Telegram updates; a twin engine says what to expect."""

    def __init__(self, app: CoachApplication, request: RecordingRequest, content: Content) -> None:
        self.app = app
        self.request = request
        self.twin = DialogueEngine(content, InMemoryUserRepository())
        self._message_ids = iter(range(1, 10_000))
        self.twin_question: Reply | None = None

    async def process(self, update: Update) -> list[Call]:
        """Process one update; return the Bot API calls it caused."""
        self.request.clear()
        await self.app.process_update(update)
        return list(self.request.calls)

    async def send(
        self, text: str, *, user_id: int = 1001, language_code: str = "de"
    ) -> list[Call]:
        """The user types ``text`` (``/name ...`` is sent as a command)."""
        update = message_update(
            self.app.bot,
            text,
            user_id=user_id,
            language_code=language_code,
            message_id=next(self._message_ids),
            command=text.startswith("/"),
        )
        return await self.process(update)

    async def press(
        self, data: str, *, message_id: int, user_id: int = 1001, language_code: str = "de"
    ) -> list[Call]:
        """The user taps the button with ``data`` on message ``message_id``."""
        update = callback_update(
            self.app.bot, data, message_id=message_id, user_id=user_id, language_code=language_code
        )
        return await self.process(update)

    def expect(
        self, inbound: Inbound, *, user_id: int = 1001, language: str = "de"
    ) -> list[Reply]:
        """What the engine replies to ``inbound`` (the twin has seen the same conversation)."""
        replies = self.twin.handle(str(user_id), inbound, language_hint=language)
        for reply in replies:
            if reply.kind is ReplyKind.QUESTION:
                self.twin_question = reply
        return replies

    def data(self, key: str) -> str:
        """Data of the button ``key`` (option id or label key) on the twin's current question."""
        assert self.twin_question is not None, "the twin was asked nothing yet"
        return find_button_data(flat(self.twin_question.buttons), key)


def keyboard_json(rows: tuple[tuple[Button, ...], ...]) -> dict[str, Any]:
    """The reply_markup PTB sends for the engine's button rows."""
    return {
        "inline_keyboard": [
            [{"text": button.label, "callback_data": button.data} for button in row]
            for row in rows
        ]
    }


def as_inbound(text: str) -> Inbound:
    """Typed text as the engine sees it."""
    if text.startswith("/"):
        name, _, args = text[1:].partition(" ")
        return Command(name.lower(), args.strip())
    return TextMessage(text)
