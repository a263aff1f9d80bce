"""The terminal chat transport: the same engine as Telegram, driven from stdin/stdout.

Buttons are shown with letters (``a``, ``b``, ...) so that typed numbers stay answers to number
questions; ``a,c,e`` presses several buttons in order (handy for a multi choice). The chat has no
scheduler: a weekly check-in that fell due while it was closed is offered when it opens. An
export, and the picture of progress (/history, the check-in feedback), are written as private
files into the data folder; their path is shown, the picture's hours also as a sparkline.
"""

from __future__ import annotations

import errno
import html
import os
import re
import string
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final, TextIO

from bot.core.commands import ENGINE_HELP, SESSION_COMMANDS
from bot.core.engine import DialogueEngine
from bot.core.messages import (
    Button,
    ButtonPress,
    Command,
    Document,
    Inbound,
    Photo,
    Reply,
    ReplyKind,
    TextMessage,
)

__all__ = [
    "CHARTS_FOLDER",
    "CONSOLE_HELP",
    "EXPORTS_FOLDER",
    "ConsoleChat",
    "html_to_terminal",
    "save_private_file",
]

# What /help lists here: every command the engine runs, then the chat's own (/quit).
CONSOLE_HELP: Final = (*ENGINE_HELP, *SESSION_COMMANDS)
# The folder in the data folder that /export writes to.
EXPORTS_FOLDER: Final = "exports"
# The folder in the data folder that the picture of progress is written to.
CHARTS_FOLDER: Final = "charts"

_LETTERS = string.ascii_lowercase
_PRESSES = re.compile(r"^\s*[a-z](\s*[,;\s]\s*[a-z])*\s*$", re.IGNORECASE)
# The names that end the chat: exactly those /help lists for the session commands.
_QUIT = frozenset(name for c in SESSION_COMMANDS for name in (c.name, *c.aliases))
_TAG = re.compile(r"<[^>]+>")
# An export holds everything about the user, a chart their weeks: only they may read it, or
# list the folder.
_PRIVATE_FOLDER = 0o700
_PRIVATE_FILE = 0o600
_MAX_SAME_SECOND = 100  # exports named alike within one second get -2, -3, ...


def html_to_terminal(text: str, *, color: bool) -> str:
    """Turn Telegram-style HTML into terminal text (bold/italic as ANSI when ``color``)."""
    if color:
        text = re.sub(r"<(b|strong)>", "\033[1m", text)
        text = re.sub(r"<(i|em)>", "\033[3m", text)
        text = re.sub(r"</(b|strong|i|em)>", "\033[0m", text)
    return html.unescape(_TAG.sub("", text))


def save_private_file(folder: Path, document: Document | Photo, now: datetime) -> Path:
    """Write ``document`` as a new private file in ``folder``; return its absolute path.

    The name is the file's own with the local date and time (``...-2026-12-03-143012.json``);
    an existing file is never overwritten or followed (a symlink in its place is refused).

    Raises:
        OSError: the folder cannot be created or the file cannot be written.
    """
    try:
        folder.mkdir(mode=_PRIVATE_FOLDER, parents=True, exist_ok=True)
    except FileExistsError:  # a file in the folder's place: say that, not "file exists"
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from None
    name = Path(document.filename)
    stamp = now.astimezone().strftime("%Y-%m-%d-%H%M%S")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    for attempt in range(1, _MAX_SAME_SECOND + 1):
        tail = "" if attempt == 1 else f"-{attempt}"
        path = folder / f"{name.stem}-{stamp}{tail}{name.suffix}"
        try:
            fd = os.open(path, flags, _PRIVATE_FILE)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(document.content)
        except BaseException:
            path.unlink(missing_ok=True)  # no half-written export left to be mistaken for one
            raise
        return path.absolute()
    raise FileExistsError(f"{folder}: {_MAX_SAME_SECOND} exports within one second")


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
        exports: Path,
        charts: Path,
        color: bool = False,
    ) -> None:
        """Chat as ``user_id``; /export writes into the folder ``exports``, charts ``charts``."""
        self.engine = engine
        self.user_id = user_id
        self.language_hint = language_hint
        self.read = reader
        self.out = out
        self.exports = exports
        self.charts = charts
        self.color = color
        self.buttons: list[Button] = []

    def run(self) -> None:
        """Chat until /quit or end of input; every answer is saved as it is given."""
        self._show(self._handle(Command("start")))
        self._offer_due_checkin()
        self._say("console/intro")
        while True:
            try:
                line = self.read("> ")
            except (EOFError, KeyboardInterrupt):
                self.out.write("\n")
                break
            inbounds = self._parse(line)
            if any(isinstance(i, Command) and i.name in _QUIT for i in inbounds):
                break
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
        return self.engine.handle(
            self.user_id, inbound, language_hint=self.language_hint, help_commands=CONSOLE_HELP
        )

    def _offer_due_checkin(self) -> None:
        """No scheduler reminds a terminal user: a check-in due by now is offered at start."""
        week = self.engine.due_checkin(self.user_id)
        if week is not None:
            self._show(self.engine.checkin_reminder(self.user_id, week=week))

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

    def _say(self, template: str, **context: object) -> None:
        self._show([self._render(template, **context)])

    def _export(self, document: Document) -> None:
        """Save an export where the user can find it, and say where (or why not)."""
        try:
            path = save_private_file(self.exports, document, self.engine.clock())
        except OSError as error:
            reason = error.strerror or str(error)
            self._say("console/export_failed", folder=str(self.exports), reason=reason)
            return
        self._say("console/exported", path=str(path))

    def _picture(self, photo: Photo) -> None:
        """Save a picture where the user can open it, say where, and draw it as one line."""
        try:
            path = save_private_file(self.charts, photo, self.engine.clock())
        except OSError as error:
            reason = error.strerror or str(error)
            self._say(
                "console/chart_failed",
                folder=str(self.charts),
                reason=reason,
                sparkline=photo.text_line,
            )
            return
        self._say("console/chart_saved", path=str(path), sparkline=photo.text_line)

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
            if reply.document is not None:
                self._export(reply.document)  # its path right under the summary
            if reply.photo is not None:
                self._picture(reply.photo)  # its path right under the caption
        self.out.flush()
