"""A fake Telegram Bot API server and a client that plays Telegram users, for bot tests.

Usage::

    with FakeTelegram() as tg:
        anna = tg.user(1001, "Anna", "de")
        # start the bot with --base-url tg.base_url and token tg.token, then:
        anna.send_command("/start")
        question = anna.wait_for_text("Willkommen")
        anna.press(question, button_text="Los")
"""

from .client import DEFAULT_TOKEN, FakeChat, FakeTelegram, FakeUser
from .model import ApiError, BotMessage, CallbackAnswer, RawAnswerError, RecordedRequest, SentFile
from .server import FakeBotApiServer

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotMessage",
    "CallbackAnswer",
    "FakeBotApiServer",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "RawAnswerError",
    "RecordedRequest",
    "SentFile",
]
