"""Telegram updates -> the engine's neutral inbound messages."""

from __future__ import annotations

import re

from telegram import Message, MessageEntity, Update

from bot.core.messages import ButtonPress, Command, Inbound, SharedLocation, TextMessage

__all__ = ["button_inbound", "message_inbound", "parse_command"]

# "/name" or "/name@bot", then anything (args may follow a space or a line break).
_COMMAND = re.compile(r"/([^\s@]+)(?:@(\S*))?(.*)", re.DOTALL)


def parse_command(text: str, *, bot_username: str | None) -> Command | None:
    """``/Name@bot args`` -> ``Command("name", "args")``; None if addressed to another bot.

    None too for text that is no command at all (``/``, ``/@bot``, no slash).
    """
    match = _COMMAND.match(text)
    if match is None:
        return None
    name, target, args = match.groups()
    if target and (bot_username is None or target.lower() != bot_username.lower()):
        return None
    return Command(name=name.lower(), args=args.strip())


def _starts_with_command(message: Message) -> bool:
    return any(
        entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0
        for entity in message.entities
    )


def message_inbound(message: Message, *, bot_username: str | None) -> Inbound | None:
    """A text message as a command or free text, a shared location as such; None for anything
    else or another bot's command."""
    if message.location is not None:
        return SharedLocation(message.location.latitude, message.location.longitude)
    if message.text is None:
        return None
    # The entity alone does not make a command: text that has no command shape stays text
    # (found by fuzzing; dropping it silently would leave the user without an answer).
    if _starts_with_command(message) and _COMMAND.match(message.text):
        return parse_command(message.text, bot_username=bot_username)
    return TextMessage(text=message.text)


def button_inbound(update: Update) -> ButtonPress | None:
    """A button press; the data is opaque here (the engine decodes and checks it)."""
    query = update.callback_query
    if query is None:
        return None
    return ButtonPress(data=query.data or "")
