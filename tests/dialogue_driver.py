"""A scripted user for the dialogue engine: send text and commands, press buttons by key.

Buttons are addressed by option id or label key (see ``button_keys``), never by caption.
"""

from __future__ import annotations

import html
import re

from button_keys import find_button

from bot.core.engine import DialogueEngine
from bot.core.messages import Button, ButtonPress, Command, Reply, ReplyKind, TextMessage

_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """HTML reply text as a person reads it."""
    return html.unescape(_TAG.sub("", text))


class Chat:
    """One user talking to an engine; remembers the last question and its buttons."""

    def __init__(self, engine: DialogueEngine, user_id: str, *, language_hint: str = "de") -> None:
        self.engine = engine
        self.user_id = user_id
        self.language_hint = language_hint
        self.replies: list[Reply] = []
        self.question: Reply | None = None

    def _deliver(self, replies: list[Reply]) -> list[Reply]:
        self.replies = replies
        for reply in replies:
            if reply.kind is ReplyKind.QUESTION:
                self.question = reply
        return replies

    def send(self, text: str) -> list[Reply]:
        """Type a line: ``/name args`` is a command, anything else text."""
        if text.startswith("/") and len(text) > 1:
            name, _, args = text[1:].partition(" ")
            inbound: Command | TextMessage = Command(name, args)
        else:
            inbound = TextMessage(text)
        return self._deliver(
            self.engine.handle(self.user_id, inbound, language_hint=self.language_hint)
        )

    def buttons(self) -> list[Button]:
        assert self.question is not None, "no question asked yet"
        return [button for row in self.question.buttons for button in row]

    def button(self, key: str) -> Button:
        """The button of the current question that ``key`` (option id or label key) addresses."""
        button: Button = find_button(self.buttons(), key)
        return button

    def press(self, *keys: str) -> list[Reply]:
        """Press the buttons these keys address (option ids or label keys), in order."""
        for key in keys:
            self.press_data(self.button(key).data)
        return self.replies

    def press_data(self, data: str) -> list[Reply]:
        return self._deliver(
            self.engine.handle(self.user_id, ButtonPress(data), language_hint=self.language_hint)
        )

    @property
    def text(self) -> str:
        """Everything the last exchange showed, as plain text."""
        return "\n".join(plain(reply.text) for reply in self.replies)

    @property
    def question_text(self) -> str:
        assert self.question is not None
        return plain(self.question.text)
