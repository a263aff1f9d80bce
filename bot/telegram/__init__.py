"""The python-telegram-bot adapter: wiring, handlers, and Reply -> Telegram messages.

The only package that imports ``telegram``; the dialogue itself lives in ``bot.core``. ``app``
is the composition root, ``handlers`` the thin update handlers, ``render`` and ``splitting`` turn
replies into messages, ``checkin_sender`` delivers the weekly reminders, ``ratelimit`` keeps
Telegram's limits with replies first, ``inbound``/``menu``/``logs`` the rest of the edge.
"""

from bot.telegram.app import ALLOWED_UPDATES, BotApiUnreachableError, TokenRejectedError, run_bot

__all__ = ["ALLOWED_UPDATES", "BotApiUnreachableError", "TokenRejectedError", "run_bot"]
