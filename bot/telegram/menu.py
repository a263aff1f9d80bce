"""Telegram's command menu ("/" button), in every language the content speaks."""

from __future__ import annotations

from telegram import Bot, BotCommand

from bot.core.commands import MENU_COMMANDS
from bot.core.content import Content
from bot.core.templating import TextRenderer

__all__ = ["menu_commands", "publish_menu"]


def menu_commands(texts: TextRenderer, lang: str) -> list[BotCommand]:
    """The menu in ``lang``: MENU_COMMANDS in order, described by the labels ``command_<name>``."""
    return [BotCommand(name, texts.label(lang, f"command_{name}")) for name in MENU_COMMANDS]


async def publish_menu(bot: Bot, content: Content) -> None:
    """Set the menu per language, and as default the language the coach falls back to."""
    default = content.pick_language(None)
    await bot.set_my_commands(menu_commands(content.texts, default))
    for lang in content.languages:
        await bot.set_my_commands(menu_commands(content.texts, lang), language_code=lang)
