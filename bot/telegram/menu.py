"""Telegram's command menu ("/" button) and the bot's profile, in every language the content
speaks."""

from __future__ import annotations

from telegram import Bot, BotCommand

from bot.core.commands import MENU_HELP
from bot.core.content import Content
from bot.core.profile import profile
from bot.core.templating import TextRenderer

__all__ = ["menu_commands", "publish_menu", "publish_profile"]


def menu_commands(texts: TextRenderer, lang: str) -> list[BotCommand]:
    """The menu in ``lang``: MENU_HELP in order, described by their labels, as /help lists it."""
    return [BotCommand(c.name, texts.label(lang, c.label)) for c in MENU_HELP]


async def publish_menu(bot: Bot, content: Content) -> None:
    """Set the menu per language, and as default the language the coach falls back to."""
    default = content.pick_language(None)
    await bot.set_my_commands(menu_commands(content.texts, default))
    for lang in content.languages:
        await bot.set_my_commands(menu_commands(content.texts, lang), language_code=lang)


async def publish_profile(bot: Bot, content: Content) -> None:
    """Set what an empty chat shows (description, short description), as the menu is set."""
    default = profile(content.texts, content.pick_language(None))
    await bot.set_my_description(default.description)
    await bot.set_my_short_description(default.short_description)
    for lang in content.languages:
        texts = profile(content.texts, lang)
        await bot.set_my_description(texts.description, language_code=lang)
        await bot.set_my_short_description(texts.short_description, language_code=lang)
