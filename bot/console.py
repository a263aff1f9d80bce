"""The terminal chat transport: the same engine as Telegram, driven from stdin/stdout.

Buttons are shown with letters (``a``, ``b``, ...) so that typed numbers stay answers to number
questions; ``a,c,e`` presses several buttons in order (handy for a multi choice).
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Callable
from typing import TextIO

from bot.core.engine import DialogueEngine
from bot.core.messages import Button, ButtonPress, Command, Inbound, Reply, ReplyKind, TextMessage

__all__ = ["ConsoleChat", "html_to_terminal"]

_LETTERS = string.ascii_lowercase
_PRESSES = re.compile(r"^\s*[a-z](\s*[,;\s]\s*[a-z])*\s*$", re.IGNORECASE)
_QUIT = frozenset({"quit", "exit", "q"})
_TAG = re.compile(r"<[^>]+>")


def html_to_terminal(text: str, *, color: bool) -> str:
    """Turn Telegram-style HTML into terminal text (bold/italic as ANSI when ``color``)."""
    if color:
        text = re.sub(r"<(b|strong)>", "\033[1m", text)
        text = re.sub(r"<(i|em)>", "\033[3m", text)
        text = re.sub(r"</(b|strong|i|em)>", "\033[0m", text)
    return html.unescape(_TAG.sub("", text))


class ConsoleChat:
    """A chat session for one terminal user."""

    def __init__(
        self,
        engine: DialogueEngine,
        user_id: str,
        *,
        language_hint: str,
        reader: Callable[[str], str],
        out: TextIO,
        color: bool = False,
    ) -> None:
        self.engine = engine
        self.user_id = user_id
        self.language_hint = language_hint
        self.read = reader
        self.out = out
        self.color = color
        self.buttons: list[Button] = []

    def run(self) -> None:
        """Chat until /quit or end of input; every answer is saved as it is given."""
        self._show(self._handle(Command("start")))
        self._say("console/intro")
        while True:
            try:
                line = self.read("> ")
            except (EOFError, KeyboardInterrupt):
                self.out.write("\n")
                break
            if line.strip().lower().lstrip("/") in _QUIT and line.strip().startswith("/"):
                break
            inbounds = self._parse(line)
            for position, inbound in enumerate(inbounds, start=1):
                if isinstance(inbound, Reply):
                    self._show([inbound])
                    break
                replies = self._handle(inbound)
                if position < len(inbounds):
                    # Several presses in one line: show hints now, the question once at the end.
                    replies = [r for r in replies if r.kind is ReplyKind.INFO]
                self._show(replies)
        self._say("console/goodbye")

    def _handle(self, inbound: Inbound) -> list[Reply]:
        return self.engine.handle(self.user_id, inbound, language_hint=self.language_hint)

    def _parse(self, line: str) -> list[Inbound | Reply]:
        """Map a typed line to engine messages: commands, button letters, or text."""
        stripped = line.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            name, _, args = stripped[1:].partition(" ")
            return [Command(name.lower(), args.strip())]
        if self.buttons and _PRESSES.match(stripped):
            letters = [ch.lower() for ch in stripped if ch.isalpha()]
            presses: list[Inbound | Reply] = []
            for letter in letters:
                index = _LETTERS.index(letter)
                if index >= len(self.buttons):
                    presses.append(
                        self._render(
                            "console/no_such_button",
                            letter=letter,
                            last=_LETTERS[len(self.buttons) - 1],
                        )
                    )
                    return presses[-1:]
                presses.append(ButtonPress(self.buttons[index].data))
            return presses
        return [TextMessage(line)]

    def _render(self, template: str, **context: object) -> Reply:
        lang = self.engine.language(self.user_id, language_hint=self.language_hint)
        return Reply(text=self.engine.content.texts.render(lang, template, **context))

    def _say(self, template: str) -> None:
        self._show([self._render(template)])

    def _show(self, replies: list[Reply]) -> None:
        for reply in replies:
            if reply.kind is ReplyKind.ANSWERED:
                continue  # the user's own typing already shows the answer here
            self.out.write(html_to_terminal(reply.text, color=self.color) + "\n")
            if reply.buttons:
                self.buttons = [button for row in reply.buttons for button in row]
                for letter, button in zip(_LETTERS, self.buttons, strict=False):
                    self.out.write(f"  [{letter}] {button.label}\n")
            self.out.write("\n")
        self.out.flush()
