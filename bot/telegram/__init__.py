"""The python-telegram-bot adapter: wiring, handlers, and Reply -> Telegram messages.

The only package that imports ``telegram``; the dialogue itself lives in ``bot.core``.
"""

from bot.telegram.app import ALLOWED_UPDATES, BotApiUnreachableError, TokenRejectedError, run_bot

__all__ = ["ALLOWED_UPDATES", "BotApiUnreachableError", "TokenRejectedError", "run_bot"]
