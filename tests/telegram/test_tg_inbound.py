"""Telegram updates -> the engine's Inbound messages (real PTB Update objects)."""

from __future__ import annotations

import pytest
from telegram import Bot
from tg_offline import TOKEN, callback_update, message_update

from bot.core.messages import ButtonPress, Command, TextMessage
from bot.telegram.inbound import button_inbound, message_inbound, parse_command

BOT_NAME = "fokus_coach_test_bot"


@pytest.fixture
def bot() -> Bot:
    return Bot(TOKEN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", Command("start")),
        ("/PLAN", Command("plan")),
        ("/language en", Command("language", "en")),
        ("/language@fokus_coach_test_bot  en ", Command("language", "en")),
        ("/Start@Fokus_Coach_Test_Bot", Command("start")),
        ("/start\nhallo welt", Command("start", "hallo welt")),
        ("/start@other_bot", None),
    ],
)
def test_commands_are_lower_case_without_bot_name(text: str, expected: Command | None) -> None:
    assert parse_command(text, bot_username=BOT_NAME) == expected


def test_text_message_is_text(bot: Bot) -> None:
    update = message_update(bot, "  drei Stunden ", user_id=42)

    assert update.message is not None
    assert message_inbound(update.message, bot_username=BOT_NAME) == TextMessage("  drei Stunden ")


def test_command_needs_the_entity_telegram_adds(bot: Bot) -> None:
    typed = message_update(bot, "/export now", command=True)
    pasted = message_update(bot, "/export now", command=False)  # e.g. forwarded plain text

    assert typed.message is not None and pasted.message is not None
    assert message_inbound(typed.message, bot_username=BOT_NAME) == Command("export", "now")
    assert message_inbound(pasted.message, bot_username=BOT_NAME) == TextMessage("/export now")


def test_message_without_text_is_not_inbound(bot: Bot) -> None:
    sticker = {
        "sticker": {
            "file_id": "CAAC",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    }
    update = message_update(bot, None, extra=sticker)

    assert update.message is not None
    assert message_inbound(update.message, bot_username=BOT_NAME) is None


def test_button_press_carries_the_data_unchanged(bot: Bot) -> None:
    update = callback_update(bot, "7.t.linkedin", message_id=5, user_id=43)

    assert button_inbound(update) == ButtonPress("7.t.linkedin")
