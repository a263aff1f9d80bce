"""A scripted user for the dialogue engine: send text and commands, press buttons by label."""

from __future__ import annotations

import html
import re

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

    def button(self, label: str) -> Button:
        """The button of the current question whose label (without ticks) is ``label``."""
        buttons = self.buttons()
        for button in buttons:
            if plain(button.label).lstrip("✅● ").strip() == label:
                return button
        for button in buttons:
            if label in button.label:
                return button
        raise AssertionError(f"no button {label!r} in {[b.label for b in buttons]}")

    def press(self, *labels: str) -> list[Reply]:
        """Press the buttons with these labels, in order."""
        for label in labels:
            self.press_data(self.button(label).data)
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
